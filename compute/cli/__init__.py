"""The `facerec` command: server commands, the client commands over the gRPC API (and the
Python client they use), and the process launcher of `facerec serve`.

May import anything; nothing else imports it.
"""
