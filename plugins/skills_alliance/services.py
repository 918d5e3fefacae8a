"""The alliance's work as views, hooks, jobs and the demo use it: who may change what, the
queries behind the lists, and every write (each agreement change with its timeline event). Status
changes themselves are decided in ``lifecycle``.

Every query starts from the user's scope and the stations where the plugin is on
(``liaison.scope.scoped(..., plugin=NAME)``). Agreement writes check the version and commit with
the core's ``liaison.concurrency.commit_or_conflict``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import selectinload

from liaison import concurrency, jobs
from liaison.i18n import local_today
from liaison.models import Contact, Station, StationStatus, User, db, utcnow
from liaison.permissions import acts_for_station
from liaison.plugins import activation
from liaison.scope import recordable_stations, scoped
from liaison.scope import station_for_new as _station_for_new
from liaison.search import contains, escape_like, fold

from .choices import AREAS_BY_KIND, NAME, AgreementKind, DocumentKind, DomesticKind, EventKind, Level, MemberStatus, \
    Status
from .models import (
    Agreement,
    AgreementArea,
    AgreementEvent,
    Document,
    Member,
    Milestone,
    Party,
    Recognition,
    Renewal,
)
from .lifecycle import IllegalMove, apply_move

REMIND_DAYS = 90  # an agreement in force is reminded of this many days before it ends
MEMBERSHIP_REMIND_DAYS = 60  # an active membership is reminded of this many days before it ends
MAX_PER_RUN = 1000


class Conflict(concurrency.Conflict):
    message = _l("Someone else changed this agreement while you were working on it. "
                 "Nothing was saved: check the current state below and try again.")


# Permissions -----------------------------------------------------------------------------

def can_manage(user: User, station: Station) -> bool:
    """Record and edit the alliance's records of ``station``: the station side while the station is
    active, and HQ (whose delegations attend the ceremonies)."""
    return acts_for_station(user, station) or (user.is_hq and station.is_active)


def manageable_stations(user: User) -> list[Station]:
    return recordable_stations(user, plugin=NAME, may=can_manage)


def may_record_any(user: User) -> bool:
    """``bool(manageable_stations(user))`` — the lists' "New …" buttons. HQ manages every active
    station where the plugin is on (``can_manage``): one ``LIMIT 1`` query instead of loading and
    checking every station; the others' stations are few and checked as ``manageable_stations`` does."""
    if getattr(user, "is_hq", False):
        stmt = scoped(select(Station.id), Station, user, plugin=NAME).where(Station.status == StationStatus.ACTIVE)
        return db.session.scalar(stmt.limit(1)) is not None
    return bool(manageable_stations(user))


def manageable_station_ids(user: User) -> set[int]:
    """The ids of ``manageable_stations(user)`` (the lists' "Edit" links), for HQ in one query of ids."""
    if getattr(user, "is_hq", False):
        stmt = scoped(select(Station.id), Station, user, plugin=NAME).where(Station.status == StationStatus.ACTIVE)
        return set(db.session.scalars(stmt))
    return {station.id for station in manageable_stations(user)}


def station_for_new(requested, user: User):
    return _station_for_new(requested, plugin=NAME, user=user, may=can_manage)


def station_contacts(station_id: int) -> list[Contact]:
    return list(db.session.scalars(select(Contact).where(Contact.station_id == station_id).order_by(Contact.name)))


# Members ---------------------------------------------------------------------------------

def visible_members(user: User | None = None) -> Select:
    return scoped(select(Member), Member, user, plugin=NAME)


@dataclass
class MemberFilters:
    q: str | None = None
    country: str | None = None
    kind: str | None = None
    status: str | None = None

    def apply(self, stmt: Select) -> Select:
        if self.q:
            stmt = stmt.where(contains(self.q, Member.name, Member.name_zh, Member.certificate_no))
        if self.country:
            stmt = stmt.where(Member.country == self.country.upper())
        if self.kind:
            stmt = stmt.where(Member.kind == self.kind)
        if self.status:
            stmt = stmt.where(Member.status == self.status)
        return stmt


