"""The right to erasure: a request, a second person's approval, and the erasure itself.

* ``request`` — by whoever acts for the contact's station (its volunteers, the region's admins,
  admins), with a reason. ``approve``/``reject`` — by an admin or an admin of the station's
  region who is **not** the requester (two people). ``cancel`` — by the requester.
* ``erase`` (called by ``approve``) runs in **one transaction**: the plugins first (hook
  ``liaison_erase_personal_data``, strict: a failing plugin rolls the whole erasure back), then
  the core:

  - the contact's own leads: never deleted (report figures keep their counts); a lead that did
    not land loses its personal text (summary → ``[erased]``, wants/offer/landing note emptied,
    timeline texts ``[erased]``) and its attached files (rows and files); a **landed** lead is a
    retention exception (``landed_lead``): its figures, files and texts are kept, with the
    person's identifying values replaced by ``[erased]`` and each such field flagged;
  - every free-text column of the core that names the person (any lead, lead timeline, file
    name, other contacts' notes, consent evidence, reveal and access-log notes, erasure
    reasons, the audit log's details) gets the values replaced by ``[erased]`` and an
    ``ErasureFlag`` so that someone reads it again (the name may be implied elsewhere);
  - the contact is anonymised: name → "Erased person #<id>", every other personal column (per
    ``liaison.privacy.classification``) emptied, ``erased_at`` set; the search text and keys
    are rebuilt by the ORM events (``liaison.search``); its consents are withdrawn;
  - the access log gets an ``erasure`` entry naming the fields, never their values;
  - the API's stored answers to ``Idempotency-Key`` requests that show the person are deleted
    (``liaison.api.common.forget_contact``).

* ``anonymise_contact`` is a system erasure (no approval; used by the retention rules).
* ``reapply_all`` re-applies every erasure after a backup is restored: from the database's own
  ``erasure_requests`` and from the **erasure ledger**, a file outside the database (ids and
  dates only) that survives a restore of an older copy (``flask --app liaison privacy
  reapply-erasures``).
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import selectinload

from ..concurrency import commit_or_conflict
from ..models import (
    AccessAction,
    AuditEntry,
    Contact,
    ContactConsent,
    ErasureFlag,
    ErasureRequest,
    ErasureStatus,
    LeadAttachment,
    LeadEvent,
    LeadStatus,
    RetentionException,
    RevealGrant,
    Station,
    TalentLead,
    User,
    db,
    utcnow,
)
from ..models.privacy import AccessLogEntry
from ..search import escape_like

log = logging.getLogger(__name__)

PLACEHOLDER = "[erased]"
ERASED_NAME = "Erased person #{id}"
HOOK = "liaison_erase_personal_data"

# The contact's columns an erasure keeps: keys, bookkeeping (the sort key and search text are
# recomputed from the new name) and what the report figures count contacts by — kind and country
# (``liaison.reports.figures.contacts_by``), which identify nobody on their own. Everything else
# the classification calls personal is emptied.
KEPT_CONTACT_COLUMNS = frozenset({
    "id", "station_id", "kind", "country", "sort_key", "search_text", "submission_token",
    "created_by_id", "updated_by_id", "created_at", "updated_at", "erased_at", "name",
})
# Until ``liaison.privacy.classification`` answers: the contact's personal columns.
FALLBACK_CONTACT_COLUMNS = (
    "name", "name_zh", "name_original", "organisation", "position", "city", "email", "email_normalized",
    "phone", "phone_e164", "messaging", "languages", "tags", "notes",
)
# The values of an erased person that are searched for (and replaced) in free text.
VALUE_COLUMNS = ("name", "name_zh", "name_original", "email", "phone", "phone_e164", "messaging")
MIN_VALUE = 2  # characters: a two-character Chinese name is a name ...
MIN_ASCII_VALUE = 4  # ... but "An" or "Li" alone would match half the database

RETENTION_REASONS = {
    "landed_lead": _l("A landed lead: its figures are part of HQ's reports"),
    "landed_lead_document": _l("A file of a landed lead"),
    "consent_record": _l("Proof of the lawful basis while the data was held"),
}


# How the erasure pages name the tables whose free text named the person.
TABLE_LABELS = {
    "leads": _l("Talent leads"),
    "lead_events": _l("Lead timelines"),
    "lead_attachments": _l("File names"),
    "contacts": _l("Other contacts' notes"),
    "contact_consents": _l("Consent evidence"),
    "privacy_reveals": _l("Reveal notes"),
    "privacy_access_log": _l("Access-log notes"),
    "erasure_requests": _l("Erasure requests"),
    "audit_log": _l("Audit log"),
    "stations": _l("Stations"),
}


def table_label(table: str) -> str:
    """A table's name as the erasure pages show it (a plugin's table: its own name)."""
    label = TABLE_LABELS.get(table)
    return str(label) if label is not None else table


class ErasureRefused(Exception):
    """Not allowed or not possible; ``message`` says why, in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class PluginErasureFailed(ErasureRefused):
    """A plugin could not erase its records: nothing was erased."""


