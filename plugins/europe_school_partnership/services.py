"""The partnership workflow as views, hooks and the demo use it: who may change what, the
queries behind the list, board, counts and overdue pages, and every write (each one with its
timeline event). Stage changes themselves are decided in ``stages``.

Every query starts from ``visible_partnerships``: the user's scope and the stations where the
plugin is switched on (``liaison.scope.scoped(..., plugin=NAME)``). Writes check the version and
commit with the core's ``liaison.concurrency.commit_or_conflict``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from liaison import concurrency
from liaison.models import Contact, Station, User, db
from liaison.permissions import acts_for_station
from liaison.scope import recordable_stations, scoped
from liaison.scope import station_for_new as _station_for_new

from .choices import CLOSED_STAGES, NAME, DocumentKind, EventKind, Stage
from .dates import local_today, month_end
from .models import Partnership, PartnershipDocument, PartnershipEvent, partnership_contacts, split_majors
from .stages import IllegalMove, apply_move

# Fields of the partnership form that are stored as they are (blank optional text → NULL).
DETAIL_FIELDS = ("home_name", "home_name_zh", "home_kind", "home_city", "partner_name", "partner_name_original",
                 "partner_country", "partner_city", "partner_kind", "programme_kind", "majors", "notes")
OPTIONAL_TEXT = frozenset({"home_name_zh", "partner_name_original", "partner_city", "majors", "notes"})

LIST_OPTIONS = (selectinload(Partnership.station),)


class Conflict(concurrency.Conflict):
    """The partnership changed since the user loaded it (optimistic locking)."""

    message = _l("Someone else changed this partnership while you were working on it. "
                 "Nothing was saved: check the current state below and try again.")


# Permissions -----------------------------------------------------------------------------

def can_manage(user: User, station: Station) -> bool:
    """Record and edit partnerships, documents and next steps of ``station``: the station side
    while the station is active, and HQ, whose delegations take part in the talks."""
    return acts_for_station(user, station) or (user.is_hq and station.is_active)


def manageable_stations(user: User) -> list[Station]:
    """Active stations in the user's scope, with the plugin on, where the user may record."""
    return recordable_stations(user, plugin=NAME, may=can_manage)


def station_for_new(requested, user: User) -> tuple[Station | None, list[Station]]:
    """The station a new partnership is for: the core's rule (``liaison.scope.station_for_new``)."""
    return _station_for_new(requested, plugin=NAME, user=user, may=can_manage)


def station_contacts(station_id: int) -> list[Contact]:
    return list(db.session.scalars(select(Contact).where(Contact.station_id == station_id).order_by(Contact.name)))


# Queries ---------------------------------------------------------------------------------

def visible_partnerships(user: User | None = None) -> Select:
    """Partnerships in the user's scope, of stations where the plugin is on."""
    return scoped(select(Partnership), Partnership, user, plugin=NAME)


@dataclass
class Filters:
    country: str | None = None
    programme: str | None = None
    station_id: int | None = None
    stage: str | None = None  # a stage, "open" or None
    due: str | None = None  # "overdue", "month" (due from today to the month's end) or None
    q: str | None = None

    def apply(self, stmt: Select) -> Select:
        if self.country:
            stmt = stmt.where(Partnership.partner_country == self.country.upper())
        if self.programme:
            stmt = stmt.where(Partnership.programme_kind == self.programme)
        if self.station_id:
            stmt = stmt.where(Partnership.station_id == self.station_id)
        if self.stage == "open":
            stmt = stmt.where(Partnership.stage.notin_([s.value for s in CLOSED_STAGES]))
        elif self.stage:
            stmt = stmt.where(Partnership.stage == self.stage)
        if self.due in ("overdue", "month"):
            today = local_today()
            stmt = stmt.where(Partnership.stage.notin_([s.value for s in CLOSED_STAGES]))
            if self.due == "overdue":
                stmt = stmt.where(Partnership.next_step_due < today)
            else:
                stmt = stmt.where(Partnership.next_step_due >= today, Partnership.next_step_due <= month_end(today))
        if self.q:
            like = f"%{self.q}%"
            stmt = stmt.where(or_(
                Partnership.home_name.ilike(like), Partnership.home_name_zh.ilike(like),
                Partnership.partner_name.ilike(like), Partnership.partner_name_original.ilike(like),
                Partnership.majors.ilike(like),
            ))
        return stmt