def members(user: User, filters: MemberFilters) -> Select:
    return filters.apply(visible_members(user)).order_by(Member.country, Member.name, Member.id)


def member_countries(user: User) -> list[str]:
    return sorted(db.session.scalars(visible_members(user).with_only_columns(Member.country).distinct()))


def _contacts_of(station_id: int, contact_ids: Iterable[int]) -> list[Contact]:
    ids = sorted(set(contact_ids or ()))
    if not ids:
        return []
    contacts = list(db.session.scalars(select(Contact).where(Contact.id.in_(ids), Contact.station_id == station_id)))
    if len(contacts) != len(ids):
        raise IllegalMove(_l("Choose contacts of the member's station."), "contact_ids")
    return contacts


MEMBER_FIELDS = ("name", "name_zh", "country", "kind", "joined_on", "certificate_no", "status", "notes")


def _clean_member(data: dict) -> dict:
    values = {name: data.get(name) for name in MEMBER_FIELDS}
    values["country"] = (values["country"] or "").upper()
    values["certificate_no"] = (values["certificate_no"] or "").strip()
    values["name_zh"] = values["name_zh"] or None
    values["notes"] = values["notes"] or None
    return values


def _certificate_taken(number: str, member_id: int | None = None) -> bool:
    stmt = select(Member.id).where(Member.certificate_no == number)
    if member_id is not None:
        stmt = stmt.where(Member.id != member_id)
    return db.session.scalar(stmt.limit(1)) is not None


def create_member(station: Station, data: dict, actor: User) -> Member:
    if not can_manage(actor, station):
        raise IllegalMove(_l("You cannot record members for this station."))
    values = _clean_member(data)
    if values["joined_on"] and values["joined_on"] > local_today():
        raise IllegalMove(_l("The date cannot be in the future."), "joined_on")
    if _certificate_taken(values["certificate_no"]):
        raise IllegalMove(_l("Another member has this certificate number."), "certificate_no")
    contacts = _contacts_of(station.id, data.get("contact_ids"))
    member = Member(station_id=station.id, created_by_id=actor.id, **values)
    member.contacts = contacts
    db.session.add(member)
    db.session.commit()
    return member


def update_member(member: Member, data: dict, actor: User) -> None:
    """``member.station`` and ``member.contacts`` must be loaded."""
    if not can_manage(actor, member.station):
        raise IllegalMove(_l("You cannot edit this member."))
    values = _clean_member(data)
    if values["joined_on"] and values["joined_on"] > local_today():
        raise IllegalMove(_l("The date cannot be in the future."), "joined_on")
    if _certificate_taken(values["certificate_no"], member.id):
        raise IllegalMove(_l("Another member has this certificate number."), "certificate_no")
    contacts = _contacts_of(member.station_id, data.get("contact_ids"))
    for name, value in values.items():
        setattr(member, name, value)
    if {c.id for c in contacts} != {c.id for c in member.contacts}:
        member.contacts = contacts
    db.session.commit()


def add_renewal(member: Member, data: dict, actor: User) -> Renewal:
    if not can_manage(actor, member.station):
        raise IllegalMove(_l("You cannot renew this membership."))
    renewed_on, valid_until = data.get("renewed_on"), data.get("valid_until")
    if renewed_on > local_today():
        raise IllegalMove(_l("The date cannot be in the future."), "renewed_on")
    if valid_until <= renewed_on:
        raise IllegalMove(_l("The renewal must be valid after the day it was renewed."), "valid_until")
    renewal = Renewal(member_id=member.id, renewed_on=renewed_on, valid_until=valid_until,
                      note=data.get("note") or None, created_by_id=actor.id)
    db.session.add(renewal)
    if member.status == MemberStatus.LAPSED:
        member.status = MemberStatus.ACTIVE
    db.session.commit()
    return renewal


# Agreements ------------------------------------------------------------------------------

def visible_agreements(user: User | None = None) -> Select:
    return scoped(select(Agreement), Agreement, user, plugin=NAME)


