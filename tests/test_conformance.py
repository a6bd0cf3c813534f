"""The simulator held to material this project did not write (issue #29): the real v5 answers recorded by
others (``shared/reference/independent/v5-bodies``, key for key, error bodies word for word) and the field
lists a working v5 reader sends to real Pardot (``pardot-v5-objects.md`` sections 6 and 7, parsed from the
sheet as it stands). Nothing there is edited to fit the code; a file that is missing fails the test."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from simclient import run

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
BODIES = REFERENCE / "independent" / "v5-bodies"
SHEET = REFERENCE / "pardot-v5-objects.md"
OBJECTS = "/api/v5/objects"


def recorded(name: str) -> Any:
    return json.loads((BODIES / name).read_text())


def keys(value: Any) -> Any:
    """The key structure of a JSON value: dicts by their keys (recursively), lists by their items' structure."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(v) for v in value[:1]]
    return type(value).__name__ if value is None else "value"


def _names(block: str) -> list[str]:
    """The field names of a backticked list: top-level commas, annotations in parentheses dropped."""
    depth, parts, current = 0, [], ""
    for char in block:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [m.group(0) for p in parts if (m := re.match(r"[A-Za-z][A-Za-z0-9.]*", p.strip()))]


def sheet_fields() -> dict[str, list[str]]:
    """Section 6's field lists for the objects the simulator serves (with the names its bullet adds beside the
    list) and section 7's prospect fields, as the sheet writes them."""
    text = SHEET.read_text()
    section6 = text[text.index("## 6.") : text.index("## 7.")]
    section7 = text[text.index("## 7.") : text.index("## 8.")]
    out: dict[str, list[str]] = {}
    bullets = re.split(r"\n(?=- )", section6)
    for kind in ("lists", "list-memberships", "custom-fields"):
        bullet = next(b for b in bullets if b.startswith(f"- **{kind}**"))
        blocks = re.findall(r"`([^`]+)`", bullet.replace("\n", " "))
        out[kind] = _names(blocks[0]) + [b for b in blocks[1:] if re.fullmatch(r"[a-z][A-Za-z]+", b)]
    prospect: list[str] = []
    for kind in ("int", "bool", "dt", "str"):
        bullet = re.search(rf"\n- {kind}: `([^`]+)`", section7.replace("\n  ", " "))
        assert bullet is not None, f"section 7 lists no {kind} fields"
        prospect += _names(bullet.group(1))
    out["prospects"] = prospect
    return out


def test_the_sheet_parses_into_the_lists_it_writes():
    fields = sheet_fields()
    assert fields["prospects"][:3] == ["id", "campaignId", "prospectAccountId"] and "password" in fields["prospects"]
    assert {"salesforceLeadId", "isEmailHardBounced", "prospectAccountId"} <= set(fields["prospects"])
    assert {"folderId", "createdById", "isSalesforceVisible"} <= set(fields["lists"])
    assert {"isRequired", "apiFieldId", "type"} <= set(fields["custom-fields"]) and "isDeleted" in fields[
        "list-memberships"
    ]


@pytest.mark.parametrize("kind", ["prospects", "lists", "list-memberships", "custom-fields"])
def test_a_working_readers_field_list_is_answered_with_200(kind):
    fields = sheet_fields()[kind]

    async def scenario(sim, raw):
        sim.seed(lists=[{"id": 7001, "name": "News"}], custom_fields=[{"field_id": "colour", "type": "Text"}],
                 prospects=[{"id": 55, "email": "a@x.com", "colour": "red"}], memberships=[{"list_id": 7001,
                 "prospect_id": 55}])  # fmt: skip
        wanted = fields + (["colour__c"] if kind == "prospects" else [])
        status, body = await raw.call("GET", f"{OBJECTS}/{kind}?fields={','.join(wanted)}")
        assert status == 200, body
        assert body["values"] and all(list(v) == wanted for v in body["values"])  # every field, as asked
        return body

    body = run(scenario)
    if kind == "prospects":
        assert body["values"][0]["colour__c"] == "red" and body["values"][0]["password"] is None


def test_names_real_pardot_does_not_have_are_refused_all_at_once():
    async def scenario(sim, raw):
        status, body = await raw.call("GET", f"{OBJECTS}/prospects?fields=id,crmLeadFid,isArchived")
        unknown = "Invalid parameter: fields. It contains an invalid or unknown field: crmLeadFid, isArchived."
        assert status == 400 and body == {"code": 51, "message": unknown}
        status, body = await raw.call("GET", f"{OBJECTS}/lists?fields=id,,name")
        assert status == 400 and body["message"] == "Invalid parameter: fields. Empty strings are not allowed."

    run(scenario)


