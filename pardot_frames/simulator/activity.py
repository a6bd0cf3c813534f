"""Every other object a working v5 reader reads (``pardot-v5-objects.md`` section 6), with generated data.

Field names are section 6's, exactly; types follow its rules (``...Id`` integers, ``is...``/``has...``
booleans, ``...At`` datetimes, the types it names). ``senderOptions`` and ``replyToOptions`` answer as arrays of
objects; a dotted name such as ``trackerDomain.domain`` answers nested (``{"trackerDomain": {"domain": ..}}``)
or as a flat key, a setting (``v5_dotted_flat``: section 1 leaves it open). Objects whose fields hold
``isDeleted`` are archivable: they take ``deleted`` and keep deleted records apart (section 3).

``generate(state, n, seed)`` makes ``n`` prospects with their visitors, visits, page views, activities, emails,
lifecycle history and the account's campaigns, users, lists of assets and the rest, related by id. Records are
kept under the record keys (``snake`` of the v5 name), times as UTC text, so the shared filters apply.
"""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

_WHO = "createdAt, updatedAt, createdById, updatedById"
_UTM = "sourceParameter, campaignParameter, mediumParameter, contentParameter, termParameter"
_SENDER = "senderOptions.type, senderOptions.address, senderOptions.name, senderOptions.userId, " \
          "senderOptions.prospectCustomFieldId, senderOptions.accountCustomFieldId"  # fmt: skip
_REPLY = "replyToOptions.type, replyToOptions.address, replyToOptions.userId, replyToOptions.prospectCustomFieldId, " \
         "replyToOptions.accountCustomFieldId"  # fmt: skip
