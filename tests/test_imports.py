"""Prospects through the Import API (issue #13), against the simulator's import state machine: what Pardot
ends up holding, the calls spent, errors mapped back to rows, limits, and resume re-attaching."""

import polars as pl
import pytest
from conftest import job
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netutil import call_held

from pardot_frames import ConfigError, export_to_pardot
from pardot_frames.simulator import Simulator

# what may differ between the methods: times, and the campaign an import must give the prospects it creates
IGNORED = ("updated_at", "created_at", "campaign_id", "id")  # ids: imports create in their own order
FAST = dict(import_poll_seconds=0.05, import_poll_max=0.2)


def people(n, company="Acme"):
    return pl.DataFrame({"email": [f"p{i}@example.com" for i in range(n)], "company": [company] * n})


def held(sim):
    return {p["email"]: p.get("company") for p in sim.state.prospects.values()}


@pytest.mark.email_alone
def test_an_import_creates_prospects_in_few_calls(sim):
    config = job(sim, method="import", import_campaign_id=8245, **FAST)
    result = export_to_pardot(people(3000), config, progress=False)
    assert result.ok and result.succeeded == 3000
    assert held(sim) == {f"p{i}@example.com": "Acme" for i in range(3000)}
    assert result.extra["imports"] == 1 and result.extra["import_batches"] == 1
    assert result.api_calls <= 10  # login + create + batch + submit + polls
    assert sim.state.calls_by_endpoint["prospect/batchUpsert"] == 0


def test_an_import_needs_a_campaign_to_create(sim):
    with pytest.raises(ConfigError, match="import_campaign_id"):
        export_to_pardot(people(5), job(sim, method="import", **FAST), progress=False)
    assert sim.pardot_calls == 0  # refused before any call


def test_import_errors_map_back_to_rows_and_updates_keep_nulls(sim):
    sim.seed(prospects=[{"id": 5, "email": "five@x.com", "company": "Old", "city": "Bern"}])
    frame = pl.DataFrame({"id": [5, 999], "company": ["New", "Ghost"], "city": [None, "Oslo"]})
    result = export_to_pardot(frame, job(sim, method="import", **FAST), progress=False)
    assert result.succeeded == 1 and result.rejected_pardot == 1
    assert result.rejected["row_nr"].to_list() == [1] and "No prospect matches" in result.rejected["message"][0]
    five = sim.state.prospects[5]
    assert five["company"] == "New" and five["city"] == "Bern"  # null left the city as it was


def test_rows_that_clear_a_field_go_through_batch_upsert(sim):
    sim.seed(prospects=[{"id": 5, "email": "five@x.com", "company": "Old"}, {"id": 6, "email": "six@x.com"}])
    frame = pl.DataFrame({"id": [5, 6], "company": ["", "Six"]})
    result = export_to_pardot(frame, job(sim, method="import", **FAST), progress=False)
    assert result.ok and result.extra["rows_by_batch_upsert"] == 1
    assert sim.state.prospects[5].get("company") in (None, "") and sim.state.prospects[6]["company"] == "Six"


@pytest.mark.parametrize("body_code", [413, 228, None])  # the 413's code is not known (import-api.md 6)
@pytest.mark.email_alone
def test_batches_split_under_the_byte_limit_and_a_413_halves_it(sim, body_code):
    # this account takes less than the job's batches; a 413 is keyed on the HTTP status, whatever its body says
    sim.configure(import_max_batch_bytes=15_000, import_too_big_code=body_code)
    config = job(sim, method="import", import_campaign_id=1, import_batch_bytes=20_000, **FAST)
    result = export_to_pardot(people(2500), config, progress=False)  # ~80 kB
    assert result.ok and result.extra["imports"] == 1  # a 413 costs the refused batch only, not its import
    assert result.extra["import_batches"] >= 6 and 9_000 < result.extra["final_import_batch_bytes"] <= 10_000
    assert held(sim) == {f"p{i}@example.com": "Acme" for i in range(2500)}  # each row once: no duplicate


@pytest.mark.email_alone
def test_the_daily_batch_limit_stops_the_job_resumably(sim):
    sim.configure(import_daily_batches=0)
    config = job(sim, method="import", import_campaign_id=1, **FAST)
    result = export_to_pardot(people(10), config, progress=False)
    assert result.not_sent == 10 and "limit" in result.stopped and not sim.state.prospects
    sim.configure(import_daily_batches=1000)
    again = export_to_pardot(people(10), config, progress=False, resume=True)
    assert again.ok and len(sim.state.prospects) == 10