LIST_OPTIONS = (selectinload(Agreement.station), selectinload(Agreement.parties).selectinload(Party.member),
                selectinload(Agreement.areas))


@dataclass
class AgreementFilters:
    q: str | None = None
    kind: str | None = None
    status: str | None = None

    def apply(self, stmt: Select) -> Select:
        if self.q:
            stmt = stmt.where(contains(self.q, Agreement.title))
        if self.kind:
            stmt = stmt.where(Agreement.kind == self.kind)
        if self.status:
            stmt = stmt.where(Agreement.status == self.status)
        return stmt


def agreements(user: User, filters: AgreementFilters) -> Select:
    return filters.apply(visible_agreements(user)).options(*LIST_OPTIONS).order_by(
        Agreement.updated_at.desc(), Agreement.id.desc())


def party_choices(user: User) -> list[Member]:
    """Members the user may name as parties: those the user sees, where the plugin is on."""
    return list(db.session.scalars(visible_members(user).where(Member.status != MemberStatus.WITHDRAWN)
                                   .order_by(Member.country, Member.name)))


def _agreement_values(data: dict, actor: User, parties: Iterable[int] = ()) -> dict:
    """The checked title, kind, areas, member parties and home institutions of ``data`` (the new
    and the edit forms alike); ``IllegalMove`` names the field. Nothing is added to the session.
    ``parties``: the members already parties (an edit keeps them even where the actor does not see
    them, or they have withdrawn since)."""
    kind = data.get("kind")
    areas = sorted(set(data.get("areas") or ()))
    allowed = {area.value for area in AREAS_BY_KIND.get(AgreementKind(kind), ())} if kind in set(AgreementKind) else set()
    if not areas:
        raise IllegalMove(_l("Choose at least one area of cooperation."), "areas")
    if not set(areas) <= allowed:
        raise IllegalMove(_l("Choose areas of this kind of agreement."), "areas")
    member_ids = sorted(set(data.get("member_ids") or ()))
    named = set(member_ids) - set(parties)
    visible = {m.id for m in db.session.scalars(visible_members(actor).where(Member.id.in_(named)))} \
        if named else set()
    if visible != named:
        raise IllegalMove(_l("Choose members of the alliance you can see."), "member_ids")
    homes = [line.strip() for line in (data.get("home_institutions") or "").splitlines() if line.strip()]
    if len({h.casefold() for h in homes}) != len(homes):
        raise IllegalMove(_l("Name each home institution once."), "home_institutions")
    if any(len(home) > 200 for home in homes):
        raise IllegalMove(_l("A name is at most 200 characters."), "home_institutions")
    if len(member_ids) + len(homes) < 2:
        raise IllegalMove(_l("An agreement has at least two parties: members, or a member and a home institution."),
                          "member_ids")
    if not member_ids:
        raise IllegalMove(_l("At least one party is a member of the alliance."), "member_ids")
    return {"title": (data.get("title") or "").strip(), "kind": kind, "areas": areas, "member_ids": member_ids,
            "homes": homes, "notes": data.get("notes") or None}


def create_agreement(station: Station, data: dict, actor: User) -> Agreement:
    """A new agreement, "proposed", dated ``data["proposed_on"]``, with its parties (members the
    actor sees, and home institutions by name) and areas (those of its kind). Checked before
    anything is added to the session: bad input writes nothing."""
    if not can_manage(actor, station):
        raise IllegalMove(_l("You cannot record agreements for this station."))
    today = local_today()
    started = data.get("proposed_on") or today
    if started > today:
        raise IllegalMove(_l("The date cannot be in the future."), "proposed_on")
    values = _agreement_values(data, actor)
    agreement = Agreement(station_id=station.id, title=values["title"], kind=values["kind"], status=Status.PROPOSED,
                          status_since=started, notes=values["notes"], created_by_id=actor.id,
                          updated_by_id=actor.id)
    agreement.parties = [Party(member_id=mid) for mid in values["member_ids"]] + \
        [Party(home_institution=h) for h in values["homes"]]
    agreement.areas = [AgreementArea(area=area) for area in values["areas"]]
    db.session.add(agreement)
    db.session.add(AgreementEvent(agreement=agreement, actor_id=actor.id, happened_on=started,
                                  kind=EventKind.CREATED, to_status=Status.PROPOSED))
    db.session.commit()
    return agreement


