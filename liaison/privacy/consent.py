"""Lawful basis and consent, per purpose: the one module that owns the rule.

A person's data is held and used for declared **purposes** (``PURPOSES``: keeping in touch,
passing the profile to HQ, event invitations, policy news, event photos). For each contact and
purpose the station records a **lawful basis** (consent, contract, legitimate interest, public
task) with its source (web form, e-mail, event registration, verbally, paper, import), the day it
was given, an optional expiry, an evidence note, the version of the consent text the person saw
and who recorded it (``ContactConsent``). A basis can be withdrawn; it is never deleted.

**Valid** on a day ``D`` means: ``given_on <= D``, not withdrawn, and ``expires_on`` is empty or
``>= D``; and the contact has not been erased. "Today" is the user's calendar day (their time
zone) inside a request, the server's date outside one.

Where the app enforces it:

* **Submitting a lead** (and resubmitting it with an answer) needs a valid ``PASS_TO_HQ`` basis —
  the lead workflow's guard (``liaison.leads.workflow``) calls ``require_basis``.
* **Contacting a person** for a purpose — invitations to events, policy news, anything that
  later features send — must ask ``may_contact(contact, purpose)`` first and skip the person when
  it answers ``False``. It is *the* place to ask: do not re-implement the rule in a feature.

Recording and withdrawing write an ``AuditEntry`` (``consent.record`` / ``consent.withdraw``)
without any personal value in it; the basis itself keeps who recorded or withdrew it and when.
Nothing here commits: callers commit (or roll back) the session.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from ..models import (
    AuditEntry,
    ConsentSource,
    Contact,
    ContactConsent,
    LawfulBasis,
    Purpose,
    Station,
    User,
    db,
    utcnow,
)
from ..scope import scoped

__all__ = [
    "PURPOSES", "PurposeInfo", "MissingBasis", "ConsentError", "today", "valid_basis", "valid_purposes",
    "require_basis", "may_contact", "record", "withdraw", "expiring", "expiring_count", "overview",
    "EXPIRING_DAYS", "EXPIRED_LOOKBACK_DAYS",
]

EXPIRING_DAYS = 60  # "expiring soon": within this many days
EXPIRED_LOOKBACK_DAYS = 365  # expired bases stay on the renewal list this long


@dataclass(frozen=True)
class PurposeInfo:
    purpose: Purpose
    description: object  # a lazy, translated sentence

    @property
    def label(self):
        return self.purpose.label


# The purposes, declared once: the enumeration (labels) lives with the table
# (``liaison.models.privacy.Purpose``); here is what each one covers.
PURPOSES: dict[Purpose, PurposeInfo] = {
    info.purpose: info for info in (
        PurposeInfo(Purpose.KEEP_IN_TOUCH, _l(
            "The station keeps the person's contact details to stay in touch about talent programmes, "
            "opportunities and the station's work.")),
        PurposeInfo(Purpose.PASS_TO_HQ, _l(
            "The person's profile may be passed to HQ and to partner departments in China (talent leads). "
            "Required before a lead is submitted.")),
        PurposeInfo(Purpose.EVENT_INVITATIONS, _l(
            "The person may be invited to salons, delegations, fairs and other events.")),
        PurposeInfo(Purpose.POLICY_NEWS, _l(
            "The person may receive news about talent policies and programmes.")),
        PurposeInfo(Purpose.EVENT_PHOTOS, _l(
            "Photos of the person taken at events may be kept and published.")),
    )
}


class ConsentError(Exception):
    """A basis that cannot be recorded or withdrawn as asked; ``field`` names the form field."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class MissingBasis(Exception):
    """No valid lawful basis for ``purpose``; ``message`` says what to record, and where."""

    def __init__(self, contact_id: int, purpose: Purpose):
        self.contact_id = contact_id
        self.purpose = Purpose(purpose)
        self.message = missing_message(self.purpose)
        super().__init__(str(self.message))


def missing_message(purpose: Purpose):
    if purpose == Purpose.PASS_TO_HQ:
        return _l("Nothing was sent to HQ: this contact has no valid lawful basis for “%(purpose)s”. "
                  "Record one in the contact's “Lawful basis and consent” section — usually the person's "
                  "consent, with where it was given (form, e-mail, verbally…) and the date — then submit again.",
                  purpose=Purpose.PASS_TO_HQ.label)
    return _l("This contact has no valid lawful basis for “%(purpose)s”. Record one in the contact's "
              "“Lawful basis and consent” section (the basis, its source and the date).",
              purpose=Purpose(purpose).label)


def today() -> date:
    """The user's calendar day inside a request, else the server's."""
    try:
        from ..i18n import local_today

        return local_today()
    except Exception:  # noqa: BLE001 - no app or request context (CLI, scripts)
        return date.today()


# Validity ----------------------------------------------------------------------------------

def valid_condition(on: date, model=ContactConsent):
    """The SQL condition "this basis is valid on ``on``" (see the module's docstring)."""
    return and_(model.given_on <= on, model.withdrawn_at.is_(None),
                or_(model.expires_on.is_(None), model.expires_on >= on))


