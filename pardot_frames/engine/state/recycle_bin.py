"""Deleted prospects stay deleted (issue #33): the account's recycle bin, known before rows go, so a row for
a prospect a team deleted is reported instead of bringing it back (or creating it again).

The bin is kept per Pardot host and business unit in the state folder (``bin/<key>.duckdb``, mode 0600):
the deleted prospects' ids, lower-cased emails and ``updatedAt``. The first job reads it whole (1,000 a
v5 call: 300 calls for 300,000). A later one, more than a minute after the last check (v5 reads lag up to
60 s anyway, so a job right after another spends nothing on it), first asks one v4 call for the bin's size
and its most recently updated prospect (``pardot.recycle_bin.probe``): the same as last time, nothing more
is read; otherwise the prospects updated since the newest one kept are read (deleting a prospect updates
it), and if the bin's size still differs (a prospect was restored or purged, or deleting did not touch
``updatedAt``), the bin is read whole again.

``screen`` then splits a chunk's rows: a row whose ``id`` is in the bin, or a row without id or fid whose
email is in the bin and that no live prospect has (the live check is one lookup for those emails only,
through the id map first), is not sent: stage ``deleted``, "deleted in Pardot on <date>; set
restore_deleted = true to bring it back". With ``restore_deleted`` the row goes by the deleted prospect's
id instead (batchUpsert: with ``is_archived`` false, which brings it back; the Import API: ``restoreDeleted``
true), so none is created twice. A list membership whose prospect is in the bin is reported the same way
(a membership cannot bring a prospect back).

A prospect deleted while a job runs is Pardot's business: a row sent after that goes as Pardot takes it
(an update by id leaves it in the bin; an email-only row may create a new prospect or bring it back).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.state.duck import attached
from pardot_frames.pardot import prospects, recycle_bin
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.payload import prospect_payloads
from pardot_frames.prepare.validation import Validated

if TYPE_CHECKING:
    from pardot_frames.engine.state.sync import KnownIds
    from pardot_frames.pardot.client import Client

FRESH_SECONDS = 60  # a bin checked this recently is not asked again
SCHEMA = {"id": pl.Int64, "email": pl.String, "updated_at": pl.String}
REASON = "deleted in Pardot on {date}; set restore_deleted = true to bring it back"
MEMBER_REASON = "its prospect was deleted in Pardot on {date}; restore it first (a prospects job with restore_deleted)"


def bin_path(config: ExportConfig, folder: Path) -> Path:
    key = hashlib.sha256(f"{config.pardot_domain}|{config.business_unit}".encode()).hexdigest()[:16]
    return folder / "bin" / f"{key}.duckdb"


@dataclass
class Screened:
    """A chunk's rows after the bin: what goes (``rows``, ids set for restored ones), what does not."""

    rows: pl.DataFrame
    refused: list[tuple[int, str]]  # (row_nr, reason)
    lookups: int = 0  # calls spent to learn which binned emails a live prospect also has
    taken: list[int] = field(default_factory=list)  # rows going by a binned id (restore_deleted)
    unchanged: int = 0  # of the rows the bin took, those a changed-mode run held back as unchanged

    @property
    def restored(self) -> int:
        return len(self.taken)


