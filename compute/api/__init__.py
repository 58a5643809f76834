"""The gRPC side of the compute server: servicers, the server factory, the coordinator that
wires stores, dispatcher and workers together, pb <-> domain conversion, error mapping and
upload reading.

Only this package, `worker.task_convert` and the front end's client touch `_pb2` types.
May import every other compute package except `cli`, and `facerec.v1`.
"""
