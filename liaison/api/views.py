"""The API's resources: stations, contacts, leads (with their workflow, comments and timeline) and
the plugins' records (``liaison_api_resources``).

Views are thin: scope from ``liaison.scope``, permissions from ``liaison.permissions``, every change
through the services the pages use (``liaison.leads.services``, ``liaison.contacts.services``),
input checked by the pages' own forms, personal fields through ``liaison.privacy.masking``.
"""
from __future__ import annotations

import functools

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import limiter
from ..leads import services as lead_services
from ..leads.forms import LeadForm
from ..leads.queries import LeadFilters, filtered_leads
from ..leads.workflow import IllegalMove, available_moves
from ..models import Contact, ContactConsent, LeadEvent, Station, TalentLead, db
from ..permissions import acts_for_station
from ..privacy import masking
from ..scope import get_or_404
from . import auth, schemas
from .common import ApiBlueprint as Blueprint
from .common import Idempotent, etag_of, formdata, if_match, json_response, page_of, validate_form
from .problems import PROBLEM_JSON, ApiError

READ_PROBLEMS = (401, 404, 422, 429)
WRITE_PROBLEMS = (400, 401, 403, 404, 409, 415, 422, 429)
BODY_PROBLEMS = (*WRITE_PROBLEMS, 413)  # operations with a JSON body: MAX_CONTENT_LENGTH


def problem_responses(*codes):
    """Document the problem+json answers of an operation (with their headers: ``Retry-After``
    on 429, ``WWW-Authenticate`` on 401)."""

    def decorator(view):
        for code in codes:
            view = _doc_blp.alt_response(code, schema=schemas.Problem, content_type=PROBLEM_JSON,
                                         description=str(_DESCRIPTIONS.get(code, code)),
                                         headers=_HEADERS.get(code))(view)
        return view

    return decorator


_DESCRIPTIONS = {400: "Bad request", 401: "No valid token", 403: "Not allowed", 404: "Not found",
                 405: "Method not allowed", 409: "Conflict", 412: "Stale ETag (If-Match)", 413: "Body too large",
                 415: "Not JSON", 422: "Invalid input", 428: "If-Match missing", 429: "Rate limit"}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "`Bearer realm=\"liaison\"`", "required": True,
                               "schema": {"type": "string"}}},
    405: {"Allow": {"description": "The methods the path allows.", "required": True, "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before the next request with this token.",
                          "required": True, "schema": {"type": "integer", "minimum": 0}}},
}
_doc_blp = Blueprint("_api_doc_helper", __name__)  # only its alt_response decorator is used

# Request headers, declared on the operations that read them.
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string", "maxLength": 200},
            "description": "The record's current `ETag` (from its GET or the last write), or `*` for whatever the "
                           "current version is: 428 without it, 412 if the record changed since."}
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                   "description": "Makes a retry safe: a repeat (same token, same key, same body) gets the first "
                                  "answer (`Idempotent-Replayed: true`); the key with another body is 422. Kept "
                                  "`API_IDEMPOTENCY_TTL` seconds (a day)."}


def if_match_required(view):
    return _doc_blp.doc(parameters=[IF_MATCH])(view)


def idempotent(view):
    return _doc_blp.doc(parameters=[IDEMPOTENCY_KEY])(view)


def json_body(view):
    """415 unless the body is JSON (before the body is parsed)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if request.mimetype != "application/json":
            raise ApiError(415)
        if not isinstance(request.get_json(silent=True), dict):
            raise ApiError(400, _l("The body must be a JSON object."))
        return view(*args, **kwargs)

    return wrapped


def _api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


stations_bp = Blueprint("api_stations", __name__, url_prefix="/api/v1/stations", description="Stations (read).")
contacts_bp = Blueprint("api_contacts", __name__, url_prefix="/api/v1/contacts", description="Contacts.")
leads_bp = Blueprint("api_leads", __name__, url_prefix="/api/v1/leads",
                     description="Talent leads, their workflow, comments and timeline.")
CORE_BLUEPRINTS = (stations_bp, contacts_bp, leads_bp)


def rate_limited(blueprint: Blueprint) -> Blueprint:
    """``API_RATE_LIMIT`` per token on every route of ``blueprint`` (once per blueprint object)."""
    limiter.limit(_api_limit, key_func=auth.rate_limit_key)(blueprint)
    return blueprint


for _blueprint in CORE_BLUEPRINTS:
    rate_limited(_blueprint)


def blueprints(app) -> list[Blueprint]:
    """The core's API blueprints and one per plugin resource (built for ``app``)."""
    from .demands import demands_bp
    from .events import events_bp
    from .plugin_resources import plugin_blueprints

    return [*CORE_BLUEPRINTS, events_bp, demands_bp,
            *plugin_blueprints(app)]  # rate-limited when built


