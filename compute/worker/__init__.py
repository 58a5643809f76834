"""Workers: the in-process one (threads under the coordinator's dispatcher), the remote one
(`facerec worker`, over `WorkerService.Work`), the task runner they share and the task <-> pb
conversion of the worker contract.

May import `models`, the shared modules and `facerec.v1`; never the store, dispatch, api or
cli. The in-process worker reaches the dispatcher only through `tasks.TaskSource`.
"""