def update_agreement(agreement: Agreement, data: dict, actor: User, *, expected_version: int | None) -> list[str]:
    """Correct an agreement's details — title, kind, areas, notes, parties — with the same checks
    as a new one (not its status or dates: those are the lifecycle's). Returns the names of the
    changed fields, written to the timeline; nothing is written if nothing changed or the input is
    refused. ``agreement.station``, ``.parties`` and ``.areas`` must be loaded."""
    concurrency.check_version(agreement, expected_version, Conflict)
    _check_manageable(agreement, actor)
    values = _agreement_values(data, actor, [party.member_id for party in agreement.parties if party.member_id])
    with concurrency.commit_or_conflict(conflict=Conflict):
        changed = [name for name in ("title", "kind", "notes") if getattr(agreement, name) != values[name]]
        for name in changed:
            setattr(agreement, name, values[name])
        if [row.area for row in agreement.areas] != values["areas"]:
            keep = {row.area: row for row in agreement.areas}
            agreement.areas = [keep.get(area) or AgreementArea(area=area) for area in values["areas"]]
            changed.append("areas")
        members = {party.member_id: party for party in agreement.parties if party.member_id}
        homes = {party.home_institution: party for party in agreement.parties if not party.member_id}
        if set(members) != set(values["member_ids"]) or set(homes) != set(values["homes"]):
            # Kept parties keep their rows (and ids): only those named or dropped are added or deleted.
            agreement.parties = [members.get(mid) or Party(member_id=mid) for mid in values["member_ids"]] + \
                [homes.get(h) or Party(home_institution=h) for h in values["homes"]]
            changed.append("parties")
        if changed:
            _touch(agreement, actor)
            # The names of the fields, translated when shown (``AgreementEvent.text_display``).
            db.session.add(AgreementEvent(agreement_id=agreement.id, actor_id=actor.id, happened_on=local_today(),
                                          kind=EventKind.EDITED, text=", ".join(changed)))
    return changed


def _touch(agreement: Agreement, actor: User) -> None:
    """Mark the agreement changed (its row updated, its version bumped) by a change of its parts."""
    agreement.updated_by_id = actor.id
    agreement.updated_at = utcnow()


def make_move(agreement: Agreement, move: str, actor: User, *, on: date | None, note: str | None,
              valid_until: date | None, expected_version: int | None, confirmed: bool = False) -> AgreementEvent:
    with concurrency.commit_or_conflict(agreement, expected_version, conflict=Conflict):
        event = apply_move(agreement, move, actor, on=on, note=note, valid_until=valid_until, confirmed=confirmed)
    return event


def _check_manageable(agreement: Agreement, actor: User) -> None:
    if not can_manage(actor, agreement.station):
        raise IllegalMove(_l("You cannot change this agreement."))
    if agreement.status in (Status.TERMINATED,):
        raise IllegalMove(_l("A terminated agreement cannot be changed."))


def add_milestone(agreement: Agreement, title: str, due_on: date, actor: User) -> Milestone:
    _check_manageable(agreement, actor)
    if due_on < local_today():
        raise IllegalMove(_l("Choose today or a later date: a milestone due in the past would be overdue at once."),
                          "due_on")
    milestone = Milestone(agreement=agreement, title=title.strip(), due_on=due_on, created_by_id=actor.id)
    db.session.add(milestone)
    db.session.add(AgreementEvent(agreement=agreement, actor_id=actor.id, happened_on=local_today(),
                                  kind=EventKind.MILESTONE_ADDED, text=f"{milestone.title} ({due_on.isoformat()})"))
    agreement.updated_by_id = actor.id
    db.session.commit()
    return milestone