def filtered(user: User, filters: Filters) -> Select:
    return filters.apply(visible_partnerships(user)).order_by(Partnership.updated_at.desc(), Partnership.id.desc())


def stage_counts(user: User, filters: Filters) -> dict[str, int]:
    stmt = filters.apply(visible_partnerships(user)).with_only_columns(Partnership.stage, func.count())
    return dict(db.session.execute(stmt.group_by(Partnership.stage)).all())


def board(user: User, filters: Filters, per_column: int = 50) -> tuple[dict[str, list[Partnership]], dict[str, int]]:
    """Partnerships by stage, the most recently moved first, at most ``per_column`` per stage,
    and the full count of each stage — two queries (plus the station load) however many rows."""
    base = filters.apply(visible_partnerships(user))
    rank = func.row_number().over(
        partition_by=Partnership.stage,
        order_by=(Partnership.stage_since.desc(), Partnership.id.desc()),
    ).label("rank")
    ranked = base.with_only_columns(Partnership.id, rank).subquery()
    stmt = (select(Partnership).where(Partnership.id.in_(select(ranked.c.id).where(ranked.c.rank <= per_column)))
            .options(*LIST_OPTIONS).order_by(Partnership.stage_since.desc(), Partnership.id.desc()))
    columns: dict[str, list[Partnership]] = {stage.value: [] for stage in Stage}
    for partnership in db.session.scalars(stmt):
        columns.setdefault(partnership.stage, []).append(partnership)
    return columns, stage_counts(user, filters)


def counts_by_stage_and_country(user: User, filters: Filters) -> dict[str, dict[str, int]]:
    """``{country: {stage: count}}`` for the counts page."""
    stmt = (filters.apply(visible_partnerships(user))
            .with_only_columns(Partnership.partner_country, Partnership.stage, func.count())
            .group_by(Partnership.partner_country, Partnership.stage))
    table: dict[str, dict[str, int]] = {}
    for country, stage, number in db.session.execute(stmt):
        table.setdefault(country, {})[stage] = number
    return table


def partner_countries(user: User) -> list[str]:
    """Countries of the partners the user can see, for the filter."""
    stmt = visible_partnerships(user).with_only_columns(Partnership.partner_country).distinct()
    return sorted(db.session.scalars(stmt))


def overdue(user: User) -> Select:
    """Open partnerships whose next step is past due, the longest overdue first."""
    return Filters(due="overdue").apply(visible_partnerships(user)).order_by(Partnership.next_step_due, Partnership.id)


def due_this_month(user: User) -> Select:
    """Open partnerships whose next step is due from today to the end of this month."""
    return Filters(due="month").apply(visible_partnerships(user)).order_by(Partnership.next_step_due, Partnership.id)