@dataclass
class ErasureOutcome:
    """What an erasure kept (``exceptions``: record type, id, reason code) and which free-text
    fields it changed and flagged for review (``flags``: table, record id, column)."""

    exceptions: list[tuple[str, int, str]] = field(default_factory=list)
    flags: list[tuple[str, int, str]] = field(default_factory=list)

    def extend(self, other: ErasureOutcome | None) -> None:
        if other is not None:
            self.exceptions.extend(other.exceptions)
            self.flags.extend(other.flags)


# Who may do what --------------------------------------------------------------------------

def _administers(user: User, station: Station) -> bool:
    from ..permissions import administers_region

    return administers_region(user, station.region_id)


def may_request(user: User, station: Station) -> bool:
    """The station's volunteers, the region's admins, admins (also for a suspended or closed
    station: a person's right does not lapse with the station). Not HQ reviewers."""
    from ..scope import member_station_ids

    if user.is_volunteer:
        return station.id in member_station_ids(user)
    return _administers(user, station)


def may_decide(user: User, erasure: ErasureRequest, station: Station) -> bool:
    """An admin or an admin of the station's region — who did not ask for it."""
    return _administers(user, station) and erasure.requested_by_id != user.id


def may_cancel(user: User, erasure: ErasureRequest) -> bool:
    return erasure.requested_by_id == user.id


def may_review_flags(user: User, station: Station) -> bool:
    return may_request(user, station)


# Requests and decisions -------------------------------------------------------------------

def open_request(contact_id: int) -> ErasureRequest | None:
    return db.session.scalar(select(ErasureRequest).where(
        ErasureRequest.contact_id == contact_id, ErasureRequest.status == ErasureStatus.REQUESTED))


def request(contact: Contact, actor: User, reason: str) -> ErasureRequest:
    """Ask for ``contact`` to be erased (committed). ``contact.station`` must be loaded."""
    if not may_request(actor, contact.station):
        raise ErasureRefused(_l("You cannot ask for this person's data to be erased."))
    if contact.erased_at is not None:
        raise ErasureRefused(_l("This person's data has already been erased."))
    if open_request(contact.id) is not None:
        raise ErasureRefused(_l("An erasure of this person is already awaiting approval."))
    erasure = ErasureRequest(contact_id=contact.id, station_id=contact.station_id, reason=(reason or "").strip(),
                             requested_by_id=actor.id, status=ErasureStatus.REQUESTED)
    db.session.add(erasure)
    db.session.commit()
    return erasure


def _check_open(erasure: ErasureRequest) -> None:
    if erasure.status != ErasureStatus.REQUESTED:
        raise ErasureRefused(_l("This request has already been decided (%(status)s).",
                                status=ErasureStatus.label_of(erasure.status)))


def approve(erasure: ErasureRequest, approver: User, note: str | None = None,
            expected_version: int | None = None) -> ErasureOutcome:
    """Approve and erase, in one transaction; refused (``ErasureRefused``) for the requester and
    for anyone but an admin or an admin of the station's region."""
    station = db.session.get(Station, erasure.station_id)
    if erasure.requested_by_id == approver.id:
        raise ErasureRefused(_l("You asked for this erasure: another person (an admin or an admin of the "
                                "region) must approve it."))
    if not may_decide(approver, erasure, station):
        raise ErasureRefused(_l("Only an admin or an admin of the station's region can approve an erasure."))
    _check_open(erasure)
    with commit_or_conflict(erasure, expected_version, undo_on=(Exception,)):
        erasure.decided_by_id = approver.id
        erasure.decided_at = utcnow()
        erasure.decision_note = (note or "").strip() or None
        outcome, paths = _erase(erasure, approver)
    _after_commit(erasure, paths)
    return outcome


