"""The data subject's rights in the alliance (hooks ``liaison_personal_data``,
``liaison_erase_personal_data``, ``liaison_retention_reasons``).

Members are institutions; a contact is only linked to a member as one of its contact persons. An
erasure unlinks the person from every member and replaces their name, e-mail and phone in the
members' notes, renewals' notes and the agreements' notes and timeline texts by ``[erased]``
(each such field flagged for review). The members are kept as retention exceptions
(``institutional_record``). Merging contacts needs nothing of the plugin: the core moves the
rows of ``skills_alliance_member_contacts`` (a foreign key to ``contacts.id``) itself.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from liaison.models import Contact, db

from .models import Agreement, AgreementEvent, Member, Renewal, member_contacts

REASONS = {
    "institutional_record": _l("A member institution of the alliance: kept without the person's link and name"),
}


def _members(contact: Contact) -> list[Member]:
    linked = select(member_contacts.c.member_id).where(member_contacts.c.contact_id == contact.id)
    return list(db.session.scalars(select(Member).where(Member.id.in_(linked))
                                   .options(selectinload(Member.renewals)).order_by(Member.id)))


def personal_data(contact: Contact):
    from liaison.privacy.subject import SubjectSection, row

    records = []
    for member in _members(contact):
        record = row(member)
        record["renewals"] = [row(renewal, skip=("member_id",)) for renewal in member.renewals]
        records.append(record)
    return [SubjectSection(_l("Alliance members the person is a contact person of"), records)]


def erase_personal_data(contact: Contact, erasure):
    from liaison.privacy.erasure import ErasureOutcome, strip_columns, values_of

    outcome = ErasureOutcome()
    values = values_of(contact)
    for member in _members(contact):
        outcome.exceptions.append(("alliance_member", member.id, "institutional_record"))
    db.session.execute(delete(member_contacts).where(member_contacts.c.contact_id == contact.id))
    outcome.flags.extend(strip_columns(Member, ("notes",), values))
    outcome.flags.extend(strip_columns(Renewal, ("note",), values))
    outcome.flags.extend(strip_columns(Agreement, ("notes",), values))
    outcome.flags.extend(strip_columns(AgreementEvent, ("text",), values))
    return outcome


def retention_reasons():
    return REASONS