# Stations ------------------------------------------------------------------------------------

@stations_bp.route("/")
@stations_bp.arguments(schemas.StationArgs, location="query")
@stations_bp.response(200, schemas.StationPage)
@problem_responses(*READ_PROBLEMS)
def list_stations(args):
    """Stations in your scope, with the station list's filters (``liaison.stations.services``)."""
    from ..stations.services import filtered_stations

    stmt = filtered_stations(current_user, region=args.get("region"), country=args.get("country"),
                             status=args.get("status"), q=args.get("q"))
    stmt = auth.restrict(stmt, Station.id).options(selectinload(Station.region)).order_by(Station.id)
    items, page = page_of(stmt, args)
    return {"items": items, "page": page}


@stations_bp.route("/<int:station_id>")
@stations_bp.response(200, schemas.StationOut)
@problem_responses(*READ_PROBLEMS)
def get_station(station_id):
    """One station."""
    auth.check_station(station_id)
    return get_or_404(Station, station_id, selectinload(Station.region))


# Contacts ------------------------------------------------------------------------------------

CONTACT_FIELDS = ("kind", "name_zh", "name_original", "organisation", "position", "field", "country", "city",
                  "email", "phone", "messaging", "notes")


def contact_out(contact: Contact) -> dict:
    """``contact`` as the pages show it to the current user (``liaison.privacy.masking``)."""
    seen = masking.masker()
    out = {"id": contact.id, "station_id": contact.station_id, "name": masking.person_name(contact),
           "created_at": contact.created_at, "updated_at": contact.updated_at,
           "erased": contact.erased_at is not None, "masked": seen.hidden_fields(contact)}
    for name in CONTACT_FIELDS:
        out[name] = (seen.value(contact, name).text or None) if name != "kind" else contact.kind
    erased = contact.erased_at is not None
    out["tags"] = [] if erased else contact.tag_list
    out["languages"] = [] if erased else contact.language_list
    return out


def contact_version(contact: Contact) -> str:
    """Contacts have no version column: their ETag is their last change's time."""
    return contact.updated_at.strftime("%Y%m%d%H%M%S%f")


CONTACT_OPTIONS = (selectinload(Contact.station), selectinload(Contact.tag_rows), selectinload(Contact.language_rows))
AGREEMENT_FIELDS = ("agree_keep_in_touch", "agree_pass_to_hq", "consent_source", "consent_given_on",
                    "consent_evidence")


@contacts_bp.route("/")
@contacts_bp.arguments(schemas.ContactArgs, location="query")
@contacts_bp.response(200, schemas.ContactPage)
@problem_responses(*READ_PROBLEMS)
def list_contacts(args):
    """Contacts in your scope, with the contact list's filters."""
    from ..contacts import services

    stmt = services.search(current_user, q=args.get("q"), station_id=args.get("station_id"), kind=args.get("kind"),
                           tag=args.get("tag"))
    stmt = auth.restrict(stmt, Contact.station_id).options(*CONTACT_OPTIONS).order_by(Contact.name, Contact.id)
    items, page = page_of(stmt, args)
    masking.masker().prefetch(items)
    return {"items": [contact_out(c) for c in items], "page": page}


def _contact(contact_id) -> Contact:
    contact = get_or_404(Contact, contact_id, *CONTACT_OPTIONS)
    auth.check_station(contact.station_id)
    return contact


def _contact_response(contact: Contact, status: int = 200):
    return contact_out(contact), status, {"ETag": etag_of(contact_version(contact))}


@contacts_bp.route("/<int:contact_id>")
@contacts_bp.response(200, schemas.ContactOut, headers={"ETag": {"schema": {"type": "string"}}})
@problem_responses(*READ_PROBLEMS)
def get_contact(contact_id):
    """One contact, masked as on its page; a view in clear is written to the access log."""
    contact = _contact(contact_id)
    response = _contact_response(contact)
    if masking.log_view(current_user, contact) is not None:
        db.session.commit()
    return response


