"""The API's events (``liaison.events``): the list, one event, its registrations and check-in,
registering a person (the public form's service and rules) and the event's status moves (its
workflow, ``liaison.events.services.move``).

Thin like ``views``: scope from ``liaison.scope.visible_events_condition`` (through
``liaison.events.services``: ``visible_events``, ``get_event_or_404``), the attendee list's right
(``services.require_manage``, as the door's page), check-in through ``services.check_in``, and a
registration's personal fields masked exactly as the pages mask them (``liaison.events.views``).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from ..events import services
from ..events.models import AttendanceStatus, Event, EventRegistration, EventStation, EventStatus, Organiser
from ..models import db
from . import auth
from .common import ApiBlueprint as Blueprint
from .common import Idempotent, PageArgs, PageMeta, UtcDateTime, etag_of, formdata, if_match, page_of, validate_form
from .problems import ApiError
from .views import (
    BODY_PROBLEMS,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    idempotent,
    if_match_required,
    json_body,
    problem_responses,
    rate_limited,
)

events_bp = rate_limited(Blueprint("api_events", __name__, url_prefix="/api/v1/events",
                                   description="Events, their registrations, check-in and status moves."))


def _values(enum) -> list:
    return [member.value for member in enum]


# Schemas (named apart from the leads' timeline ``EventOut``) ---------------------------------

class EventListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(_values(EventStatus)))
    kind = fields.String(validate=validate.Length(max=60), metadata={"description": "An event kind's name."})
    station_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "Events this station organises."})


class EventItemOut(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    kind = fields.String(required=True)
    organiser = fields.String(required=True, validate=validate.OneOf(_values(Organiser)))
    region_id = fields.Integer(allow_none=True)
    station_ids = fields.List(fields.Integer(), required=True, metadata={"description": "The organising stations."})
    title = fields.String(required=True)
    title_zh = fields.String(required=True)
    description = fields.String(allow_none=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    timezone = fields.String(required=True)
    venue = fields.String(allow_none=True)
    online_link = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    seats_taken = fields.Integer(required=True)
    registration_opens_at = UtcDateTime(allow_none=True)
    registration_closes_at = UtcDateTime(allow_none=True)
    status = fields.String(required=True)
    participants = fields.Integer(allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "Also the ETag."})
    may_manage = fields.Boolean(required=True, metadata={
        "description": "You run this event: you may read its registrations and check people in."})
    moves = fields.List(fields.String(), required=True, metadata={"description": "The status moves you may make now."})


class EventItemPage(Schema):
    items = fields.List(fields.Nested(EventItemOut), required=True)
    page = fields.Nested(PageMeta, required=True)


class RegistrationArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(_values(AttendanceStatus)))


TEXT = {"allow_none": True}


class RegistrationOut(Schema):
    """A registration as the door's page shows it: personal fields masked for viewers who see the
    organising stations' contacts masked (``masked`` lists them)."""

    id = fields.Integer(required=True)
    event_id = fields.Integer(required=True)
    contact_id = fields.Integer(allow_none=True, metadata={
        "description": "Null until a volunteer matched or confirmed the person as a contact."})
    status = fields.String(required=True)
    source = fields.String(required=True)
    name = fields.String(required=True)
    name_original = fields.String(**TEXT)
    email = fields.String(**TEXT)
    phone = fields.String(**TEXT)
    organisation = fields.String(**TEXT)
    field = fields.String(**TEXT)
    country = fields.String(**TEXT)
    masked = fields.List(fields.String(), required=True)
    registered_at = UtcDateTime(allow_none=True)
    checked_in_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime(required=True)


class RegistrationPage(Schema):
    items = fields.List(fields.Nested(RegistrationOut), required=True)
    page = fields.Nested(PageMeta, required=True)


class CheckInOut(Schema):
    checked_in = fields.Boolean(required=True, metadata={
        "description": "True if this call checked the person in; false if they already were."})
    registration = fields.Nested(RegistrationOut, required=True)


# Helpers -------------------------------------------------------------------------------------

EVENT_FIELDS = ("id", "slug", "kind", "organiser", "region_id", "title", "title_zh", "description", "starts_at",
                "ends_at", "timezone", "venue", "online_link", "city", "country", "capacity", "seats_taken",
                "registration_opens_at", "registration_closes_at", "status", "participants", "created_at",
                "updated_at", "version")
PERSONAL = ("name", "name_original", "email", "phone", "organisation", "field", "country")
LIST_OPTIONS = (selectinload(Event.organising).selectinload(EventStation.station),)


