"""What Pardot accepts: the field catalogue and the pandera schemas of the two data objects.

The catalogue follows the connector's Prospect and List Membership tables. The schemas run on the
*normalised* frame (see ``validation.normalise``) so their checks see typed columns; any other
lower-case identifier column passes as a custom field.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

import polars as pl

from pardot_frames.limits import MAX_EMAIL_CHARS

if TYPE_CHECKING:  # pandera (and the pandas it brings, ~0.5 s) loads with the first schema: reads never need it
    import pandera.polars as pa

INT, STR, BOOL, CUSTOM = "integer", "string", "boolean", "custom"

PROSPECT_FIELDS: dict[str, str] = {
    "id": INT,
    "fid": STR,
    "email": STR,
    "campaign_id": INT,
    **dict.fromkeys("salutation first_name last_name password company".split(), STR),
    "prospect_account_id": INT,
    **dict.fromkeys(
        "website job_title department country address_one address_two city state territory zip phone fax "
        "source annual_revenue employees industry years_in_business comments notes".split(),
        STR,
    ),
    "score": INT,
    **dict.fromkeys("is_do_not_email is_do_not_call is_reviewed is_starred is_archived".split(), BOOL),
}
PROSPECT_KEYS = ("id", "fid", "email")
LIST_MEMBERSHIP_FIELDS: dict[str, str] = {"prospect_id": INT, "list_id": INT}
SECRET_FIELDS = frozenset({"password"})

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
RESERVED = re.compile(r"list_\d+")
EMAIL_PATTERN = r"^[^ @]{1,64}@[^ @]{1,255}\.[^ @]{2,13}$"  # Pardot's documented check


def field_kind(data_object: str, column: str) -> str:
    """The kind of a column (integer, string, boolean, custom) for the given data object."""
    fields = PROSPECT_FIELDS if data_object == "prospects" else LIST_MEMBERSHIP_FIELDS
    return fields.get(column, CUSTOM)


def suggest_name(column: str) -> str | None:
    """The standard prospect field a bad column name means ('First Name' -> 'first_name', 'E-mail' ->
    'email'), or None: only real fields are suggested (a custom field goes by its API name)."""
    squashed = re.sub(r"[^a-z0-9]", "", column.lower())
    for name in PROSPECT_FIELDS:
        if name.replace("_", "") == squashed:
            return name
    close = difflib.get_close_matches(re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_"), PROSPECT_FIELDS, 1, 0.85)
    return close[0] if close else None


def _positive() -> pa.Check:
    import pandera.polars as pa

    return pa.Check.ge(1, error="must be a positive integer (Pardot ids start at 1)")


def prospect_schema() -> pa.DataFrameSchema:
    """Row checks for normalised prospect frames (types are already settled by ``normalise``)."""
    import pandera.polars as pa

    positive = _positive()
    columns = {
        "id": pa.Column(pl.Int64, positive, nullable=True, required=False),
        "campaign_id": pa.Column(pl.Int64, positive, nullable=True, required=False),
        "prospect_account_id": pa.Column(pl.Int64, positive, nullable=True, required=False),
        "score": pa.Column(pl.Int64, nullable=True, required=False),
        "email": pa.Column(
            pl.String,
            [
                pa.Check.str_length(
                    max_value=MAX_EMAIL_CHARS, error=f"email is longer than {MAX_EMAIL_CHARS} characters"
                ),
                pa.Check.str_matches(
                    EMAIL_PATTERN, error="not a valid email address (Pardot's rule: local@domain.tld, no spaces)"
                ),
            ],
            nullable=True,
            required=False,
        ),
        **{
            name: pa.Column(pl.Boolean, nullable=True, required=False)
            for name, kind in PROSPECT_FIELDS.items()
            if kind == BOOL
        },
    }
    return pa.DataFrameSchema(columns, strict=False, name="Prospect")


def list_membership_schema() -> pa.DataFrameSchema:
    """Row checks for list membership frames: both ids required and positive."""
    import pandera.polars as pa

    positive = _positive()
    return pa.DataFrameSchema(
        {
            "prospect_id": pa.Column(pl.Int64, positive, nullable=False),
            "list_id": pa.Column(pl.Int64, positive, nullable=False),
        },
        strict=True,
        name="ListMembership",
    )