def _check_contact_form(station: Station, payload: dict, contact: Contact | None = None):
    """The page's form rules: the new-contact form (with "The person agreed to…") for a new
    contact, the edit form for an existing one."""
    from ..contacts.forms import ContactForm, NewContactForm

    form_class, accepted = (ContactForm, schemas.ContactIn) if contact is not None \
        else (NewContactForm, schemas.ContactCreate)
    form = form_class(formdata=formdata(payload), meta={"csrf": False}, phone_region=station.country)
    validate_form(form, tuple(accepted._declared_fields))
    return form


@contacts_bp.route("/", methods=["POST"])
@json_body
@contacts_bp.arguments(schemas.ContactCreate)
@contacts_bp.response(201, schemas.ContactOut)
@problem_responses(*BODY_PROBLEMS)
@idempotent
def create_contact(data):
    """Record a contact (``Idempotency-Key`` honoured), with what the person agreed to — as the
    page's new-contact form: ``agree_pass_to_hq`` (needed before a lead about them is submitted)
    and ``agree_keep_in_touch`` record a consent with ``consent_source``, ``consent_given_on``
    (default today) and ``consent_evidence``. A likely duplicate at the station is 409 (with
    ``duplicates``) unless ``confirm_duplicate``."""
    from ..contacts import services
    from ..duplicates import matching
    from ..privacy import consent
    from ..scope import station_for_new

    with Idempotent() as once:
        if once.replay:
            return once.replayed()
        station_id = data.pop("station_id", None)
        auth.check_station(station_id if station_id is not None else auth.restriction())
        station, _stations = station_for_new(station_id)
        if station is None:
            raise ApiError(422, errors=[{"field": "station_id", "message": str(_l("Choose the station."))}])
        confirm = data.pop("confirm_duplicate", False)
        form = _check_contact_form(station, data)
        check = matching.check_form(station, form.data)
        if check and not confirm:
            raise ApiError(409, _l("The station may already have this person: send confirm_duplicate to save anyway."),
                           duplicates=[c.id for c in check.contacts])
        values = {name: form.data[name] for name in data}
        if form.agreed_purposes():  # the date the form defaults to (today) when none was sent
            values.update({name: form.data[name] for name in AGREEMENT_FIELDS})
        try:
            contact = services.create_contact(station, values, current_user)
        except consent.ConsentError as exc:  # the form said the same: a rule of consent.check
            db.session.rollback()
            raise ApiError(422, errors=[{"field": f"consent_{exc.field}" if exc.field else None,
                                         "message": str(exc.message)}]) from None
        contact = get_or_404(Contact, contact.id, *CONTACT_OPTIONS)
        body = schemas.ContactOut().dump(contact_out(contact))
        return once.respond(body, 201, {"ETag": etag_of(contact_version(contact)),
                                        "Location": url_for("api_contacts.get_contact", contact_id=contact.id)})


@contacts_bp.route("/<int:contact_id>", methods=["PATCH"])
@json_body
@contacts_bp.arguments(schemas.ContactIn)
@contacts_bp.response(200, schemas.ContactOut)
@problem_responses(*BODY_PROBLEMS, 412, 428)
@if_match_required
def update_contact(data, contact_id):
    """Edit a contact (``If-Match`` required: checked again inside the writing transaction, so a
    race lost there is 412 too). Fields you see masked cannot be changed (422)."""
    from ..concurrency import Conflict
    from ..contacts import services

    contact = _contact(contact_id)
    if not acts_for_station(current_user, contact.station):
        raise ApiError(403)
    if contact.erased_at is not None:
        raise ApiError(409, _l("This person's data has been erased: the record cannot be edited."))
    seen = contact.updated_at
    if_match(contact_version(contact))
    locked = [name for name in masking.masker().hidden_fields(contact) if name in data]
    if locked:
        raise ApiError(422, errors=[{"field": name, "message": str(_l("You see this field masked: it cannot be changed."))}
                                    for name in locked])
    current = {name: getattr(contact, name) for name in (*CONTACT_FIELDS, "name")}
    current["tags"], current["languages"] = contact.tag_list, contact.language_list
    form = _check_contact_form(contact.station, {**current, **data}, contact)
    try:
        services.update_contact(contact, {name: form.data[name] for name in data}, current_user,
                                expected_updated_at=seen)
    except Conflict:
        raise ApiError(412) from None
    db.session.expire_all()
    return _contact_response(_contact(contact_id))


# A contact's lawful bases (``liaison.privacy.consent``: the one module that owns the rule) -----