def reject(erasure: ErasureRequest, approver: User, note: str, expected_version: int | None = None) -> None:
    station = db.session.get(Station, erasure.station_id)
    if erasure.requested_by_id == approver.id:
        raise ErasureRefused(_l("You asked for this erasure: another person must decide on it."))
    if not may_decide(approver, erasure, station):
        raise ErasureRefused(_l("Only an admin or an admin of the station's region can reject an erasure."))
    _check_open(erasure)
    with commit_or_conflict(erasure, expected_version):
        erasure.status = ErasureStatus.REJECTED
        erasure.decided_by_id = approver.id
        erasure.decided_at = utcnow()
        erasure.decision_note = note.strip()


def cancel(erasure: ErasureRequest, actor: User, expected_version: int | None = None) -> None:
    if not may_cancel(actor, erasure):
        raise ErasureRefused(_l("Only the person who asked for the erasure can cancel it."))
    _check_open(erasure)
    with commit_or_conflict(erasure, expected_version):
        erasure.status = ErasureStatus.CANCELLED
        erasure.decided_by_id = actor.id
        erasure.decided_at = utcnow()


def resolve_flag(flag: ErasureFlag, user: User) -> None:
    if flag.resolved_at is None:
        flag.resolved_at = utcnow()
        flag.resolved_by_id = user.id
        db.session.commit()


def anonymise_contact(contact: Contact, *, actor: User | None, reason_code: str) -> ErasureRequest:
    """A system erasure (the retention rules): done at once, no approval, committed (a failing
    plugin rolls it back and raises); ``reason_code`` is stored as the request's reason (e.g.
    ``retention:inactive_contact``)."""
    erasure = ErasureRequest(contact_id=contact.id, station_id=contact.station_id, reason=reason_code,
                             requested_by_id=actor.id if actor else None, status=ErasureStatus.REQUESTED,
                             decided_by_id=actor.id if actor else None, decided_at=utcnow())
    db.session.add(erasure)
    with commit_or_conflict(undo_on=(Exception,)):
        db.session.flush()
        _, paths = _erase(erasure, actor)
    _after_commit(erasure, paths)
    return erasure


def erase(erasure: ErasureRequest, actor: User | None = None) -> ErasureOutcome:
    """Erase the request's contact now (committed); ``approve`` is the normal way in."""
    with commit_or_conflict(undo_on=(Exception,)):
        outcome, paths = _erase(erasure, actor)
    _after_commit(erasure, paths)
    return outcome


# The erasure itself ----------------------------------------------------------------------

def contact_columns() -> list[str]:
    """The contact's columns an erasure empties (the name is replaced, never emptied)."""
    try:
        from . import classification

        personal = list(classification.personal_columns("contacts"))
    except (ImportError, AttributeError):
        personal = list(FALLBACK_CONTACT_COLUMNS)
    return [c for c in personal if c not in KEPT_CONTACT_COLUMNS]


def values_of(contact: Contact) -> list[str]:
    """The person's identifying values, longest first: what free text must no longer contain.
    Plugins use it (and ``scrub``/``strip_columns``) in their erase hook."""
    values: dict[str, None] = {}
    for column in VALUE_COLUMNS:
        value = (getattr(contact, column, None) or "").strip()
        shortest = MIN_ASCII_VALUE if value.isascii() else MIN_VALUE
        if len(value) >= shortest and not value.startswith("Erased person #"):
            values[value] = None
            digits = re.sub(r"\D", "", value) if column.startswith("phone") else ""
            if len(digits) >= 6:
                values[digits] = None
    return sorted(values, key=len, reverse=True)


