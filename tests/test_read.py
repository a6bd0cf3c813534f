"""Reading Pardot back into frames (issue #23): typed by the account's fields, named as a job sends them,
1,000 records a call, resumable, and a read frame can go back to Pardot unchanged."""

import polars as pl
import pytest
from conftest import job
from test_cli import cli, job_file

import pardot_frames as pf
from pardot_frames import ConfigError, ReadStopped

FIELDS = [
    {"field_id": "colour", "type": "Dropdown", "values": ["red", "blue"]},
    {"field_id": "born", "type": "Date"},
    {"field_id": "tags", "type": "Multi-Select", "values": ["a", "b"]},
    {"field_id": "spend", "type": "Number"},
]


@pytest.fixture
def account(sim, tmp_path):
    sim.seed(lists=[{"id": 10, "name": "News"}], custom_fields=FIELDS)
    frame = pl.DataFrame(
        {
            "email": [f"r{i}@x.com" for i in range(2500)],
            "first_name": ["Zoë"] * 2500,
            "colour": ["red", "blue"] * 1250,
            "born": ["1990-05-0" + str(1 + i % 9) for i in range(2500)],
            "spend": [str(i / 4) for i in range(2500)],
            "score": list(range(2500)),
        }
    )
    pf.export_to_pardot(frame, job(sim, upsert_by_email=True, prospect_lists=[10]), progress=False, state_dir=tmp_path)
    return sim


def test_prospects_come_back_typed_named_and_in_few_calls(account, tmp_path):
    before = account.pardot_calls
    frame = pf.read_prospects(job(account), state_dir=tmp_path)
    # 2,500 prospects, 1,000 a v5 call (the fields are cached); "tags" is an array field, refused in v5 queries:
    # its values come from the v4 query, 200 a call
    assert account.pardot_calls - before == 4 + 13  # the first page, the highest id, two ranges at once
    assert frame.height == 2500 and frame["id"].is_unique().all()
    assert frame.schema["born"] == pl.Date and frame.schema["spend"] == pl.Float64
    assert frame.schema["tags"] == pl.List(pl.String) and frame.schema["score"] == pl.Int64
    row = frame.filter(pl.col("email") == "r3@x.com").row(0, named=True)
    assert (row["first_name"], row["colour"], str(row["born"]), row["spend"], row["score"]) == (
        "Zoë", "blue", "1990-05-04", 0.75, 3,
    )  # fmt: skip
    assert "password" not in frame.columns
    some = pf.read_prospects(job(account), fields=["email", "colour"], emails=["R3@x.com", "r4@x.com"])
    assert some.columns == ["id", "email", "colour"] and sorted(some["email"]) == ["r3@x.com", "r4@x.com"]
    by_id = pf.read_prospects(job(account), fields=["email"], ids=frame["id"].head(3).to_list())
    assert by_id["email"].to_list() == frame["email"].head(3).to_list()
    with pytest.raises(ConfigError, match="'favourite' is neither"):
        pf.read_prospects(job(account), fields=["email", "favourite"], state_dir=tmp_path)


def test_lists_and_members(account):
    lists = pf.read_lists(job(account))
    assert lists.select("id", "name").rows() == [(10, "News")]
    members = pf.read_list_members(job(account), "News")
    assert members.height == 2500 and set(members["list_id"]) == {10}
    assert set(members["prospect_id"]) == account.state.members(10)


def test_a_read_frame_goes_back_unchanged(account, tmp_path):
    before = {pid: dict(p) for pid, p in account.state.prospects.items()}
    frame = pf.read_prospects(job(account), state_dir=tmp_path)
    config = job(account, sync_mode="changed")
    first = pf.export_to_pardot(frame, config, progress=False, state_dir=tmp_path)
    assert first.ok and first.succeeded == 2500 and first.rejected_validation == 0
    after = account.state.prospects

    def kept(record):
        return {k: v for k, v in record.items() if k != "updated_at"}

    assert all(kept(after[pid]) == kept(p) for pid, p in before.items())  # Pardot holds exactly what it held
    again = pf.export_to_pardot(pf.read_prospects(job(account), state_dir=tmp_path), config, progress=False,
                                state_dir=tmp_path)  # fmt: skip
    assert again.api_calls == 0 and again.unchanged == 2500


