"""Paging loops that cannot run forever: every page must move the cursor forward.

A server (or a proxy) that ignores ``id_greater_than`` or ``offset`` answers the same page again and
again; a reader that only stops on a short page would loop at full speed for ever. ``forward`` gives
the next cursor or raises the caller's error when a page brings nothing new, and no loop reads more
than ``MAX_PAGES`` pages.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_PAGES = 100_000  # 20 million records at 200 a page


def forward(cursor: int | None, ids: Iterable[int], pages: int, what: str, error: type[Exception]) -> int:
    """The next ``id_greater_than`` of a paging loop: the page's highest id, which must pass ``cursor``."""
    top = max(ids)
    if cursor is not None and top <= cursor:
        raise error(f"{what}: the server answered the same records again (it ignores id_greater_than)")
    if pages >= MAX_PAGES:
        raise error(f"{what}: more than {MAX_PAGES:,} pages; stopped")
    return top
