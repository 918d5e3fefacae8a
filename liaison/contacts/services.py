"""Contacts: search in scope, duplicate detection and saving."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from .. import plugins
from ..concurrency import Conflict, commit_or_conflict
from ..forms import normalise_phone
from ..models import Contact, ContactTag, Station, User, db
from ..scope import scoped
from ..search import contact_condition

CONTACT_FIELDS = (
    "kind", "name", "name_zh", "name_original", "organisation", "position", "field", "country",
    "city", "email", "phone", "messaging", "languages", "tags", "notes",
)


def _apply(contact: Contact, data: dict, station: Station | None = None) -> None:
    # Tags and languages are rows: assigning the typed text replaces them (see models.contact).
    for name in CONTACT_FIELDS:
        if name in data:
            value = data[name]
            setattr(contact, name, value if value not in ("",) else None)
    contact.country = (contact.country or "").upper() or None
    contact.email_normalized = contact.email.lower() if contact.email else None
    # A number without "+" is read in the station's country; a valid one is stored as E.164.
    contact.phone_e164 = normalise_phone(contact.phone, phone_region(station, contact.country))
    if contact.phone_e164:
        contact.phone = contact.phone_e164


def phone_region(station: Station | None, country: str | None = None) -> str | None:
    """Where a phone number without "+" is read: the station's country, else the contact's."""
    return (station.country if station is not None else None) or country or None


def find_duplicates(station_id: int, email: str | None, phone: str | None, country: str | None,
                    exclude_id: int | None = None) -> list[Contact]:
    """Contacts of the same station with the same e-mail address or phone number."""
    conditions = []
    if email:
        conditions.append(Contact.email_normalized == email.strip().lower())
    e164 = normalise_phone(phone, phone_region(db.session.get(Station, station_id), country) if phone else country)
    if e164:
        conditions.append(Contact.phone_e164 == e164)
    if not conditions:
        return []
    stmt = select(Contact).where(Contact.station_id == station_id, or_(*conditions))
    if exclude_id:
        stmt = stmt.where(Contact.id != exclude_id)
    return list(db.session.scalars(stmt.order_by(Contact.id).limit(10)))


def by_token(token: str | None) -> Contact | None:
    if not token:
        return None
    return db.session.scalar(select(Contact).where(Contact.submission_token == token))


def create_contact(station: Station, data: dict, actor: User, token: str | None = None,
                   extra: dict | None = None) -> Contact:
    """Create a contact once per form token: a resent form returns the first contact."""
    existing = by_token(token)
    if existing is not None:
        return existing
    contact = Contact(station_id=station.id, created_by_id=actor.id, updated_by_id=actor.id,
                      submission_token=token or None)
    _apply(contact, data, station)
    db.session.add(contact)
    try:
        db.session.flush()
        _record_agreement(contact, station, data, actor)
        if extra:
            plugins.form_saved("contact", contact, extra, actor)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = by_token(token)
        if existing is None:
            raise
        return existing
    plugins.emit("liaison_event_contact_created", station.id, contact=contact, user=actor)
    return contact


def _record_agreement(contact: Contact, station: Station, data: dict, actor: User) -> None:
    """The lawful bases the new-contact form's "The person agreed to…" recorded (their consent)."""
    from ..privacy import consent

    purposes = [purpose for purpose, key in ((consent.Purpose.KEEP_IN_TOUCH, "agree_keep_in_touch"),
                                             (consent.Purpose.PASS_TO_HQ, "agree_pass_to_hq")) if data.get(key)]
    if not purposes:
        return
    for purpose in purposes:
        consent.record(contact, purpose, consent.LawfulBasis.CONSENT, data.get("consent_source"),
                       data.get("consent_given_on"), actor=actor, evidence=data.get("consent_evidence"))


def update_contact(contact: Contact, data: dict, actor: User, extra: dict | None = None, *,
                   expected_updated_at: datetime | None = None) -> None:
    """Save ``data`` on ``contact``. With ``expected_updated_at`` (the last change's time the user
    saw: contacts have no version column) the stored time is read again inside the writing
    transaction, under its lock (``SELECT … FOR UPDATE``; SQLite's writing transactions hold the
    database's), and a change made since is ``concurrency.Conflict``: nothing is saved."""
    with commit_or_conflict(undo_on=(Conflict,)):
        if expected_updated_at is not None:
            stored = db.session.scalar(select(Contact.updated_at).where(Contact.id == contact.id).with_for_update())
            if stored != expected_updated_at:
                raise Conflict()
        _apply(contact, data, db.session.get(Station, contact.station_id))
        contact.updated_by_id = actor.id
        db.session.flush()
        if extra:
            plugins.form_saved("contact", contact, extra, actor)


def search(user: User, q: str | None = None, station_id: int | None = None, kind: str | None = None,
           tag: str | None = None) -> Select:
    """Contacts in the user's scope; ``q`` matches any name script, organisation or e-mail."""
    stmt = scoped(select(Contact), Contact, user)
    if q:
        stmt = stmt.where(contact_condition(q))  # indexed; see liaison.search
    if station_id:
        stmt = stmt.where(Contact.station_id == station_id)
    if kind:
        stmt = stmt.where(Contact.kind == kind)
    if tag and tag.strip():
        stmt = stmt.where(has_tag(tag))
    return stmt


def has_tag(tag: str):
    """The contact has ``tag`` (case ignored) among its tag rows."""
    return exists().where(ContactTag.contact_id == Contact.id,
                          func.lower(ContactTag.tag) == tag.strip().lower())
