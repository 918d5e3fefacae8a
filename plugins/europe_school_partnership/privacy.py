"""The data subject's rights for school partnerships (hooks ``liaison_personal_data``,
``liaison_erase_personal_data``, ``liaison_retention_reasons``).

A partnership is between two institutions; a contact is only linked to it (a dean, a
coordinator). An erasure unlinks the person from every partnership and replaces their name,
e-mail and phone in the partnerships' notes, next steps, timeline texts and document notes by
``[erased]`` (each such field flagged for review). The partnerships the person was linked to
are kept as retention exceptions (``institutional_record``): they are the institutions' records,
and signed documents stay with them.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from liaison.models import Contact, db

from .models import Partnership, PartnershipDocument, PartnershipEvent, partnership_contacts

REASONS = {
    "institutional_record": _l("A partnership between institutions: kept without the person's link and name"),
}


def _partnerships(contact: Contact) -> list[Partnership]:
    linked = select(partnership_contacts.c.partnership_id).where(partnership_contacts.c.contact_id == contact.id)
    return list(db.session.scalars(
        select(Partnership).where(Partnership.id.in_(linked))
        .options(selectinload(Partnership.events), selectinload(Partnership.documents)).order_by(Partnership.id)))


def personal_data(contact: Contact):
    from liaison.privacy.subject import SubjectSection, row

    records = []
    for partnership in _partnerships(contact):
        record = row(partnership, skip=("version",))
        record["timeline"] = [row(event, skip=("partnership_id",)) for event in partnership.events]
        record["documents"] = [row(document, skip=("partnership_id",)) for document in partnership.documents]
        records.append(record)
    return [SubjectSection(_l("School partnerships the person is linked to"), records)]


def erase_personal_data(contact: Contact, erasure):
    from liaison.privacy.erasure import ErasureOutcome, strip_columns, values_of

    outcome = ErasureOutcome()
    values = values_of(contact)
    for partnership in _partnerships(contact):
        outcome.exceptions.append(("partnership", partnership.id, "institutional_record"))
    db.session.execute(delete(partnership_contacts).where(partnership_contacts.c.contact_id == contact.id))
    outcome.flags.extend(strip_columns(Partnership, ("notes", "next_step"), values))
    outcome.flags.extend(strip_columns(PartnershipEvent, ("text",), values))
    outcome.flags.extend(strip_columns(PartnershipDocument, ("note", "title"), values))
    return outcome


def retention_reasons():
    return REASONS
