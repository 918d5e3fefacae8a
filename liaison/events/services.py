"""The rules of events: who sees and runs which, the status machine, invitations (consent first),
public registration (capacity that holds under concurrent last-seat registrations), check-in,
walk-ins, confirming registrations as contacts, figures and leads from attendees.

Views are thin: they call these functions, which commit (or raise and change nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..forms import normalise_phone
from ..models import (
    AuditEntry,
    Channel,
    Contact,
    LeadStatus,
    Purpose,
    Role,
    Station,
    TalentLead,
    User,
    db,
    region_admin,
    station_membership,
    utcnow,
)
from ..notifications.kinds import CORE_KINDS, NotificationKind
from ..params import parse_id
from ..permissions import acts_for_station
from ..scope import admin_region_ids, visible_events_condition
from ..workflow import EITHER, IllegalMove, Messages, Move, Side, Workflow
from .models import (
    SEAT_STATUSES,
    AttendanceStatus,
    Event,
    EventPartner,
    EventPhotoLink,
    EventRegistration,
    EventStation,
    EventStatus,
    EventTargetField,
    Organiser,
    RegistrationSource,
)

A = AttendanceStatus
CONSENT_TEXT_VERSION = "events-2026-11"

# No personal data in the notification (it is stored and e-mailed, and an erasure does not
# reach it): the event's title only; the link leads to the registrations, in scope.
if not any(kind.name == "event_registration" for kind in CORE_KINDS):
    CORE_KINDS.append(NotificationKind(
        "event_registration", _l("Someone registered for an event"),
        _l("A new registration for “%(title)s”."), Channel.APP,
        _l("Those who run the event: the volunteers of its organising stations, the admins of its "
           "region or HQ, and its creator.")))


# Who sees and who runs an event ------------------------------------------------------------

def visible_events(user: User):
    return select(Event).where(visible_events_condition(user))


def get_event_or_404(event_id: Any, user: User, *options) -> Event:
    ident = parse_id(event_id)
    if ident is None:
        abort(404)
    # The organising stations come in the same statement (a few rows per event).
    event = db.session.execute(visible_events(user).where(Event.id == ident).options(
        joinedload(Event.organising).joinedload(EventStation.station), *options)).unique().scalar_one_or_none()
    if event is None:
        abort(404)
    return event


def may_manage(user: User, event: Event) -> bool:
    """Runs the event (edits it, invites, checks people in, records figures): HQ any event it
    sees; a regional admin their region's events; the station side (``acts_for_station``) of any
    organising station. ``event.organising`` (with stations) must be loaded."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_hq:
        return True
    if event.organiser == Organiser.REGION and user.is_regional_admin and event.region_id in admin_region_ids(user):
        return True
    return any(acts_for_station(user, row.station) for row in event.organising)


def require_manage(user: User, event: Event) -> None:
    if not may_manage(user, event):
        abort(403)


def may_create(user: User) -> bool:
    return user.is_hq or user.is_regional_admin or user.role == Role.VOLUNTEER


def may_organise(user: User, organiser: str, region_id: int | None) -> tuple[bool, str | None]:
    """May ``user`` create an event in the name of ``organiser``? Only HQ organises in HQ's
    name; a region's event is created by HQ or an admin of that region. Stations' events are
    checked against the stations the user records for (``recordable_stations``) by the caller.
    Returns (allowed, the form field to blame)."""
    if organiser == Organiser.HQ:
        return user.is_hq, "organiser"
    if organiser == Organiser.REGION:
        if not region_id:
            return False, "region_id"
        return user.is_hq or (user.is_regional_admin and region_id in admin_region_ids(user)), "region_id"
    return organiser == Organiser.STATIONS, "organiser"


# The status machine -----------------------------------------------------------------------

S = EventStatus


class _EventWorkflow(Workflow):
    """An event's sides are not one station's: the station side is whoever runs the event."""

    def sides_of(self, user: User, event: Event) -> frozenset[Side]:
        sides = set()
        if may_manage(user, event):
            sides.add(Side.STATION)
        if user.is_hq:
            sides.add(Side.HQ)
        return frozenset(sides)


def _needs_participants(event, actor, data) -> None:
    value = data.get("participants")
    if value is None or value < 0:
        raise IllegalMove(_l("Give the number of participants (registered or not)."), "participants")