@pytest.mark.email_alone
def test_auto_picks_the_method_by_row_count(sim):
    config = job(sim, method="auto", import_threshold=100, import_campaign_id=1, **FAST)
    small = export_to_pardot(people(50), config, progress=False)
    assert small.extra["method"] == "batch" and "50 rows < import_threshold" in small.extra["method_reason"]
    big = export_to_pardot(people(150, "Big"), config, progress=False)
    assert big.extra["method"] == "import" and big.extra["imports"] == 1


rows = st.lists(
    st.fixed_dictionaries(
        {
            "match": st.sampled_from(["id", "known email", "new email"]),
            "company": st.one_of(st.none(), st.text(min_size=1, max_size=12)),
            "city": st.one_of(st.none(), st.just(""), st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)),
            "score": st.one_of(st.none(), st.integers(0, 500)),
        }
    ),
    min_size=1,
    max_size=12,
)


def as_frame(data):
    """Rows matched by id, by the email of a seeded prospect (upsert_by_email), or creating one."""
    out = []
    for i, row in enumerate(data):
        values = {k: v for k, v in row.items() if k != "match"}
        key = {"id": {"id": 100 + i}, "known email": {"email": f"S{i}@x.com"}, "new email": {"email": f"n{i}@x.com"}}
        out.append({"id": None, "email": None, **key[row["match"]], **values})
    schema = {"id": pl.Int64, "email": pl.String, "company": pl.String, "city": pl.String, "score": pl.Int64}
    return pl.DataFrame(out, schema=schema)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows)
def test_both_methods_leave_pardot_holding_the_same(tmp_path, data):
    seeded = [{"id": 100 + i, "email": f"s{i}@x.com", "company": "Seed", "city": "Seed"} for i in range(len(data))]
    frame = as_frame(data)
    outcomes = []
    for method in ("batch", "import"):
        with Simulator(import_wait=0.0, import_seconds=0.02).run_in_thread() as sim:  # an import settles at once
            sim.seed(lists=[55], prospects=seeded)
            config = job(sim, method=method, upsert_by_email=True, prospect_lists=[55], import_campaign_id=1,
                         import_poll_seconds=0.01, import_poll_max=0.02)  # fmt: skip
            result = export_to_pardot(frame, config, progress=False, journal=False)
            held = {p["email"]: {f: v for f, v in p.items() if f not in IGNORED} for p in sim.state.prospects.values()}
            members = sorted(sim.state.prospects[p]["email"] for p in sim.state.members(55))
            outcomes.append((result.succeeded, result.rejected_pardot, held, members))
    assert outcomes[0] == outcomes[1]


def test_the_dry_run_shows_imports_and_the_auto_choice(sim):
    from pardot_frames import dry_run

    config = job(sim, method="auto", import_threshold=1000, import_campaign_id=1, payload_location="body", **FAST)
    big = dry_run(people(3000), config).summary()
    assert big["method"] == "import" and big["imports"] == 1 and big["import_batches"] == 1
    assert big["import_bytes"] > 3000 * 20 and big["calls_planned"] <= 10
    small = dry_run(people(500), config).summary()
    assert small["method"] == "batch" and small["calls_planned"] == 10  # 500 rows, 50 a call in the body
    assert sim.pardot_calls <= 2 and not sim.state.prospects  # field reads at most; nothing sent


def kill_and_resume(sim, tmp_path, kill_after_calls):
    """Run an import job in a child process, kill -9 it once call ``kill_after_calls`` was applied, resume."""
    import json
    import shutil
    import signal
    import subprocess
    import sys
    from pathlib import Path

    people(300).write_parquet(tmp_path / "input.parquet")
    values = {
        **sim.credentials,
        "method": "import",
        "import_campaign_id": 1,
        "check_fields": False,
        "check_deleted": False,
        **FAST,
    }  # fmt: skip  (the calls before the import's are none)
    (tmp_path / "job.toml").write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n")
    script = shutil.which("pardot-frames") or str(Path(sys.executable).with_name("pardot-frames"))
    args = [script, "export", "--config", str(tmp_path / "job.toml"), "--input", str(tmp_path / "input.parquet"),
            "--json", "--no-progress", "--state-dir", str(tmp_path / "state")]  # fmt: skip
    sim.configure(faults={"hold_from_call": kill_after_calls})
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert call_held(sim, process), "the kill point was not reached"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    sim.configure(faults={"hold_from_call": None})
    done = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_resume_reattaches_to_a_submitted_import(sim, tmp_path):
    summary = kill_and_resume(sim, tmp_path, kill_after_calls=3)  # create, upload, submit: killed after submit
    assert summary["imports_reattached"] == 1 and summary["imports"] == 0  # nothing uploaded again
    assert summary["succeeded"] == 300
    assert sorted(held(sim)) == sorted(f"p{i}@example.com" for i in range(300))  # each prospect once


