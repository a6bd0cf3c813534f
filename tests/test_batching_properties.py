"""Property tests: the partitioner's bounds, order and optimality; encoded sizes; unicode round trips."""

from urllib.parse import parse_qs, urlsplit

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pardot_frames import ExportConfig, plan, validate
from pardot_frames.engine.send.batch_sender import query_value
from pardot_frames.engine.send.upsert import UpsertPath
from pardot_frames.prepare.batching import batch_size, partition
from pardot_frames.prepare.payload import encode


def optimum(sizes, max_payload, max_rows=50):
    """Fewest batches for order-preserving packing, by dynamic programming (the reference)."""
    n = len(sizes)
    best = [0] + [10**9] * n
    for j in range(1, n + 1):
        for i in range(j - 1, max(-1, j - max_rows - 1), -1):
            fits = batch_size(np.asarray(sizes[i:j])) <= max_payload
            if fits or j - i == 1:
                best[j] = min(best[j], best[i] + 1)
            if not fits:
                break
    return best[n]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 3000), max_size=160), st.integers(1, 6000))
def test_partition_bounds_order_and_optimum(sizes, max_payload):
    batch = partition(np.asarray(sizes, dtype=np.int64), max_payload)
    assert len(batch) == len(sizes)
    assert (np.diff(batch) >= 0).all() and (np.diff(batch) <= 1).all()  # order kept, contiguous
    for b in np.unique(batch):
        members = np.asarray(sizes)[batch == b]
        assert 1 <= len(members) <= 50
        assert len(members) == 1 or batch_size(members) <= max_payload
    assert (batch[-1] + 1 if len(sizes) else 0) == optimum(sizes, max_payload)


texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)  # every plane, NUL, combining marks


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=40))
def test_a_batch_encoded_whole_equals_quote(values):
    """Query mode encodes a call's JSON whole when it goes out (numpy past 512 characters): the same text
    as quote, and as long as the rows' encoded sizes add up to (what the partitioner planned with)."""
    from urllib.parse import quote

    from pardot_frames.engine.send.batch_sender import Wire, query_value
    from pardot_frames.prepare.batching import batch_size

    wires = [Wire(v, len(quote(v, safe=""))) for v in values]
    value = query_value(wires)
    assert value == quote('{"prospects":[' + ",".join(values) + "]}", safe="")
    assert len("prospects=" + value) == batch_size(np.array([w.size for w in wires], dtype=np.int64))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(texts, texts), min_size=1, max_size=30),
    st.integers(300, 5000),
)
def test_unicode_round_trips_through_the_query_string(rows, max_payload):
    import json

    names = [a for a, _ in rows]
    notes = [b for _, b in rows]
    df = pl.DataFrame({"email": [f"u{i}@example.com" for i in range(len(rows))], "first_name": names, "notes": notes})
    config = ExportConfig(max_payload=max_payload, prospect_lists="3")
    v = validate(df, config)
    p = plan(v.payloads, config)
    path = UpsertPath(config)
    (phase,) = path.phases(v)
    calls = path.calls(phase)  # the batches exactly as the engine sends them
    assert [[r.row_nr for r in call] for call in calls] == p.batches["row_nrs"].to_list()
    seen = []
    for call, b in zip(calls, p.batches.iter_rows(named=True), strict=True):
        encoded = query_value([r.wire for r in call])
        query = f"format=json&prospects={encoded}"
        assert len(f"prospects={encoded}") == b["size"]
        assert b["rows"] == 1 or b["size"] <= max_payload
        decoded = parse_qs(urlsplit(f"http://x/?{query}").query, keep_blank_values=True, strict_parsing=True)
        sent = json.loads(decoded["prospects"][0])["prospects"]
        seen += sent
    assert [r["first_name"] for r in seen] == names
    assert [r["notes"] for r in seen] == notes
    assert all(r["list_3"] == 1 for r in seen)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=200), st.integers(200, 3000))