def complete_milestone(agreement: Agreement, milestone_id: int, done_on: date, actor: User) -> Milestone | None:
    """Mark a milestone done on ``done_on``; ``None`` if it is not this agreement's."""
    _check_manageable(agreement, actor)
    milestone = db.session.scalar(select(Milestone).where(Milestone.id == milestone_id,
                                                          Milestone.agreement_id == agreement.id))
    if milestone is None:
        return None
    if milestone.done_on is not None:
        raise IllegalMove(_l("This milestone is already completed."))
    if done_on > local_today():
        raise IllegalMove(_l("The date cannot be in the future."), "done_on")
    milestone.done_on = done_on
    db.session.add(AgreementEvent(agreement_id=agreement.id, actor_id=actor.id, happened_on=done_on,
                                  kind=EventKind.MILESTONE_DONE, text=milestone.title))
    db.session.commit()
    return milestone


def add_document(agreement: Agreement, data: dict, actor: User) -> Document:
    _check_manageable(agreement, actor)
    values = _document_values(data)
    document = Document(agreement_id=agreement.id, created_by_id=actor.id, **values)
    db.session.add(document)
    db.session.add(AgreementEvent(agreement_id=agreement.id, actor_id=actor.id,
                                  happened_on=values["signed_on"] or local_today(), kind=EventKind.DOCUMENT_ADDED,
                                  text=document.title))
    db.session.commit()
    return document


def _part_of(model, agreement: Agreement, part_id: int):
    return db.session.scalar(select(model).where(model.id == part_id, model.agreement_id == agreement.id))


def update_milestone(agreement: Agreement, milestone_id: int, title: str, due_on: date, actor: User, *,
                     expected_version: int | None) -> Milestone | None:
    """Correct an open milestone's title or due date; ``None`` if it is not this agreement's. A
    completed milestone is kept as it was (its date counts in "milestones on time"). A due date in
    the past is refused only when it is new: rewording an overdue milestone must not fail."""
    concurrency.check_version(agreement, expected_version, Conflict)
    _check_manageable(agreement, actor)
    milestone = _part_of(Milestone, agreement, milestone_id)
    if milestone is None:
        return None
    if milestone.done_on is not None:
        raise IllegalMove(_l("A completed milestone cannot be changed."))
    title = (title or "").strip()
    if due_on != milestone.due_on and due_on < local_today():
        raise IllegalMove(_l("Choose today or a later date: a milestone due in the past would be overdue at once."),
                          "due_on")
    if (title, due_on) == (milestone.title, milestone.due_on):
        return milestone
    with concurrency.commit_or_conflict(conflict=Conflict):
        before = f"{milestone.title} ({milestone.due_on.isoformat()})"
        milestone.title, milestone.due_on = title, due_on
        _touch(agreement, actor)
        db.session.add(AgreementEvent(agreement_id=agreement.id, actor_id=actor.id, happened_on=local_today(),
                                      kind=EventKind.MILESTONE_EDITED,
                                      text=f"{before} → {title} ({due_on.isoformat()})"))
    return milestone


def remove_milestone(agreement: Agreement, milestone_id: int, actor: User, *,
                     expected_version: int | None) -> Milestone | None:
    """Remove a milestone planned by mistake; ``None`` if it is not this agreement's. A completed
    milestone stays (it is part of the record)."""
    concurrency.check_version(agreement, expected_version, Conflict)
    _check_manageable(agreement, actor)
    milestone = _part_of(Milestone, agreement, milestone_id)
    if milestone is None:
        return None
    if milestone.done_on is not None:
        raise IllegalMove(_l("A completed milestone cannot be removed."))
    with concurrency.commit_or_conflict(conflict=Conflict):
        db.session.delete(milestone)
        _touch(agreement, actor)
        db.session.add(AgreementEvent(agreement_id=agreement.id, actor_id=actor.id, happened_on=local_today(),
                                      kind=EventKind.MILESTONE_REMOVED,
                                      text=f"{milestone.title} ({milestone.due_on.isoformat()})"))
    return milestone


DOCUMENT_FIELDS = ("kind", "title", "signed_on", "url")