WORKFLOW = _EventWorkflow(
    (
        Move("open_registration", _l("Open registration"), frozenset({S.PLANNED, S.REGISTRATION_CLOSED}),
             S.REGISTRATION_OPEN, EITHER, style="success"),
        Move("close_registration", _l("Close registration"), frozenset({S.REGISTRATION_OPEN}),
             S.REGISTRATION_CLOSED, EITHER, style="secondary"),
        Move("mark_held", _l("Mark as held"), frozenset({S.PLANNED, S.REGISTRATION_OPEN, S.REGISTRATION_CLOSED}),
             S.HELD, EITHER),
        Move("record_figures", _l("Record figures"), frozenset({S.HELD, S.FIGURES_RECORDED}), S.FIGURES_RECORDED,
             EITHER, guards=(_needs_participants,), needs=("participants",), style="success"),
        Move("cancel", _l("Cancel the event"),
             frozenset({S.PLANNED, S.REGISTRATION_OPEN, S.REGISTRATION_CLOSED}), S.CANCELLED, EITHER,
             needs_comment=True, style="outline-danger"),
    ),
    state_of=lambda event: event.status,
    state_label=EventStatus.label_of,
    station_of=lambda event: None,
    messages=Messages(
        wrong_state=_l("An event that is “%(status)s” cannot be changed with “%(action)s”."),
        not_allowed=_l("You are not allowed to do “%(action)s” on this event."),
        comment_needed=_l("Please give the reason."),
    ),
)


def available_moves(event: Event, user: User) -> list[Move]:
    return [m for m in WORKFLOW.available(event, user) if m.name != "record_figures"]


def _audit(action: str, event: Event, actor: User | None, **details) -> None:
    station_id = db.session.scalar(select(EventStation.station_id).where(EventStation.event_id == event.id)
                                   .order_by(EventStation.station_id).limit(1))
    db.session.add(AuditEntry(actor_id=actor.id if actor else None, action=action, object_type="event",
                              object_id=event.id, station_id=station_id, region_id=event.region_id,
                              details=details or None))


def move(event: Event, name: str, actor: User, *, comment: str | None = None,
         participants: int | None = None) -> None:
    """Make one move (``IllegalMove``: nothing changed) and commit it."""
    chosen, comment = WORKFLOW.check(event, name, actor, comment=comment, data={"participants": participants})
    previous = event.status
    event.status = chosen.target
    if chosen.name == "cancel":
        event.cancel_reason = comment
    if chosen.name == "record_figures":
        event.participants = participants
    _audit("event.status", event, actor, from_status=previous, to_status=str(chosen.target))
    db.session.commit()


# Creating and editing ---------------------------------------------------------------------

EVENT_FIELDS = ("kind", "title", "title_zh", "description", "starts_at", "ends_at", "timezone", "venue",
                "online_link", "city", "country", "capacity", "registration_opens_at", "registration_closes_at")


def split_lines(text: str | None, limit: int = 200) -> list[str]:
    seen: dict[str, None] = {}
    for part in (text or "").replace(",", "\n").replace("，", "\n").splitlines():
        part = part.strip()[:limit]
        if part:
            seen[part] = None
    return list(seen)


def _apply(event: Event, data: dict) -> None:
    for name in EVENT_FIELDS:
        if name in data:
            value = data[name]
            setattr(event, name, value if value != "" else None)
    event.country = (event.country or "").upper() or None
    if "target_fields" in data:
        event.target_fields = [EventTargetField(position=n, field=f)
                               for n, f in enumerate(split_lines(data["target_fields"]))]
    if "partners" in data:
        event.partners = [EventPartner(position=n, name=p) for n, p in enumerate(split_lines(data["partners"]))]


def create_event(actor: User, data: dict, *, organiser: str, region_id: int | None,
                 stations: Iterable[Station]) -> Event:
    stations = list(stations)
    allowed, field = may_organise(actor, organiser, region_id)
    if not allowed:
        if field == "organiser":
            raise IllegalMove(_l("Only HQ organises events in its own name."), "organiser")
        raise IllegalMove(_l("Choose a region you administer."), "region_id")
    if organiser == Organiser.STATIONS and not stations:
        raise IllegalMove(_l("Choose at least one organising station."), "station_ids")
    if organiser == Organiser.STATIONS:
        region_id = stations[0].region_id
    event = Event(organiser=organiser, region_id=region_id if organiser != Organiser.HQ else None,
                  created_by_id=actor.id, status=EventStatus.PLANNED, seats_taken=0)
    _apply(event, data)
    event.organising = [EventStation(station_id=s.id) for s in stations]
    db.session.add(event)
    db.session.flush()
    _audit("event.create", event, actor)
    db.session.commit()
    return event


def update_event(event: Event, actor: User, data: dict) -> None:
    if event.status in (S.CANCELLED, S.FIGURES_RECORDED):
        raise IllegalMove(_l("This event can no longer be edited."))
    capacity = data.get("capacity")
    if capacity is not None and capacity < event.seats_taken:
        raise IllegalMove(_l("%(n)s people hold a seat already: the capacity cannot be lower.",
                             n=event.seats_taken), "capacity")
    _apply(event, data)
    _audit("event.edit", event, actor)
    db.session.commit()


def record_outcome(event: Event, actor: User, *, participants: int | None, notes: str | None,
                   photo_links: list[str]) -> None:
    """After the event: participants (registered or not), notes and photos' links."""
    if event.status not in (S.HELD, S.FIGURES_RECORDED):
        raise IllegalMove(_l("Mark the event as held before recording its figures."))
    previous = event.status
    WORKFLOW.check(event, "record_figures", actor, data={"participants": participants})
    event.participants = participants
    event.outcome_notes = (notes or "").strip() or None
    event.photo_links = [EventPhotoLink(position=n, url=url) for n, url in enumerate(photo_links)]
    event.status = S.FIGURES_RECORDED
    _audit("event.figures", event, actor, from_status=previous, participants=participants)
    db.session.commit()


