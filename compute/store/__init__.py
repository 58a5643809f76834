"""Durable state: the store interfaces (`interfaces`), their SQLite implementation
(`sqlite`), the photo spool and the JSON codec of stored values.

The rest of compute talks to the interfaces; a second implementation (PostgreSQL) plugs in
behind them without touching the pipeline. May import only the shared modules (`domain`,
`config`, `errors`); never grpc, `facerec.v1`, models or the packages above.
"""