def _not_erased(contact_id_column):
    # Correlated (one primary-key probe per row), not ``IN (all contacts)``.
    return exists().where(Contact.id == contact_id_column, Contact.erased_at.is_(None))


def valid_basis(contact: Contact | int, purpose: Purpose | str, on: date | None = None) -> ContactConsent | None:
    """The basis that makes ``purpose`` lawful for ``contact`` on ``on`` (default today): the most
    recently given valid one, or ``None``."""
    contact_id = contact if isinstance(contact, int) else contact.id
    stmt = (select(ContactConsent)
            .where(ContactConsent.contact_id == contact_id, ContactConsent.purpose == Purpose(purpose).value,
                   valid_condition(on or today()), _not_erased(ContactConsent.contact_id))
            .order_by(ContactConsent.given_on.desc(), ContactConsent.id.desc()).limit(1))
    return db.session.scalar(stmt)


def valid_purposes(contact_ids, purpose: Purpose | str, on: date | None = None) -> set[int]:
    """Of ``contact_ids``, those with a valid basis for ``purpose`` on ``on`` — in one query
    (for lists, mailings and invitations of many people)."""
    ids = {int(i) for i in contact_ids}
    if not ids:
        return set()
    stmt = (select(ContactConsent.contact_id).distinct()
            .where(ContactConsent.contact_id.in_(ids), ContactConsent.purpose == Purpose(purpose).value,
                   valid_condition(on or today()), _not_erased(ContactConsent.contact_id)))
    return set(db.session.scalars(stmt))


def require_basis(contact: Contact | int, purpose: Purpose | str) -> ContactConsent:
    """The valid basis for ``purpose``, or ``MissingBasis`` saying what to record."""
    basis = valid_basis(contact, purpose)
    if basis is None:
        raise MissingBasis(contact if isinstance(contact, int) else contact.id, Purpose(purpose))
    return basis


def may_contact(contact: Contact | int, purpose: Purpose | str) -> bool:
    """May the app use this person's data for ``purpose`` today — send them an invitation, news,
    publish their photo, pass their profile on?

    THE one place every feature that reaches out to people (event invitations, policy news, …)
    asks before doing so; for many people at once use ``valid_purposes``. ``False`` for an erased
    person, a withdrawn or expired basis, or none recorded.
    """
    return valid_basis(contact, purpose) is not None


# Recording and withdrawing -----------------------------------------------------------------

def _enum(enum, value, field: str, message):
    try:
        return enum(value)
    except ValueError:
        raise ConsentError(message, field) from None


def check(purpose, basis, source, given_on: date | None, expires_on: date | None, *,
          evidence: str | None = None, text_version: str | None = None) -> tuple[Purpose, LawfulBasis, ConsentSource]:
    """Refuse a basis that could not be valid (the forms show the same messages)."""
    purpose = _enum(Purpose, purpose, "purpose", _l("Choose a purpose from the list."))
    basis = _enum(LawfulBasis, basis, "basis", _l("Choose a lawful basis from the list."))
    source = _enum(ConsentSource, source, "source", _l("Choose where the basis comes from."))
    if given_on is None:
        raise ConsentError(_l("Give the date the person agreed or the basis began."), "given_on")
    if given_on > today():
        raise ConsentError(_l("The date cannot be in the future."), "given_on")
    if expires_on is not None:
        if expires_on < given_on:
            raise ConsentError(_l("The expiry date cannot be before the date given."), "expires_on")
        if expires_on < today():
            raise ConsentError(_l("This date has passed: the basis would already have expired. "
                                  "Record a current basis, or leave the expiry empty."), "expires_on")
    if evidence is not None and len(evidence) > 4000:
        raise ConsentError(_l("Keep the evidence note under 4,000 characters."), "evidence")
    if text_version is not None and len(text_version) > 40:
        raise ConsentError(_l("Keep the text version under 40 characters."), "text_version")
    return purpose, basis, source


def _audit(action: str, consent: ContactConsent, station: Station, actor: User | None) -> None:
    db.session.add(AuditEntry(
        actor_id=actor.id if actor is not None else None, action=action, object_type="contact",
        object_id=consent.contact_id, station_id=station.id, region_id=station.region_id,
        details={"consent_id": consent.id, "purpose": consent.purpose, "basis": consent.basis,
                 "source": consent.source},
    ))


def record(contact: Contact, purpose, basis, source, given_on: date, *, actor: User | None,
           expires_on: date | None = None, evidence: str | None = None,
           text_version: str | None = None) -> ContactConsent:
    """Record a lawful basis for ``purpose`` (``ConsentError`` if it could not be valid) and an
    audit entry. An earlier basis for the same purpose stays, as history; the newest valid one
    counts. ``actor`` is ``None`` for a public form the person filled in. Adds to the session."""
    evidence = (evidence or "").strip() or None
    text_version = (text_version or "").strip() or None
    purpose, basis, source = check(purpose, basis, source, given_on, expires_on,
                                   evidence=evidence, text_version=text_version)
    consent = ContactConsent(contact_id=contact.id, purpose=purpose.value, basis=basis.value, source=source.value,
                             given_on=given_on, expires_on=expires_on, evidence=evidence, text_version=text_version,
                             recorded_by_id=actor.id if actor is not None else None)
    db.session.add(consent)
    db.session.flush()
    _audit("consent.record", consent, _station_of(contact), actor)
    return consent


