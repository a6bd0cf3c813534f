"""A hypothesis corpus of bad frames: the export works or raises a documented error, and a frame it
rejects never has a row sent."""

import datetime as dt

import pandas as pd
import polars as pl
from conftest import job
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pardot_frames import JobFailed, export_to_pardot
from pardot_frames.errors import InputError

NAMES = [
    "id",
    "fid",
    "email",
    "score",
    "is_starred",
    "campaign_id",
    "first_name",
    "password",
    "notes",
    "custom_field",
    "client_secret",
    "refresh_token",
    "list_id",
    "prospect_id",
    "First Name",
    "e-mail",
    "list_12",
    "row_nr",
    "",
    "ÉMAIL",
    "x" * 300,
]
SCALARS = st.one_of(
    st.none(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.text(max_size=1).map(lambda c: c * 9000),  # huge strings
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1)),
    st.binary(max_size=5),
    st.lists(st.integers(0, 3), max_size=2),
    st.sampled_from(["a@b.com", "true", "0", "12", "1.5", "nan", "", " "]),
)


@st.composite
def frames(draw):
    names = draw(st.lists(st.sampled_from(NAMES), max_size=5))
    rows = draw(st.integers(0, 3))
    columns = [(name, [draw(SCALARS) for _ in range(rows)]) for name in names]
    kind = draw(st.sampled_from(["polars", "pandas"]))
    if kind == "pandas":  # pandas allows duplicated column names
        return (
            pd.DataFrame({i: values for i, (_, values) in enumerate(columns)}).set_axis([n for n, _ in columns], axis=1)
            if columns
            else pd.DataFrame(index=range(rows))
        )
    try:
        return pl.DataFrame({n: v for n, v in columns}, strict=False)
    except Exception:  # the test's own frame could not be built (mixed types polars refuses)
        return pl.DataFrame({n: [str(x) for x in v] for n, v in columns})


def writes(sim):
    """Calls that carry rows: batchUpsert and list membership changes."""
    return sum(
        n for endpoint, n in sim.state.calls_by_endpoint.items() if "batchUpsert" in endpoint or "embership" in endpoint
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(frame=frames(), data_object=st.sampled_from(["prospects", "list_memberships"]), strict=st.booleans())
def test_bad_frames_raise_documented_errors_and_send_nothing(sim, frame, data_object, strict):
    calls_before = writes(sim)
    try:
        result = export_to_pardot(
            frame, job(sim, data_object=data_object, skip_invalid_records=not strict), progress=False, journal=False
        )
    except InputError:
        assert writes(sim) == calls_before  # a rejected frame sends nothing (a field read may come first)
        return
    except JobFailed as failed:  # strict: Pardot refused a row it was sent; everything else is accounted for
        assert strict and failed.result.rejected_pardot >= 1
        partial = failed.result
        assert partial.succeeded + len(partial.rejected) == partial.rows_in
        return
    rejected = result.rejected  # in the input's frame kind: pandas for a pandas input
    assert type(rejected).__module__.split(".")[0] == type(frame).__module__.split(".")[0] or isinstance(
        rejected, pl.DataFrame
    )
    rejected = pl.from_pandas(rejected) if hasattr(rejected, "iloc") else pl.DataFrame(rejected)
    assert result.succeeded + rejected.height == result.rows_in
    for value in rejected.get_column("message", default=pl.Series([])).to_list():
        assert isinstance(value, str)
    if "password" in rejected.columns:
        assert set(rejected["password"].drop_nulls().to_list()) <= {"**********"}


def test_a_key_column_of_lists_is_named_before_any_call(sim):
    """Found by the property above: a key column holding lists (even empty ones) is one clear error."""
    import pytest

    from pardot_frames.errors import ColumnError

    for frame, data_object in ((pl.DataFrame({"fid": [[]]}), "prospects"),
                               (pl.DataFrame({"email": [["a@x.com"]], "id": [1]}), "prospects"),
                               (pl.DataFrame({"prospect_id": [[1]], "list_id": [2]}), "list_memberships")):  # fmt: skip
        before = sim.pardot_calls
        with pytest.raises(ColumnError, match=f"column '{frame.columns[0]}' holds List"):
            export_to_pardot(frame, job(sim, data_object=data_object), progress=False, journal=False)
        assert sim.pardot_calls == before
