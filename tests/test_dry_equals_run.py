"""The dry run and the run agree on every figure, in every mode, on the demo data: both go through the
same setup, the same chunk pipeline and the same send paths' planning. Each case runs the dry run and
then the run against the same simulated account, and compares what was planned with what was done."""

import itertools

import polars as pl
import pytest
from conftest import job

from pardot_frames import dry_run, export_to_pardot
from pardot_frames.demo import demo_prospects
from pardot_frames.prepare.csv_batches import EXPECTED_POLLS

ROWS = 600


@pytest.fixture(scope="module")
def demo():
    return demo_prospects(ROWS)


def check(sim, frame, tmp_path, **settings):
    """Dry run, then run; the figures both have must be equal. Returns both."""
    config = job(sim, skip_invalid_records=True, **settings)
    planned = dry_run(frame, config, state_dir=tmp_path, chunk_rows=250)
    result = export_to_pardot(frame, config, progress=False, state_dir=tmp_path, chunk_rows=250)
    assert (planned.rows_in, planned.valid, planned.invalid) == (
        result.rows_in,
        result.valid,
        result.rejected_validation,
    )
    assert planned.rejected["row_nr"].unique().sort().to_list() == sorted(
        result.rejected.filter(pl.col("stage") == "validation")["row_nr"].to_list()
    )
    if planned.sync is not None:
        assert planned.sync["unchanged"] == result.unchanged
        assert planned.sync["new"] + planned.sync["changed"] == result.succeeded
    return planned, result


@pytest.mark.parametrize("location", ["query", "body"])
@pytest.mark.email_alone
def test_batch_modes(sim, demo, tmp_path, location):
    planned, result = check(sim, demo, tmp_path, payload_location=location, max_payload=4000)
    assert result.succeeded == planned.valid and planned.calls == result.api_calls


@pytest.mark.email_alone
def test_named_list_created_and_then_found(sim, demo, tmp_path):
    planned, result = check(sim, demo, tmp_path, prospect_lists="Fresh list", create_missing_lists=True)
    assert planned.lists == {"Fresh list": "would be created"}
    # the new list's id is not known before it exists: rows are planned with a 10-digit id, an upper bound
    assert result.api_calls == result.planned_calls <= planned.calls <= result.api_calls * 1.1
    created = next(lid for lid, rec in sim.state.lists.items() if rec["name"] == "Fresh list")
    assert len(sim.state.members(created)) == result.succeeded
    again, second = check(sim, demo, tmp_path, prospect_lists="Fresh list", create_missing_lists=True)
    assert again.lists == {"Fresh list": created} and again.calls == second.api_calls


@pytest.mark.email_alone
def test_changed_mode_with_a_named_list(sim, demo, tmp_path):
    sim.seed(lists=[{"id": 9001, "name": "Newsletter"}])
    settings = dict(sync_mode="changed", prospect_lists="Newsletter")
    first, _ = check(sim, demo, tmp_path, **settings)
    assert first.sync["new"] == first.valid
    unchanged, result = check(sim, demo, tmp_path, **settings)  # nothing changed: the list's query alone
    assert unchanged.sync == {"new": 0, "changed": 0, "unchanged": unchanged.valid}
    assert unchanged.calls == result.api_calls == result.planned_calls == 1
    edited = demo.with_columns(
        pl.when(pl.int_range(pl.len()) % 50 == 0).then(pl.lit("Elsewhere")).otherwise(pl.col("city")).alias("city")
    )
    some, result = check(sim, edited, tmp_path, **settings)
    assert 0 < some.sync["changed"] == result.succeeded and some.calls == result.api_calls


