"""The API's marshmallow schemas: the OpenAPI document is generated from them."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..leads.queries import SORTS
from ..models import (
    ConsentSource,
    ContactKind,
    LandingKind,
    LawfulBasis,
    LeadCategory,
    LeadStatus,
    Priority,
    Purpose,
    StationStatus,
)
from .common import PageArgs, PageMeta, UtcDateTime



def ID(**kwargs):  # noqa: N802
    return fields.Integer(validate=validate.Range(min=1, max=2**31 - 1), **kwargs)


def _values(enum) -> list:
    return [member.value for member in enum]


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    errors = fields.List(fields.Nested(Schema.from_dict({
        "field": fields.String(allow_none=True, required=True), "message": fields.String(required=True)},
        name="FieldError")))
    duplicates = fields.List(fields.Integer())


# Stations --------------------------------------------------------------------------------------

class StationArgs(PageArgs):
    """The station list's filters (``liaison.stations.services.filtered_stations``)."""

    q = fields.String(validate=validate.Length(max=100), metadata={
        "description": "Matches the name (either script), city or host organisation."})
    region = fields.String(validate=validate.Length(max=20), metadata={"description": "A region code."})
    country = fields.String(validate=validate.Length(max=2), metadata={"description": "ISO 3166-1 alpha-2."})
    status = fields.String(validate=validate.OneOf(_values(StationStatus)))


class StationOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(allow_none=True)
    country = fields.String(required=True)
    city = fields.String(required=True)
    region = fields.String(required=True, attribute="region.code")
    host_organisation = fields.String(required=True)
    host_kind = fields.String(required=True)
    status = fields.String(required=True)
    established_on = fields.Date(allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class StationPage(Schema):
    items = fields.List(fields.Nested(StationOut), required=True)
    page = fields.Nested(PageMeta, required=True)


# Contacts --------------------------------------------------------------------------------------

class ContactArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=100))
    station_id = ID()
    kind = fields.String(validate=validate.OneOf(_values(ContactKind)))
    tag = fields.String(validate=validate.Length(max=60))


TEXT = {"allow_none": True}


class ContactOut(Schema):
    """A contact as the user sees it on the pages: the masked fields masked (``masked``), an erased
    person's fields empty (``erased``)."""

    id = fields.Integer(required=True)
    station_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(**TEXT)
    name_original = fields.String(**TEXT)
    organisation = fields.String(**TEXT)
    position = fields.String(**TEXT)
    field = fields.String(**TEXT)
    country = fields.String(**TEXT)
    city = fields.String(**TEXT)
    email = fields.String(**TEXT)
    phone = fields.String(**TEXT)
    messaging = fields.String(**TEXT)
    notes = fields.String(**TEXT)
    tags = fields.List(fields.String(), required=True)
    languages = fields.List(fields.String(), required=True)
    masked = fields.List(fields.String(), required=True, metadata={
        "description": "The fields shown masked to you (reveal them on the contact's page)."})
    erased = fields.Boolean(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class ContactPage(Schema):
    items = fields.List(fields.Nested(ContactOut), required=True)
    page = fields.Nested(PageMeta, required=True)


def _text(maximum: int, **kwargs):
    return fields.String(validate=validate.Length(max=maximum), allow_none=True, **kwargs)


class ContactIn(Schema):
    kind = fields.String(validate=validate.OneOf(_values(ContactKind)))
    name = fields.String(validate=validate.Length(min=1, max=200))
    name_zh = _text(200)
    name_original = _text(200)
    organisation = _text(200)
    position = _text(200)
    field = _text(200)
    country = _text(2, metadata={"description": "ISO 3166-1 alpha-2."})
    city = _text(120)
    email = _text(254)
    phone = _text(40)
    messaging = _text(200)
    languages = fields.List(fields.String(validate=validate.Length(max=100)), validate=validate.Length(max=20))
    tags = fields.List(fields.String(validate=validate.Length(max=100)), validate=validate.Length(max=20))
    notes = _text(5000)


class ContactCreate(ContactIn):
    kind = fields.String(required=True, validate=validate.OneOf(_values(ContactKind)))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    station_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "Needed when you record for more than one station."})
    confirm_duplicate = fields.Boolean(load_default=False, metadata={
        "description": "Save even though the station has a contact with the same e-mail or phone (else 409)."})
    # "The person agreed to…" of the page's new-contact form (``liaison.privacy.consent_forms``).
    agree_keep_in_touch = fields.Boolean(metadata={
        "description": "The person agreed to being kept in touch with about talent programmes (a consent)."})
    agree_pass_to_hq = fields.Boolean(metadata={
        "description": "The person agreed to having their profile passed to HQ and partner departments "
                       "(a consent): needed before a lead about them can be submitted."})
    consent_source = fields.String(allow_none=True, validate=validate.OneOf(_values(ConsentSource)), metadata={
        "description": "How the person agreed: required with an `agree_…`."})
    consent_given_on = fields.Date(allow_none=True, metadata={
        "description": "The day the person agreed (not in the future); default today."})
    consent_evidence = _text(300, metadata={"description": "e.g. signed form in the station's binder."})


# A contact's lawful bases ------------------------------------------------------------------------

