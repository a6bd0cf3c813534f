"""The input fingerprint a resume checks: independent of chunking, sensitive to every value and to order,
and defined (a reference encoding in plain Python gives the same digest), so a library upgrade between a
stop and its resume does not refuse the resume."""

import hashlib
import struct

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pardot_frames.engine.state.fingerprint import Fingerprint

values = st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8"), max_size=12))


def reference(rows: list[tuple], columns: list[str]) -> str:
    whole = hashlib.sha256(f"{len(rows)}:{','.join(columns)}".encode())
    for j, _ in enumerate(columns):
        texts = [row[j] for row in rows]
        nulls = bytes(1 if t is None else 0 for t in texts)
        lengths = b"".join(struct.pack("<q", len((t or "").encode())) for t in texts)
        data = b"".join((t or "").encode() for t in texts)
        for stream in (nulls, lengths, data):
            whole.update(hashlib.sha256(stream).digest())
    return whole.hexdigest()[:24]


def digest(frames) -> str:
    fingerprint = Fingerprint()
    for frame in frames:
        fingerprint.add(frame)
    return fingerprint.hexdigest()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=1, max_size=40), st.integers(1, 40))
def test_equal_to_the_reference_encoding_however_chunked(rows, size):
    frame = pl.DataFrame(rows, schema={"email": pl.String, "notes": pl.String}, orient="row")
    expected = reference(rows, ["email", "notes"])
    assert digest([frame]) == expected
    assert digest(list(frame.iter_slices(size))) == expected


def test_sensitive_to_values_nulls_and_order():
    frame = pl.DataFrame({"email": ["a@x.com", "b@x.com", None], "score": [1, 2, 3]})
    base = digest([frame])
    assert digest([frame.reverse()]) != base
    assert digest([frame.with_columns(pl.col("score").replace(3, 4))]) != base
    assert digest([frame.with_columns(pl.col("email").fill_null(""))]) != base
    assert digest([frame.rename({"score": "points"})]) != base
    ints = pl.DataFrame({"score": [1, 2, 3]})
    assert digest([ints]) == reference([("1",), ("2",), ("3",)], ["score"])  # integers as their decimal text
