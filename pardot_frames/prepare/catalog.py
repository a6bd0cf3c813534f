"""Every Pardot object a read can ask for (``pardot-v5-objects.md`` section 6): its v5 path, the exact fields a
working reader requests, their types, the time a since-last read follows, and whether it has a recycle bin.
Pure: names and types in, a typed frame out.

Types follow section 6's rules: ``id`` and ``...Id`` Int64 (``salesforceId`` and the api field ids are text),
``...Ids`` lists of Int64, ``is...``/``has...`` and the named flags Boolean, ``...At`` UTC ``Datetime`` (whatever
offset Pardot answers in), ``archiveDate`` a Date, ``cost``/``value`` Float64, the counts it names Int64, the
rest text. Column names are the product's snake_case (``visitorPageViewId`` -> ``visitor_page_view_id``).
Nested fields: a dotted relation (``trackerDomain.domain``) is flattened to one column
(``tracker_domain_domain``), whether Pardot answers it nested or as a flat key (not confirmed: both read);
``senderOptions`` and ``replyToOptions`` (arrays of objects) stay a list of structs under their own keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from pardot_frames.prepare.read_frames import utc_time

_WHO = "createdAt, updatedAt, createdById, updatedById"
_BY_FIRST = "createdById, updatedById, createdAt, updatedAt"  # the order a few lists write them in
_UTM = "sourceParameter, campaignParameter, mediumParameter, contentParameter, termParameter"
_SENDER = "senderOptions.type, senderOptions.address, senderOptions.name, senderOptions.userId, " \
          "senderOptions.prospectCustomFieldId, senderOptions.accountCustomFieldId"  # fmt: skip
_REPLY = "replyToOptions.type, replyToOptions.address, replyToOptions.userId, replyToOptions.prospectCustomFieldId, " \
         "replyToOptions.accountCustomFieldId"  # fmt: skip
# section 6 as written; (since-last time field, whether Pardot filters by it; section 3's table)
SECTION_6: dict[str, tuple[str, str, bool]] = {
    "visitor-activities": ("id, visitId, prospectId, visitorId, emailId, type, typeName, details, campaignId, "
                           "customRedirectId, emailTemplateId, fileId, formHandlerId, formId, landingPageId, "
                           "listEmailId, multivariateTestVariationId, opportunityId, paidSearchAdId, "
                           "siteSearchQueryId, visitorPageViewId, createdAt, updatedAt", "updatedAt", True),
    "visitors": (f"id, prospectId, pageViewCount, isIdentified, doNotSell, hostname, ipAddress, campaignId, {_UTM}, "
                 "createdAt, updatedAt", "updatedAt", True),
    "visits": ("id, visitorId, prospectId, visitorPageViewCount, firstVisitorPageViewAt, lastVisitorPageViewAt, "
               f"durationInSeconds, {_UTM}, createdAt, updatedAt", "updatedAt", True),
    "campaigns": ("id, name, isDeleted, folderId, cost, parentCampaignId, createdById, updatedById, createdAt, "
                  "updatedAt, salesforceId", "updatedAt", True),
    "opportunities": (f"id, closedAt, name, type, stage, status, probability, value, campaignId, salesforceId, {_WHO}",
                      "updatedAt", True),
    "users": (f"id, email, username, isDeleted, firstName, jobTitle, role, roleName, salesforceId, "
              f"tagReplacementLanguage, {_WHO}", "updatedAt", True),
    "emails": ("id, name, type, sentAt, subject, clientType, isOperational, campaignId, prospectId, folderId, listId, "
               f"listEmailId, emailTemplateId, trackerDomainId, {_SENDER}, {_REPLY}, createdById", "sentAt", True),
    "list-emails": ("id, name, subject, isPaused, isSent, isDeleted, isOperational, sentAt, campaignId, clientType, "
                    f"{_SENDER}, {_REPLY}, emailTemplateId, trackerDomainId, folderId, {_WHO}", "updatedAt", True),
    "forms": ("id, name, campaignId, layoutTemplateId, folderId, trackerDomainId, salesforceId, isDeleted, "
              "isUseRedirectLocation, isAlwaysDisplay, isCookieless, isCaptchaEnabled, showNotProspect, embedCode, "
              "submitButtonText, beforeFormContent, afterFormContent, thankYouContent, thankYouCode, "
              "redirectLocation, fontSize, fontFamily, fontColor, labelAlignment, radioAlignment, checkboxAlignment, "
              f"requiredCharacter, {_BY_FIRST}", "updatedAt", False),
    "landing-pages": ("id, name, campaignId, salesforceId, isDeleted, layoutType, layoutTableBorder, "
                      "isUseRedirectLocation, bitlyIsPersonalized, bitlyShortUrl, url, vanityUrl, folderId, formId, "
                      "layoutTemplateId, title, description, isDoNotIndex, vanityUrlPath, redirectLocation, "
                      f"trackerDomainId, archiveDate, {_WHO}", "updatedAt", True),
    "tags": (f"id, name, objectCount, {_BY_FIRST}", "updatedAt", True),
    "lifecycle-stages": ("id, name, isDeleted, isLocked, position, matchType, createdAt, updatedAt", "updatedAt", True),
    "lifecycle-histories": ("id, prospectId, previousStageId, nextStageId, secondsElapsed, createdAt", "createdAt",
                            True),
    "prospect-accounts": ("id, name, salesforceId, isDeleted, annualRevenue, billingAddressOne, billingAddressTwo, "
                          "billingCity, billingCountry, billingState, billingZip, description, employees, fax, "
                          "industry, number, ownership, phone, rating, shippingAddressOne, shippingAddressTwo, "
                          "shippingCity, shippingCountry, shippingState, shippingZip, sic, site, tickerSymbol, type, "
                          f"website, {_WHO}, assignedToId", "updatedAt", False),
    "custom-fields": ("id, name, fieldId, type, salesforceId, isRequired, isRecordMultipleResponses, isUseValues, "
                      f"isAnalyticsSynced, {_WHO}", "updatedAt", True),
    "lists": (f"id, name, title, description, isPublic, folderId, campaignId, isDeleted, isDynamic, {_WHO}",
              "updatedAt", True),
    "list-memberships": (f"id, listId, prospectId, optedOut, {_WHO}", "updatedAt", True),
    "visitor-page-views": ("id, url, title, visitorId, campaignId, visitId, durationInSeconds, salesforceId, "
                           "createdAt", "createdAt", True),
    "folders": (f"id, name, parentFolderId, path, usePermissions, {_WHO}", "updatedAt", False),
    "custom-redirects": ("id, name, url, destinationUrl, vanityUrl, campaignId, salesforceId, isDeleted, folderId, "
                         "trackerDomainId, trackerDomain.domain, vanityUrlPath, trackedUrl, bitlyIsPersonalized, "
                         "bitlyShortUrl, gaSource, gaMedium, gaTerm, gaContent, gaCampaign, " + _WHO, "updatedAt",
                         False),
    "engagement-studio-programs": ("id, status, isDeleted, salesforceId, description, businessHours, "
                                   "prospectsMultipleEntry, schedule, scheduleCreatedById, recipientListIds, "
                                   f"suppressionListIds, {_WHO}", "updatedAt", False),
    "files": ("id, name, folderId, campaignId, salesforceId, trackerDomainId, vanityUrl, vanityUrlPath, url, size, "
              f"isTracked, bitlyIsPersonalized, bitlyShortUrl, {_WHO}", "updatedAt", False),
    "folder-contents": (f"id, folderId, folderRef, objectType, objectId, objectName, objectRef, {_WHO}", "updatedAt",
                        False),
    "form-fields": ("id, formId, prospectApiFieldId, type, dataFormat, sortOrder, hasDependents, hasProgressives, "
                    "hasValues, label, errorMessage, cssClasses, isRequired, isAlwaysDisplay, isMaintainInitialValue, "
                    f"isDoNotPrefill, {_BY_FIRST}", "updatedAt", False),
    "form-handlers": ("id, name, folderId, campaignId, trackerDomainId, isDataForwarded, successLocation, "
                      "errorLocation, isAlwaysEmail, isCookieless, salesforceId, embedCode, createdAt, createdById, "
                      "isDeleted, updatedById", "createdAt", False),
    "form-handler-fields": ("id, name, formHandlerId, dataFormat, prospectApiFieldId, isMaintainInitialValue, "
                            "errorMessage, isRequired, createdAt, createdById", "createdAt", False),
    "layout-templates": ("id, name, layoutContent, siteSearchContent, formContent, folderId, isDeleted, "
                         f"isIncludeDefaultCss, {_WHO}", "updatedAt", False),
    "tracker-domains": ("id, domain, isPrimary, isDeleted, defaultCampaignId, httpsStatus, sslStatus, "
                        "sslStatusDetails, sslRequestedById, validationStatus, validatedAt, vanityUrlStatus, "
                        f"trackingCode, {_WHO}", "updatedAt", False),
    "dynamic-contents": ("id, name, basedOnProspectApiFieldId, embedCode, embedUrl, basedOn, tagReplacementLanguage, "
                         "folderId, trackerDomainId, createdAt, updatedAt, isDeleted, createdById, updatedById",
                         "updatedAt", False),
    "account": ("id, company, level, website, pluginCampaignId, addressOne, addressTwo, city, state, zip, territory, "
                "country, phone, fax, adminId, maximumDailyApiCalls, apiCallsUsed, " + _WHO, "updatedAt", False),
    "dynamic-content-variations": ("id, dynamicContentId, comparison, operator, value1, value2, content", "", False),
}  # fmt: skip
# section 6's v4 email clicks, under the v5 spelling of their names (the columns come out the same snake_case)
EMAIL_CLICKS = "id, prospectId, url, listEmailId, dripProgramActionId, emailTemplateId, trackerRedirectId, createdAt"
ONE = "account"  # answers one object, not a page
PER_PARENT = {"dynamic-content-variations": ("dynamic-contents", "dynamicContentId")}  # read per parent record
V4 = {"email-clicks": "/api/emailClick/version/4/do/query"}  # not in v5: read through v4
INTS = frozenset({"type", "pageViewCount", "visitorPageViewCount", "durationInSeconds", "probability",
                  "layoutTableBorder", "objectCount", "position", "secondsElapsed", "size", "sortOrder",
                  "maximumDailyApiCalls", "apiCallsUsed"})  # fmt: skip
TEXT_IDS = frozenset({"salesforceId", "prospectApiFieldId", "basedOnProspectApiFieldId", "fieldId"})
TEXT_TYPES = {"emails": {"type"}, "opportunities": {"type"}, "prospect-accounts": {"type"}, "custom-fields": {"type"},
              "form-fields": {"type"}}  # fmt: skip  # "type" is a number on visitor activities only
FLOATS = frozenset({"cost", "value"})
BOOLS = frozenset({"doNotSell", "usePermissions", "bitlyIsPersonalized", "showNotProspect", "prospectsMultipleEntry"})
NESTED = frozenset({"senderOptions", "replyToOptions"})  # arrays of objects: a list of structs


@dataclass(frozen=True)
class ObjectSpec:
    """One readable object: its v5 path, fields, since-last time (filtered by Pardot or here), recycle bin."""

    kind: str
    fields: tuple[str, ...]
    since: str
    server_since: bool

    @property
    def archivable(self) -> bool:
        """Objects whose fields hold ``isDeleted`` take ``deleted=all`` (section 3), except opportunities, whose
        ``isDeleted`` is not confirmed (a working reader never sends it)."""
        return "isDeleted" in self.fields and self.kind != "opportunities"

    @property
    def name(self) -> str:
        return self.kind.replace("-", "_")

    @property
    def shape(self) -> str:
        """How it is read: ``pages`` (v5 queries by id), ``one`` (a single object), ``per-parent`` (a query per
        parent record) or ``v4`` (the v4 query, pages of 200)."""
        return "one" if self.kind == ONE else "per-parent" if self.kind in PER_PARENT else \
            "v4" if self.kind in V4 else "pages"  # fmt: skip


OBJECTS = {
    kind: ObjectSpec(kind, tuple(f.strip() for f in text.split(",")), since, server)
    for kind, (text, since, server) in {**SECTION_6, "email-clicks": (EMAIL_CLICKS, "createdAt", True)}.items()
}
# fmt: skip


def spec_of(name: str) -> ObjectSpec | None:
    """The object a name means: its v5 path (``visitor-activities``) or the product's (``visitor_activities``)."""
    return OBJECTS.get(name.strip().lower().replace("_", "-"))


