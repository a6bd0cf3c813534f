"""How to run a job (not what it sends): progress, chunking, journal and resume, the state folder, signals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pardot_frames.engine.state.journal import state_dir as default_state_dir

CHUNK_ROWS = 100_000  # rows validated, planned and sent at a time from streaming inputs


@dataclass(frozen=True)
class Options:
    """How to run a job (not what it sends): progress, chunking, journal and resume, the state folder."""

    progress: bool | None = None
    chunk_rows: int = CHUNK_ROWS
    resume: bool | str = False
    journal: bool = True
    folder: Path | None = None
    refresh_fields: bool = False
    keep_input: bool = False  # a one-shot stream is kept (spilled to Parquet) for a second read: the verify
    signals: bool = True  # Ctrl-C and SIGTERM stop the job (the host's handlers put back after); False: untouched

    @property
    def state_folder(self) -> Path:
        return self.folder or default_state_dir()