def event_out(event: Event) -> dict:
    out = {name: getattr(event, name) for name in EVENT_FIELDS}
    out["station_ids"] = event.station_ids
    out["may_manage"] = services.may_manage(current_user, event)
    out["moves"] = [move.name for move in services.available_moves(event, current_user)]
    return out


def registration_out(event: Event, registration: EventRegistration) -> dict:
    from ..events.services import registration_shown  # the door's masking rule: one place

    out = {name: getattr(registration, name) for name in (
        "id", "event_id", "contact_id", "status", "source", "registered_at", "checked_in_at", "created_at")}
    masked = []
    for name in PERSONAL:
        value = getattr(registration, name)
        shown = registration_shown(event, registration, name)
        out[name] = shown or None
        if value and shown != value:
            masked.append(name)
    out["masked"] = masked
    return out


def _restricted(stmt):
    """Only the events of the token's station (if the token is restricted)."""
    station_id = auth.restriction()
    if station_id is None:
        return stmt
    return stmt.where(exists(select(EventStation.event_id).where(EventStation.event_id == Event.id,
                                                                 EventStation.station_id == station_id)))


def _event(event_id, *, manage: bool = False) -> Event:
    event = services.get_event_or_404(event_id, current_user)
    restricted = auth.restriction()
    if restricted is not None and restricted not in event.station_ids:
        raise ApiError(404)
    if manage:
        services.require_manage(current_user, event)
    return event


# Routes --------------------------------------------------------------------------------------

@events_bp.route("/")
@events_bp.arguments(EventListArgs, location="query")
@events_bp.response(200, EventItemPage)
@problem_responses(*READ_PROBLEMS)
def list_events(args):
    """Events in your scope (those your stations organise; all for HQ), newest first."""
    stmt = _restricted(services.visible_events(current_user))
    if args.get("status"):
        stmt = stmt.where(Event.status == args["status"])
    if args.get("kind"):
        stmt = stmt.where(Event.kind == args["kind"])
    if args.get("station_id"):
        stmt = stmt.where(exists(select(EventStation.event_id).where(
            EventStation.event_id == Event.id, EventStation.station_id == args["station_id"])))
    stmt = stmt.options(*LIST_OPTIONS).order_by(Event.starts_at.desc(), Event.id.desc())
    items, page = page_of(stmt, args)
    return {"items": [event_out(event) for event in items], "page": page}


@events_bp.route("/<int:event_id>")
@events_bp.response(200, EventItemOut, headers={"ETag": {"schema": {"type": "string"}}})
@problem_responses(*READ_PROBLEMS)
def get_event(event_id):
    """One event; its ``ETag`` is its version."""
    event = _event(event_id)
    return event_out(event), 200, {"ETag": etag_of(event.version)}


@events_bp.route("/<int:event_id>/registrations")
@events_bp.arguments(RegistrationArgs, location="query")
@events_bp.response(200, RegistrationPage)
@problem_responses(*READ_PROBLEMS, 403)
def event_registrations(args, event_id):
    """The event's registrations, by name — for those who run the event (403 otherwise), the
    personal fields masked as on the door's page."""
    event = _event(event_id, manage=True)
    stmt = select(EventRegistration).where(EventRegistration.event_id == event.id)
    if args.get("status"):
        stmt = stmt.where(EventRegistration.status == args["status"])
    stmt = stmt.order_by(EventRegistration.sort_name, EventRegistration.id)
    items, page = page_of(stmt, args)
    return {"items": [registration_out(event, r) for r in items], "page": page}


@events_bp.route("/<int:event_id>/registrations/<int:registration_id>/check-in", methods=["POST"])
@events_bp.response(200, CheckInOut)
@problem_responses(*WRITE_PROBLEMS)
def check_in(event_id, registration_id):
    """Check a person in (as the door's page does): idempotent — a repeat changes nothing and
    answers ``checked_in: false``. 409 before registration opens or for a cancelled event."""
    event = _event(event_id, manage=True)
    registration = services.get_registration_or_404(event, registration_id)
    if not services.check_in_open(event):
        raise ApiError(409, _l("Check-in opens when registration opens."))
    done = services.check_in(registration, current_user)
    event = _event(event_id)  # the service committed: read both again
    registration = services.get_registration_or_404(event, registration_id)
    return {"checked_in": done, "registration": registration_out(event, registration)}


# Registering someone, and the event's status moves ----------------------------------------

