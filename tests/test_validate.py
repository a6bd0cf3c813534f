import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from pardot_frames import ColumnError, ExportConfig, ValidationFailed, validate


def problems(v):
    return {(r["row_nr"], r["column"]): r["reason"] for r in v.problems.iter_rows(named=True)}


def test_types_are_coerced_by_the_connector_rules():
    df = pl.DataFrame(
        {
            "id": ["1", " 2 ", "3.0", None],
            "email": [None, None, None, "a@b.co"],
            "score": [1.0, 2.0, 3.5, None],
            "is_starred": ["TRUE", "false", "1", "yes"],
            "is_reviewed": [1, 0, None, 2],
        }
    )
    v = validate(df)
    p = problems(v)
    assert p[(2, "id")] == "not an integer"
    assert "fractional" in p[(2, "score")]
    assert "not a boolean" in p[(3, "is_starred")] and "not a boolean" in p[(3, "is_reviewed")]
    assert v.rows["row_nr"].to_list() == [0, 1]
    assert v.rows["id"].to_list() == [1, 2] and v.rows["is_starred"].to_list() == [True, False]
    assert v.payloads["json"].to_list() == [
        '{"id":1,"score":1,"is_starred":1,"is_reviewed":1}',
        '{"id":2,"score":2,"is_starred":0,"is_reviewed":0}',
    ]


def test_nulls_are_left_out_and_lists_ride_along():
    df = pl.DataFrame({"email": ["a@b.com", "c@d.com"], "city": [None, 'Zü"rich'], "notes": ["x", None]})
    v = validate(df, prospect_lists="5,6", prospect_list_operation="remove")
    assert v.payloads["json"].to_list() == [
        '{"email":"a@b.com","notes":"x","list_5":0,"list_6":0}',
        '{"email":"c@d.com","city":"Zü\\"rich","list_5":0,"list_6":0}',
    ]


def test_rows_without_key_and_bad_emails():
    df = pl.DataFrame({"id": [None, None, 7], "fid": [None, "", None], "email": ["x y@b.com", None, None]})
    p = problems(validate(df))
    assert "not a valid email" in p[(0, "email")]
    assert "no key" in p[(1, "id|fid|email")]
    assert (2, "id|fid|email") not in p
    p2 = problems(validate(df, upsert_by_email=True))
    assert "upsert_by_email" in p2[(2, "email")]


def test_email_length_limit():
    long = "a" * 60 + "@" + "b" * 190 + ".com"  # 255 characters: allowed
    too_long = "a" * 60 + "@" + "b" * 191 + ".com"
    v = validate(pl.DataFrame({"email": [long, too_long]}))
    assert v.rows["row_nr"].to_list() == [0]
    assert "longer than 255" in problems(v)[(1, "email")]


def test_row_json_over_7500_characters_is_rejected():
    df = pl.DataFrame({"email": ["a@b.com", "c@d.com"], "notes": ["x" * 7400, "é" * 7500]})
    v = validate(df)
    assert v.rows["row_nr"].to_list() == [0]
    assert "at most 7500" in problems(v)[(1, "*")]
    assert v.payloads["row_nr"].to_list() == [0]


def test_password_is_masked_in_rejected_rows():
    df = pl.DataFrame({"email": ["bad"], "password": ["hunter2-secret"], "score": ["x"]})
    v = validate(df)
    assert "hunter2" not in str(v.rejected) and "hunter2" not in repr(v.rejected.to_dicts())


def test_bad_column_names_fail_fast_with_suggestions():
    with pytest.raises(ColumnError) as info:
        validate(pl.DataFrame({"First Name": ["a"], "Email": ["a@b.com"], "list_12": [1], "ok_field": [1]}))
    text = str(info.value)
    assert "'first_name'" in text and "'email'" in text and "list_12" in text and "ok_field" not in text


def test_uncoercible_column_type_fails_fast():
    with pytest.raises(ColumnError, match="score"):
        validate(pl.DataFrame({"email": ["a@b.com"], "score": [[1, 2]]}))
    with pytest.raises(ColumnError, match="id"):
        validate(pl.DataFrame({"email": ["a@b.com"], "id": [True]}))


def test_list_memberships():
    df = pl.DataFrame({"list_id": [1, "2", None, 0], "prospect_id": [10, 20, 30, 40]}, strict=False)
    v = validate(df, data_object="list_memberships")
    assert v.payloads.rows() == [(0, 1, 10), (1, 2, 20)]
    p = problems(v)
    assert p[(2, "list_id")] == "required value is missing" and "positive" in p[(3, "list_id")]
    with pytest.raises(ColumnError, match="needs column 'prospect_id'"):
        validate(pl.DataFrame({"list_id": [1]}), data_object="list_memberships")
    with pytest.raises(ColumnError, match="opting out"):
        validate(pl.DataFrame({"list_id": [1], "prospect_id": [1], "opted_out": [1]}), data_object="list_memberships")


def test_skip_invalid_records_false_stops_with_counts_and_first_rows():
    df = pl.DataFrame({"email": ["a@b.com", "bad", "c@d.com", "also bad"]})
    with pytest.raises(ValidationFailed) as info:
        validate(df, ExportConfig(skip_invalid_records=False))
    assert "2 of 4 row(s)" in str(info.value) and "row 1, column email" in str(info.value)
    assert info.value.rejected.height == 2


def test_inputs_of_every_kind_give_the_same_payloads():
    data = {"email": ["a@b.com", "c@d.com"], "score": [1, 2]}
    expected = validate(pl.DataFrame(data)).payloads
    frames = [
        pl.DataFrame(data).lazy(),
        pd.DataFrame(data),
        pa.table(data),
        pa.table(data).to_reader(),
        duckdb.sql("select * from (values ('a@b.com', 1), ('c@d.com', 2)) t(email, score)"),
    ]
    for frame in frames:
        assert validate(frame).payloads.equals(expected), type(frame)


def test_duplicate_columns_and_unknown_inputs():
    df = pd.DataFrame([["a@b.com", "x@y.com"]], columns=["email", "email"])
    with pytest.raises(ColumnError, match="more than once"):
        validate(df)
    with pytest.raises(ColumnError, match="cannot read input"):
        validate([{"email": "a@b.com"}])
    with pytest.raises(ColumnError, match="no columns"):
        validate(pl.DataFrame())


def test_temporal_and_float_text_fields():
    import datetime as dt

    df = pl.DataFrame({"email": ["a@b.com"], "zip": [8001.0], "signup": [dt.date(2024, 1, 2)], "ratio": [0.5]})
    v = validate(df)
    assert v.payloads["json"][0] == '{"email":"a@b.com","zip":"8001","signup":"2024-01-02","ratio":"0.5"}'


def test_dry_run_groups_reasons_by_check_with_a_count_and_a_range():
    from pardot_frames import dry_run

    notes = ["x" * 7600, "x" * 7700, "x" * 7650, "ok"]
    frame = pl.DataFrame({"email": ["a@x.com", "b@x.com", "c@x.com", "broken"], "notes": notes})
    reasons = dry_run(frame, ExportConfig()).reasons
    (long_rows,) = [k for k in reasons if k.startswith("*: the row is ")]
    assert reasons[long_rows] == 3 and len(reasons) == 2
    low, high = long_rows.split("the row is ")[1].split(" characters")[0].split("-")
    assert int(low) < int(high) and int(high) - int(low) == 100
