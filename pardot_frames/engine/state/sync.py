"""Incremental sync (``sync_mode = "changed"``): send only rows Pardot does not have as they are.

A state per destination (the Pardot host, business unit, data object, lists, operations and output
mapping: whatever changes what a row means) is a DuckDB file in the state folder. It keeps, per row
key (id, else fid, else the lower-cased email; list and prospect ids for memberships), a hash of the
payload Pardot last confirmed. A run sends rows whose key is new or whose payload changed; the state
learns only rows Pardot confirmed, after the job's own journal has their outcome, so a crash never
marks an unsent row as synced (it is sent again next time). Rows Pardot refused, and rows whose
outcome is unknown, are not learnt: the next run sends them again. Two rows with the same key in one
input are reported (the later ones), never merged.

The state also keeps the email -> prospect id map that lookups learn (``known``/``remember``/``forget``):
upsert_by_email and the duplicate-safe resends ask it before Pardot, so a job no longer lists the
account every run. An id Pardot no longer knows ("Invalid prospect ID") is forgotten and looked up again.

The hash is polars' row hash of the exact JSON sent: stable within a polars version; the state records
the version, and a state written by another one is set aside (every row is sent once more).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import orjson
import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.prepare.frames import ROW_NR, present
from pardot_frames.prepare.normalise import REJECTED_SCHEMA
from pardot_frames.prepare.validation import Validated

SEED = 0x5EED
DUPLICATE = "the same key as an earlier row of this input: in changed mode each prospect (or membership) is one row"


def destination(config: ExportConfig) -> dict[str, Any]:
    """What identifies a destination: everything that changes the meaning of a row sent there."""
    mapping = config.output_mapping.model_dump(mode="json", exclude={"timestamp"}) if config.output_mapping else None
    return {
        "pardot_domain": config.pardot_domain,
        "business_unit": config.business_unit,
        "data_object": config.data_object,
        "prospect_lists": list(config.prospect_lists),
        "prospect_list_operation": config.prospect_list_operation,
        "list_membership_operation": config.list_membership_operation,
        "upsert_by_email": config.upsert_by_email,
        "output_mapping": mapping,
    }


def state_path(config: ExportConfig, folder: Path) -> Path:
    key = hashlib.sha256(orjson.dumps(destination(config), option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    return folder / "sync" / f"{key}.duckdb"


def row_keys(checked: Validated, data_object: str) -> pl.DataFrame:
    """row_nr, key and hash of every valid row of a chunk (the hash over the payload as sent, or over the row's
    values for a row an import carries)."""
    rows = checked.rows
    if data_object == "prospects":
        parts = [
            pl.when(present(c)).then(
                pl.lit(f"{c}:")
                + (pl.col(c).cast(pl.String).str.to_lowercase() if c == "email" else pl.col(c).cast(pl.String))
            )
            for c in ("id", "fid", "email")
            if c in rows.columns
        ]
        keys = rows.select(ROW_NR, pl.coalesce(parts).alias("key") if parts else pl.lit(None, pl.String).alias("key"))
        hashes = checked.payloads.select(ROW_NR, pl.col("json").hash(SEED).alias("hash"))
        # rows an import carries have no batchUpsert JSON: their hash is over their values instead
        values = rows.select(ROW_NR, pl.struct(pl.exclude(ROW_NR)).hash(SEED).alias("values"))
        joined = keys.join(hashes, on=ROW_NR, how="left").join(values, on=ROW_NR, how="left")
        return joined.select(ROW_NR, "key", pl.coalesce("hash", "values").alias("hash"))
    key = pl.format("{}:{}", pl.col("list_id"), pl.col("prospect_id"))
    return rows.select(ROW_NR, key.alias("key"), key.hash(SEED).alias("hash"))


@dataclass
class Diff:
    """A chunk split by the state: rows to send, rows Pardot already has, duplicate keys reported."""

    to_send: Validated
    unchanged: list[int]
    new: int
    changed: int
    duplicates: pl.DataFrame


class SyncState:
    """One destination's confirmed payload hashes; open for a job, ``learn`` confirmed rows, ``close``."""

    def __init__(self, config: ExportConfig, folder: Path, *, dry: bool = False) -> None:
        import duckdb  # imported when a journal or state is opened: a dry run needs none

        self.config = config
        self.path = state_path(config, folder)
        self.seen = pl.Series("key", [], pl.String)  # keys met earlier in this job's input (duplicates)
        self.sent: dict[int, tuple[str, int]] = {}  # row_nr -> (key, hash) of rows sent, until confirmed
        self._con: Any = None
        self.dry = dry
        if dry:  # a dry run reads the state, if any, and writes nothing
            self.known = pl.DataFrame(schema={"key": pl.String, "hash": pl.UInt64})
            if self.path.exists():
                self._con = duckdb.connect(str(self.path), read_only=True)
                self.known = self._con.sql("SELECT key, hash FROM synced").pl()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = not self.path.exists()
        self._con = duckdb.connect(str(self.path), config={"threads": 1})
        if fresh:
            os.chmod(self.path, 0o600)
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS synced (key VARCHAR PRIMARY KEY, hash UBIGINT, confirmed_at TIMESTAMP)"
        )
        self._con.execute("CREATE TABLE IF NOT EXISTS meta (name VARCHAR PRIMARY KEY, value VARCHAR)")
        self._con.execute("CREATE TABLE IF NOT EXISTS prospect_ids (email VARCHAR PRIMARY KEY, prospect_id BIGINT)")
        version = self._meta("polars")
        if version is not None and version != pl.__version__:
            self._con.execute("DELETE FROM synced")  # another polars hashes differently: send everything once
        self._con.execute("INSERT OR REPLACE INTO meta VALUES ('polars', ?), ('destination', ?)",
                          [pl.__version__, orjson.dumps(destination(config)).decode()])  # fmt: skip
        self.known = self._con.sql("SELECT key, hash FROM synced").pl()

    def known_ids(self, emails: list[str]) -> dict[str, int]:
        """The prospect id this destination learnt for each (lower-cased) email, where it has one."""
        wanted = sorted({e.strip().lower() for e in emails if e})
        if not wanted or self._con is None or not self._has_ids():
            return {}
        self._con.register("_emails", pl.DataFrame({"email": wanted}, schema={"email": pl.String}).to_arrow())
        try:
            rows = self._con.execute("SELECT p.email, p.prospect_id FROM prospect_ids p JOIN _emails USING (email)")
            return dict(rows.fetchall())
        finally:
            self._con.unregister("_emails")

    def remember(self, ids: dict[str, int]) -> None:
        """Keep what a lookup found: email (lower-cased) -> prospect id."""
        if not ids or self._con is None or self.dry:
            return
        frame = pl.DataFrame(
            {"email": [e.strip().lower() for e in ids], "prospect_id": list(ids.values())},
            schema={"email": pl.String, "prospect_id": pl.Int64},
        )
        self._con.register("_ids", frame.to_arrow())
        self._con.execute("INSERT OR REPLACE INTO prospect_ids SELECT email, prospect_id FROM _ids")
        self._con.unregister("_ids")

    def forget(self, email: str) -> None:
        """Drop an email whose id Pardot no longer knows: it is looked up again."""
        if self._con is not None and not self.dry:
            self._con.execute("DELETE FROM prospect_ids WHERE email = ?", [email.strip().lower()])

    def _has_ids(self) -> bool:
        query = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'prospect_ids'"
        return bool(self._con.execute(query).fetchall()[0][0])

    def _meta(self, name: str) -> str | None:
        rows = self._con.execute("SELECT value FROM meta WHERE name = ?", [name]).fetchall()
        return rows[0][0] if rows else None

    def diff(self, checked: Validated) -> Diff:
        """Split a validated chunk: rows to send (new or changed), unchanged rows, duplicate keys."""
        keyed = row_keys(checked, self.config.data_object).with_columns(
            pl.col("key").is_first_distinct().alias("first"), pl.col("key").is_in(self.seen.implode()).alias("before")
        )
        dup = keyed.filter(pl.col("key").is_not_null() & (~pl.col("first") | pl.col("before")))
        self.seen = pl.concat([self.seen, keyed["key"].drop_nulls()])
        keyed = keyed.filter(~pl.col(ROW_NR).is_in(dup[ROW_NR].implode()))
        joined = keyed.join(self.known.rename({"hash": "known"}), on="key", how="left")
        unchanged = joined.filter(pl.col("known") == pl.col("hash"))[ROW_NR]
        send = joined.filter(pl.col("known").is_null() | (pl.col("known") != pl.col("hash")))
        self.sent.update(
            zip(send[ROW_NR].to_list(), zip(send["key"].to_list(), send["hash"].to_list(), strict=True), strict=True)
        )
        keep = pl.col(ROW_NR).is_in(send[ROW_NR].implode())
        duplicates = dup.select(
            pl.col(ROW_NR),
            pl.lit("key").alias("column"),
            pl.lit("duplicate_key").alias("check"),
            pl.lit(DUPLICATE).alias("reason"),
            pl.col("key").alias("value"),
        )  # fmt: skip
        to_send = replace(
            checked,
            rows=checked.rows.filter(keep),
            payloads=checked.payloads.filter(keep),
            problems=pl.concat([checked.problems, duplicates.cast(REJECTED_SCHEMA)]).sort(ROW_NR),  # type: ignore[arg-type]
        )
        return Diff(
            to_send,
            unchanged.to_list(),
            int(send["known"].is_null().sum()),
            int(send["known"].is_not_null().sum()),
            duplicates,
        )

    def learn(self, confirmed: list[int]) -> None:
        """Remember the rows Pardot confirmed (their key and payload hash)."""
        rows = [self.sent.pop(r) for r in confirmed if r in self.sent]
        if not rows or self._con is None or self.dry:
            return
        frame = pl.DataFrame(rows, schema={"key": pl.String, "hash": pl.UInt64}, orient="row")
        self._con.register("_confirmed", frame.to_arrow())
        self._con.execute("INSERT OR REPLACE INTO synced SELECT key, hash, now() FROM _confirmed")
        self._con.unregister("_confirmed")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()


def list_states(folder: Path) -> list[dict[str, Any]]:
    """Every destination state in the folder: file, destination, rows known."""
    import duckdb

    out = []
    for path in sorted((folder / "sync").glob("*.duckdb")) if (folder / "sync").exists() else []:
        try:
            con = duckdb.connect(str(path), read_only=True)
            rows = con.execute("SELECT count(*) FROM synced").fetchall()[0][0]
            meta = dict(con.execute("SELECT name, value FROM meta").fetchall())
            con.close()
        except duckdb.Error:
            continue
        out.append(
            {
                "id": path.stem,
                "path": str(path),
                "rows": rows,
                "destination": orjson.loads(meta.get("destination", "{}")),
            }
        )
    return out


class KnownIds(Protocol):
    """The email -> prospect id map a destination state keeps (``sync.SyncState``)."""

    def known_ids(self, emails: list[str]) -> dict[str, int]: ...

    def remember(self, ids: dict[str, int]) -> None: ...

    def forget(self, email: str) -> None: ...