def consent_out(basis: ContactConsent, contact: Contact) -> dict:
    from ..privacy import consent

    out = {name: getattr(basis, name) for name in (
        "id", "contact_id", "purpose", "basis", "source", "given_on", "expires_on", "evidence", "text_version",
        "recorded_by_id", "recorded_at", "withdrawn_at", "withdrawn_by_id", "withdrawal_note")}
    out["valid"] = contact.erased_at is None and consent.is_valid(basis)
    return out


def _consent_contact(contact_id, *, record: bool = False) -> Contact:
    """The contact (404 out of scope); recording or withdrawing is for those who act for its
    station (403), never on an erased person (409) — as on the contact's page."""
    contact = _contact(contact_id)
    if record:
        if not acts_for_station(current_user, contact.station):
            raise ApiError(403)
        if contact.erased_at is not None:
            raise ApiError(409, _l("This person's data has been erased: no basis can be recorded."))
    return contact


def _consent_problem(exc) -> ApiError:
    db.session.rollback()
    return ApiError(422, errors=[{"field": exc.field, "message": str(exc.message)}])


@contacts_bp.route("/<int:contact_id>/consents")
@contacts_bp.response(200, schemas.ConsentList)
@problem_responses(*READ_PROBLEMS)
def list_consents(contact_id):
    """The contact's lawful bases: per purpose its state now (``valid``, ``expiring``, ``expired``,
    ``withdrawn``, ``none``) and the basis that counts, and every basis recorded (newest first),
    withdrawn ones included — as the contact page's "Lawful basis and consent" section."""
    from ..privacy import consent

    contact = _contact(contact_id)
    overview = consent.overview(contact)
    purposes = [{"purpose": status.info.purpose.value, "state": status.state,
                 "current_id": status.current.id if status.current is not None else None} for status in overview]
    rows = sorted((row for status in overview for row in status.history),
                  key=lambda row: (row.given_on, row.id), reverse=True)
    return {"purposes": purposes, "items": [consent_out(row, contact) for row in rows]}


@contacts_bp.route("/<int:contact_id>/consents", methods=["POST"])
@json_body
@contacts_bp.arguments(schemas.ConsentIn)
@contacts_bp.response(201, schemas.ConsentOut)
@problem_responses(*BODY_PROBLEMS)
@idempotent
def record_consent(data, contact_id):
    """Record a lawful basis for a purpose (``Idempotency-Key`` honoured), through
    ``liaison.privacy.consent.record`` with the page's form rules: a date not in the future, an
    expiry not before it nor already past. An earlier basis for the purpose stays, as history."""
    from ..privacy import consent
    from ..privacy.consent_forms import RecordBasisForm

    with Idempotent() as once:
        if once.replay:
            return once.replayed()
        contact = _consent_contact(contact_id, record=True)
        form = RecordBasisForm(formdata=formdata({"given_on": consent.today(), **data}), meta={"csrf": False})
        validate_form(form, tuple(schemas.ConsentIn._declared_fields))
        try:
            basis = consent.record(contact, form.purpose.data, form.basis.data, form.source.data, form.given_on.data,
                                   actor=current_user, expires_on=form.expires_on.data,
                                   evidence=form.evidence.data, text_version=form.text_version.data)
        except consent.ConsentError as exc:
            raise _consent_problem(exc) from None
        db.session.commit()
        body = schemas.ConsentOut().dump(consent_out(basis, contact))
        return once.respond(body, 201, {"Location": url_for("api_contacts.list_consents", contact_id=contact.id)})


@contacts_bp.route("/<int:contact_id>/consents/<int:consent_id>/withdraw", methods=["POST"])
@json_body
@contacts_bp.arguments(schemas.WithdrawIn)
@contacts_bp.response(200, schemas.ConsentOut)
@problem_responses(*BODY_PROBLEMS)
def withdraw_consent(data, contact_id, consent_id):
    """Withdraw a basis (``liaison.privacy.consent.withdraw``), saying how the person withdrew:
    it stays as history. Already withdrawn: 409. Leads already with HQ stay there."""
    from ..privacy import consent
    from ..privacy.consent_forms import WithdrawBasisForm

    contact = _consent_contact(contact_id, record=True)
    basis = db.session.scalar(select(ContactConsent).where(ContactConsent.id == consent_id,
                                                           ContactConsent.contact_id == contact.id))
    if basis is None:
        raise ApiError(404)
    if basis.withdrawn_at is not None:
        raise ApiError(409, _l("This basis has already been withdrawn."))
    form = WithdrawBasisForm(formdata=formdata(data), meta={"csrf": False})
    validate_form(form, tuple(schemas.WithdrawIn._declared_fields))
    try:
        consent.withdraw(basis, current_user, form.note.data)
    except consent.ConsentError as exc:
        raise _consent_problem(exc) from None
    db.session.commit()
    return consent_out(basis, contact)


