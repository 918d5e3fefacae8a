"""The API's events (``liaison.events``): the list, one event, its registrations and check-in.

Thin like ``views``: scope from ``liaison.scope.visible_events_condition`` (through
``liaison.events.services``: ``visible_events``, ``get_event_or_404``), the attendee list's right
(``services.require_manage``, as the door's page), check-in through ``services.check_in``, and a
registration's personal fields masked exactly as the pages mask them (``liaison.events.views``).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from ..events import services
from ..events.models import AttendanceStatus, Event, EventRegistration, EventStation, EventStatus, Organiser
from . import auth
from .common import PageArgs, PageMeta, UtcDateTime, etag_of, page_of
from .problems import ApiError
from .views import READ_PROBLEMS, WRITE_PROBLEMS, problem_responses, rate_limited

events_bp = rate_limited(Blueprint("api_events", __name__, url_prefix="/api/v1/events",
                                   description="Events, their registrations and check-in."))


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
    if event.status in (EventStatus.CANCELLED, EventStatus.PLANNED):
        raise ApiError(409, _l("Check-in opens when registration opens."))
    done = services.check_in(registration, current_user)
    event = _event(event_id)  # the service committed: read both again
    registration = services.get_registration_or_404(event, registration_id)
    return {"checked_in": done, "registration": registration_out(event, registration)}


__all__ = ["events_bp"]