def _document_values(data: dict) -> dict:
    if data.get("kind") not in {kind.value for kind in DocumentKind}:
        raise IllegalMove(_l("Choose the kind of document."), "kind")
    signed_on = data.get("signed_on")
    if signed_on and signed_on > local_today():
        raise IllegalMove(_l("The date cannot be in the future."), "signed_on")
    return {"kind": data["kind"], "title": (data.get("title") or "").strip(), "signed_on": signed_on or None,
            "url": data.get("url") or None}


def update_document(agreement: Agreement, document_id: int, data: dict, actor: User, *,
                    expected_version: int | None) -> Document | None:
    """Correct a document's kind, title, date or link; ``None`` if it is not this agreement's."""
    concurrency.check_version(agreement, expected_version, Conflict)
    _check_manageable(agreement, actor)
    document = _part_of(Document, agreement, document_id)
    if document is None:
        return None
    values = _document_values(data)
    if all(getattr(document, name) == values[name] for name in DOCUMENT_FIELDS):
        return document
    with concurrency.commit_or_conflict(conflict=Conflict):
        before = document.title
        for name in DOCUMENT_FIELDS:
            setattr(document, name, values[name])
        _touch(agreement, actor)
        db.session.add(AgreementEvent(agreement_id=agreement.id, actor_id=actor.id, happened_on=local_today(),
                                      kind=EventKind.DOCUMENT_EDITED,
                                      text=document.title if before == document.title else f"{before} → {document.title}"))
    return document


def remove_document(agreement: Agreement, document_id: int, actor: User, *,
                    expected_version: int | None) -> Document | None:
    """Remove a document recorded by mistake; ``None`` if it is not this agreement's."""
    concurrency.check_version(agreement, expected_version, Conflict)
    _check_manageable(agreement, actor)
    document = _part_of(Document, agreement, document_id)
    if document is None:
        return None
    with concurrency.commit_or_conflict(conflict=Conflict):
        db.session.delete(document)
        _touch(agreement, actor)
        db.session.add(AgreementEvent(agreement_id=agreement.id, actor_id=actor.id, happened_on=local_today(),
                                      kind=EventKind.DOCUMENT_REMOVED, text=document.title))
    return document


def _overdue(stmt: Select, user: User) -> Select:
    """``stmt`` (over ``Milestone``) joined to its agreement, restricted to open milestones past due
    of agreements not terminated, the agreement in the user's scope (applied to the joined table)."""
    stmt = stmt.join(Agreement, Agreement.id == Milestone.agreement_id).where(
        Milestone.done_on.is_(None), Milestone.due_on < local_today(), Agreement.status != Status.TERMINATED)
    return scoped(stmt, Agreement, user, plugin=NAME)


def overdue_milestones(user: User) -> Select:
    """Open milestones past due, of agreements not terminated, the longest overdue first."""
    return (_overdue(select(Milestone), user)
            .options(selectinload(Milestone.agreement).selectinload(Agreement.station))
            .order_by(Milestone.due_on, Milestone.id))


def overdue_summary(user: User, limit: int) -> tuple[int, list]:
    """How many milestones are overdue and the first ``limit`` of them (rows of ``id``, ``title``,
    ``due_on``, ``agreement_id``, ``agreement_title``), in one query (the home page's widget)."""
    stmt = _overdue(select(Milestone.id, Milestone.title, Milestone.due_on, Milestone.agreement_id,
                           Agreement.title.label("agreement_title"), func.count().over().label("total")), user)
    rows = db.session.execute(stmt.order_by(Milestone.due_on, Milestone.id).limit(limit)).all()
    return (rows[0].total if rows else 0), rows


# Recognition catalogue ------------------------------------------------------------------------

def visible_recognitions(user: User | None = None) -> Select:
    return scoped(select(Recognition), Recognition, user, plugin=NAME)