FIELDS = {  # section 6, as written (with the names its bullets add beside the lists)
    "visitor-activities": "id, visitId, prospectId, visitorId, emailId, type, typeName, details, campaignId, "
    "customRedirectId, emailTemplateId, fileId, formHandlerId, formId, landingPageId, listEmailId, "
    "multivariateTestVariationId, opportunityId, paidSearchAdId, siteSearchQueryId, visitorPageViewId, createdAt, "
    "updatedAt",
    "visitors": f"id, prospectId, pageViewCount, isIdentified, doNotSell, hostname, ipAddress, campaignId, {_UTM}, "
    "createdAt, updatedAt, isDeleted",
    "visits": "id, visitorId, prospectId, visitorPageViewCount, firstVisitorPageViewAt, lastVisitorPageViewAt, "
    f"durationInSeconds, {_UTM}, createdAt, updatedAt",
    "campaigns": "id, name, isDeleted, folderId, cost, parentCampaignId, createdById, updatedById, createdAt, "
    "updatedAt, salesforceId",
    "opportunities": f"id, closedAt, name, type, stage, status, probability, value, campaignId, salesforceId, {_WHO}",
    "users": f"id, email, username, isDeleted, firstName, lastName, jobTitle, role, roleName, salesforceId, "
    f"tagReplacementLanguage, {_WHO}",
    "emails": "id, name, type, sentAt, subject, clientType, isOperational, campaignId, prospectId, folderId, listId, "
    f"listEmailId, emailTemplateId, trackerDomainId, {_SENDER}, {_REPLY}, createdById, updatedAt, textMessage, "
    "htmlMessage",
    "list-emails": "id, name, subject, isPaused, isSent, isDeleted, isOperational, operationalEmail, sentAt, "
    f"campaignId, clientType, {_SENDER}, {_REPLY}, emailTemplateId, trackerDomainId, folderId, {_WHO}",
    "forms": "id, name, campaignId, layoutTemplateId, folderId, trackerDomainId, salesforceId, isDeleted, "
    "isUseRedirectLocation, isAlwaysDisplay, isCookieless, isCaptchaEnabled, showNotProspect, embedCode, "
    "submitButtonText, beforeFormContent, afterFormContent, thankYouContent, thankYouCode, redirectLocation, "
    f"fontSize, fontFamily, fontColor, labelAlignment, radioAlignment, checkboxAlignment, requiredCharacter, {_WHO}",
    "landing-pages": "id, name, campaignId, salesforceId, isDeleted, layoutType, layoutTableBorder, "
    "isUseRedirectLocation, bitlyIsPersonalized, bitlyShortUrl, url, vanityUrl, folderId, formId, layoutTemplateId, "
    f"title, description, isDoNotIndex, vanityUrlPath, redirectLocation, trackerDomainId, archiveDate, {_WHO}",
    "tags": f"id, name, objectCount, {_WHO}",
    "lifecycle-stages": "id, name, isDeleted, isLocked, position, matchType, createdAt, updatedAt",
    "lifecycle-histories": "id, prospectId, previousStageId, nextStageId, secondsElapsed, createdAt",
    "prospect-accounts": "id, name, salesforceId, isDeleted, annualRevenue, billingAddressOne, billingAddressTwo, "
    "billingCity, billingCountry, billingState, billingZip, description, employees, fax, industry, number, "
    "ownership, phone, rating, shippingAddressOne, shippingAddressTwo, shippingCity, shippingCountry, "
    f"shippingState, shippingZip, sic, site, tickerSymbol, type, website, {_WHO}, assignedToId",
    "visitor-page-views": "id, url, title, visitorId, campaignId, visitId, durationInSeconds, salesforceId, createdAt",
    "folders": f"id, name, parentFolderId, path, usePermissions, {_WHO}",
    "custom-redirects": "id, name, url, destinationUrl, vanityUrl, campaignId, salesforceId, isDeleted, folderId, "
    "trackerDomainId, trackerDomain.domain, vanityUrlPath, trackedUrl, bitlyIsPersonalized, bitlyShortUrl, gaSource, "
    f"gaMedium, gaTerm, gaContent, gaCampaign, {_WHO}",
    "engagement-studio-programs": "id, status, isDeleted, salesforceId, description, businessHours, "
    "prospectsMultipleEntry, schedule, scheduleCreatedById, recipientListIds, suppressionListIds, " + _WHO,
    "files": "id, name, folderId, campaignId, salesforceId, trackerDomainId, vanityUrl, vanityUrlPath, url, size, "
    f"isTracked, bitlyIsPersonalized, bitlyShortUrl, {_WHO}",
    "folder-contents": f"id, folderId, folderRef, objectType, objectId, objectName, objectRef, {_WHO}",
    "form-fields": "id, formId, prospectApiFieldId, type, dataFormat, sortOrder, hasDependents, hasProgressives, "
    "hasValues, label, errorMessage, cssClasses, isRequired, isAlwaysDisplay, isMaintainInitialValue, "
    f"isDoNotPrefill, {_WHO}",
    "form-handlers": "id, name, folderId, campaignId, trackerDomainId, isDataForwarded, successLocation, "
    "errorLocation, isAlwaysEmail, isCookieless, salesforceId, embedCode, createdAt, createdById, isDeleted, "
    "updatedById",
    "form-handler-fields": "id, name, formHandlerId, dataFormat, prospectApiFieldId, isMaintainInitialValue, "
    "errorMessage, isRequired, createdAt, createdById",
    "layout-templates": "id, name, layoutContent, siteSearchContent, formContent, folderId, isDeleted, "
    f"isIncludeDefaultCss, {_WHO}",
    "tracker-domains": "id, domain, isPrimary, isDeleted, defaultCampaignId, httpsStatus, sslStatus, "
    "sslStatusDetails, sslRequestedById, validationStatus, validatedAt, vanityUrlStatus, trackingCode, " + _WHO,
    "dynamic-contents": "id, name, basedOnProspectApiFieldId, embedCode, embedUrl, basedOn, tagReplacementLanguage, "
    f"folderId, trackerDomainId, {_WHO.replace('createdById, ', '')}, isDeleted, createdById",
    "dynamic-content-variations": "id, dynamicContentId, comparison, operator, value1, value2, content",
    "account": "id, company, level, website, pluginCampaignId, addressOne, addressTwo, city, state, zip, territory, "
    "country, phone, fax, adminId, maximumDailyApiCalls, apiCallsUsed, " + _WHO,
}
CLICK_FIELDS = (
    "id",
    "prospect_id",
    "url",
    "list_email_id",
    "drip_program_action_id",
    "email_template_id",
    "tracker_redirect_id",
    "created_at",
)  # v4 email clicks (section 6: v5 has no such object)
ACTIVITY_FIELDS = {kind: tuple(f.strip() for f in text.split(",")) for kind, text in FIELDS.items()}
ACTIVITY_ARCHIVABLE = frozenset(k for k, names in ACTIVITY_FIELDS.items() if "isDeleted" in names)
INTS = frozenset({"type", "pageViewCount", "visitorPageViewCount", "durationInSeconds", "probability",
                  "layoutTableBorder", "objectCount", "position", "secondsElapsed", "size", "sortOrder",
                  "maximumDailyApiCalls", "apiCallsUsed"})  # fmt: skip