def test_a_resume_submits_an_import_the_stopped_run_never_submitted(sim, tmp_path):
    summary = kill_and_resume(sim, tmp_path, kill_after_calls=2)  # create, upload: killed before submit
    assert summary["imports_reattached"] == 1 and summary["imports"] == 0 and summary["succeeded"] == 300
    assert sim.state.calls_by_endpoint["v5/imports/batches"] == 1  # its batch was still there: not sent again
    assert sorted(held(sim)) == sorted(f"p{i}@example.com" for i in range(300))  # each prospect once
    assert sim.state.imports.items[1].status == "Complete" and len(sim.state.imports.items) == 1


@pytest.mark.email_alone
def test_the_progress_bar_shows_upload_and_processing(sim, capsys):
    config = job(sim, method="import", import_campaign_id=1, **FAST)
    export_to_pardot(people(100), config, progress=True)
    err = capsys.readouterr().err
    assert "batch 1 uploaded" in err and "Complete" in err


@pytest.mark.email_alone
def test_a_csv_pardot_refuses_rejects_its_rows_with_the_reason(sim):
    frame = people(20).with_columns(pl.lit("x").alias("favourite_colour"))  # not a field of this account
    config = job(sim, method="import", import_campaign_id=1, check_fields=False, **FAST)
    result = export_to_pardot(frame, config, progress=False)
    assert result.rejected_pardot == 20 and not sim.state.prospects
    assert set(result.rejected["error_code"].to_list()) == {130}
    assert "favourite_colour__c" in result.rejected["message"][0]


def test_a_stream_is_checked_whole_for_the_campaign_before_any_call(sim):
    frame = pl.concat([pl.DataFrame({"id": list(range(1, 2001)), "email": None}), people(1).with_columns(id=None)],
                      how="diagonal_relaxed").select("id", "email")  # fmt: skip
    with pytest.raises(ConfigError, match="1 row"):  # the one creating row is in the last chunk
        export_to_pardot(frame.lazy(), job(sim, method="import", **FAST), progress=False, chunk_rows=500)
    assert sim.pardot_calls == 0


def test_the_dry_run_refuses_an_import_without_a_campaign_as_the_run_would(sim):
    from pardot_frames import dry_run

    with pytest.raises(ConfigError, match="import_campaign_id"):
        dry_run(people(10), job(sim, method="import"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(st.characters(codec="utf-8"), min_size=1, max_size=60), min_size=1, max_size=80),
    st.integers(40, 600),
    st.lists(st.integers(1, 30), min_size=1, max_size=10),
)
def test_batches_cut_across_chunks_hold_every_row_once_in_order_within_the_byte_limit(texts, limit, sizes):
    """Rows arriving in chunks of any sizes: full batches as they fill, the rest at the end; every row once,
    in order, each batch under the limit unless one row alone does not fit, its lines read back whole."""
    from pardot_frames.prepare.csv_batches import Cutter

    cutter, batches, start = Cutter(limit), [], 0
    lined = pl.DataFrame({"row_nr": range(len(texts)), "line": [t + "\n" for t in texts]})
    for size in sizes * len(texts):
        if start >= len(texts):
            break
        batches += cutter.cut("create", ["email", "company"], lined.slice(start, size))
        start += size
    if start < len(texts):
        batches += cutter.cut("create", ["email", "company"], lined.slice(start))
    batches += cutter.flush()
    head = b"email,company\n"
    assert [r for b in batches for r in b.rows] == list(range(len(texts)))
    assert [line for b in batches for line in b.lines()] == lined["line"].to_list()
    for b in batches:
        assert b.data.startswith(head) and (len(b.data) <= limit or len(b.row_nrs) == 1)
    for b in batches[:-1]:  # a batch closes only when the next row would not fit
        assert len(b.data) + len(lined["line"][int(b.row_nrs[-1]) + 1].encode()) > limit
