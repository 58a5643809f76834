"""The coordinator's work: leasing tasks to worker sessions, EMBED batching across jobs, the
pipeline that stores results (fenced by attempt), matching against the index, job and alert
events, webhook delivery, and queueing submissions.

May import `store` (its interfaces and the spool), `models.photo` (upload checks), the shared
modules and `facerec.index`; never grpc, `facerec.v1`, `api`, `worker` or `cli`.
"""
