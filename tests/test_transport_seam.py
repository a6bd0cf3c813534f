"""The transport seam: the engine runs unchanged over a scripted transport, which gives exact answers
the simulator does not (other shapes of per-row errors), and shows what the client put on the wire."""

import asyncio

import polars as pl
import pytest
from scripted import CONFIG, ScriptedTransport, v4

from pardot_frames import ExportConfig
from pardot_frames.config import profiles
from pardot_frames.engine.job.export import export_to_pardot_async


def run(frame, transport, **overrides):
    config = ExportConfig(**CONFIG, **overrides)
    return asyncio.run(export_to_pardot_async(frame, config, progress=False, journal=False, transport=transport))


@pytest.mark.email_alone
def test_list_shaped_row_errors_reject_exactly_those_rows():
    def answer(sent):
        rows = sent.prospects()
        errors = [
            {"index": i, "message": "Invalid prospect email address"} for i, r in enumerate(rows) if "bad" in r["email"]
        ]
        return v4(200, errors=errors, prospects=[{"id": 1}])

    transport = ScriptedTransport(answer)
    emails = [f"{'bad' if i % 4 == 1 else 'ok'}{i}@example.com" for i in range(12)]
    result = run(pl.DataFrame({"email": emails}), transport)
    assert result.succeeded == 9 and result.rejected_pardot == 3
    assert sorted(result.rejected["row_nr"].to_list()) == [1, 5, 9]
    assert set(result.rejected["message"]) == {"Invalid prospect email address"}
    assert transport.closed


@pytest.mark.email_alone
def test_the_wire_carries_the_token_business_unit_and_every_row_once():
    transport = ScriptedTransport(lambda sent: v4(200))
    result = run(pl.DataFrame({"email": [f"u{i}@example.com" for i in range(120)]}), transport, max_payload=2000)
    assert result.ok and result.api_calls == len(transport.sent) >= 3
    for sent in transport.sent:
        assert sent.base == "https://pi.example.com"
        assert sent.headers["Authorization"] == "Bearer scripted-at-1"
        assert sent.headers["Pardot-Business-Unit-Id"] == "0Uv000000000001"
        assert sent.request.path_query.startswith("/api/prospect/version/4/do/batchUpsert?format=json&prospects=")
        assert len("prospects=" + sent.request.path_query.split("prospects=", 1)[1]) <= 2000
    assert [r["email"] for s in transport.sent for r in s.prospects()] == [f"u{i}@example.com" for i in range(120)]


def test_saved_credentials_round_trip_any_name_and_value(tmp_path, monkeypatch):
    monkeypatch.setenv("PARDOT_FRAMES_HOME", str(tmp_path))
    name, secret = 'prod "eu" ü\\', 'se"cr\\et\n=ünïcode'
    profiles.save(name, {"client_id": "x", "client_secret": secret, "refresh_token": "r#t"})
    assert profiles.load(name) == {"client_id": "x", "client_secret": secret, "refresh_token": "r#t"}
    assert (tmp_path / "credentials.toml").stat().st_mode & 0o777 == 0o600


@pytest.mark.email_alone
def test_every_call_goes_out_after_its_rows_are_in_flight_in_the_journal(tmp_path):
    import duckdb

    from pardot_frames.engine.state.journal import JOURNAL_MEMORY

    seen_in_flight = []

    def answer(sent):
        journal = next(tmp_path.glob("*.duckdb"))
        # the job's own database instance: the same configuration as the job's connection
        con = duckdb.connect(str(journal), config={"threads": 1, "memory_limit": JOURNAL_MEMORY})
        states = dict(con.execute("SELECT row_nr, max_by(state, seq) FROM log GROUP BY row_nr").fetchall())
        con.close()
        emails = [r["email"] for r in sent.prospects()]
        seen_in_flight.append(all(states.get(int(e[1:].split("@")[0])) == "in_flight" for e in emails))
        return v4(200)

    transport = ScriptedTransport(answer)
    config = ExportConfig(**CONFIG, parallel_tasks=3, max_payload=600)
    frame = pl.DataFrame({"email": [f"u{i}@example.com" for i in range(400)]})
    result = asyncio.run(export_to_pardot_async(frame, config, progress=False, state_dir=tmp_path, transport=transport))
    assert result.ok and len(seen_in_flight) == result.api_calls > 30
    assert all(seen_in_flight)
    con = duckdb.connect(str(next(tmp_path.glob("*.duckdb"))), read_only=True)
    final = dict(con.execute("SELECT row_nr, max_by(state, seq) FROM log GROUP BY row_nr").fetchall())
    assert set(final.values()) == {"succeeded"} and len(final) == 400