def _ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _pattern(values: Sequence[str]) -> re.Pattern | None:
    """One regex for all values, any case. A value starting (ending) with a Latin letter or digit
    must not continue a word there: "Milan" does not contain the name "An", "milan@x.org" not
    the address "an@x.org". Chinese names have no word boundaries and match anywhere."""
    if not values:
        return None
    parts = []
    for value in values:
        part = re.escape(value)
        if _ascii_alnum(value[0]):
            part = r"(?<![A-Za-z0-9])" + part
        if _ascii_alnum(value[-1]):
            part += r"(?![A-Za-z0-9])"
        parts.append(part)
    return re.compile("|".join(parts), re.IGNORECASE)


def scrub(text: str | None, values: Sequence[str]) -> str | None:
    """``text`` with every occurrence of ``values`` (any case) replaced by ``[erased]``."""
    pattern = _pattern(values)
    if text is None or pattern is None:
        return text
    return pattern.sub(PLACEHOLDER, text)


def scrub_json(data: Any, values: Sequence[str]) -> Any:
    if isinstance(data, str):
        return scrub(data, values)
    if isinstance(data, list):
        return [scrub_json(item, values) for item in data]
    if isinstance(data, dict):
        return {key: scrub_json(item, values) for key, item in data.items()}
    return data


def _like_any(columns, values: Sequence[str], *, as_json: bool = False):
    terms = []
    for value in values:
        forms = {value}
        if as_json:  # JSON stores non-ASCII text escaped ("\u962e…")
            forms.add(json.dumps(value)[1:-1])
        for form in forms:
            pattern = f"%{escape_like(form)}%"
            terms.extend(column.ilike(pattern, escape="\\") for column in columns)
    return or_(*terms)


def strip_columns(model: Any, columns: Sequence[str], values: Sequence[str], *, where: Iterable = (),
                  table: str | None = None) -> list[tuple[str, int, str]]:
    """Replace ``values`` in ``columns`` of every row of ``model`` that contains one (through
    the ORM, so search texts follow); returns the flags ``(table, id, column)`` it made."""
    if not values:
        return []
    table = table or model.__tablename__
    stmt = select(model).where(_like_any([getattr(model, c) for c in columns], values), *where)
    flags = []
    for record in db.session.scalars(stmt.order_by(model.id)):
        for column in columns:
            before = getattr(record, column)
            after = scrub(before, values)
            if after != before:
                setattr(record, column, after)
                flags.append((table, record.id, column))
    return flags


# Core free-text columns searched for the person's values when the classification is not
# available (``liaison.privacy.classification.text_columns_of_people`` is the normal source).
CORE_TEXT_COLUMNS = (
    (TalentLead, ("summary", "wants", "offer", "landing_note", "referral_target", "field")),
    (LeadEvent, ("text",)),
    (LeadAttachment, ("filename",)),
    (Contact, ("notes",)),
    (ContactConsent, ("evidence", "withdrawal_note")),
    (RevealGrant, ("note",)),
    (AccessLogEntry, ("note",)),
    (ErasureRequest, ("reason", "decision_note")),
    (AuditEntry, ("details",)),
)
# Personal text columns never scanned: identities (a namesake is another person), computed
# search columns (rebuilt by the ORM from the columns they fold) and the staff's accounts.
NOT_SCANNED = frozenset({
    "contacts.name", "contacts.name_zh", "contacts.name_original", "contacts.email", "contacts.email_normalized",
    "contacts.phone", "contacts.phone_e164", "contacts.messaging", "contacts.sort_key", "contacts.search_text",
    "contacts.organisation", "contacts.position", "contacts.field", "contacts.country", "contacts.city",
    "contacts.languages", "contacts.tags", "contact_search_keys.key", "leads.search_text",
})


def _mapped_classes() -> dict[str, Any]:
    return {mapper.local_table.name: mapper.class_ for mapper in db.Model.registry.mappers
            if getattr(mapper, "local_table", None) is not None and not mapper.inherits}


def scan_targets() -> list[tuple[str, list[str]]]:
    """``(table, [columns])`` of every free-text column an erasure searches for the person's
    values: the classification's personal text columns (core and plugins) but identities."""
    try:
        from .classification import text_columns_of_people

        pairs = text_columns_of_people()
    except (ImportError, AttributeError):
        pairs = [(model.__tablename__, column) for model, columns in CORE_TEXT_COLUMNS for column in columns]
    targets: dict[str, list[str]] = {}
    for table, column in pairs:
        if f"{table}.{column}" not in NOT_SCANNED and not table.startswith("users"):
            targets.setdefault(table, []).append(column)
    return list(targets.items())