class RecycleBin:
    """The bin as this machine knows it: ``refresh`` it with Pardot, then ``screen`` rows against it."""

    def __init__(self, config: ExportConfig, folder: Path) -> None:
        self.config, self.path = config, bin_path(config, folder)
        self.frame = pl.DataFrame(schema=SCHEMA)
        self.meta: dict[str, Any] = {"host": config.pardot_domain, "business_unit": config.business_unit}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        """The kept bin; a file that cannot be read is as none (the bin is read whole again)."""
        import duckdb

        try:
            with attached(self.path, read_only=True) as con:
                frame = con.sql("SELECT id, email, updated_at FROM binned").pl().cast(SCHEMA)
                meta = orjson.loads(con.execute("SELECT value FROM meta").fetchall()[0][0])
        except (duckdb.Error, IndexError, orjson.JSONDecodeError):
            return
        self.frame, self.meta = frame, meta

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = self.path.with_suffix(".tmp")
        fresh.unlink(missing_ok=True)
        with attached(fresh) as con:
            con.register("frame", self.frame)
            con.execute("CREATE TABLE binned AS SELECT * FROM frame")
            con.unregister("frame")
            con.execute("CREATE TABLE meta (value VARCHAR)")
            con.execute("INSERT INTO meta VALUES (?)", [orjson.dumps(self.meta).decode()])
        os.chmod(fresh, 0o600)
        os.replace(fresh, self.path)

    def fresh(self) -> bool:
        """Checked less than ``FRESH_SECONDS`` ago: not asked again (v5 reads lag up to 60 s anyway, v5-objects 4)."""
        checked = self.meta.get("checked_epoch")
        return checked is not None and time.time() - float(checked) < FRESH_SECONDS

    async def refresh(self, client: Client) -> int:
        """Bring the bin up to date (see the module docstring); the calls it took."""
        if self.fresh():
            return 0
        before = client.stats.api_calls
        if "size" not in self.meta:
            await self._read_whole(client)
        else:
            size, newest = await recycle_bin.probe(client)
            if (size, newest) != (self.meta.get("size"), self.meta.get("newest")):
                await self._read_since(client, size, newest)
        self.meta["checked_at"], self.meta["checked_epoch"] = _now(), time.time()
        self.save()
        return client.stats.api_calls - before

    async def _read_whole(self, client: Client) -> None:
        pages = [self._page(p) async for p in recycle_bin.binned(client)]
        self.frame = pl.concat(pages) if pages else pl.DataFrame(schema=SCHEMA)
        self.meta.update(size=self.frame.height, newest=self._newest(), newest_at=self._newest_at(), read_at=_now())

    async def _read_since(self, client: Client, size: int, newest: int | None) -> None:
        since = self.meta.get("newest_at")
        pages = [self._page(p) async for p in recycle_bin.binned(client, since)] if since else []
        if pages:
            fresh = pl.concat(pages)
            self.frame = pl.concat([self.frame.filter(~pl.col("id").is_in(fresh["id"].implode())), fresh])
        if self.frame.height != size:  # restored or purged prospects: only a whole read says which
            await self._read_whole(client)
            return
        self.meta.update(size=size, newest=newest, newest_at=self._newest_at())

    def _newest(self) -> int | None:
        """The id of the most recently updated binned prospect (the highest id among equals, as the probe)."""
        return int(self.frame.sort("updated_at", "id")["id"][-1]) if self.frame.height else None

    def _newest_at(self) -> str | None:
        return str(self.frame["updated_at"].max()) if self.frame.height else None

    @staticmethod
    def _page(records: list[dict[str, Any]]) -> pl.DataFrame:
        page = pl.DataFrame(records, schema={"id": pl.Int64, "email": pl.String, "updatedAt": pl.String})
        email = pl.col("email").str.strip_chars().str.to_lowercase()
        return page.select(
            "id", pl.when(email != "").then(email).alias("email"), pl.col("updatedAt").alias("updated_at")
        )

    async def screen(self, rows: pl.DataFrame, client: Client | None, ids: KnownIds | None) -> Screened:
        """The rows of a chunk (valid, about to go) against the bin (see the module docstring)."""
        if not self.frame.height or not rows.height:
            return Screened(rows, [])
        if self.config.data_object != "prospects":
            hit = rows.join(self.frame.select(pl.col("id").alias("prospect_id"), "updated_at"), on="prospect_id")
            return Screened(rows.filter(~pl.col(ROW_NR).is_in(hit[ROW_NR].implode())), _reasons(hit, MEMBER_REASON))
        by_id = rows.join(self.frame.select("id", "updated_at"), on="id") if "id" in rows.columns else None
        email_only = _email_only(rows)
        by_email = (
            email_only.join(self.frame.rename({"id": "binned_id", "email": "_email"}), on="_email")
            if email_only is not None
            else None
        )
        lookups, live = 0, set[str]()
        if by_email is not None and by_email.height and client is not None:
            lookups, live = await _live(client, ids, by_email["_email"].unique().to_list(), set(self.frame["id"]))
            by_email = by_email.filter(~pl.col("_email").is_in(list(live)))
        hits = [h.select(ROW_NR, "updated_at", pl.col(key).alias("binned_id")) for h, key in
                ((by_id, "id"), (by_email, "binned_id")) if h is not None and h.height]  # fmt: skip
        empty = pl.DataFrame(schema={ROW_NR: pl.Int64, "updated_at": pl.String, "binned_id": pl.Int64})
        hit = pl.concat(hits).unique(ROW_NR, maintain_order=True) if hits else empty
        if self.config.restore_deleted:
            return Screened(self._restoring(rows, hit), [], lookups, hit[ROW_NR].to_list())
        kept = rows.filter(~pl.col(ROW_NR).is_in(hit[ROW_NR].implode()))
        return Screened(kept, _reasons(hit, REASON), lookups)

    def _restoring(self, rows: pl.DataFrame, hit: pl.DataFrame) -> pl.DataFrame:
        """Rows for binned prospects go by the binned id (batchUpsert: with is_archived false, which brings
        it back; an import brings it back with restoreDeleted)."""
        if not hit.height:
            return rows
        mapped = rows.join(hit.select(ROW_NR, "binned_id"), on=ROW_NR, how="left")
        ids = pl.coalesce("binned_id", "id") if "id" in rows.columns else pl.col("binned_id")
        out = mapped.with_columns(ids.alias("id")).drop("binned_id")
        if self.config.method != "import":
            flag = pl.when(pl.col(ROW_NR).is_in(hit[ROW_NR].implode())).then(pl.lit(False))
            existing = pl.col("is_archived") if "is_archived" in rows.columns else pl.lit(None, pl.Boolean)
            out = out.with_columns(flag.otherwise(existing).alias("is_archived"))
        return out.select(ROW_NR, "id", pl.exclude(ROW_NR, "id"))


