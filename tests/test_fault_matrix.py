"""Each fault of the matrix: no row lost, none applied twice, invalid rows reported, calls bounded."""

import pytest
from fault_cases import CASES, SEEDED, run_case


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.email_alone(*[c.name for c in CASES if not c.name.startswith("kill -9")])  # that one runs the CLI
def test_fault(case, tmp_path):
    outcome = run_case(case, tmp_path)
    assert outcome.lost == 0 and outcome.duplicates == 0 and outcome.wrong_values == 0, outcome
    assert outcome.applied == SEEDED + 300, outcome
    assert outcome.rejected_validation == 5 and outcome.rejected_pardot == 3, outcome
    assert outcome.calls <= outcome.bound, outcome
    assert outcome.ok