def _strip_table(table_name: str, columns: list[str], values: Sequence[str], contact_id: int,
                 ) -> list[tuple[str, int, str]]:
    """Replace ``values`` in ``columns`` of ``table_name`` (through the ORM when the table is
    mapped, so that computed search columns follow); returns the flags it made."""
    from sqlalchemy import JSON

    table = db.metadata.tables.get(table_name)
    if table is None or not values:
        return []
    pk = list(table.primary_key.columns)
    is_json = {c: isinstance(table.c[c].type, JSON) for c in columns}
    text_columns = [table.c[c] for c in columns if not is_json[c]]
    json_columns = [cast(table.c[c], Text) for c in columns if is_json[c]]
    conditions = []
    if text_columns:
        conditions.append(_like_any(text_columns, values))
    if json_columns:
        conditions.append(_like_any(json_columns, values, as_json=True))
    where = [or_(*conditions)]
    if table_name == "contacts":
        where.append(table.c.id != contact_id)

    def clean(column, value):
        return scrub_json(value, values) if is_json[column] else scrub(value, values)

    flags = []
    model = _mapped_classes().get(table_name)
    if model is not None and len(pk) == 1:
        for record in db.session.scalars(select(model).where(*where).order_by(getattr(model, pk[0].key))):
            for column in columns:
                before = getattr(record, column)
                after = clean(column, before)
                if after != before:
                    setattr(record, column, after)
                    flags.append((table_name, getattr(record, pk[0].key), column))
        return flags
    for row in db.session.execute(select(*pk, *(table.c[c] for c in columns)).where(*where)).mappings():
        changes = {c: clean(c, row[c]) for c in columns if clean(c, row[c]) != row[c]}
        if changes:
            db.session.execute(table.update().where(*(k == row[k.name] for k in pk)).values(**changes))
            if len(pk) == 1 and isinstance(row[pk[0].name], int):
                flags.extend((table_name, row[pk[0].name], c) for c in changes)
    return flags


def _plugin_outcomes(contact: Contact, erasure: ErasureRequest) -> list[tuple[str, ErasureOutcome]]:
    """Every installed plugin's erase hook; the first failure aborts (the caller rolls back)."""
    from ..plugins.manager import host

    plugin_host = host()
    outcomes = []
    for name in list(plugin_host.plugins):
        if HOOK not in plugin_host.implemented_hooks(name):
            continue
        failed, results = plugin_host.call_one(HOOK, name, contact=contact, erasure=erasure)
        if failed:
            errors = [e for e in plugin_host.recent_errors if e.plugin == name and e.hook == HOOK]
            detail = errors[-1].error if errors else ""
            from ..models.audit import plugin_title

            raise PluginErasureFailed(_l("The plugin “%(plugin)s” could not erase its records, so nothing was "
                                         "erased: %(error)s", plugin=plugin_title(name), error=detail))
        for result in results:
            if isinstance(result, ErasureOutcome):
                outcomes.append((name, result))
    return outcomes


