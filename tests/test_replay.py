"""The simulator against reality: the 336 recorded real Pardot calls replayed in order (tests/replay.py).
Goals of issue #10: at least 95% agree on status/stat/err_code and 90% on the JSON key structure."""

import asyncio

import pytest
from replay import RECORDING, load, replay, scores

from pardot_frames.simulator import Simulator

pytestmark = pytest.mark.skipif(not RECORDING.exists(), reason="shared/reference/recorded is not beside the repo")


@pytest.fixture(scope="module")
def comparisons():
    async def run():
        async with Simulator() as sim:
            return await replay(sim, load()), sim.state

    return asyncio.run(run())


def test_replay_scores_meet_the_goals(comparisons):
    found, _ = comparisons
    result = scores(found)
    assert result["calls"] == 336
    assert result["status_stat_err_code"] >= 0.95, [c for c in found if not c.outcome_agrees][:5]
    assert result["key_structure"] >= 0.90, [c for c in found if not c.keys_agree][:5]
    assert result["messages"] >= 0.95 and result["values"] >= 0.90


def test_every_endpoint_real_clients_use_is_answered_like_pardot(comparisons):
    found, state = comparisons
    endpoints = {c.endpoint for c in found if c.outcome_agrees and c.keys_agree}
    for needed in ("customField/version/N/do/query", "list/version/N/do/query", "list/version/N/do/create",
                   "list/version/N/do/delete", "listMembership/version/N/do/query", "prospect/version/N/do/delete",
                   "prospect/version/N/do/read/id", "prospect/version/N/do/batchUpsert"):  # fmt: skip
        assert any(needed in e for e in endpoints), needed
    assert len(state.deleted) == 55 and not state.prospects  # the recording deletes what it created


def test_typed_custom_fields_are_normalised_and_bad_values_dropped_silently(comparisons):
    found, _ = comparisons
    by_seq = {c.seq: c for c in found}
    # 451 sent an ISO timestamp and a number; 452 read back YYYY-MM-DD and 5, as the real account did
    assert not by_seq[452].values_differ and by_seq[452].outcome_agrees
    # 463 sent "notadate" / "notanumber": stat ok, no row error, and the read after it agrees with reality
    assert by_seq[463].stat == ("ok", "ok") and not by_seq[463].values_differ
    assert not by_seq[464].values_differ
