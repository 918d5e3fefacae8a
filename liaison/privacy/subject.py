"""The right of access (and portability): everything the app holds about one person.

``find_subjects`` finds the person within the user's scope (name in any script, organisation,
e-mail — the indexed search of ``liaison.search`` — or the exact e-mail address or phone number
through the normalised columns). ``build_report`` gathers the contact, its leads with their
timelines and files (metadata), consents, reveals and the access log about the person, erasure
requests and every installed plugin's records (hook ``liaison_personal_data``) into one
JSON-serialisable dict: section titles in both languages, values as stored. The HTML page and
the JSON download are the same dict.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..forms import normalise_phone
from ..i18n import name_order
from ..models import (
    AccessLogEntry,
    AuditEntry,
    Contact,
    ContactConsent,
    ErasureRequest,
    RevealGrant,
    Station,
    TalentLead,
    User,
    db,
    utcnow,
)
from ..scope import scoped
from ..search import contact_condition

LOCALES = ("en", "zh_Hans_CN")
MAX_RESULTS = 50
HOOK = "liaison_personal_data"


@dataclass
class SubjectSection:
    """One part of the report: a title (a lazy string: rendered in both languages) and records
    (dicts of column → value as stored)."""

    title: Any
    records: list[dict] = field(default_factory=list)
    plugin: str = "core"


def find_subjects(user: User, q: str | None) -> list[Contact]:
    """Contacts in ``user``'s scope found by name (any script), organisation, e-mail or phone."""
    q = (q or "").strip()[:200]
    if not q:
        return []
    conditions = [contact_condition(q)]
    if "@" in q:
        conditions.append(Contact.email_normalized == q.lower())
    digits = "".join(c for c in q if c.isdigit())
    if len(digits) >= 6:  # "+39 02 …", or the same without "+" (read as international)
        numbers = {normalise_phone(q, None), normalise_phone("+" + digits, None)} - {None}
        if numbers:
            conditions.append(Contact.phone_e164.in_(numbers))
    stmt = (scoped(select(Contact), Contact, user).where(or_(*conditions))
            .options(selectinload(Contact.station)).order_by(*name_order(Contact)).limit(MAX_RESULTS))
    return list(db.session.scalars(stmt))


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def row(record: Any, *, skip: tuple[str, ...] = ()) -> dict:
    """Every mapped column of ``record`` (plugins may use it for their sections)."""
    return {column.key: _plain(getattr(record, column.key)) for column in record.__mapper__.column_attrs
            if column.key not in skip}


# Fixed texts of the report, given in both languages (the person may read either).
LABELS = {
    "title": _l("Subject access report"),
    "contact": _l("The person's record"),
    "nothing": _l("Nothing held."),
}

# The contact's fields a report shows (for the access log's entry).
REPORTED_FIELDS = ("contacts.name", "contacts.name_zh", "contacts.name_original", "contacts.email", "contacts.phone",
                   "contacts.messaging", "contacts.notes")

INTERNAL = ("search_text", "sort_key", "submission_token", "version")


def _titles(title: Any) -> dict[str, str]:
    titles = {}
    for locale in LOCALES:
        with force_locale(locale):
            titles[locale[:2]] = str(title)
    return titles


def _names(ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def core_sections(contact: Contact) -> list[SubjectSection]:
    leads = db.session.scalars(select(TalentLead).where(TalentLead.contact_id == contact.id)
                               .options(selectinload(TalentLead.events), selectinload(TalentLead.attachments))
                               .order_by(TalentLead.id)).all()
    consents = db.session.scalars(select(ContactConsent).where(ContactConsent.contact_id == contact.id)
                                  .order_by(ContactConsent.id)).all()
    reveals = db.session.scalars(select(RevealGrant).where(RevealGrant.contact_id == contact.id)
                                 .order_by(RevealGrant.id)).all()
    accesses = db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.contact_id == contact.id)
                                  .options(selectinload(AccessLogEntry.fields)).order_by(AccessLogEntry.id)).all()
    erasures = db.session.scalars(select(ErasureRequest).where(ErasureRequest.contact_id == contact.id)
                                  .order_by(ErasureRequest.id)).all()
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "contact",
                                                         AuditEntry.object_id == contact.id)
                                .order_by(AuditEntry.id)).all()
    user_ids = {contact.created_by_id, contact.updated_by_id}
    user_ids |= {lead.submitter_id for lead in leads} | {lead.reviewer_id for lead in leads}
    user_ids |= {event.actor_id for lead in leads for event in lead.events}
    user_ids |= {c.recorded_by_id for c in consents} | {c.withdrawn_by_id for c in consents}
    user_ids |= {r.user_id for r in reveals} | {a.user_id for a in accesses}
    user_ids |= {e.requested_by_id for e in erasures} | {e.decided_by_id for e in erasures}
    names = _names(user_ids)

    def who(user_id):
        return names.get(user_id) if user_id else None

    lead_records = []
    for lead in leads:
        record = row(lead, skip=INTERNAL)
        record["submitter"], record["reviewer"] = who(lead.submitter_id), who(lead.reviewer_id)
        record["timeline"] = [{**row(event, skip=("lead_id",)), "actor": who(event.actor_id)} for event in lead.events]
        record["attachments"] = [row(a, skip=("storage_key",)) for a in lead.attachments]
        lead_records.append(record)
    return [
        SubjectSection(_l("Talent leads, their timelines and files"), lead_records),
        SubjectSection(_l("Lawful basis and consent"), [
            {**row(c), "recorded_by": who(c.recorded_by_id), "withdrawn_by": who(c.withdrawn_by_id)}
            for c in consents]),
        SubjectSection(_l("Reveals of masked data"), [{**row(r), "user": who(r.user_id)} for r in reveals]),
        SubjectSection(_l("Access log"), [
            {**row(a), "user": who(a.user_id), "fields": [f.field for f in a.fields]} for a in accesses]),
        SubjectSection(_l("Erasure requests"), [
            {**row(e, skip=("version",)), "requested_by": who(e.requested_by_id), "decided_by": who(e.decided_by_id)}
            for e in erasures]),
        SubjectSection(_l("Audit log"), [row(a) for a in audits]),
    ]


def plugin_sections(contact: Contact) -> list[SubjectSection]:
    """Every installed plugin's sections (switched on or not: the data is held either way)."""
    from ..plugins.manager import host

    sections = []
    for plugin, result in host().call(HOOK, active=None, contact=contact):
        for section in result or ():
            if isinstance(section, SubjectSection):
                if section.plugin == "core":
                    section.plugin = plugin
                sections.append(section)
    return sections


def build_report(contact: Contact, user: User) -> dict:
    """The whole report as a JSON-serialisable dict (``contact.station`` need not be loaded)."""
    station = db.session.get(Station, contact.station_id)
    sections = [*core_sections(contact), *plugin_sections(contact)]
    return {
        "generated_at": utcnow().isoformat(),
        "generated_by": user.name,
        "controller": {"station": station.name, "station_zh": station.name_zh,
                       "host_organisation": station.host_organisation},
        "contact": {**row(contact, skip=INTERNAL)},
        "labels": {key: _titles(label) for key, label in LABELS.items()},
        "sections": [{"title": _titles(s.title), "plugin": s.plugin, "records": _plain(s.records)}
                     for s in sections],
    }