class ConsentOut(Schema):
    """A lawful basis recorded for a contact and a purpose (``liaison.privacy.consent``)."""

    id = fields.Integer(required=True)
    contact_id = fields.Integer(required=True)
    purpose = fields.String(required=True)
    basis = fields.String(required=True)
    source = fields.String(required=True)
    given_on = fields.Date(required=True)
    expires_on = fields.Date(allow_none=True)
    evidence = fields.String(allow_none=True)
    text_version = fields.String(allow_none=True)
    recorded_by_id = fields.Integer(allow_none=True)
    recorded_at = UtcDateTime(required=True)
    withdrawn_at = UtcDateTime(allow_none=True)
    withdrawn_by_id = fields.Integer(allow_none=True)
    withdrawal_note = fields.String(allow_none=True)
    valid = fields.Boolean(required=True, metadata={
        "description": "Valid today: given, not withdrawn, not expired, the person not erased."})


class PurposeState(Schema):
    purpose = fields.String(required=True)
    state = fields.String(required=True, metadata={
        "description": "valid, expiring, expired, withdrawn, future or none."})
    current_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "The basis that makes the purpose lawful now."})


class ConsentList(Schema):
    purposes = fields.List(fields.Nested(PurposeState), required=True)
    items = fields.List(fields.Nested(ConsentOut), required=True)


class ConsentIn(Schema):
    purpose = fields.String(required=True, validate=validate.OneOf(_values(Purpose)))
    basis = fields.String(load_default=LawfulBasis.CONSENT.value, validate=validate.OneOf(_values(LawfulBasis)))
    source = fields.String(required=True, validate=validate.OneOf(_values(ConsentSource)))
    given_on = fields.Date(metadata={"description": "Not in the future; default today."})
    expires_on = fields.Date(allow_none=True, metadata={"description": "Empty if the basis does not expire."})
    evidence = _text(4000)
    text_version = _text(40, metadata={"description": "The version of the consent text the person saw."})


class WithdrawIn(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=300), metadata={
        "description": "How and when the person withdrew."})




# Leads -----------------------------------------------------------------------------------------

class LeadArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=100))
    status = fields.String(validate=validate.OneOf(["open", *_values(LeadStatus)]))
    region = fields.String(validate=validate.Length(max=20))
    station_id = ID()
    category = fields.String(validate=validate.OneOf(_values(LeadCategory)))
    reviewer = fields.String(validate=validate.Regexp(r"^(me|none|[1-9][0-9]{0,9})$"), metadata={
        "description": "A reviewer's user id, `me` or `none`."})
    submitted_from = fields.Date()
    submitted_to = fields.Date()
    sort = fields.String(load_default="-updated", validate=validate.OneOf(list(SORTS)))


class ContactRef(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class LeadOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    category = fields.String(required=True)
    field = fields.String(allow_none=True)
    summary = fields.String(required=True)
    wants = fields.String(allow_none=True)
    offer = fields.String(allow_none=True)
    priority = fields.Integer(required=True)
    station_id = fields.Integer(required=True)
    contact = fields.Nested(ContactRef, required=True)
    submitter_id = fields.Integer(allow_none=True)
    reviewer_id = fields.Integer(allow_none=True)
    referral_target = fields.String(allow_none=True)
    landed_on = fields.Date(allow_none=True)
    landing_kind = fields.String(allow_none=True)
    landing_note = fields.String(allow_none=True)
    submitted_at = UtcDateTime(allow_none=True)
    status_changed_at = UtcDateTime(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "Also the ETag: send it in If-Match."})
    moves = fields.List(fields.String(), required=True, metadata={
        "description": "The workflow moves you may make now (POST …/moves)."})
    can_edit = fields.Boolean(required=True)


class LeadPage(Schema):
    items = fields.List(fields.Nested(LeadOut), required=True)
    page = fields.Nested(PageMeta, required=True)


class LeadIn(Schema):
    category = fields.String(validate=validate.OneOf(_values(LeadCategory)))
    field = _text(200)
    summary = fields.String(validate=validate.Length(min=1, max=4000))
    wants = _text(4000)
    offer = _text(4000)
    priority = fields.Integer(validate=validate.OneOf([p.value for p in Priority]))


class LeadCreate(LeadIn):
    contact_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    category = fields.String(required=True, validate=validate.OneOf(_values(LeadCategory)))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class MoveIn(Schema):
    move = fields.String(required=True, validate=validate.Length(max=40), metadata={
        "description": "submit, start_review, request_info, answer, accept, reject, refer, land, close_lost, withdraw"})
    comment = _text(4000)
    referral_target = _text(200)
    landed_on = fields.Date(allow_none=True)
    landing_kind = fields.String(allow_none=True, validate=validate.OneOf(_values(LandingKind)))


class CommentIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class EventOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    actor_id = fields.Integer(allow_none=True)
    actor = fields.String(allow_none=True, attribute="actor.name")
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    text = fields.String(allow_none=True)
    created_at = UtcDateTime(required=True)


class EventPage(Schema):
    items = fields.List(fields.Nested(EventOut), required=True)
    page = fields.Nested(PageMeta, required=True)