class RegistrationIn(Schema):
    """A person registering, as on the public form (``liaison.events.forms.RegistrationForm``)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_original = fields.String(allow_none=True, validate=validate.Length(max=200))
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    organisation = fields.String(allow_none=True, validate=validate.Length(max=200))
    field = fields.String(allow_none=True, validate=validate.Length(max=200))
    country = fields.String(allow_none=True, validate=validate.Length(max=2), metadata={
        "description": "ISO 3166-1 alpha-2."})
    consent = fields.Boolean(required=True, metadata={
        "description": "The person read the privacy notice and agreed that the organisers keep their details "
                       "to handle the registration and invite them to events: required (true), as on the form."})


class RegisteredOut(Schema):
    created = fields.Boolean(required=True, metadata={
        "description": "False: the person (same e-mail or phone) had registered or been invited already."})
    registration = fields.Nested(RegistrationOut, required=True)


class EventMoveIn(Schema):
    move = fields.String(required=True, validate=validate.Length(max=40), metadata={
        "description": "open_registration, close_registration, mark_held, cancel (the event's `moves` lists yours)."})
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000), metadata={
        "description": "The reason: needed to cancel."})


REGISTRATION_FIELDS = ("name", "name_original", "email", "phone", "organisation", "field", "country")
STATUS_MOVES = ("open_registration", "close_registration", "mark_held", "cancel")  # figures: on the page


@events_bp.route("/<int:event_id>/registrations", methods=["POST"])
@json_body
@events_bp.arguments(RegistrationIn)
@events_bp.response(201, RegisteredOut)
@events_bp.alt_response(200, schema=RegisteredOut, success=True,
                        description="Already registered (the same e-mail or phone): that registration.")
@problem_responses(*BODY_PROBLEMS)
@idempotent
def register(data, event_id):
    """Register a person for the event — for those who run it (403 otherwise), e.g. from another
    registration platform — through the public form's service (``services.register_public``) and
    rules: registration open (409), a free seat (409 when full), the person's consent (422
    without it), an e-mail or a phone; the same e-mail or phone is the same registration (200,
    ``created: false``). ``Idempotency-Key`` honoured."""
    from ..events.forms import RegistrationForm

    with Idempotent() as once:
        if once.replay:
            return once.replayed()
        event = _event(event_id, manage=True)
        form = RegistrationForm(formdata=formdata(data), meta={"csrf": False})
        validate_form(form, tuple(RegistrationIn._declared_fields))
        try:
            result = services.register_public(event, {name: form[name].data for name in REGISTRATION_FIELDS})
        except (services.Closed, services.Full) as exc:
            raise ApiError(409, exc.message) from None
        event = _event(event_id)  # the service committed: read both again
        registration = services.get_registration_or_404(event, result.registration.id)
        body = RegisteredOut().dump({"created": result.created, "registration": registration_out(event, registration)})
        return once.respond(body, 201 if result.created else 200)


@events_bp.route("/<int:event_id>/moves", methods=["POST"])
@json_body
@events_bp.arguments(EventMoveIn)
@events_bp.response(200, EventItemOut, headers={"ETag": {"schema": {"type": "string"}}})
@problem_responses(*BODY_PROBLEMS, 412, 428)
@if_match_required
def move_event(data, event_id):
    """Move the event's status through its workflow (``liaison.events.services.move``, as the
    event's page): ``If-Match`` required (412 if it changed). A move not possible now is 409, one
    that is not yours 403, cancelling without a reason 422."""
    from sqlalchemy.orm.exc import StaleDataError

    from ..workflow import IllegalMove

    event = _event(event_id)
    move = services.WORKFLOW.moves.get(data["move"]) if data["move"] in STATUS_MOVES else None
    if move is None:
        raise ApiError(422, errors=[{"field": "move", "message": str(_l("Not a status move of an event."))}])
    if_match(event.version)
    if not services.WORKFLOW.may(current_user, event, move):
        raise ApiError(403, _l("You are not allowed to do “%(action)s” on this event.", action=move.label))
    try:
        services.move(event, move.name, current_user, comment=data.get("comment"))
    except IllegalMove as exc:
        db.session.rollback()
        if event.status not in move.sources:
            raise ApiError(409, exc.message) from None
        raise ApiError(422, errors=[{"field": getattr(exc, "field", None), "message": str(exc.message)}]) from None
    except StaleDataError:  # changed by someone else between the check and the commit
        db.session.rollback()
        raise ApiError(412) from None
    event = _event(event_id)
    return event_out(event), 200, {"ETag": etag_of(event.version)}


__all__ = ["events_bp"]