FLOATS = frozenset({"cost", "value"})
TEXT_IDS = frozenset({"salesforceId", "prospectApiFieldId", "basedOnProspectApiFieldId"})
BOOLS = frozenset({"doNotSell", "usePermissions", "bitlyIsPersonalized", "showNotProspect", "operationalEmail",
                   "prospectsMultipleEntry"})  # fmt: skip
NESTED = ("senderOptions", "replyToOptions")  # arrays of objects
KINDS = {"visitor-activities": 5, "visitors": 1, "visits": 2, "visitor-page-views": 3, "emails": 1,
         "lifecycle-histories": 1}  # records per generated prospect  # fmt: skip
OWN_COUNT = {"account": 1, "dynamic-content-variations": 0}  # one account; variations come per dynamic content
ASSETS = 12  # records of each account-level object (campaigns, users, forms, ...)


@functools.cache
def kind_of(name: str, kind: str = "visitor-activities") -> str:
    """The type a field's name says (section 6's rules): int, float, bool, dt, date, ints or str."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "type" and kind != "visitor-activities":  # a number on visitor activities only (section 8)
        return "str"
    if leaf in INTS or (leaf.endswith("Id") and leaf not in TEXT_IDS) or leaf == "id":
        return "int"
    if leaf.endswith("Ids"):
        return "ints"
    if leaf in FLOATS:
        return "float"
    if leaf in BOOLS or (leaf[:2] in ("is", "ha") and leaf[2:3].isupper()) or leaf.startswith("has"):
        return "bool"
    if leaf.endswith("At"):
        return "dt"
    return "date" if leaf == "archiveDate" else "str"


@functools.cache
def snake(v5: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in v5.split(".")[0])


def generate(state: Any, n: int, seed: int = 1) -> None:
    """``n`` prospects with their activity, and the account's assets, into ``state`` (see the module docstring)."""
    rng, start = random.Random(seed), datetime(2026, 1, 1, tzinfo=UTC)
    store: dict[str, dict[int, dict[str, Any]]] = state.activity
    counters = {kind: max(store.get(kind, {}), default=0) for kind in ACTIVITY_FIELDS}

    def add(kind: str, **given: Any) -> dict[str, Any]:
        counters[kind] = counters[kind] + 1 if counters[kind] else 1
        record = _record(kind, counters[kind], rng, start)
        record.update({snake(k): v for k, v in given.items()})
        store.setdefault(kind, {})[record["id"]] = record
        return record

    for kind in ACTIVITY_FIELDS:
        if kind not in KINDS:
            for _ in range(OWN_COUNT.get(kind, ASSETS)):
                add(kind)
    for content in list(store.get("dynamic-contents", {})):
        for _ in range(2):
            add("dynamic-content-variations", dynamicContentId=content)
    clicks = state.email_clicks
    for i in range(n):
        prospect = state.add_prospect(email=f"person{state.next_prospect_id}@example.com", first_name=f"P{i}")
        pid, stamp = prospect["id"], start + timedelta(minutes=i)
        visitor = add("visitors", prospectId=pid, isIdentified=True)
        for _ in range(KINDS["visits"]):
            visit = add("visits", visitorId=visitor["id"], prospectId=pid)
            for _ in range(rng.randint(1, 2)):
                add("visitor-page-views", visitorId=visitor["id"], visitId=visit["id"])
        email = add("emails", prospectId=pid)
        for _ in range(KINDS["visitor-activities"]):
            add(
                "visitor-activities",
                prospectId=pid,
                visitorId=visitor["id"],
                emailId=email["id"],
                type=rng.choice((1, 2, 4, 6, 11)),
                createdAt=_text(stamp + timedelta(seconds=rng.randint(0, 9999))),
            )
        add("lifecycle-histories", prospectId=pid, previousStageId=1, nextStageId=2)
        for _ in range(rng.randint(0, 2)):
            cid = len(clicks) + 1
            clicks[cid] = {"id": cid, "prospect_id": pid, "url": f"https://example.com/c/{cid}", "list_email_id":
                           rng.randint(1, ASSETS), "drip_program_action_id": None, "email_template_id":
                           rng.randint(1, ASSETS), "tracker_redirect_id": None,
                           "created_at": _text(stamp + timedelta(seconds=rng.randint(0, 9999)))}  # fmt: skip
    state.activity_ids.clear()


