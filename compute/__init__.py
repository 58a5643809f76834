"""The compute tier: the coordinator, its durable state, its dispatcher and the model workers.

Sub-packages, one per concern (each `__init__` says what it owns and may import):

- `api`: the gRPC servicers, the server factory and the coordinator that wires the parts;
- `store`: the store interfaces and their SQLite implementation, the photo spool;
- `dispatch`: task leases, EMBED batching, the pipeline, matching, events, webhooks;
- `models`: detector, embedders, weights, photo decoding (what a worker host needs);
- `worker`: the in-process and the remote worker, the task runner;
- `cli`: the `facerec` command and the process launcher.

`domain`, `config`, `errors`, `tasks` and `settings` are shared by all of them and import
nothing else of the project.
"""