def _erase(erasure: ErasureRequest, actor: User | None) -> tuple[ErasureOutcome, list[Path]]:
    """Everything ``erase`` does, inside the caller's transaction (nothing committed here)."""
    from ..leads import files

    contact = db.session.get(Contact, erasure.contact_id)
    values = values_of(contact)
    plugin_exceptions: list[tuple[str, str, int, str]] = []
    outcome = ErasureOutcome()
    for plugin, result in _plugin_outcomes(contact, erasure):
        plugin_exceptions.extend((plugin, *exception) for exception in result.exceptions)
        outcome.flags.extend(result.flags)

    # The contact's own leads.
    leads = db.session.scalars(select(TalentLead).where(TalentLead.contact_id == contact.id)
                               .options(selectinload(TalentLead.attachments), selectinload(TalentLead.events))
                               .order_by(TalentLead.id)).all()
    paths: list[Path] = []
    for lead in leads:
        if lead.status == LeadStatus.LANDED:
            outcome.exceptions.append(("lead", lead.id, "landed_lead"))
            outcome.exceptions.extend(("lead_attachment", a.id, "landed_lead_document") for a in lead.attachments)
            continue  # its texts are stripped below, like every other free text
        if lead.summary != PLACEHOLDER:
            lead.summary = PLACEHOLDER
        lead.wants = lead.offer = lead.landing_note = lead.field = None
        for event in lead.events:
            if event.text:
                event.text = PLACEHOLDER
        for attachment in list(lead.attachments):
            path = files.path_of(attachment.storage_key)
            if path is not None:
                paths.append(path)
            db.session.delete(attachment)

    # The consents: withdrawn (no basis remains), kept as the proof of a past lawful basis.
    for consent in db.session.scalars(select(ContactConsent).where(ContactConsent.contact_id == contact.id)
                                      .order_by(ContactConsent.id)):
        if consent.withdrawn_at is None:
            consent.withdrawn_at = utcnow()
            consent.withdrawn_by_id = actor.id if actor else None
        outcome.exceptions.append(("contact_consent", consent.id, "consent_record"))

    # The API's stored answers to Idempotency-Key requests that show the person (a created
    # contact's fields, a lead's contact): deleted, not scrubbed — they are only a replay cache.
    from ..api.common import forget_contact

    forget_contact(contact.id, values)

    # Every free text that names the person.
    db.session.flush()
    for table_name, columns in scan_targets():
        outcome.flags.extend(_strip_table(table_name, columns, values, contact.id))

    # The contact itself.
    erased_fields = []
    for column in contact_columns():
        if getattr(contact, column) is not None:
            erased_fields.append(f"contacts.{column}")
            setattr(contact, column, None)
    if contact.name != ERASED_NAME.format(id=contact.id):
        erased_fields.insert(0, "contacts.name")
        contact.name = ERASED_NAME.format(id=contact.id)
    contact.erased_at = contact.erased_at or utcnow()
    if actor is not None:
        contact.updated_by_id = actor.id

    erasure.status = ErasureStatus.DONE
    erasure.completed_at = erasure.completed_at or utcnow()
    _record(erasure, outcome, plugin_exceptions)
    _log(actor, contact, erased_fields)
    db.session.flush()
    return outcome, paths


def _record(erasure: ErasureRequest, outcome: ErasureOutcome, plugin_exceptions) -> None:
    """Store the exceptions and flags, once each (a re-applied erasure adds no duplicates)."""
    existing_exceptions = set(db.session.execute(
        select(RetentionException.plugin, RetentionException.record_type, RetentionException.record_id,
               RetentionException.reason).where(RetentionException.erasure_id == erasure.id)).all())
    existing_flags = set(db.session.execute(
        select(ErasureFlag.table_name, ErasureFlag.record_id, ErasureFlag.column_name)
        .where(ErasureFlag.erasure_id == erasure.id)).all())
    wanted = [("core", *e) for e in outcome.exceptions] + list(plugin_exceptions)
    for plugin, record_type, record_id, reason in dict.fromkeys(wanted):
        if (plugin, record_type, record_id, reason) not in existing_exceptions:
            db.session.add(RetentionException(erasure_id=erasure.id, plugin=plugin, record_type=record_type,
                                              record_id=record_id, reason=reason))
    for table, record_id, column in dict.fromkeys(outcome.flags):
        if (table, record_id, column) not in existing_flags:
            db.session.add(ErasureFlag(erasure_id=erasure.id, table_name=table, record_id=record_id,
                                       column_name=column))


def _log(actor: User | None, contact: Contact, fields: list[str]) -> None:
    """The access log's ``erasure`` entry: which fields, never their values."""
    from .masking import log_access

    log_access(actor, AccessAction.ERASURE, contact=contact, station_id=contact.station_id, fields=fields)


def _after_commit(erasure: ErasureRequest, paths: list[Path]) -> None:
    from ..leads import files

    files.discard(paths)
    _append_ledger(erasure)


# The ledger and re-applying after a restore ------------------------------------------------

def ledger_path() -> Path:
    """``PRIVACY_ERASURE_LEDGER``, else ``erasure-ledger.jsonl`` beside the attachments folder
    (``instance/`` by default): outside the database, so a restored backup cannot roll it back."""
    configured = current_app.config.get("PRIVACY_ERASURE_LEDGER")
    if configured:
        return Path(configured)
    from ..leads.files import attachments_dir

    return attachments_dir().parent / "erasure-ledger.jsonl"


