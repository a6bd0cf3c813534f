"""Pardot as it really answers (issue #29): array custom fields never in a v5 query, every spelling of a
cancelled import, a verify that picks the prospect Pardot's matchEmail picks, one-shot inputs verified,
verify_strict for Python callers. Each test checks what the simulator holds or answered at the end."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest
from conftest import job

import pardot_frames as pf
from pardot_frames import VerifyFailed

FIELDS = [
    {"field_id": "interests", "type": "Checkbox", "values": ["golf", "sail", "ski"]},
    {"field_id": "tags", "type": "Multi-Select", "values": ["a", "b", "c"]},
    {"field_id": "tier", "type": "Dropdown", "values": ["gold", "silver"]},
]
N = 1200


def people(n=N):
    return pl.DataFrame(
        {
            "email": [f"a{i}@x.com" for i in range(n)],
            "interests": [["golf"] if i % 3 == 0 else (["ski"] if i % 3 == 1 else []) for i in range(n)],
            "tags": [["a", "b"] if i % 2 else ["c"] for i in range(n)],
            "tier": ["gold" if i % 2 else "silver" for i in range(n)],
        }
    )


@pytest.fixture
def arrays(sim, tmp_path):
    sim.seed(custom_fields=FIELDS)
    result = pf.export_to_pardot(people(), job(sim, upsert_by_email=True), progress=False, state_dir=tmp_path)
    assert result.ok
    return sim


def test_every_field_of_an_account_with_array_fields_is_read_in_few_calls(arrays, tmp_path):
    pf.fields(job(arrays), state_dir=tmp_path)  # the fields cached
    before = arrays.pardot_calls
    frame = pf.read_prospects(job(arrays), state_dir=tmp_path)
    assert arrays.pardot_calls - before == 3 + 6  # 1,200 prospects: 2 v5 pages and the highest id, 6 v4 of 200
    assert arrays.state.error_counts[51] == 0  # no query was refused
    assert frame.schema["interests"] == frame.schema["tags"] == pl.List(pl.String) and frame.schema["tier"] == pl.String
    held = {p["email"]: p for p in arrays.state.prospects.values()}
    for row in frame.sample(200, seed=1).iter_rows(named=True):
        record = held[row["email"]]
        assert row["tags"] == record.get("tags") and row["tier"] == record.get("tier")
        assert row["interests"] == ([record["interests"]] if record.get("interests") else None)
    one = pf.read_prospects(job(arrays), fields=["email", "tags"], ids=[frame["id"][5]], state_dir=tmp_path)
    assert one.rows() == [(frame["id"][5], "a5@x.com", ["a", "b"])]  # one prospect: a single-record read


def test_a_read_frame_with_array_fields_goes_back_unchanged_and_verifies_as_sets(arrays, tmp_path):
    before = {pid: dict(p) for pid, p in arrays.state.prospects.items()}
    frame = pf.read_prospects(job(arrays), state_dir=tmp_path)
    config = job(arrays, sync_mode="changed")
    first = pf.export_to_pardot(frame, config, progress=False, state_dir=tmp_path)
    assert first.ok and first.rejected_validation == 0
    kept = [(lambda r: {k: v for k, v in r.items() if k != "updated_at"}) for _ in range(1)][0]
    assert all(kept(arrays.state.prospects[pid]) == kept(p) for pid, p in before.items())
    again = pf.export_to_pardot(pf.read_prospects(job(arrays), state_dir=tmp_path), config, progress=False,
                                state_dir=tmp_path)  # fmt: skip
    assert again.api_calls == 0 and again.unchanged == N
    shuffled = people(300).with_columns(pl.col("tags").list.reverse())  # the same sets, another order
    checked = pf.verify(shuffled, job(arrays), sample=1.0, state_dir=tmp_path)
    assert checked.rows_checked == 300 and checked.ok


def test_an_array_field_the_account_did_not_show_as_one_is_read_the_other_way(arrays, tmp_path):
    pf.fields(job(arrays), state_dir=tmp_path)  # cached while "tier" is a Dropdown
    arrays.state.custom_fields["tier"]["type"] = "Multi-Select"  # Pardot now refuses it in queries
    frame = pf.read_prospects(job(arrays), fields=["email", "tier"], state_dir=tmp_path)
    assert frame.height == N and arrays.state.error_counts[51] == 1  # refused once, then read through v4
    assert frame.filter(pl.col("email") == "a1@x.com")["tier"].to_list() == [["gold"]]  # read as an array now


def test_the_verify_compares_the_prospect_pardots_match_email_picks(sim, tmp_path):
    """Two prospects share an email; the older one was active more recently, so Pardot (and the client) update
    it: the verify compares that one, not the newest id, and finds nothing wrong."""
    sim.seed(prospects=[{"id": 10, "email": "s@x.com", "last_activity_at": "2026-01-02 00:00:00"},
                        {"id": 20, "email": "s@x.com"}])  # fmt: skip
    rows = pl.DataFrame({"email": ["s@x.com"], "company": ["Acme"]})
    result = pf.export_to_pardot(rows, job(sim, upsert_by_email=True), progress=False, verify=1.0, state_dir=tmp_path)
    assert sim.state.prospects[10]["company"] == "Acme" and "company" not in sim.state.prospects[20]
    assert (
        result.verification.rows_checked == 1 and result.verification.ok and result.verification.duplicate_emails == 1
    )


def test_a_one_shot_input_is_kept_for_its_verify(sim, tmp_path):
    sim.seed(custom_fields=[{"field_id": "tier", "type": "Dropdown", "values": ["gold"]}])
    sim.configure(field_values_shown=False)  # the client cannot check the values; Pardot drops "lead" silently
    rows = pa.table(
        {"email": [f"o{i}@x.com" for i in range(500)], "tier": ["lead" if i == 7 else "gold" for i in range(500)]}
    )
    reader = pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches(max_chunksize=100))
    result = pf.export_to_pardot(reader, job(sim, upsert_by_email=True), progress=False, journal=False, verify=1.0)
    assert result.verification.rows_checked == 500 and result.verification.mismatches["row_nr"].to_list() == [7]


def test_verify_strict_fails_a_python_caller_with_the_mismatches(sim, tmp_path):
    sim.seed(custom_fields=[{"field_id": "tier", "type": "Dropdown", "values": ["gold"]}])
    sim.configure(field_values_shown=False)
    rows = pl.DataFrame({"email": ["p@x.com", "q@x.com"], "tier": ["gold", "lead"]})
    with pytest.raises(VerifyFailed, match="1 row") as info:
        pf.export_to_pardot(rows, job(sim, upsert_by_email=True, verify_strict=True), progress=False, verify=1.0)
    assert info.value.result.verification.mismatches["row_nr"].to_list() == [1]
    assert info.value.result.succeeded == 2  # the job itself ran: both rows are in Pardot
    assert {p["email"] for p in sim.state.prospects.values()} == {"p@x.com", "q@x.com"}


@pytest.mark.parametrize("word", ["Cancelled", "Canceled", "Canceling", "Aborted"])
@pytest.mark.email_alone
def test_a_cancelled_or_unknown_import_ends_polling_soon_and_its_rows_go_again_once(sim, word):
    # seed 1: the first import ends cancelled (its rows go again), the second completes
    sim.configure(import_cancelled_status=word, faults={"seed": 1, "import_cancelled": 0.5})
    config = job(
        sim,
        method="import",
        import_campaign_id=1,
        import_batch_bytes=2_000,
        import_poll_seconds=0.02,
        import_poll_max=0.05,
    )  # fmt: skip  (import_max_wait stays 6 hours: it must never be waited out)
    frame = pl.DataFrame({"email": [f"c{i}@x.com" for i in range(200)], "company": ["Acme"] * 200})
    result = pf.export_to_pardot(frame, config, progress=False)
    assert result.ok and result.succeeded == 200
    ends = result.extra["import_ends"]
    assert ends.get("unknown" if word == "Aborted" else "cancelled") and ends.get("complete")
    assert result.extra["import_polls"] <= 10 * result.extra["imports"]  # each import's polls stay bounded
    assert sorted(p["email"] for p in sim.state.prospects.values()) == sorted(frame["email"])  # each once


@pytest.mark.email_alone
def test_the_import_read_asks_only_for_fields_it_uses(sim):
    """An unknown name in ``fields`` fails the whole read (import-api.md 4); the errors reference is spelt two
    ways, so the client never asks for it: both spellings of the server work."""
    for name in ("errorsRef", "errorRef"):
        sim.configure(import_errors_ref=name)
        frame = pl.DataFrame({"email": ["e@x.com", "not an email"], "company": ["A", "B"]})
        config = job(sim, method="import", import_campaign_id=1, import_poll_seconds=0.02, check_fields=False)
        result = pf.export_to_pardot(frame.with_columns(pl.col("email") + name), config, progress=False)
        assert result.succeeded == 1 and result.rejected_validation == 1 and sim.state.error_counts[51] == 0