@dataclass
class RecognitionFilters:
    q: str | None = None
    country: str | None = None
    domestic_kind: str | None = None

    def apply(self, stmt: Select) -> Select:
        folded = fold(self.q)[:200] if self.q else ""
        if folded:
            stmt = stmt.where(Recognition.search_text.like(f"%{escape_like(folded)}%", escape="\\"))
        if self.country:
            stmt = stmt.where(Recognition.issuing_country == self.country.upper())
        if self.domestic_kind:
            stmt = stmt.where(Recognition.domestic_kind == self.domestic_kind)
        return stmt


def recognitions(user: User, filters: RecognitionFilters) -> Select:
    return filters.apply(visible_recognitions(user)).order_by(
        Recognition.issuing_country, Recognition.name_zh, Recognition.id)


def recognition_countries(user: User) -> list[str]:
    return sorted(db.session.scalars(visible_recognitions(user).with_only_columns(
        Recognition.issuing_country).distinct()))


RECOGNITION_FIELDS = ("issuing_country", "issuing_body", "name_original", "name_zh", "level", "domestic_kind",
                      "domestic_name", "domestic_level", "source_document", "source_date")


def _recognition_values(data: dict) -> dict:
    """The checked fields of an entry; ``IllegalMove`` names the field."""
    values = {name: data.get(name) for name in RECOGNITION_FIELDS}
    values["issuing_country"] = (values["issuing_country"] or "").strip().upper()
    values["level"] = (values["level"] or "").strip() or None
    for name in ("issuing_body", "name_original", "name_zh", "domestic_name", "source_document"):
        values[name] = (values[name] or "").strip()
        if not values[name]:
            raise IllegalMove(_l("A value is required."), name)
    if values["domestic_kind"] not in {k.value for k in DomesticKind}:
        raise IllegalMove(_l("Choose a vocational qualification or a professional title."), "domestic_kind")
    if values["domestic_level"] not in {k.value for k in Level}:
        raise IllegalMove(_l("Choose the domestic level."), "domestic_level")
    if values["source_date"] is None or values["source_date"] > local_today():
        raise IllegalMove(_l("Give the date of the source document, not in the future."), "source_date")
    return values


def recognition_from(station: Station, data: dict, actor: User) -> Recognition:
    """A new entry (added to the session, not committed), checked; ``IllegalMove`` names the field."""
    record = Recognition(station_id=station.id, created_by_id=actor.id, **_recognition_values(data))
    db.session.add(record)
    return record


def create_recognition(station: Station, data: dict, actor: User) -> Recognition:
    if not can_manage(actor, station):
        raise IllegalMove(_l("You cannot add to this station's catalogue."))
    record = recognition_from(station, data, actor)
    db.session.commit()
    return record


def update_recognition(record: Recognition, data: dict, actor: User) -> None:
    """Correct an entry, with the checks of a new one. ``record.station`` must be loaded."""
    if not can_manage(actor, record.station):
        raise IllegalMove(_l("You cannot change this station's catalogue."))
    for name, value in _recognition_values(data).items():
        setattr(record, name, value)
    db.session.commit()


def remove_recognition(record: Recognition, actor: User) -> None:
    """Delete an entry (recorded by mistake, or withdrawn by its source). ``record.station`` must be loaded."""
    if not can_manage(actor, record.station):
        raise IllegalMove(_l("You cannot change this station's catalogue."))
    db.session.delete(record)
    db.session.commit()


# Renewal reminders (``flask --app liaison jobs run-due``) -------------------------------------

@jobs.scheduled("skills_alliance.renewals")
def queue_renewal_reminders() -> int:
    """Agreements in force ending within ``REMIND_DAYS``, at stations where the plugin is on: one
    reminder job per agreement and end date (a renewal moves the date and reminds again)."""
    today = local_today()
    rows = db.session.execute(
        select(Agreement.id, Agreement.valid_until)
        .where(Agreement.status == Status.IN_FORCE, Agreement.valid_until.is_not(None),
               Agreement.valid_until <= today + timedelta(days=REMIND_DAYS),
               activation.active_stations_filter(NAME, Agreement.station_id))
        .order_by(Agreement.id).limit(MAX_PER_RUN)).all()
    for agreement_id, valid_until in rows:
        jobs.enqueue("skills_alliance.renewal_reminder", key=f"skills_alliance_renewal:{agreement_id}:{valid_until}",
                     agreement_id=agreement_id)
    return len(rows)