# Seats -------------------------------------------------------------------------------------

def _take_seat(event_id: int, *, public: bool) -> bool:
    """One conditional UPDATE: a seat if one is free (and, for the public, registration is open).
    Concurrent last-seat registrations: PostgreSQL re-checks the condition on the row the other
    transaction committed, SQLite's writers queue — either way exactly one gets the seat."""
    conditions = [Event.id == event_id, or_(Event.capacity.is_(None), Event.seats_taken < Event.capacity)]
    if public:
        conditions.append(Event.status == S.REGISTRATION_OPEN)
    result = db.session.execute(update(Event).where(*conditions).values(seats_taken=Event.seats_taken + 1)
                                .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _free_seat(event_id: int) -> None:
    db.session.execute(update(Event).where(Event.id == event_id, Event.seats_taken > 0)
                       .values(seats_taken=Event.seats_taken - 1).execution_options(synchronize_session=False))


class Full(Exception):
    message = _l("Sorry, the event is full: every seat has been taken.")


class Closed(Exception):
    message = _l("Registration for this event is not open.")


CHECK_IN_CLOSED = _l("Check-in opens when registration opens.")


def check_in_open(event: Event) -> bool:
    """The door opens with registration: no check-in (nor its button) while the event is only
    planned, or once it is cancelled. The organisers' page and the API both ask here."""
    return event.status not in (S.CANCELLED, S.PLANNED)


def registration_open(event: Event, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if event.status != S.REGISTRATION_OPEN:
        return False
    if event.registration_opens_at and now < event.registration_opens_at:
        return False
    if event.registration_closes_at and now >= event.registration_closes_at:
        return False
    return True


def _normalised(email: str | None, phone: str | None, country: str | None) -> tuple[str | None, str | None]:
    email_n = email.strip().lower() if email and email.strip() else None
    phone_n = normalise_phone(phone, country) if phone and phone.strip() else None
    return email_n, phone_n


def find_registration(event_id: int, email_n: str | None, phone_n: str | None) -> EventRegistration | None:
    conditions = []
    if email_n:
        conditions.append(EventRegistration.email_normalized == email_n)
    if phone_n:
        conditions.append(EventRegistration.phone_e164 == phone_n)
    if not conditions:
        return None
    return db.session.scalar(select(EventRegistration).where(EventRegistration.event_id == event_id, or_(*conditions))
                             .order_by(EventRegistration.id).limit(1))


@dataclass
class Registered:
    registration: EventRegistration
    created: bool  # False: the person had registered (or been invited) already


def register_public(event: Event, data: dict) -> Registered:
    """A registration from the public form: the same e-mail or phone gives the same registration;
    an invited person's invitation becomes their registration. Raises ``Closed`` or ``Full``
    (nothing written). Commits."""
    if not registration_open(event):
        raise Closed()
    email_n, phone_n = _normalised(data.get("email"), data.get("phone"), data.get("country"))
    existing = find_registration(event.id, email_n, phone_n)
    if existing is not None and existing.status in SEAT_STATUSES:
        return Registered(existing, False)
    if not _take_seat(event.id, public=True):
        db.session.rollback()
        raise Full()
    now = utcnow()
    created = existing is None
    registration = existing or EventRegistration(event_id=event.id, source=RegistrationSource.PUBLIC)
    registration.status = A.REGISTERED
    registration.registered_at = now
    if created:
        registration.name = data["name"]
        registration.name_original = data.get("name_original") or None
        registration.email, registration.email_normalized = data.get("email") or None, email_n
        registration.phone = phone_n or (data.get("phone") or None)
        registration.phone_e164 = phone_n
        registration.organisation = data.get("organisation") or None
        registration.field = data.get("field") or None
        registration.country = (data.get("country") or "").upper() or None
    registration.consent_given_at = now
    registration.consent_text_version = CONSENT_TEXT_VERSION
    db.session.add(registration)
    try:
        db.session.flush()
    except IntegrityError:  # the same person, at the same moment, from another request
        db.session.rollback()
        again = find_registration(event.id, email_n, phone_n)
        if again is None:
            raise
        return Registered(again, False)
    _notify_organisers(event, registration)
    db.session.commit()
    return Registered(registration, created)


def _notify_organisers(event: Event, registration: EventRegistration) -> None:
    """Tell those who run the event, once each: the volunteers of every organising station (one
    call per station: the scope check is per station), the admins of the organising region, HQ
    for an HQ event, and the creator. The message names the event, never the person."""
    from ..notifications import notify
    from ..scope import member_station_ids

    params = {"title": bilingual_title(event)}
    path = f"/events/{event.id}/check-in"
    told: set[int] = set()

    def tell(user_ids: set[int], station_id: int | None, suffix: str) -> None:
        user_ids = user_ids - told
        if user_ids:
            told.update(user_ids)
            notify("event_registration", user_ids, station_id=station_id, params=params, path=path,
                   key=f"event_registration:{registration.id}:{suffix}")

    station_ids = list(db.session.scalars(select(EventStation.station_id).where(EventStation.event_id == event.id)
                                          .order_by(EventStation.station_id)))
    by_station: dict[int, set[int]] = {}
    if station_ids:
        for station_id, user_id in db.session.execute(
                select(station_membership.c.station_id, station_membership.c.user_id)
                .join(User, User.id == station_membership.c.user_id)
                .where(station_membership.c.station_id.in_(station_ids), User.role == Role.VOLUNTEER,
                       User.active.is_(True))
                .order_by(station_membership.c.station_id, station_membership.c.user_id)):
            by_station.setdefault(station_id, set()).add(user_id)
    for station_id in station_ids:
        tell(by_station.get(station_id, set()), station_id, f"s{station_id}")
    creator = db.session.get(User, event.created_by_id) if event.created_by_id else None
    if event.organiser == Organiser.REGION and event.region_id:
        # A region's admins see its stations: the notification is filed under one of them.
        region_station = db.session.scalar(select(Station.id).where(Station.region_id == event.region_id)
                                           .order_by(Station.id).limit(1))
        admins = set(db.session.scalars(
            select(User.id).join(region_admin, region_admin.c.user_id == User.id)
            .where(region_admin.c.region_id == event.region_id, User.role == Role.REGIONAL_ADMIN,
                   User.active.is_(True))))
        if region_station is not None:
            if creator is not None and not creator.is_hq:
                admins.add(creator.id)
            tell(admins, region_station, "region")
    if event.organiser == Organiser.HQ:
        hq = set(db.session.scalars(select(User.id).where(User.role.in_([Role.HQ_REVIEWER, Role.ADMIN]),
                                                          User.active.is_(True))))
        tell(hq, None, "hq")
    if creator is not None and creator.id not in told:
        if creator.is_hq:
            tell({creator.id}, None, "creator")
        else:  # a volunteer or regional admin: under an organising station they still see
            mine = [sid for sid in station_ids if creator.is_regional_admin or sid in member_station_ids(creator)]
            if mine:
                tell({creator.id}, mine[0], "creator")


def bilingual_title(event: Event) -> str:
    return event.title if event.title_zh == event.title else f"{event.title_zh} / {event.title}"


# Invitations --------------------------------------------------------------------------------

@dataclass
class InvitationResult:
    invited: int = 0
    already: int = 0
    no_consent: list[str] | None = None


def invite(event: Event, contact_ids: Iterable[int], actor: User) -> InvitationResult:
    """Invite contacts in the actor's scope; a contact without a valid basis for event
    invitations (``liaison.privacy.consent``) is refused and named. Commits."""
    from ..privacy import consent
    from ..scope import scoped

    if event.status in (S.CANCELLED, S.HELD, S.FIGURES_RECORDED):
        raise IllegalMove(_l("Invitations are closed for this event."))
    ids = {int(i) for i in contact_ids}
    contacts = db.session.scalars(scoped(select(Contact), Contact, actor).where(
        Contact.id.in_(ids), Contact.erased_at.is_(None)).order_by(Contact.id)).all() if ids else []
    allowed = consent.valid_purposes([c.id for c in contacts], Purpose.EVENT_INVITATIONS)
    already = set(db.session.scalars(select(EventRegistration.contact_id).where(
        EventRegistration.event_id == event.id, EventRegistration.contact_id.in_([c.id for c in contacts]))))
    result = InvitationResult(no_consent=[])
    now = utcnow()
    for contact in contacts:
        if contact.id in already:
            result.already += 1
            continue
        if contact.id not in allowed:
            result.no_consent.append(contact.name)
            continue
        email_n = contact.email_normalized
        phone_n = contact.phone_e164
        if find_registration(event.id, email_n, phone_n) is not None:
            result.already += 1
            continue
        db.session.add(EventRegistration(
            event_id=event.id, contact_id=contact.id, status=A.INVITED, source=RegistrationSource.INVITATION,
            name=contact.name, name_original=contact.name_zh or contact.name_original, email=contact.email,
            email_normalized=email_n, phone=contact.phone, phone_e164=phone_n, organisation=contact.organisation,
            field=contact.field, country=contact.country, invited_at=now, invited_by_id=actor.id))
        db.session.flush()
        result.invited += 1
    if result.invited:
        _audit("event.invite", event, actor, invited=result.invited)
    db.session.commit()
    return result


def invitable_contacts(event: Event, user: User, *, q: str | None = None, field: str | None = None,
                       kind: str | None = None, tag: str | None = None, limit: int = 200) -> list[Contact]:
    """Contacts in the user's scope (of the organising stations, for a station event) not yet on
    the event's list, filtered by name, field, kind or tag."""
    from ..contacts.services import has_tag
    from ..i18n import name_order
    from ..scope import scoped
    from ..search import contact_condition

    stmt = scoped(select(Contact), Contact, user).where(Contact.erased_at.is_(None))
    if event.organiser == Organiser.STATIONS and event.organising:
        stmt = stmt.where(Contact.station_id.in_(event.station_ids))
    if q:
        stmt = stmt.where(contact_condition(q))
    if field:
        from ..search import contains

        stmt = stmt.where(contains(field, Contact.field))
    if kind:
        stmt = stmt.where(Contact.kind == kind)
    if tag:
        stmt = stmt.where(has_tag(tag))
    listed = select(EventRegistration.contact_id).where(EventRegistration.event_id == event.id,
                                                        EventRegistration.contact_id.is_not(None))
    stmt = stmt.where(Contact.id.not_in(listed)).options(selectinload(Contact.station))
    return list(db.session.scalars(stmt.order_by(*name_order(Contact)).limit(limit)))


# Registrations: status, check-in, walk-ins -----------------------------------------------------

def get_registration_or_404(event: Event, registration_id: Any) -> EventRegistration:
    ident = parse_id(registration_id)
    registration = db.session.scalar(select(EventRegistration).where(
        EventRegistration.id == ident, EventRegistration.event_id == event.id)) if ident else None
    if registration is None:
        abort(404)
    return registration


STATUS_CHANGES = {
    A.INVITED: {A.REGISTERED, A.DECLINED},
    A.REGISTERED: {A.DECLINED, A.NO_SHOW},
    A.DECLINED: {A.REGISTERED},
    A.NO_SHOW: {A.REGISTERED},
    A.ATTENDED: set(),
}


def set_status(registration: EventRegistration, status: str, actor: User) -> None:
    """An organiser records an answer (registered, declined) or a no-show. Commits."""
    try:
        status = A(status)
    except ValueError:
        raise IllegalMove(_l("Choose a status from the list.")) from None
    current = A(registration.status)
    if status == current:
        return
    if status not in STATUS_CHANGES[current]:
        raise IllegalMove(_l("A person who is “%(status)s” cannot be marked “%(new)s”.",
                             status=current.label, new=status.label))
    had_seat, gets_seat = current in SEAT_STATUSES, status in SEAT_STATUSES
    if gets_seat and not had_seat and not _take_seat(registration.event_id, public=False):
        db.session.rollback()
        raise IllegalMove(Full.message)
    if had_seat and not gets_seat:
        _free_seat(registration.event_id)
    registration.status = status
    if status == A.REGISTERED and registration.registered_at is None:
        registration.registered_at = utcnow()
    db.session.commit()


def check_in(registration: EventRegistration, actor: User) -> bool:
    """Mark the person present; a second tap changes nothing (``False``). Commits."""
    if registration.status == A.ATTENDED:
        return False
    had_seat = registration.status in SEAT_STATUSES
    now = utcnow()
    result = db.session.execute(
        update(EventRegistration).where(EventRegistration.id == registration.id,
                                        EventRegistration.status != A.ATTENDED)
        .values(status=A.ATTENDED, checked_in_at=now, checked_in_by_id=actor.id)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # another phone checked the person in a moment ago
        db.session.rollback()
        db.session.refresh(registration)
        return False
    if not had_seat:  # an invited person who came without answering takes a seat (if any)
        db.session.execute(update(Event).where(Event.id == registration.event_id)
                           .values(seats_taken=Event.seats_taken + 1).execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(registration)
    return True


def walk_in(event: Event, data: dict, actor: User) -> Registered:
    """Someone who came without registering: recorded as attended (the same e-mail or phone as
    a registration checks that one in instead). Commits."""
    if event.status in (S.CANCELLED, S.FIGURES_RECORDED, S.PLANNED):
        raise IllegalMove(_l("Walk-ins are recorded while the event runs."))
    email_n, phone_n = _normalised(data.get("email"), data.get("phone"), data.get("country"))
    existing = find_registration(event.id, email_n, phone_n)
    if existing is not None:
        check_in(existing, actor)
        return Registered(existing, False)
    now = utcnow()
    registration = EventRegistration(
        event_id=event.id, source=RegistrationSource.WALK_IN, status=A.ATTENDED, name=data["name"],
        name_original=data.get("name_original") or None, email=data.get("email") or None,
        email_normalized=email_n, phone=phone_n or (data.get("phone") or None), phone_e164=phone_n,
        organisation=data.get("organisation") or None, field=data.get("field") or None,
        country=(data.get("country") or "").upper() or None, checked_in_at=now, checked_in_by_id=actor.id)
    db.session.add(registration)
    db.session.commit()
    return Registered(registration, True)


def counts(event: Event) -> dict[str, int]:
    """Invited, registered, declined, attended, no-shows, walk-ins, pending — one GROUP BY."""
    rows = db.session.execute(
        select(EventRegistration.status, EventRegistration.source,
               (EventRegistration.contact_id.is_(None)).label("pending"), func.count())
        .where(EventRegistration.event_id == event.id)
        .group_by(EventRegistration.status, EventRegistration.source, EventRegistration.contact_id.is_(None))).all()
    result = {"invited": 0, "registered": 0, "declined": 0, "attended": 0, "no_show": 0, "walk_ins": 0,
              "pending": 0, "total": 0, "awaiting": 0}
    for status, source, pending, n in rows:
        result["total"] += n
        if source == RegistrationSource.INVITATION:
            result["invited"] += n
        if source == RegistrationSource.WALK_IN:
            result["walk_ins"] += n
        if status in SEAT_STATUSES and source != RegistrationSource.WALK_IN:
            result["registered"] += n
        if status == A.ATTENDED:
            result["attended"] += n
        if status == A.DECLINED:
            result["declined"] += n
        if status == A.NO_SHOW:
            result["no_show"] += n
        if status in (A.INVITED, A.REGISTERED):
            result["awaiting"] += n
        if pending:
            result["pending"] += n
    return result


def registrations(event: Event, *, q: str | None = None, status: str | None = None) -> Select:
    """The event's registrations (searched by name in any script, by status), in the door's order
    (sort name, then id: a keyset order — liaison.pagination)."""
    from ..search import fold

    stmt = select(EventRegistration).where(EventRegistration.event_id == event.id)
    if q:
        from ..search import escape_like

        folded = fold(q)
        stmt = stmt.where(EventRegistration.search_text.like(f"%{escape_like(folded)}%", escape="\\"))
    if status in {s.value for s in A}:
        stmt = stmt.where(EventRegistration.status == status)
    return stmt.order_by(EventRegistration.sort_name, EventRegistration.id)


# Confirming public registrations and walk-ins as contacts ------------------------------------

def filing_stations(event: Event, user: User) -> list[Station]:
    """The stations under which ``user`` may file a registration's person as a contact (new or
    matched), and create leads about them: for a stations' event, the organising stations the
    user records for (``acts_for_station``); for an HQ or a region's event, its organisers (those
    who ``may_manage`` it) choose a station in their scope — HQ any active station, for a region's
    event the region's active stations. That station's volunteers then own the contact."""
    from ..i18n import name_order
    from ..models import StationStatus
    from ..scope import recordable_stations

    if not may_manage(user, event):
        return []
    if event.organiser == Organiser.STATIONS:
        organising = set(event.station_ids)
        return [s for s in recordable_stations(user) if s.id in organising]
    stmt = select(Station).where(Station.status == StationStatus.ACTIVE)
    if event.organiser == Organiser.REGION:
        stmt = stmt.where(Station.region_id == event.region_id)
    elif not user.is_hq:
        return []
    return list(db.session.scalars(stmt.order_by(*name_order(Station))))


def may_file_contacts(event: Event, user: User) -> bool:
    return bool(filing_stations(event, user))


def lead_registration_ids(event: Event, user: User, rows: Iterable[EventRegistration],
                          stations: list[Station] | None = None) -> set[int]:
    """Of ``rows``, the registrations (linked to a contact) ``user`` may create a lead about —
    the rule of ``create_lead``, for the door's buttons (one query)."""
    linked = {row.id: row.contact_id for row in rows if row.contact_id is not None}
    if not linked:
        return set()
    filing = {s.id for s in (filing_stations(event, user) if stations is None else stations)}
    found = db.session.execute(select(Contact.id, Station).join(Station, Station.id == Contact.station_id)
                               .where(Contact.id.in_(set(linked.values())))).all()
    allowed = {contact_id for contact_id, station in found
               if station.id in filing or acts_for_station(user, station)}
    return {registration_id for registration_id, contact_id in linked.items() if contact_id in allowed}


def matching_contacts(event: Event, registration: EventRegistration, user: User,
                      stations: list[Station] | None = None) -> list[Contact]:
    """Contacts with the same e-mail or phone, of the stations the user may file the person
    under (``filing_stations``) and in the user's scope."""
    from ..scope import scoped

    filing = [s.id for s in (filing_stations(event, user) if stations is None else stations)]
    if not filing:
        return []
    conditions = []
    if registration.email_normalized:
        conditions.append(Contact.email_normalized == registration.email_normalized)
    if registration.phone_e164:
        conditions.append(Contact.phone_e164 == registration.phone_e164)
    if not conditions:
        return []
    stmt = scoped(select(Contact), Contact, user).where(or_(*conditions), Contact.erased_at.is_(None),
                                                        Contact.station_id.in_(filing))
    return list(db.session.scalars(stmt.options(selectinload(Contact.station)).order_by(Contact.id).limit(10)))


def _record_consent(registration: EventRegistration, contact: Contact, actor: User) -> None:
    """The public form's consent box, now that the person is a contact."""
    if registration.consent_given_at is None:
        return
    from ..privacy import consent

    consent.record(contact, Purpose.EVENT_INVITATIONS, consent.LawfulBasis.CONSENT,
                   consent.ConsentSource.EVENT_REGISTRATION, registration.consent_given_at.date(), actor=actor,
                   text_version=registration.consent_text_version,
                   evidence=f"Event registration #{registration.id}")


def link_contact(event: Event, registration: EventRegistration, contact: Contact, actor: User) -> None:
    """A volunteer matched the registration to an existing contact (of a station the actor may
    file the person under, ``filing_stations``). Commits."""
    if contact.station_id not in {s.id for s in filing_stations(event, actor)}:
        raise IllegalMove(_l("You cannot file this person under that contact's station."))
    if registration.contact_id is not None:
        raise IllegalMove(_l("This registration is already linked to a contact."))
    if db.session.scalar(select(EventRegistration.id).where(EventRegistration.event_id == event.id,
                                                           EventRegistration.contact_id == contact.id)):
        raise IllegalMove(_l("This contact is already on the event's list."))
    registration.contact_id = contact.id
    _record_consent(registration, contact, actor)
    _audit("event.link_contact", event, actor, registration_id=registration.id)
    db.session.commit()


def confirm_new_contact(event: Event, registration: EventRegistration, station: Station, actor: User) -> Contact:
    """A volunteer confirmed the registration as a new contact of ``station`` (one of
    ``filing_stations``: for an HQ or region event, the station its organiser chose). Commits."""
    from ..contacts import services as contacts

    if station.id not in {s.id for s in filing_stations(event, actor)}:
        raise IllegalMove(_l("You cannot file this person under that station."))
    if registration.contact_id is not None:
        raise IllegalMove(_l("This registration is already linked to a contact."))
    contact = contacts.create_contact(station, {
        "kind": "other", "name": registration.name, "name_original": registration.name_original,
        "email": registration.email, "phone": registration.phone, "organisation": registration.organisation,
        "field": registration.field, "country": registration.country,
        "notes": None}, actor)
    registration.contact_id = contact.id
    _record_consent(registration, contact, actor)
    _audit("event.link_contact", event, actor, registration_id=registration.id, new_contact=True)
    db.session.commit()
    return contact


# Leads from attendees ------------------------------------------------------------------------

def create_lead(event: Event, registration: EventRegistration, data: dict, actor: User,
                token: str | None = None) -> TalentLead:
    """A draft lead about an attendee, its source the event — through the leads service. Filed
    under the contact's station; allowed to whoever acts for that station, and to the organisers
    of an HQ or region event for the stations they may file under (``filing_stations``). The
    draft is submitted as any other: the consent rules apply then."""
    from ..leads import services as leads

    if registration.contact_id is None:
        raise IllegalMove(_l("Confirm the person as a contact first."))
    if registration.id not in lead_registration_ids(event, actor, [registration]):
        abort(403)
    contact = db.session.scalar(select(Contact).where(Contact.id == registration.contact_id)
                                .options(selectinload(Contact.station)))
    if contact is None:
        abort(403)
    return leads.create_lead(contact, data, actor, token=token, sources={"source_event_id": event.id})


def leads_of(event: Event, user: User | None = None) -> list[TalentLead]:
    """The event's leads — with ``user``, only those in their scope (an HQ event is seen by
    every station: each sees its own leads from it)."""
    from ..scope import scoped

    stmt = select(TalentLead).where(TalentLead.source_event_id == event.id)
    if user is not None:
        stmt = scoped(stmt, TalentLead, user)
    return list(db.session.scalars(stmt.options(selectinload(TalentLead.contact)).order_by(TalentLead.id)))


def lead_counts(event_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per event: leads created, and of those landed (one GROUP BY)."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(TalentLead.source_event_id, func.count(),
               func.sum(case((TalentLead.status == LeadStatus.LANDED, 1), else_=0)))
        .where(TalentLead.source_event_id.in_(event_ids)).group_by(TalentLead.source_event_id)).all()
    return {event_id: (int(n), int(landed or 0)) for event_id, n, landed in rows}


def match_counts(event_ids: list[int]) -> dict[int, int]:
    """Per event: the demand matches made there (``demand_matches.event_id``; one GROUP BY)."""
    from ..demands.models import DemandMatch

    if not event_ids:
        return {}
    rows = db.session.execute(select(DemandMatch.event_id, func.count()).where(DemandMatch.event_id.in_(event_ids))
                              .group_by(DemandMatch.event_id)).all()
    return {event_id: int(n) for event_id, n in rows}


def figures(event: Event, *, leads: list[TalentLead] | None = None) -> dict[str, int]:
    """The event's figures: invited, registered, attended, walk-ins, leads created, matches made
    there (demands and talent), leads landed later. ``leads``: the event's leads (``leads_of``),
    when the caller has them already — counted here rather than queried again."""
    numbers = counts(event)
    if leads is None:
        created, landed = lead_counts([event.id]).get(event.id, (0, 0))
    else:
        created, landed = len(leads), sum(1 for lead in leads if lead.status == LeadStatus.LANDED)
    return {**numbers, "leads": created, "landed": landed, "matches": match_counts([event.id]).get(event.id, 0),
            "participants": event.participants if event.participants is not None else numbers["attended"]}


def registration_shown(event: Event, registration, field: str, user: User | None = None) -> str:
    """A registration's personal field, masked for viewers who see the organising stations'
    contacts masked (HQ, by default) — the contacts' rule (``liaison.privacy.masking``).
    ``user``: the viewer (default: the signed-in user)."""
    from ..privacy import masking

    if user is None:
        from flask_login import current_user as user
    value = getattr(registration, field) or ""
    if field not in masking.masked_fields() or not value:
        return value
    rule = masking.rule_of(user)
    station_ids = set(event.station_ids)
    if rule == masking.ALL:
        return value
    if rule == masking.OWN_STATIONS and station_ids & masking.member_station_ids(user):
        return value
    if rule == masking.OWN_REGIONS and station_ids & masking.region_station_ids(user):
        return value
    return masking.mask(field, value)


# The attendee list (CSV) ----------------------------------------------------------------------

def may_export_attendees(event: Event, user: User) -> bool:
    """The export right for this event's list: HQ and regional admins (``allowed_station_ids``
    is ``None``: their whole scope, and they run only events they see); a volunteer only if every
    organising station lets its volunteers export — a station event of theirs, never an HQ or a
    region's event (no station of theirs organises it)."""
    from ..exports import services as exports

    allowed = exports.allowed_station_ids(user)
    if allowed is None:
        return True
    organising = set(event.station_ids)
    return bool(organising) and organising <= allowed


ATTENDEE_COLUMNS = ("name", "name_original", "email", "phone", "organisation", "field", "country")
EXPORT_BATCH = 1000


def _attendees_exported():
    """``Exported`` that also counts the rows of no station (people of an HQ or a region's
    event not yet filed as contacts): they are in the file, so in its count."""
    from ..exports.services import Exported

    @dataclass
    class AttendeesExported(Exported):
        unattributed: int = 0

        @property
        def count(self) -> int:
            return sum(self.per_station.values()) + self.unattributed

    return AttendeesExported()


def attendee_header() -> list[str]:
    """The attendee list's header row, in the user's language (made in the request)."""
    from flask_babel import gettext

    return [gettext("Name"), gettext("Name in original script"), gettext("E-mail"), gettext("Phone"),
            gettext("Organisation"), gettext("Field"), gettext("Country"), gettext("Status"), gettext("How"),
            gettext("Checked in")]


def attendee_csv(app, user_id: int, record_id: int, event_id: int, header: list[str],
                 status_labels: dict[str, str]) -> Iterable[bytes]:
    """The attendee list as CSV chunks, streamed (no row limit), masked as on the door's page;
    then the export record finished (a download broken off leaves it unfinished). Each row counts
    for its actual station: the station of the contact the registration is filed under, else the
    event's first organising station (which holds a registration until it is confirmed), else
    none (an HQ or a region's event). Runs after the view returned, in its own application
    context: the view passes plain values (``header`` and ``status_labels`` already translated)."""
    import csv
    import io

    from ..exports import services as exports
    from ..models import AccessAction
    from ..privacy.masking import log_access
    from ..reports.services import neutralise

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    # The first chunk needs no database: a response never read past it holds no context open.
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    with app.app_context():
        user = db.session.get(User, user_id)
        event = db.session.scalar(select(Event).where(Event.id == event_id)
                                  .options(selectinload(Event.organising)))
        default_station = event.station_ids[0] if event.station_ids else None
        exported = _attendees_exported()
        stmt = (select(EventRegistration, Contact.station_id)
                .outerjoin(Contact, Contact.id == EventRegistration.contact_id)
                .where(EventRegistration.event_id == event_id)
                .order_by(EventRegistration.sort_name, EventRegistration.id))
        for batch in db.session.execute(stmt.execution_options(yield_per=EXPORT_BATCH)).partitions():
            buffer.seek(0)
            buffer.truncate()
            for row, contact_station in batch:
                values = [registration_shown(event, row, c, user) for c in ATTENDEE_COLUMNS]
                exported.fields |= {f"event_registrations.{c}" for c, v in zip(ATTENDEE_COLUMNS, values)
                                    if v and v == getattr(row, c)}
                writer.writerow([neutralise(v) for v in values] + [
                    status_labels.get(row.status, row.status), row.source,
                    row.checked_in_at.isoformat(timespec="minutes") if row.checked_in_at else ""])
                station_id = contact_station or default_station
                if station_id:
                    exported.per_station[station_id] += 1
                else:
                    exported.unattributed += 1
            yield buffer.getvalue().encode("utf-8")
        exports.finish(record_id, user, exported)
        if exported.unattributed:
            log_access(user, AccessAction.EXPORT, fields=exported.fields, count=exported.unattributed,
                       note="event_attendees.csv")
            db.session.commit()