@pytest.mark.email_alone
def test_import_mode(sim, demo, tmp_path):
    sim.configure(import_wait=0.01, import_seconds=0.02)
    fast = dict(import_poll_seconds=0.05, import_poll_max=0.2)
    planned, result = check(
        sim, demo, tmp_path, method="import", import_campaign_id=5, import_batch_bytes=20_000, **fast
    )
    figures = planned.imports
    assert (figures["imports"], figures["import_batches"]) == (result.extra["imports"], result.extra["import_batches"])
    polls = result.extra["import_polls"]
    assert planned.calls - figures["imports"] * EXPECTED_POLLS == result.api_calls - polls
    assert result.succeeded == planned.valid


def test_auto_with_upsert_by_email_plans_the_lookups_of_the_method_it_picks(sim, demo, tmp_path):
    planned = dry_run(demo, job(sim, method="auto", upsert_by_email=True, skip_invalid_records=True))
    batch = dry_run(demo, job(sim, method="batch", upsert_by_email=True, skip_invalid_records=True))
    assert planned.imports["method"] == "batch" and planned.lookups == batch.lookups > 0
    assert planned.calls == batch.calls


@pytest.mark.parametrize("sync_mode", ["full", "changed"])
def test_upsert_by_email_lookups_are_planned_as_the_run_makes_them(sim, demo, tmp_path, sync_mode):
    """The dry run reads the account's size (one call) and the destination's id map, so its lookups are the
    run's (issue #29: it planned one lookup per email, 722 calls for 25 made)."""
    sim.seed(prospects=[{"id": 1 + i, "email": f"seed{i}@x.com"} for i in range(1000)])
    settings = dict(upsert_by_email=True, sync_mode=sync_mode)
    planned, result = check(sim, demo, tmp_path, **settings)
    assert planned.summary()["lookups_exact"] and abs(planned.calls - result.api_calls) <= 0.1 * result.api_calls
    if sync_mode == "changed":  # the second run: the id map knows every email, so no lookup at all
        edited = demo.with_columns(pl.when(pl.int_range(pl.len()) % 50 == 0).then(pl.lit("Elsewhere"))
                                   .otherwise(pl.col("city")).alias("city"))  # fmt: skip
        again, second = check(sim, edited, tmp_path, **settings)
        assert again.lookups == 0 and again.calls == second.api_calls


def test_mirror(sim, demo, tmp_path):
    sim.seed(
        lists=[10],
        prospects=[{"id": p, "email": f"old{p}@x.com"} for p in range(1, 121)],
        memberships=[{"list_id": 10, "prospect_id": p} for p in range(1, 121)],
    )
    frame = pl.DataFrame({"id": list(range(1, 61)), "company": ["Acme"] * 60})
    planned, result = check(sim, frame, tmp_path, prospect_lists=[10], prospect_list_operation="mirror")
    assert planned.to_remove == result.extra["mirror"]["removed"] == 60
    assert planned.calls == result.api_calls and sim.state.members(10) == set(range(1, 61))


@pytest.mark.email_alone
def test_a_large_frame_goes_as_a_first_slice_and_the_rest(sim, tmp_path, monkeypatch):
    """A frame over SLICED_FROM rows is sent in its first slice and the rest (the first call goes while
    the rest is checked); the dry run cuts it the same way, so a batch cut at the slice's end is planned too.
    (The thresholds are lowered here so the case stays small: 50,000 and 5,000 in use.)"""
    from pardot_frames.prepare import frames

    monkeypatch.setattr(frames, "SLICED_FROM", 1_000)
    monkeypatch.setattr(frames, "FIRST_SLICE", 333)  # not a multiple of any batch: a batch is cut there
    frame = demo_prospects(1_500)
    planned, result = check(sim, frame, tmp_path, max_payload=4000)
    assert result.succeeded == planned.valid == len(sim.state.prospects) and planned.calls == result.api_calls
    first = 333 - planned.rejected.filter(pl.col("row_nr") < 333).height  # valid rows of the first slice
    sent = sim.state.rows_by_call  # the run's batchUpsert calls (a dry run sends none)
    assert first in set(itertools.accumulate(sent))  # a call ended where the first slice ends
