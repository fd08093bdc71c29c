"""The job engine: typed attempts (`attempts`), the retry policy (`retry`), the plan of one
attempt (`plan`), crash recovery (`recovery`) and the worker loop (`worker`).

The package imports nothing at its top so that `server.jobs.attempts`, the leaf module of
domain types, can be imported by the relay without pulling in the worker.
"""
