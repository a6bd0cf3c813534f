"""A tqdm bar over rows when wanted (a terminal or a notebook), else nothing."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """``update(n)`` as rows are done; ``close()`` at the end. Never shows a secret: it counts rows only."""

    def __init__(self, total: int | None, enabled: bool | None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.bar: Any = None
        if enabled and total != 0:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="row", desc="pardot", leave=False)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def shrink(self, rows: int) -> None:
        """Rows that will not be sent after all (found invalid as their chunk was checked) leave the total."""
        if self.bar is not None and self.bar.total and rows:
            self.bar.total -= rows
            self.bar.refresh()

    def status(self, text: str) -> None:
        """What the job waits on beside rows (an import uploading or processing), shown after the count."""
        if self.bar is not None:
            self.bar.set_postfix_str(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
