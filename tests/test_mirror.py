"""Mirrored lists and the destination's email -> id map (issue #14). Every test checks what the simulator
holds: list members after the job, prospects never deleted, other lists untouched."""

import polars as pl
import pytest
from conftest import job

from pardot_frames import ConfigError, ExportConfig, dry_run, export_to_pardot


def seed_list(sim, list_id, members, other_list=None):
    """A list with members 1..n (prospects m1@x.com ...), plus an untouched list holding the same prospects."""
    lists = [list_id] + ([other_list] if other_list else [])
    sim.seed(
        lists=lists,
        prospects=[{"id": p, "email": f"m{p}@x.com"} for p in members],
        memberships=[{"list_id": lid, "prospect_id": p} for lid in lists for p in members],
    )


def test_mirror_by_id_removes_members_not_in_the_rows(sim):
    seed_list(sim, 10, range(1, 301), other_list=11)  # 300 members: the member reads page twice
    frame = pl.DataFrame({"id": list(range(1, 151)) + [400], "company": ["Acme"] * 151})
    sim.seed(prospects=[{"id": 400, "email": "new@x.com"}])
    result = export_to_pardot(frame, job(sim, prospect_lists=[10], prospect_list_operation="mirror"), progress=False)
    assert result.ok and result.succeeded == 151
    assert sim.state.members(10) == set(range(1, 151)) | {400}
    assert sim.state.members(11) == set(range(1, 301))  # another list: untouched
    assert len(sim.state.prospects) == 301  # nobody deleted
    figures = result.extra["mirror"]
    assert figures["removed"] == 150 and figures["members_read"] == 301  # 400 joined with its row
    assert figures["calls"] == 2 + 3  # two pages of members, three removal calls of 50


def test_mirror_by_email_keeps_the_rows_prospects_whatever_their_id(sim):
    seed_list(sim, 10, range(1, 6))  # m1..m5 are members
    frame = pl.DataFrame({"email": ["m1@x.com", "M2@x.com", "fresh@x.com"], "company": ["A", "B", "C"]})
    config = job(sim, prospect_lists=[10], prospect_list_operation="mirror", upsert_by_email=True)
    result = export_to_pardot(frame, config, progress=False)
    assert result.ok
    fresh = sim.state.find_by_email("fresh@x.com")[0]["id"]
    assert sim.state.members(10) == {1, 2, fresh} and len(sim.state.prospects) == 6
    assert result.extra["mirror"]["removed"] == 3


@pytest.mark.email_alone
def test_mirror_keeps_every_prospect_with_a_rows_email(sim):
    seed_list(sim, 10, range(1, 4))  # email-only rows create (the account allows duplicates): both are the job's
    frame = pl.DataFrame({"email": ["m1@x.com"], "company": ["A"]})
    export_to_pardot(frame, job(sim, prospect_lists=[10], prospect_list_operation="mirror"), progress=False)
    ids = {p["id"] for p in sim.state.find_by_email("m1@x.com")}
    assert len(ids) == 2 and sim.state.members(10) == ids


def test_mirror_list_memberships_only_touches_lists_in_the_input(sim):
    sim.seed(
        lists=[1, 2, 3],
        prospects=[{"id": p, "email": f"p{p}@x.com"} for p in range(1, 8)],
        memberships=[{"list_id": lid, "prospect_id": p} for lid in (1, 2, 3) for p in (1, 2, 3)],
    )
    frame = pl.DataFrame({"list_id": [1, 1, 2], "prospect_id": [2, 7, 5]})
    config = job(sim, data_object="list_memberships", list_membership_operation="mirror")
    result = export_to_pardot(frame, config, progress=False)
    assert result.ok and result.succeeded == 3
    assert sim.state.members(1) == {2, 7} and sim.state.members(2) == {5} and sim.state.members(3) == {1, 2, 3}
    assert len(sim.state.prospects) == 7


def test_mirror_needs_lists():
    with pytest.raises(ConfigError, match="mirror' needs prospect_lists"):
        ExportConfig(prospect_list_operation="mirror")


@pytest.mark.email_alone
def test_mirror_with_changed_mode_keeps_unchanged_rows_members(sim):
    sim.seed(lists=[10])
    config = job(sim, prospect_lists=[10], prospect_list_operation="mirror", sync_mode="changed")
    frame = pl.DataFrame({"email": [f"s{i}@x.com" for i in range(30)], "company": ["A"] * 30})
    export_to_pardot(frame, config, progress=False)
    assert len(sim.state.members(10)) == 30
    second = export_to_pardot(frame.head(20), config, progress=False)  # ten rows leave the segment
    assert second.unchanged == 20 and second.succeeded == 0
    kept = {p["id"] for p in sim.state.prospects.values() if int(p["email"][1:].split("@")[0]) < 20}
    assert sim.state.members(10) == kept and len(sim.state.prospects) == 30
    assert second.extra["mirror"]["removed"] == 10


def test_the_dry_run_of_a_mirror_counts_what_it_would_remove(sim):
    seed_list(sim, 10, range(1, 11))
    frame = pl.DataFrame({"id": [1, 2, 3]})
    planned = dry_run(frame, job(sim, prospect_lists=[10], prospect_list_operation="mirror")).summary()
    assert planned["to_remove"] == 7
    assert sim.state.members(10) == set(range(1, 11))  # nothing sent


def test_upsert_by_email_uses_the_id_map_and_relooks_stale_ids(sim):
    sim.seed(prospects=[{"id": 5, "email": "a@x.com"}, {"id": 6, "email": "b@x.com"}])
    config = job(sim, upsert_by_email=True, sync_mode="changed")
    frame = pl.DataFrame({"email": ["a@x.com", "b@x.com"], "company": ["one", "one"]})
    export_to_pardot(frame, config, progress=False)
    lookups = sim.state.calls_by_endpoint.get("prospect/query", 0) + sim.state.calls_by_endpoint.get("prospect/read", 0)
    second = export_to_pardot(frame.with_columns(pl.lit("two").alias("company")), config, progress=False)
    after = sim.state.calls_by_endpoint.get("prospect/query", 0) + sim.state.calls_by_endpoint.get("prospect/read", 0)
    assert after == lookups and second.extra["ids_from_state"] == 2  # no lookup: the map knew both
    assert {p["id"]: p["company"] for p in sim.state.prospects.values()} == {5: "two", 6: "two"}
    sim.state.delete_prospect("5")  # deleted and emptied from the recycle bin: Pardot forgets prospect 5 ...
    sim.state.deleted.pop(5)  # ... so a@x.com is looked up again and created (deleted only: see test_recycle_bin)
    third = export_to_pardot(frame.with_columns(pl.lit("three").alias("company")), config, progress=False)
    assert third.ok and third.succeeded == 2
    held = {p["email"]: p["company"] for p in sim.state.prospects.values()}
    assert held == {"a@x.com": "three", "b@x.com": "three"} and len(sim.state.prospects) == 2