@jobs.job("skills_alliance.renewal_reminder")
def renewal_reminder_job(agreement_id: int) -> int:
    from liaison.notifications import mail
    from liaison.notifications.services import deliver, region_admin_ids, station_volunteer_ids

    agreement = db.session.scalar(select(Agreement).where(Agreement.id == agreement_id)
                                  .options(selectinload(Agreement.station)))
    if agreement is None or agreement.status != Status.IN_FORCE or agreement.valid_until is None:
        return 0
    station = agreement.station
    users = station_volunteer_ids(station.id) | region_admin_ids(station.region_id)
    params = {"title": agreement.title, "date": agreement.valid_until.isoformat(), "station_name": station.name,
              "station_name_zh": station.name_zh}
    return deliver(f"{NAME}.agreement_expiring", users, station_id=station.id, params=params,
                   path=mail.app_path(f"{NAME}.agreement", agreement_id=agreement.id))


# Memberships: valid until their latest renewal; lapsed after it, reminded before it -------------

def membership_ends():
    """Subquery: each renewed member's ``member_id`` and ``valid_until`` (its latest renewal's end).
    A member never renewed has no end: its membership is open."""
    return (select(Renewal.member_id, func.max(Renewal.valid_until).label("valid_until"))
            .group_by(Renewal.member_id).subquery())


@jobs.scheduled("skills_alliance.memberships")
def lapse_and_remind_memberships() -> dict[str, int]:
    """Active members whose membership ended before today become "lapsed" (a new renewal makes
    them active again, ``add_renewal``); those ending within ``MEMBERSHIP_REMIND_DAYS`` get one
    reminder job per member and end date. Only at stations where the plugin is on."""
    today = local_today()
    ends = membership_ends()
    active = select(Member.id, ends.c.valid_until).join(ends, ends.c.member_id == Member.id).where(
        Member.status == MemberStatus.ACTIVE, activation.active_stations_filter(NAME, Member.station_id))
    ended = list(db.session.scalars(active.where(ends.c.valid_until < today).with_only_columns(Member.id)
                                    .order_by(Member.id).limit(MAX_PER_RUN)))
    if ended:
        db.session.execute(update(Member).where(Member.id.in_(ended))
                           .values(status=MemberStatus.LAPSED, updated_at=utcnow()))
    ending = db.session.execute(active.where(
        ends.c.valid_until >= today, ends.c.valid_until <= today + timedelta(days=MEMBERSHIP_REMIND_DAYS))
        .order_by(Member.id).limit(MAX_PER_RUN)).all()
    for member_id, valid_until in ending:
        jobs.enqueue("skills_alliance.membership_reminder",
                     key=f"skills_alliance_membership:{member_id}:{valid_until}", member_id=member_id)
    return {"lapsed": len(ended), "reminded": len(ending)}


@jobs.job("skills_alliance.membership_reminder")
def membership_reminder_job(member_id: int) -> int:
    from liaison.notifications import mail
    from liaison.notifications.services import deliver, region_admin_ids, station_volunteer_ids

    member = db.session.scalar(select(Member).where(Member.id == member_id).options(selectinload(Member.station)))
    valid_until = db.session.scalar(select(func.max(Renewal.valid_until)).where(Renewal.member_id == member_id))
    if member is None or member.status != MemberStatus.ACTIVE or valid_until is None or valid_until < local_today():
        return 0
    station = member.station
    users = station_volunteer_ids(station.id) | region_admin_ids(station.region_id)
    params = {"name": member.display, "date": valid_until.isoformat(), "station_name": station.name,
              "station_name_zh": station.name_zh}
    return deliver(f"{NAME}.membership_expiring", users, station_id=station.id, params=params,
                   path=mail.app_path(f"{NAME}.member", member_id=member.id))


def count_of(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