def test_plan_keeps_every_valid_row_once_in_order(kinds, max_payload):
    pool = ["a@b.com", None, "bad email", "x" * 7600]
    df = pl.DataFrame(
        {
            "email": [pool[k] if k != 3 else "y@z.org" for k in kinds],
            "notes": [pool[3] if k == 3 else "n" for k in kinds],
        }
    )
    config = ExportConfig(max_payload=max_payload)
    v = validate(df, config)
    p = plan(v.payloads, config)
    planned = [r for b in p.batches["row_nrs"].to_list() for r in b]
    expected = [i for i, k in enumerate(kinds) if k == 0]
    assert planned == expected
    assert set(v.rejected["row_nr"].to_list()) == {i for i, k in enumerate(kinds) if k != 0}
    assert p.batches["rows"].sum() == len(expected)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), texts),
            st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
            st.one_of(st.none(), st.booleans()),
        ),
        min_size=1,
        max_size=30,
    ),
    st.lists(st.integers(1, 10**12), max_size=3, unique=True),
)
def test_sizes_from_values_equal_the_encoded_json(rows, lists):
    df = pl.DataFrame(
        {
            "row_nr": list(range(len(rows))),
            "notes": [r[0] for r in rows],
            "score": [r[1] for r in rows],
            "is_starred": [r[2] for r in rows],
        },
        schema={"row_nr": pl.Int64, "notes": pl.String, "score": pl.Int64, "is_starred": pl.Boolean},
    )
    from pardot_frames.prepare.payload import prospect_payloads

    config = ExportConfig(prospect_lists=lists)
    payloads = prospect_payloads(df, config)
    js = payloads["json"].to_list()
    assert payloads["size"].to_list() == [len(encode(j)) for j in js]
    assert all(len(j) <= size for j, size in zip(js, payloads["size"], strict=True))  # why only large rows are measured
    assert prospect_payloads(df, config, with_json=False)["size"].to_list() == payloads["size"].to_list()
    import json

    for j, r in zip(js, rows, strict=True):
        obj = json.loads(j)
        assert obj.get("notes") == r[0] and obj.get("score") == r[1]
        assert obj.get("is_starred") == (None if r[2] is None else int(r[2]))
        assert ("notes" in obj, "score" in obj) == (r[0] is not None, r[1] is not None)


# an empty string (clear the field) cannot be said in an import CSV (a blank cell leaves a field as it is):
# such rows go through batchUpsert, so cells here are null or hold at least one character
cells = st.one_of(
    st.none(), st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(cells, cells), min_size=1, max_size=60), st.integers(200, 4000))
def test_import_csv_batches_read_back_with_csv_reader(rows, limit):
    """The import CSV is written line by line (each row's byte size decides its batch), so its quoting is our
    own: every batch, read by Python's csv module, gives back each row's values (null as blank), in order."""
    import csv
    import io

    from pardot_frames.prepare.csv_batches import Cutter, batches

    frame = pl.DataFrame(
        {
            "row_nr": range(len(rows)),
            "id": range(1, len(rows) + 1),
            "first_name": [a for a, _ in rows],
            "company": [b for _, b in rows],
        },
        schema={"row_nr": pl.Int64, "id": pl.Int64, "first_name": pl.String, "company": pl.String},
    )
    cut = batches(frame, ExportConfig(method="import"), Cutter(limit))
    seen = []
    for batch in cut:
        head, *records = list(csv.reader(io.StringIO(batch.data.decode("utf-8"), newline="")))
        assert head == ["matchId", "firstName", "company"] and len(records) == len(batch.row_nrs)
        assert len(batch.data) <= limit or len(batch.row_nrs) == 1
        seen += records
    assert seen == [[str(i + 1), a or "", b or ""] for i, (a, b) in enumerate(rows)]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), texts), min_size=1, max_size=40), st.integers(1, 64))
def test_byte_weights_summed_block_by_block_equal_each_strings_sum(values, block):
    """Sizes are summed a block of bytes at a time (1 MB in use): with tiny blocks, strings cross block
    edges and some are longer than a block, and every sum still equals the string's own."""
    from pardot_frames.prepare import payload

    series = pl.Series(values, dtype=pl.String)
    expected = [sum(int(payload._JSON_WEIGHT[b]) for b in (v or "").encode()) for v in values]
    saved, payload._BLOCK_BYTES = payload._BLOCK_BYTES, block
    try:
        assert payload._byte_sums(series, payload._JSON_WEIGHT).tolist() == expected
        assert payload._byte_sums(series.slice(1), payload._JSON_WEIGHT).tolist() == expected[1:]  # an offset array
    finally:
        payload._BLOCK_BYTES = saved
