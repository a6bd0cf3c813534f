"""One in-memory DuckDB per process for the state folder's short-lived files (the run history, the recycle bin,
a new journal's tables): each file is attached for the moment it is used, then detached, so other processes can
open it again at once. A DuckDB instance costs ~25 ms to start and an ATTACH ~3 ms: a job used to pay the first
three times over, ~100 ms a job."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_names = itertools.count()
_shared: list[Any] = []


@contextmanager
def attached(path: Path, *, read_only: bool = False) -> Iterator[Any]:
    """A connection whose default database is the file at ``path`` (created if missing, unless ``read_only``);
    one user at a time in this process. Raises ``duckdb.Error`` as ``duckdb.connect`` would (a file another process
    holds, a file that is not DuckDB's)."""
    import duckdb

    with _lock:
        if not _shared:
            _shared.append(duckdb.connect(config={"threads": 1}))
        con, alias = _shared[0], f"state_{next(_names)}"
        quoted = str(path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS {alias}{' (READ_ONLY)' if read_only else ''}")
        try:
            con.execute(f"USE {alias}")
            yield con
        finally:
            con.execute("USE memory")
            con.execute(f"DETACH {alias}")