def test_array_custom_fields_are_refused_in_queries_with_pardots_message_and_read_singly():
    text = SHEET.read_text().replace("\n  ", " ")
    quoted = re.search(r'"Invalid parameter" \(`(fields\. Custom fields that return array types[^`]+)`\)', text)
    assert quoted is not None, "the sheet no longer quotes the refusal"

    async def scenario(sim, raw):
        sim.seed(custom_fields=[{"field_id": "interests", "type": "Checkbox", "values": ["a", "b"]},
                                {"field_id": "tags", "type": "Multi-Select", "values": ["x", "y"]}],
                 prospects=[{"id": 7, "email": "a@x.com", "interests": "a", "tags": ["x", "y"]}])  # fmt: skip
        status, body = await raw.call("GET", f"{OBJECTS}/prospects?fields=id,interests__c")
        assert status == 400 and body == {"code": 51, "message": f"Invalid parameter: {quoted.group(1)}"}
        status, body = await raw.call("GET", f"{OBJECTS}/prospects?fields=id,email,tags__c,interests__c")
        assert status == 400 and body["message"].endswith("selected: tags__c, interests__c.")
        status, body = await raw.call("GET", f"{OBJECTS}/prospects/7?fields=id,interests__c,tags__c")
        assert status == 200 and body == {"id": 7, "interests__c": ["a"], "tags__c": ["x", "y"]}

    run(scenario)


def test_recorded_error_bodies_word_for_word():
    async def scenario(sim, raw):
        _, body = await raw.call("GET", f"{OBJECTS}/prospects")
        assert body == recorded("read/emails/err-missing-query.json")
        _, body = await raw.call(
            "GET", f"{OBJECTS}/prospects?fields=id", headers=raw.headers(**{"Pardot-Business-Unit-Id": ""})
        )
        assert body == recorded("read/emails/err-missing-header.json")
        _, body = await raw.call("DELETE", f"{OBJECTS}/prospects/987654")
        assert body == recorded("delete/err-not-found.json")

    run(scenario)


@pytest.mark.parametrize("at_end", [True, False])  # a full page that ends the data: a token (recorded) or not
def test_recorded_pages_key_for_key(at_end):
    first, last = recorded("read/emails/1-first-page.json"), recorded("read/emails/2-empty-page.json")

    async def scenario(sim, raw):
        sim.seed(prospects=[{"id": 10 + i, "email": f"p{i}@x.com"} for i in range(2)])
        status, page = await raw.call("GET", f"{OBJECTS}/prospects?fields=id,email&limit=1")
        assert (
            status == 200 and list(page) == list(first) and keys(page["values"]) == [{"id": "value", "email": "value"}]
        )
        assert page["nextPageUrl"] == (f"{sim.pardot_domain}{OBJECTS}/prospects?fields=id%2Cemail&nextPageToken="
                                       + page["nextPageToken"].replace("=", "%3D"))  # fmt: skip
        real = json.loads(base64.b64decode(first["nextPageToken"]))
        ours = json.loads(base64.b64decode(page["nextPageToken"]))
        assert list(ours) == list(real) and ours["resumeValue"] == {"id": 10}  # the token decodes like Pardot's
        _, second = await raw.call("GET", f"{OBJECTS}/prospects?fields=id,email&nextPageToken={page['nextPageToken']}")
        assert len(second["values"]) == 1 and (second["nextPageToken"] is not None) == at_end
        if at_end:  # the recorded pair: a token on the page that ends the data, then the empty page
            _, third = await raw.call("GET", f"{OBJECTS}/prospects?fields=id,email&nextPageToken="
                                             f"{second['nextPageToken']}")  # fmt: skip
            assert third == last
        _, empty = await raw.call("GET", f"{OBJECTS}/prospects?fields=id,email&idGreaterThan=11")
        assert empty == last  # the empty last page, null tokens included
        _, again = await raw.call("GET", f"{OBJECTS}/prospects?nextPageToken=garbage&fields=id")
        assert again["code"] == 211

    run(scenario, token_at_data_end=at_end)