def column(v5: str) -> str:
    """The product's column of a v5 field: ``visitorPageViewId`` -> ``visitor_page_view_id``, dots to ``_``."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", v5.replace(".", "_")).lower()


def dtype(kind: str, v5: str) -> Any:
    """The polars type of one field of an object (the module docstring's rules)."""
    leaf = v5.rsplit(".", 1)[-1]
    if v5.split(".")[0] in NESTED:
        return None  # the list of structs is built from the answer as it comes
    if leaf in TEXT_TYPES.get(kind, ()) or leaf in TEXT_IDS:
        return pl.String
    if leaf == "id" or leaf in INTS or leaf.endswith("Id"):
        return pl.Int64
    if leaf.endswith("Ids"):
        return pl.List(pl.Int64)
    if leaf in FLOATS:
        return pl.Float64
    if leaf in BOOLS or re.match(r"(is|has)[A-Z]", leaf):
        return pl.Boolean
    if leaf.endswith("At"):
        return pl.Datetime("us", "UTC")
    return pl.Date if leaf == "archiveDate" else pl.String


def columns(spec: ObjectSpec, fields: tuple[str, ...]) -> dict[str, str]:
    """Product column -> the v5 field (or, for a nested array, its head) each holds, in order."""
    out: dict[str, str] = {}
    for name in fields:
        head = name.split(".")[0]
        out.setdefault(column(head) if head in NESTED else column(name), head if head in NESTED else name)
    return out


def frame(spec: ObjectSpec, records: list[dict[str, Any]], fields: tuple[str, ...], zone: str = "UTC") -> pl.DataFrame:
    """A page of records as a typed frame (every requested field a column, even when no record has it)."""
    typed = {col: (v5, dtype(spec.kind, v5)) for col, v5 in columns(spec, fields).items()}
    data: dict[str, pl.Series] = {}
    for col, (v5, wanted) in typed.items():
        values = [_value(r, v5) for r in records]
        if wanted is None:
            data[col] = pl.Series(col, values, strict=False)
        elif wanted == pl.Datetime("us", "UTC") or wanted == pl.Date:  # text first, parsed as one expression
            data[col] = pl.Series(col, [None if v is None else str(v) for v in values], dtype=pl.String)
        else:
            data[col] = pl.Series(col, values, dtype=wanted, strict=False)
    out = pl.DataFrame(data, height=len(records)) if data else pl.DataFrame()
    return out.with_columns(
        *[utc_time(c, zone).alias(c) for c, (_, t) in typed.items() if t == pl.Datetime("us", "UTC")],
        *[pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False) for c, (_, t) in typed.items()
          if t == pl.Date],
    )  # fmt: skip


def _value(record: dict[str, Any], v5: str) -> Any:
    """A field's value, a dotted one read nested (``{"trackerDomain": {"domain": ..}}``) or flat."""
    if v5 in record or "." not in v5:
        return record.get(v5)
    head, _, rest = v5.partition(".")
    inner = record.get(head)
    return inner.get(rest) if isinstance(inner, dict) else None
