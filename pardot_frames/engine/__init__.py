"""The export job: send paths (plan calls for a chunk, send one call, report each row), the worker
pool, signals, the journal and ledger, and the result users read.
"""