def test_recorded_prospects_custom_fields_and_create_key_for_key():
    prospects = recorded("read/prospects.json")
    meta = recorded("metadata/prospects-custom-fields.json")
    created = recorded("write/prospect/new.json")
    types = {"text": "Text", "radio button": "Radio Button", "multi-select": "Multi-Select", "number": "Number"}

    async def scenario(sim, raw):
        sim.seed(custom_fields=[{"field_id": f["fieldId"], "name": f["name"], "type": types[f["type"]]}
                                for f in meta["values"]])  # fmt: skip
        for record in prospects["values"]:
            values = {"id": record["id"], "email": record["email"], "first_name": record["firstName"],
                      "last_name": record["lastName"], "hobby": record["hobby__c"]}  # fmt: skip
            sim.seed(prospects=[{k: v for k, v in values.items() if v is not None}])
        wanted = ",".join(prospects["values"][0])
        _, page = await raw.call("GET", f"{OBJECTS}/prospects?fields={wanted}")
        assert page == prospects  # the same records, nulls for empty custom fields, null tokens
        _, fields = await raw.call("GET", f"{OBJECTS}/custom-fields?fields=id,fieldId,isRequired,name,type")
        assert [{k: v for k, v in f.items() if k != "id"} for f in fields["values"]] == [
            {k: v for k, v in f.items() if k != "id"} for f in meta["values"]
        ]  # lower-case type words, as recorded
        sent = {k: v for k, v in created.items() if k != "id"}
        status, answer = await raw.call("POST", f"{OBJECTS}/prospects", json=sent)
        assert status == 201 and list(answer) == list(created) and {k: answer[k] for k in sent} == sent

    run(scenario)


def test_a_json_body_hides_no_query_parameter():
    """facts 8: recorded, a batchUpsert with ``prospects`` in the query string and a ``{}`` JSON body created the
    prospect; a raw JSON body without the parameter is still error 71."""

    async def scenario(sim, raw):
        rows = json.dumps({"prospects": [{"email": "json@x.com"}]})
        path = f"/api/prospect/version/4/do/batchUpsert?format=json&prospects={rows}"
        status, body = await raw.call("POST", path, json={})
        assert status == 201 and body["@attributes"]["stat"] == "ok"
        assert [p["email"] for p in sim.state.prospects.values()] == ["json@x.com"]
        status, body = await raw.call("POST", "/api/prospect/version/4/do/batchUpsert?format=json", data=rows,
                                      headers=raw.headers(**{"Content-Type": "application/json"}))  # fmt: skip
        assert body["@attributes"]["err_code"] == 71

    run(scenario)


def test_the_recycle_bin_follow_ups_and_expired_tokens_as_the_sheet_says():
    """v5-objects 2-3, 5: ``deleted`` defaults to false (true: the bin only; all: both, with isDeleted); a bin
    record read by id is no record (109); a follow-up with anything but ``fields`` is refused; an expired
    token is 210."""

    async def scenario(sim, raw):
        sim.seed(
            prospects=[{"id": 1, "email": "a@x.com"}, {"id": 2, "email": "b@x.com"}, {"id": 3, "email": "c@x.com"}]
        )
        assert (await raw.call("DELETE", f"{OBJECTS}/prospects/2"))[0] == 204
        ids = {}
        for deleted in ("", "&deleted=false", "&deleted=true", "&deleted=all"):
            _, body = await raw.call("GET", f"{OBJECTS}/prospects?fields=id,isDeleted{deleted}")
            ids[deleted] = [(v["id"], v["isDeleted"]) for v in body["values"]]
        assert ids[""] == ids["&deleted=false"] == [(1, False), (3, False)]
        assert ids["&deleted=true"] == [(2, True)] and ids["&deleted=all"] == [(1, False), (2, True), (3, False)]
        status, body = await raw.call("GET", f"{OBJECTS}/prospects/2?fields=id")
        assert (status, body["code"]) == (404, 109)
        _, page = await raw.call("GET", f"{OBJECTS}/prospects?fields=id&limit=1")
        status, body = await raw.call(
            "GET", f"{OBJECTS}/prospects?fields=id&limit=5&nextPageToken={page['nextPageToken']}"
        )
        assert (status, body["code"]) == (400, 51) and "limit" in body["message"]
        sim.configure(page_token_seconds=-1)
        _, page = await raw.call("GET", f"{OBJECTS}/prospects?fields=id&limit=1")
        status, body = await raw.call("GET", f"{OBJECTS}/prospects?fields=id&nextPageToken={page['nextPageToken']}")
        assert (status, body) == (400, {"code": 210, "message": "Page token has expired."})

    run(scenario)