def withdraw(consent: ContactConsent, actor: User, note: str | None) -> ContactConsent:
    """Mark ``consent`` withdrawn now, by ``actor``, with ``note`` (how the person withdrew);
    ``ConsentError`` if it already was. Writes an audit entry; adds to the session."""
    if consent.withdrawn_at is not None:
        raise ConsentError(_l("This basis has already been withdrawn."))
    note = (note or "").strip() or None
    if note is not None and len(note) > 300:
        raise ConsentError(_l("Keep the note under 300 characters."), "note")
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = actor.id
    consent.withdrawal_note = note
    _audit("consent.withdraw", consent, _station_of(db.session.get(Contact, consent.contact_id)), actor)
    return consent


def _station_of(contact: Contact) -> Station:
    return db.session.get(Station, contact.station_id)  # the identity map's, when it is loaded


# Reading -----------------------------------------------------------------------------------

@dataclass
class PurposeStatus:
    """One purpose of one contact: the basis that counts now (if any) and every record of it."""

    info: PurposeInfo
    current: ContactConsent | None
    history: list[ContactConsent]
    on: date

    @property
    def state(self) -> str:
        """``valid`` / ``expiring`` (within ``EXPIRING_DAYS``) / ``expired`` / ``withdrawn`` / ``none``."""
        if self.current is not None:
            if self.current.expires_on is not None and self.current.expires_on <= self.on + timedelta(days=EXPIRING_DAYS):
                return "expiring"
            return "valid"
        if not self.history:
            return "none"
        latest = self.history[0]
        if latest.withdrawn_at is not None:
            return "withdrawn"
        if latest.given_on > self.on:
            return "future"
        return "expired"

    @property
    def latest(self) -> ContactConsent | None:
        return self.history[0] if self.history else None


def overview(contact: Contact) -> list[PurposeStatus]:
    """Every purpose with its current basis and history for ``contact`` (one query, with the
    recording and withdrawing users)."""
    from sqlalchemy.orm import selectinload

    on = today()
    rows = db.session.scalars(
        select(ContactConsent).where(ContactConsent.contact_id == contact.id)
        .options(selectinload(ContactConsent.recorded_by), selectinload(ContactConsent.withdrawn_by))
        .order_by(ContactConsent.given_on.desc(), ContactConsent.id.desc())
    ).all()
    erased = contact.erased_at is not None
    result = []
    for purpose, info in PURPOSES.items():
        history = [row for row in rows if row.purpose == purpose.value]
        current = None if erased else next((row for row in history if is_valid(row, on)), None)
        result.append(PurposeStatus(info, current, history, on))
    return result


def is_valid(consent: ContactConsent, on: date | None = None) -> bool:
    on = on or today()
    return (consent.given_on <= on and consent.withdrawn_at is None
            and (consent.expires_on is None or consent.expires_on >= on))


def expiring(user: User, within_days: int = EXPIRING_DAYS, *, on: date | None = None) -> Select:
    """Bases the user's stations should renew (scoped through ``liaison.scope``): not withdrawn,
    expiring within ``within_days`` or expired in the last ``EXPIRED_LOOKBACK_DAYS`` — unless a
    later basis for the same contact and purpose, valid today, already replaces them — of
    contacts not erased. Ordered by expiry, then id (keyset-paginable); rows are
    ``ContactConsent`` with ``contact`` (and its station) loadable."""
    on = on or today()
    newer = aliased(ContactConsent)
    replaced = exists().where(
        newer.contact_id == ContactConsent.contact_id, newer.purpose == ContactConsent.purpose,
        newer.id != ContactConsent.id, valid_condition(on, newer),
        or_(newer.expires_on.is_(None), newer.expires_on > ContactConsent.expires_on),
    )
    stmt = (select(ContactConsent).join(Contact, Contact.id == ContactConsent.contact_id)
            .where(ContactConsent.withdrawn_at.is_(None), ContactConsent.expires_on.is_not(None),
                   ContactConsent.expires_on >= on - timedelta(days=EXPIRED_LOOKBACK_DAYS),
                   ContactConsent.expires_on <= on + timedelta(days=within_days),
                   Contact.erased_at.is_(None), ~replaced))
    return scoped(stmt, Contact, user)


def expiring_count(user: User, within_days: int = EXPIRING_DAYS, cap: int = 100) -> int:
    """How many bases ``expiring`` lists, counted up to ``cap`` + 1."""
    inner = expiring(user, within_days).with_only_columns(ContactConsent.id).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(inner)) or 0