def count_of(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def for_station(user: User, station_id: int) -> list[Partnership]:
    stmt = visible_partnerships(user).where(Partnership.station_id == station_id)
    return list(db.session.scalars(stmt.order_by(Partnership.updated_at.desc(), Partnership.id.desc())))


def for_contact(user: User, contact_id: int) -> list[Partnership]:
    linked = select(partnership_contacts.c.partnership_id).where(partnership_contacts.c.contact_id == contact_id)
    stmt = visible_partnerships(user).where(Partnership.id.in_(linked))
    return list(db.session.scalars(stmt.order_by(Partnership.updated_at.desc(), Partnership.id.desc())))


def partnerships_per_contact(user: User) -> dict[int, int]:
    """``{contact id: number of partnerships}`` in one query, for the contacts export."""
    visible_ids = visible_partnerships(user).with_only_columns(Partnership.id)
    stmt = (select(partnership_contacts.c.contact_id, func.count())
            .where(partnership_contacts.c.partnership_id.in_(visible_ids))
            .group_by(partnership_contacts.c.contact_id))
    return dict(db.session.execute(stmt).all())


# Writes ----------------------------------------------------------------------------------

def _clean(name: str, value):
    if name == "majors":
        return ", ".join(split_majors(value)) or None
    if name == "partner_country":
        return (value or "").upper()
    return (value or None) if name in OPTIONAL_TEXT else value


def _contacts_of(station_id: int, contact_ids: Iterable[int]) -> list[Contact]:
    """The chosen contacts, which must belong to the partnership's station."""
    ids = sorted(set(contact_ids or ()))
    if not ids:
        return []
    contacts = list(db.session.scalars(select(Contact).where(Contact.id.in_(ids), Contact.station_id == station_id)))
    if len(contacts) != len(ids):
        raise IllegalMove(_l("Choose contacts of the partnership's station."), "contact_ids")
    return contacts


def create_partnership(station: Station, data: dict, actor: User, *, today: date | None = None) -> Partnership:
    """A new partnership at "first contact", dated ``data["first_contact_on"]``. Everything is
    checked before anything is added to the session: bad input writes nothing."""
    if not can_manage(actor, station):
        raise IllegalMove(_l("You cannot record partnerships for this station."))
    today = today or local_today()
    started = data.get("first_contact_on") or today
    if started > today:
        raise IllegalMove(_l("The date cannot be in the future."), "first_contact_on")
    contacts = _contacts_of(station.id, data.get("contact_ids"))
    next_step, due = data.get("next_step") or None, data.get("next_step_due")
    if next_step:
        _check_due(due, None, today)
    partnership = Partnership(station_id=station.id, stage=Stage.FIRST_CONTACT, stage_since=started,
                              created_by_id=actor.id, updated_by_id=actor.id)
    for name in DETAIL_FIELDS:
        setattr(partnership, name, _clean(name, data.get(name)))
    partnership.station = station
    partnership.contacts = contacts
    db.session.add(partnership)
    db.session.add(PartnershipEvent(partnership=partnership, actor_id=actor.id, happened_on=started,
                                    kind=EventKind.CREATED, to_stage=Stage.FIRST_CONTACT))
    if next_step:
        _set_next_step(partnership, next_step, due, actor, today)
    db.session.commit()
    return partnership


def update_partnership(partnership: Partnership, data: dict, actor: User, *, expected_version: int | None) -> list[str]:
    """Save the details (not the stage); returns the names of the changed fields.
    ``partnership.station`` and ``partnership.contacts`` must be loaded."""
    concurrency.check_version(partnership, expected_version, Conflict)
    if not can_manage(actor, partnership.station):
        raise IllegalMove(_l("You cannot edit this partnership."))
    contacts = _contacts_of(partnership.station_id, data.get("contact_ids"))
    with concurrency.commit_or_conflict(conflict=Conflict):
        changed = [name for name in DETAIL_FIELDS if getattr(partnership, name) != _clean(name, data.get(name))]
        for name in changed:
            setattr(partnership, name, _clean(name, data.get(name)))
        if {c.id for c in contacts} != {c.id for c in partnership.contacts}:
            partnership.contacts = contacts
            changed.append("contacts")
        if changed:
            partnership.updated_by_id = actor.id
            db.session.add(PartnershipEvent(partnership=partnership, actor_id=actor.id, happened_on=local_today(),
                                            kind=EventKind.EDITED, text=", ".join(changed)))
    return changed


def make_move(partnership: Partnership, move: str, actor: User, *, on: date | None, note: str | None,
              expected_version: int | None, confirmed: bool = False,
              override_reason: str | None = None) -> PartnershipEvent:
    with concurrency.commit_or_conflict(partnership, expected_version, conflict=Conflict):
        event = apply_move(partnership, move, actor, on=on, note=note, today=local_today(), confirmed=confirmed,
                           override_reason=override_reason)
    return event


def _check_due(due: date | None, current_due: date | None, today: date) -> None:
    if due is None:
        raise IllegalMove(_l("Give the date the next step is due."), "next_step_due")
    # A past date is refused only when it is new: re-saving a step that is already overdue
    # (to reword it) must not fail.
    if due < today and due != current_due:
        raise IllegalMove(_l("Choose today or a later date: a step due in the past would be overdue at once."),
                          "next_step_due")


def _set_next_step(partnership: Partnership, text: str, due: date | None, actor: User, today: date) -> None:
    _check_due(due, partnership.next_step_due, today)
    partnership.next_step = text
    partnership.next_step_due = due
    partnership.updated_by_id = actor.id
    db.session.add(PartnershipEvent(partnership=partnership, actor_id=actor.id, happened_on=today,
                                    kind=EventKind.NEXT_STEP, text=text, due_on=due))


def set_next_step(partnership: Partnership, text: str, due: date | None, actor: User, *,
                  expected_version: int | None) -> None:
    with concurrency.commit_or_conflict(partnership, expected_version, conflict=Conflict):
        _check_open_and_manageable(partnership, actor)
        _set_next_step(partnership, text, due, actor, local_today())


def complete_next_step(partnership: Partnership, actor: User, *, expected_version: int | None) -> None:
    with concurrency.commit_or_conflict(partnership, expected_version, conflict=Conflict):
        # A concluded or dropped partnership's step was closed with it: nothing to mark as done.
        _check_open_and_manageable(partnership, actor)
        if not partnership.next_step:
            raise IllegalMove(_l("There is no next step to mark as done."))
        db.session.add(PartnershipEvent(partnership=partnership, actor_id=actor.id, happened_on=local_today(),
                                        kind=EventKind.NEXT_STEP_DONE, text=partnership.next_step,
                                        due_on=partnership.next_step_due))
        partnership.next_step = None
        partnership.next_step_due = None
        partnership.updated_by_id = actor.id


def add_document(partnership: Partnership, data: dict, actor: User) -> PartnershipDocument:
    if not can_manage(actor, partnership.station):
        raise IllegalMove(_l("You cannot add documents to this partnership."))
    if data.get("kind") not in {kind.value for kind in DocumentKind}:
        raise IllegalMove(_l("Choose the kind of document."), "kind")
    signed_on = data.get("signed_on")
    if signed_on and signed_on > local_today():
        raise IllegalMove(_l("The date cannot be in the future."), "signed_on")
    document = PartnershipDocument(partnership=partnership, kind=data["kind"], title=data["title"],
                                   signed_on=signed_on, note=data.get("note") or None, created_by_id=actor.id)
    db.session.add(document)
    db.session.add(PartnershipEvent(partnership=partnership, actor_id=actor.id, happened_on=signed_on or local_today(),
                                    kind=EventKind.DOCUMENT_ADDED, text=document.title))
    db.session.commit()
    return document


def remove_document(partnership: Partnership, document_id: int, actor: User) -> PartnershipDocument | None:
    """Remove a document recorded by mistake; ``None`` if it is not this partnership's."""
    if not can_manage(actor, partnership.station):
        raise IllegalMove(_l("You cannot remove documents of this partnership."))
    document = db.session.scalar(select(PartnershipDocument).where(
        PartnershipDocument.id == document_id, PartnershipDocument.partnership_id == partnership.id))
    if document is None:
        return None
    db.session.delete(document)
    db.session.add(PartnershipEvent(partnership_id=partnership.id, actor_id=actor.id, happened_on=local_today(),
                                    kind=EventKind.DOCUMENT_REMOVED, text=document.title))
    db.session.commit()
    return document


def _check_open_and_manageable(partnership: Partnership, actor: User) -> None:
    if not can_manage(actor, partnership.station):
        raise IllegalMove(_l("You cannot change this partnership."))
    if partnership.is_closed:
        raise IllegalMove(_l("A concluded or dropped partnership has no next step."))