def test_a_stopped_read_resumes_after_its_last_id(account, tmp_path):
    pf.read_prospects(job(account), state_dir=tmp_path)  # the fields cached
    with pytest.raises(ReadStopped) as info:
        pf.read_prospects(job(account, max_api_calls=6), state_dir=tmp_path)  # a page: 1 v5 + 5 v4 (array field)
    stopped = info.value
    assert stopped.frame.height == 1000 and stopped.after_id == stopped.frame["id"].max()
    rest = pf.read_prospects(job(account), after_id=stopped.after_id, state_dir=tmp_path)
    assert pl.concat([stopped.frame, rest])["id"].n_unique() == 2500


def test_the_read_command_writes_files_and_reads_only_what_changed(account, tmp_path):
    config = job_file(tmp_path, account)
    for suffix in ("parquet", "csv", "duckdb"):
        out = tmp_path / f"p.{suffix}"
        code, text, err = cli("read", "prospects", "--config", config, "--out", out, "--state-dir", tmp_path)
        assert code == 0 and "read 2,500 prospects" in text, err
    assert pl.read_parquet(tmp_path / "p.parquet").height == 2500
    assert pl.read_csv(tmp_path / "p.csv", infer_schema=False).height == 2500
    code, text, _ = cli("read", "prospects", "--config", config, "--since-last", "--state-dir", tmp_path,
                        "--out", tmp_path / "first.parquet")  # fmt: skip
    assert code == 0 and pl.read_parquet(tmp_path / "first.parquet").height == 2500
    import time

    time.sleep(1.1)  # Pardot's times have one-second steps: the change lands in a later second
    pf.export_to_pardot(pl.DataFrame({"email": ["r7@x.com"], "company": ["New"]}), job(account, upsert_by_email=True),
                        progress=False, state_dir=tmp_path)  # fmt: skip
    code, text, _ = cli("read", "prospects", "--config", config, "--since-last", "--state-dir", tmp_path,
                        "--out", tmp_path / "next.parquet")  # fmt: skip
    changed = pl.read_parquet(tmp_path / "next.parquet")
    assert code == 0 and changed["email"].to_list() == ["r7@x.com"]  # only what changed since the last read
    code, text, _ = cli("read", "prospects", "--config", config, "--since-last", "--state-dir", tmp_path)
    assert code == 0 and "read 0 prospects" in text
    code, _, err = cli("read", "members", "--config", config, "--list", "Nope")
    assert code == 2 and "no list is named 'Nope'" in err and "Traceback" not in err
    code, _, err = cli("read", "prospects", "--config", config, "--fields", "email,favourite", "--state-dir", tmp_path)
    assert code == 2 and "'favourite'" in err


def test_a_job_that_creates_learns_the_new_ids_so_the_next_changed_run_goes_by_id(sim, tmp_path):
    """batchUpsert returns no new ids; a changed-mode job reads back what it created (1,000 a call) into the
    destination's id map: a later run where 1% of 5,000 email-keyed rows changed costs at most 2% of the
    first run's calls, lookups included."""
    sim.seed(prospects=[{"id": i, "email": f"seed{i}@x.com"} for i in range(1, 2001)])  # lookups list these
    rows = pl.DataFrame({"email": [f"e{i}@x.com" for i in range(5000)], "score": list(range(5000))})
    config = job(sim, upsert_by_email=True, sync_mode="changed", payload_location="body")
    full = pf.export_to_pardot(rows, config, progress=False, state_dir=tmp_path)
    assert full.ok and full.extra["ids_learnt"] >= 5000 and full.extra["id_learning_calls"] <= 8
    changed = rows.with_columns(
        pl.when(pl.int_range(pl.len()) % 100 == 0).then(pl.col("score") + 1).otherwise("score").alias("score")
    )
    again = pf.export_to_pardot(changed, config, progress=False, state_dir=tmp_path)
    assert again.succeeded == 50 and again.extra["ids_from_state"] == 50
    assert again.api_calls <= 0.02 * full.api_calls
    emails = [p["email"] for p in sim.state.prospects.values()]
    assert len(emails) == len(set(emails)) == 7000  # no prospect created twice
    assert {p["email"]: p.get("score") for p in sim.state.prospects.values()}["e100@x.com"] == 101
