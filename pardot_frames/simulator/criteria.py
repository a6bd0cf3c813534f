"""Query criteria of v4 and v5 reads (facts 8 and 9): filters, date keywords, sorting and paging.

v4: ``id_greater_than``, ``id_less_than``, ``created_after``/``_before``, ``updated_after``/``_before``
(a date or time, or a keyword: ``today``, ``yesterday``, ``last_7_days``, ``this_month``,
``last_month``), ``sort_by`` (``id``, ``created_at``, ``updated_at``, ``last_activity_at``, ``name``),
``sort_order`` (``ascending`` or ``descending``), ``offset``, ``limit`` (at most 200). "After" and
"before" are strict, so a reader paging with ``updated_after=<last updated_at>`` ends. v5:
``idGreaterThan``, ``idLessThan``, ``createdAtAfter``, ``updatedAtAfter``, ``...BeforeOrEqualTo``,
``orderBy`` (``updatedAt asc, id asc``), ``limit`` (at most 1000).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

V4_LIMIT, V5_LIMIT = 200, 1000
SORTABLE = ("id", "created_at", "updated_at", "last_activity_at", "name")


class BadCriterion(ValueError):
    """A criterion the server cannot read: (code, message)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def moment(text: str, *, now: datetime | None = None) -> datetime:
    """A criterion's time (UTC, naive): a date, a date and time (ISO, with or without an offset) or a keyword."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    today = datetime(now.year, now.month, now.day)
    keywords = {
        "today": today,
        "yesterday": today - timedelta(days=1),
        "last_7_days": today - timedelta(days=7),
        "this_month": today.replace(day=1),
        "last_month": (today.replace(day=1) - timedelta(days=1)).replace(day=1),
    }
    word = text.strip().lower()
    if word in keywords:
        return keywords[word]
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text.strip()), datetime.min.time())
        except ValueError:
            raise BadCriterion(57, f"Invalid date: {text}") from None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def stamp(value: Any) -> datetime | None:
    """A record's time field as a datetime (Pardot writes ``YYYY-MM-DD HH:MM:SS``)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def number(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    if name not in params or params[name] == "":
        return default
    try:
        return int(params[name])
    except ValueError:
        raise BadCriterion(56, f"Invalid number: {name}") from None


def _time_filters(pairs: dict[str, tuple[str, Callable[[datetime, datetime], bool]]], params: dict[str, str]) -> list:
    out = []
    for name, (field, test) in pairs.items():
        if params.get(name):
            bound = moment(params[name])
            out.append(lambda r, f=field, b=bound, t=test: (s := stamp(r.get(f))) is not None and t(s, b))
    return out


def v4_select(found: list[dict[str, Any]], params: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    """(total matches, one page) of records under the v4 criteria."""
    tests: list[Callable[[dict[str, Any]], bool]] = []
    above, below = number(params, "id_greater_than"), number(params, "id_less_than")
    if above is not None:
        tests.append(lambda r: r["id"] > above)
    if below is not None:
        tests.append(lambda r: r["id"] < below)
    after, before = (lambda s, b: s > b), (lambda s, b: s < b)
    tests += _time_filters({"created_after": ("created_at", after), "created_before": ("created_at", before),
                            "updated_after": ("updated_at", after), "updated_before": ("updated_at", before)},
                           params)  # fmt: skip
    chosen = [r for r in found if all(t(r) for t in tests)]
    key = params.get("sort_by") or "id"
    if key not in SORTABLE:
        raise BadCriterion(53, f"Invalid sort_by: {key}")
    descending = (params.get("sort_order") or "ascending").lower() == "descending"
    chosen.sort(key=lambda r: (str(r.get(key) or "") if key != "id" else r["id"], r["id"]), reverse=descending)
    offset, limit = number(params, "offset", 0) or 0, min(number(params, "limit", V4_LIMIT) or V4_LIMIT, V4_LIMIT)
    return len(chosen), chosen[offset : offset + limit]


_RELATIONS = {
    "After": lambda s, b: s > b, "AfterOrEqualTo": lambda s, b: s >= b,
    "Before": lambda s, b: s < b, "BeforeOrEqualTo": lambda s, b: s <= b,
}  # fmt: skip
V5_TIMES = {
    f"{field}{suffix}": (snake, test)
    for field, snake in (
        ("createdAt", "created_at"),
        ("updatedAt", "updated_at"),
        ("lastActivityAt", "last_activity_at"),
        ("sentAt", "sent_at"),
    )
    for suffix, test in _RELATIONS.items()
}
V5_IDS = {
    "id": lambda r, n: r["id"] == n, "idGreaterThan": lambda r, n: r["id"] > n,
    "idGreaterThanOrEqualTo": lambda r, n: r["id"] >= n, "idLessThan": lambda r, n: r["id"] < n,
    "idLessThanOrEqualTo": lambda r, n: r["id"] <= n,
}  # fmt: skip


def v5_predicate(params: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    """The v5 filters of a query as one test of a record (at most three filtered fields: code 209)."""
    used = {k for k in params if k in V5_TIMES or k in V5_IDS}
    if len({V5_TIMES[k][0] if k in V5_TIMES else "id" for k in used}) > 3:
        raise BadCriterion(
            209,
            "Too many fields have filters: The max number of 3 distinct fields with filters was exceeded "
            "for this query.",
        )
    tests = _time_filters({k: V5_TIMES[k] for k in used if k in V5_TIMES}, params)
    for name in used & set(V5_IDS):
        value = number(params, name)
        if value is not None:
            tests.append(lambda r, t=V5_IDS[name], n=value: t(r, n))
    return ALWAYS if not tests else lambda r: all(t(r) for t in tests)


def ALWAYS(record: dict[str, Any]) -> bool:  # noqa: N802 - a constant predicate, named as one
    """The predicate of a query without filters (callers may skip calling it)."""
    return True


def v5_filter(found: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
    """Records under the v5 filters (``v5_predicate``), ordered by ``orderBy``."""
    test = v5_predicate(params)
    chosen = [r for r in found if test(r)]
    order = [part.split() for part in (params.get("orderBy") or "id asc").split(",") if part.strip()]
    for field, *direction in reversed(order):
        snake = {"id": "id", "createdAt": "created_at", "updatedAt": "updated_at", "name": "name",
                 "sentAt": "sent_at"}.get(field)  # fmt: skip
        if snake is None:
            raise BadCriterion(51, f"Invalid parameter: orderBy. It contains an invalid or unknown field: {field}.")
        descending = bool(direction) and direction[0].lower() == "desc"
        chosen.sort(key=_order_key(snake), reverse=descending)
    return chosen


def _order_key(field: str) -> Callable[[dict[str, Any]], Any]:
    """How records sort by one field: ids as numbers, the rest as text (empty first)."""
    if field == "id":
        return lambda r: r["id"]
    return lambda r: str(r.get(field) or "")


def v4_by_id_only(params: dict[str, str]) -> bool:
    """A v4 prospect query that only pages through an id range, ascending: what ``sorted_ids`` answers without a
    scan (a reader of array fields asks id_greater_than and id_less_than: a scan made 1M prospects quadratic)."""
    plain = {"format", "id_greater_than", "id_less_than", "limit", "offset", "sort_by", "sort_order", "output"}
    return (
        set(params) <= plain
        and (params.get("sort_by") or "id") == "id"
        and (params.get("sort_order") or "ascending").lower() == "ascending"
    )