def _record(kind: str, rid: int, rng: random.Random, start: datetime) -> dict[str, Any]:
    """One generated record: every field of the object, a plausible value of its type (some left empty)."""
    created = start + timedelta(seconds=rng.randint(0, 86_400 * 30))
    record: dict[str, Any] = {"id": rid}
    for name in ACTIVITY_FIELDS[kind]:
        key, sort = snake(name), kind_of(name, kind)
        if name == "id" or key in record or (name not in ("createdAt", "updatedAt") and rng.random() < 0.1):
            continue
        if name == "isDeleted":  # generated records are live; deleting is the test's or the seed's to do
            record[key] = False
            continue
        if name.split(".")[0] in NESTED:
            record[key] = [{"type": "general_user", "address": f"sender{rid}@example.com", "name": "Sender",
                            "userId": 1, "prospectCustomFieldId": None, "accountCustomFieldId": None}]  # fmt: skip
        elif "." in name:
            record[key] = {"domain": f"go{rid}.example.com"}
        elif sort == "int":
            record[key] = rng.randint(1, ASSETS)
        elif sort == "ints":
            record[key] = [rng.randint(1, ASSETS)]
        elif sort == "float":
            record[key] = round(rng.uniform(10, 5000), 2)
        elif sort == "bool":
            record[key] = rng.random() < 0.3
        elif sort == "dt":
            record[key] = _text(created + timedelta(hours=rng.randint(0, 48) if name != "createdAt" else 0))
        elif sort == "date":
            record[key] = (created + timedelta(days=90)).date().isoformat()
        else:
            record[key] = f"{name} {rid}" if name not in ("typeName",) else "Email Tracker"
    record["updated_at"] = max(record.get("updated_at") or "", record.get("created_at") or "") or None
    return record


def _text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def shaped(record: dict[str, Any], fields: list[str], flat: bool, time: Any) -> dict[str, Any]:
    """A generated record under the requested names: nested relations as objects (or flat keys), every name
    present, datetimes in the API user's offset (``time``)."""
    out: dict[str, Any] = {}
    for name in fields:
        head, _, leaf = name.partition(".")
        value = record.get(snake(name))
        if head in NESTED and leaf:
            items = value or []
            kept = out.setdefault(head, [{} for _ in items])
            for item, source in zip(kept, items, strict=False):
                item[leaf] = source.get(leaf)
        elif leaf:
            found = (value or {}).get(leaf)
            if flat:
                out[name] = found
            else:
                out.setdefault(head, {})[leaf] = found
        elif name == "isDeleted":
            out[name] = bool(value)
        else:
            out[name] = time(value) if kind_of(name) == "dt" else value
    return out