# Leads ---------------------------------------------------------------------------------------

LIST_OPTIONS = (selectinload(TalentLead.contact), selectinload(TalentLead.station))
DETAIL_OPTIONS = (joinedload(TalentLead.contact), joinedload(TalentLead.station).joinedload(Station.region))


def lead_out(lead: TalentLead) -> dict:
    out = {name: getattr(lead, name) for name in (
        "id", "status", "category", "field", "summary", "wants", "offer", "priority", "station_id", "submitter_id",
        "reviewer_id", "referral_target", "landed_on", "landing_kind", "landing_note", "submitted_at",
        "status_changed_at", "created_at", "updated_at", "version")}
    out["priority"] = int(lead.priority)
    out["contact"] = {"id": lead.contact_id, "name": masking.person_name(lead.contact)}
    out["moves"] = [move.name for move in available_moves(lead, current_user)]
    out["can_edit"] = lead_services.can_edit(lead, current_user)
    return out


def _lead(lead_id, *options) -> TalentLead:
    lead = get_or_404(TalentLead, lead_id, *(options or DETAIL_OPTIONS))
    auth.check_station(lead.station_id)
    return lead


def _lead_response(lead_id, status: int = 200, headers: dict | None = None):
    db.session.expire_all()
    lead = _lead(lead_id)
    return lead_out(lead), status, {"ETag": etag_of(lead.version), **(headers or {})}


@leads_bp.route("/")
@leads_bp.arguments(schemas.LeadArgs, location="query")
@leads_bp.response(200, schemas.LeadPage)
@problem_responses(*READ_PROBLEMS)
def list_leads(args):
    """Leads in your scope, with the lead list's filters and sorts."""
    filters = LeadFilters(q=args.get("q"), status=args.get("status"), region=args.get("region"),
                          station_id=args.get("station_id"), category=args.get("category"),
                          reviewer=args.get("reviewer"), submitted_from=args.get("submitted_from"),
                          submitted_to=args.get("submitted_to"), sort=args.get("sort") or "-updated")
    stmt = auth.restrict(filtered_leads(current_user, filters), TalentLead.station_id).options(*LIST_OPTIONS)
    items, page = page_of(stmt, args)
    return {"items": [lead_out(lead) for lead in items], "page": page}


@leads_bp.route("/<int:lead_id>")
@leads_bp.response(200, schemas.LeadOut, headers={"ETag": {"schema": {"type": "string"}}})
@problem_responses(*READ_PROBLEMS)
def get_lead(lead_id):
    """One lead; its ``ETag`` is its version."""
    return _lead_response(lead_id)


def _check_lead_form(payload: dict) -> LeadForm:
    form = LeadForm(formdata=formdata(payload), meta={"csrf": False})
    validate_form(form, tuple(schemas.LeadIn._declared_fields))
    return form


@leads_bp.route("/", methods=["POST"])
@json_body
@leads_bp.arguments(schemas.LeadCreate)
@leads_bp.response(201, schemas.LeadOut)
@problem_responses(*BODY_PROBLEMS)
@idempotent
def create_lead(data):
    """Create a draft lead about a contact (``Idempotency-Key`` honoured: a repeat returns the same
    lead, two at once create one). Submit it with the move ``submit``."""
    with Idempotent() as once:
        if once.replay:
            return once.replayed()
        contact = get_or_404(Contact, data.pop("contact_id"), selectinload(Contact.station))
        auth.check_station(contact.station_id)
        if not acts_for_station(current_user, contact.station):
            raise ApiError(403)
        form = _check_lead_form(data)
        try:
            lead = lead_services.create_lead(contact, {name: form.data[name] for name in data}, current_user)
        except lead_services.Rejected as exc:
            raise ApiError(422, errors=[{"field": None, "message": str(p)} for p in exc.problems]) from None
        raw, status, headers = _lead_response(lead.id, 201)
        body = schemas.LeadOut().dump(raw)
        headers["Location"] = url_for("api_leads.get_lead", lead_id=lead.id)
        return once.respond(body, status, headers)