async def screened(bin_: RecycleBin, send: Validated, every: pl.DataFrame, client: Client | None,
                   ids: KnownIds | None, with_json: bool = True) -> tuple[Validated, Screened]:  # fmt: skip
    """A step's rows to send after the bin. ``every`` is each valid row of the step, those a changed-mode run
    holds back as unchanged too: a row for a deleted prospect is never "unchanged" (it is reported, or, with
    restore_deleted, sent to bring the prospect back). Refused rows leave, restored ones go by their binned id
    (their payloads built again); ``Screened.unchanged`` says how many held-back rows the bin took."""
    found = await bin_.screen(every, client, ids)
    hits = {r for r, _ in found.refused} | set(found.taken)
    if not hits:
        return send, found
    sending = set(send.rows[ROW_NR].to_list())
    found.unchanged = len(hits - sending)
    if found.restored:
        rows = found.rows.filter(pl.col(ROW_NR).is_in(list(sending | hits)))
        return replace(send, rows=rows, payloads=prospect_payloads(rows, bin_.config, with_json)), found
    keep = ~pl.col(ROW_NR).is_in(list(hits))
    return replace(send, rows=send.rows.filter(keep), payloads=send.payloads.filter(keep)), found


def bin_calls(config: ExportConfig, folder: Path) -> int:
    """The calls a run spends knowing the bin, as a plan without credentials counts them: none when it was
    checked within the minute, else one (the probe, or the whole read of a bin of at most 1,000)."""
    if not checks_bin(config):
        return 0
    return 0 if RecycleBin(config, folder).fresh() else 1


def checks_bin(config: ExportConfig) -> bool:
    return config.check_deleted


def list_bins(folder: Path) -> list[dict[str, Any]]:
    """Every recycle-bin cache in the state folder: id, file, host, business unit, prospects, last read/check."""
    import duckdb

    out = []
    for path in sorted((folder / "bin").glob("*.duckdb")) if (folder / "bin").exists() else []:
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                count = con.execute("SELECT count(*) FROM binned").fetchall()[0][0]
                meta = orjson.loads(con.execute("SELECT value FROM meta").fetchall()[0][0])
        except (duckdb.Error, IndexError, orjson.JSONDecodeError):
            continue
        out.append({"id": path.stem, "path": str(path), "prospects": count, **meta})
    return out


def _email_only(rows: pl.DataFrame) -> pl.DataFrame | None:
    """Rows that name their prospect by email alone, with the email as the bin keeps it."""
    if "email" not in rows.columns:
        return None
    alone = pl.lit(True)
    for key in ("id", "fid"):
        if key in rows.columns:
            alone = alone & pl.col(key).is_null()
    return rows.filter(alone).select(ROW_NR, pl.col("email").str.strip_chars().str.to_lowercase().alias("_email"))


async def _live(client: Client, ids: KnownIds | None, emails: list[str], binned: set[int]) -> tuple[int, set[str]]:
    """(calls, the emails a live prospect has): the id map first (an id it keeps that is in the bin is no live
    prospect), then one lookup for the rest."""
    known = {e for e, pid in ids.known_ids(emails).items() if pid not in binned} if ids is not None else set()
    ask = [e for e in emails if e not in known]
    before = client.stats.api_calls
    found = await prospects.resolve_emails(client, ask) if ask else {}
    return client.stats.api_calls - before, known | set(found)


def _reasons(hit: pl.DataFrame, text: str) -> list[tuple[int, str]]:
    return [
        (int(r), text.format(date=str(at or "an unknown date")[:10]))
        for r, at in hit.select(ROW_NR, "updated_at").iter_rows()
    ]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