def _append_ledger(erasure: ErasureRequest) -> None:
    contact = db.session.get(Contact, erasure.contact_id)
    line = {"erasure_id": erasure.id, "contact_id": erasure.contact_id, "station_id": erasure.station_id,
            "contact_created_at": contact.created_at.isoformat() if contact and contact.created_at else None,
            "completed_at": (erasure.completed_at or utcnow()).isoformat()}
    path = ledger_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
    except OSError:
        log.exception("could not write the erasure ledger %s (erasure %s)", path, erasure.id)


def _ledger() -> list[dict]:
    path = ledger_path()
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


def _needs_erasing(contact: Contact) -> bool:
    return (contact.erased_at is None or contact.name != ERASED_NAME.format(id=contact.id)
            or any(getattr(contact, c) is not None for c in contact_columns()))


def _same_contact(contact: Contact, created_at: str | None) -> bool:
    """A restored database may reuse an id for another person: compare creation times."""
    if not created_at or contact.created_at is None:
        return True
    return abs((contact.created_at - datetime.fromisoformat(created_at)).total_seconds()) < 1


def reapply_all() -> list[int]:
    """Re-apply every completed erasure whose contact holds personal data again (after a
    restore); idempotent. Returns the ids of the contacts erased again."""
    done = db.session.scalars(select(ErasureRequest).where(ErasureRequest.status == ErasureStatus.DONE)
                              .order_by(ErasureRequest.id)).all()
    known = {erasure.contact_id for erasure in done}
    todo = list(done)
    for entry in _ledger():
        contact_id = entry.get("contact_id")
        if not isinstance(contact_id, int) or contact_id in known:
            continue
        contact = db.session.get(Contact, contact_id)
        if contact is None or not _same_contact(contact, entry.get("contact_created_at")):
            continue
        erasure = ErasureRequest(contact_id=contact.id, station_id=contact.station_id,
                                 reason="reapplied:ledger", status=ErasureStatus.DONE, completed_at=utcnow(),
                                 decided_at=utcnow())
        db.session.add(erasure)
        db.session.flush()
        known.add(contact_id)
        todo.append(erasure)
    erased = []
    for erasure in todo:
        contact = db.session.get(Contact, erasure.contact_id)
        if contact is None or not _needs_erasing(contact):
            continue
        with commit_or_conflict(undo_on=(Exception,)):
            _, paths = _erase(erasure, None)
            erasure.reapplied_at = utcnow()
        from ..leads import files

        files.discard(paths)
        erased.append(contact.id)
    db.session.commit()
    return erased


def mentions(contact: Contact) -> dict[str, int]:
    """How many records of each table name the person in free text (the preview; read only)."""
    from sqlalchemy import JSON, func

    values = values_of(contact)
    counts: dict[str, int] = {}
    if not values:
        return counts
    for table_name, columns in scan_targets():
        table = db.metadata.tables.get(table_name)
        if table is None:
            continue
        conditions = [_like_any([cast(table.c[c], Text)], values, as_json=True) if isinstance(table.c[c].type, JSON)
                      else _like_any([table.c[c]], values) for c in columns]
        stmt = select(func.count()).select_from(table).where(or_(*conditions))
        if table_name == "contacts":
            stmt = stmt.where(table.c.id != contact.id)
        elif table_name == "leads":
            stmt = stmt.where(table.c.contact_id != contact.id)
        number = db.session.scalar(stmt) or 0
        if number:
            counts[table_name] = number
    return counts


# Command line ------------------------------------------------------------------------------

import click  # noqa: E402
from flask.cli import with_appcontext  # noqa: E402


@click.group("privacy")
def privacy_cli():
    """Personal-data protection."""


@privacy_cli.command("reapply-erasures")
@with_appcontext
def reapply_erasures_command():
    """Re-apply every erasure after a backup was restored (idempotent: run it after every restore)."""
    erased = reapply_all()
    if erased:
        click.echo(f"Erasure re-applied to {len(erased)} contact(s): " + ", ".join(f"#{i}" for i in erased))
    else:
        click.echo("Every erasure is in place: nothing to re-apply.")