@leads_bp.route("/<int:lead_id>", methods=["PATCH"])
@json_body
@leads_bp.arguments(schemas.LeadIn)
@leads_bp.response(200, schemas.LeadOut)
@problem_responses(*BODY_PROBLEMS, 412, 428)
@if_match_required
def update_lead(data, lead_id):
    """Edit a draft (or a lead HQ asked more information about); ``If-Match`` required."""
    lead = _lead(lead_id)
    if not acts_for_station(current_user, lead.station):
        raise ApiError(403)
    expected = if_match(lead.version)
    if not lead_services.can_edit(lead, current_user):
        raise ApiError(409, _l("Only drafts and leads that need more information can be edited."))
    current = {name: getattr(lead, name) for name in lead_services.LEAD_FIELDS}
    form = _check_lead_form({**current, **data})
    try:
        lead_services.update_lead(lead, {name: form.data[name] for name in data}, current_user,
                                  expected_version=expected)
    except lead_services.Conflict:
        raise ApiError(412) from None
    except lead_services.Rejected as exc:
        raise ApiError(422, errors=[{"field": None, "message": str(p)} for p in exc.problems]) from None
    except IllegalMove as exc:
        raise ApiError(409, exc.message) from None
    return _lead_response(lead_id)


@leads_bp.route("/<int:lead_id>/moves", methods=["POST"])
@json_body
@leads_bp.arguments(schemas.MoveIn)
@leads_bp.response(200, schemas.LeadOut)
@problem_responses(*BODY_PROBLEMS, 412, 428)
@if_match_required
def move_lead(data, lead_id):
    """Make a workflow move (the lead's ``moves`` lists yours); ``If-Match`` required. The same
    state machine as the pages: a move not possible now is 409, one that is not yours 403, a
    missing comment or target 422."""
    lead = _lead(lead_id)
    from ..leads.workflow import MOVES, WORKFLOW

    move = MOVES.get(data["move"])
    if move is None:
        raise ApiError(422, errors=[{"field": "move", "message": str(_l("Not a move of the lead workflow."))}])
    expected = if_match(lead.version)
    if not WORKFLOW.may(current_user, lead, move):
        raise ApiError(403, _l("You are not allowed to do “%(action)s” on this lead.", action=move.label))
    try:
        lead_services.make_move(lead, move.name, current_user, expected_version=expected,
                                comment=data.get("comment"), referral_target=data.get("referral_target"),
                                landed_on=data.get("landed_on"), landing_kind=data.get("landing_kind"))
    except lead_services.Conflict:
        raise ApiError(412) from None
    except lead_services.Rejected as exc:
        raise ApiError(422, errors=[{"field": None, "message": str(p)} for p in exc.problems]) from None
    except IllegalMove as exc:
        if lead.status not in move.sources:  # not possible from the lead's status
            raise ApiError(409, exc.message) from None
        raise ApiError(422, errors=[{"field": getattr(exc, "field", None), "message": str(exc.message)}]) from None
    return _lead_response(lead_id)


@leads_bp.route("/<int:lead_id>/comments", methods=["POST"])
@json_body
@leads_bp.arguments(schemas.CommentIn)
@leads_bp.response(201, schemas.EventOut)
@problem_responses(*BODY_PROBLEMS)
@idempotent
def comment_lead(data, lead_id):
    """Comment on a lead (``Idempotency-Key`` honoured)."""
    with Idempotent() as once:
        if once.replay:
            return once.replayed()
        lead = _lead(lead_id, selectinload(TalentLead.station))
        if not lead_services.can_comment(lead, current_user):
            raise ApiError(403)
        if not data["text"].strip():
            raise ApiError(422, errors=[{"field": "text", "message": str(_l("Write a comment."))}])
        event = lead_services.add_comment(lead, current_user, data["text"])
        event = db.session.scalar(select(LeadEvent).where(LeadEvent.id == event.id)
                                  .options(selectinload(LeadEvent.actor)))
        return once.respond(schemas.EventOut().dump(event), 201)


@leads_bp.route("/<int:lead_id>/timeline")
@leads_bp.arguments(schemas.PageArgs, location="query")
@leads_bp.response(200, schemas.EventPage)
@problem_responses(*READ_PROBLEMS)
def lead_timeline(args, lead_id):
    """The lead's timeline: status changes, comments, edits, assignments, oldest first."""
    lead = _lead(lead_id, selectinload(TalentLead.station))
    stmt = (select(LeadEvent).where(LeadEvent.lead_id == lead.id).options(selectinload(LeadEvent.actor))
            .order_by(LeadEvent.id))
    items, page = page_of(stmt, args)
    return {"items": items, "page": page}


__all__ = ["blueprints", "json_response"]
