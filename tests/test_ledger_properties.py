"""The ledger's bookkeeping against a plain dict model, and a send path's planned calls against the plan."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pardot_frames import ExportConfig, validate
from pardot_frames.engine.send import MembershipBatchPath, Phase, UpsertPath
from pardot_frames.engine.send.ledger import Applied, Ledger
from pardot_frames.prepare.batching import plan
from pardot_frames.prepare.frames import ROW_NR

row_nrs = st.lists(st.integers(0, 5000), max_size=60)  # duplicates and jumps past the bitmap's size


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(row_nrs, st.sampled_from([None, "note"])), max_size=8))
def test_applied_rows_added_at_once_equal_a_dict(steps):
    applied, model = Applied(), {}
    for rows, note in steps:
        applied.add(rows, note)
        for r in rows:
            model[r] = note or model.get(r)
    assert len(applied) == len(model) and bool(applied) == bool(model)
    assert applied.rows() == sorted(model)
    assert all(r in applied and applied.get(r) == model[r] for r in model)
    assert all(r not in applied for r in range(5001) if r not in model)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ok", "reject", "transient"]), row_nrs), max_size=10))
def test_a_row_ends_applied_or_refused_by_its_last_word(steps):
    """A row applied stays applied (a later refusal of it is a resend's, and changes nothing); a row refused
    and then applied (a resume's resend) is applied, no longer refused or transient."""
    ledger, last = Ledger(), {}
    for kind, rows in steps:
        if kind == "ok":
            ledger.ok(rows)
            last |= dict.fromkeys(rows, "ok")
        else:
            ledger.reject(rows, 1, "no", transient=kind == "transient")
            last |= {r: kind for r in rows if last.get(r) != "ok"}
    assert set(ledger.succeeded.rows()) == {r for r, k in last.items() if k == "ok"}
    assert set(ledger.unapplied) == {r for r, k in last.items() if k != "ok"}
    assert ledger.transient == {r for r, k in last.items() if k == "transient"}


def test_planned_calls_are_the_plans_batches_built_when_taken():
    """A path's calls follow the plan (rows in order, batch by batch) whether taken one by one, sliced, or
    asked only for their rows (what the write-ahead uses)."""
    frame = pl.DataFrame({"email": [f"p{i}@example.com" for i in range(230)], "company": ["Ünïcode & Co"] * 230})
    config = ExportConfig(max_payload=1500)
    checked = validate(frame, config)
    path = UpsertPath(config)
    calls = path.calls(Phase(checked.rows, checked.payloads))
    expected = plan(checked.payloads, config).batches["row_nrs"].to_list()
    assert len(calls) == len(expected) > 5
    assert [path.rows(call) for call in calls] == expected == [calls.rows(k) for k in range(len(calls))]
    assert [path.rows(c) for c in calls[2:4]] == expected[2:4] and path.rows(calls[-1]) == expected[-1]

    members = pl.DataFrame({"list_id": [7, 8, 7, 9] * 30, "prospect_id": [i // 2 for i in range(120)]})
    mconfig = ExportConfig(data_object="list_memberships", list_membership_method="batch")
    mchecked = validate(members, mconfig)
    mpath = MembershipBatchPath(mconfig)
    mcalls = mpath.calls(Phase(mchecked.rows, mchecked.payloads))
    assert [mcalls.rows(k) for k in range(len(mcalls))] == [mpath.rows(c) for c in mcalls]
    assert sorted(r for k in range(len(mcalls)) for r in mcalls.rows(k)) == sorted(mchecked.rows[ROW_NR].to_list())
