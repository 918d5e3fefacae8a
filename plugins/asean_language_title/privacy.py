"""The data subject's rights for title applications (hooks ``liaison_personal_data``,
``liaison_erase_personal_data``, ``liaison_retention_reasons``).

An erasure empties what describes the translator's career (education, credentials,
representative works, the reason for the route, the certificate number, the timeline's texts)
and keeps each application's row — language, level, route, status, dates — so that the
plugin's statistics do not change: a certified (passed) application as the retention exception
``certified_title``, any other as ``title_statistics``. Other applications whose texts name the
person get the values replaced and flagged.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from liaison.models import Contact, db

from .choices import Status
from .models import TitleApplication, TitleEvent

REASONS = {
    "certified_title": _l("A certified title: language, level, route and status are kept for the title statistics"),
    "title_statistics": _l("A title application: language, level, route and status are kept for the statistics"),
}
ERASED_TEXT = ("education", "credentials", "representative_works", "route_reason", "certificate_number")


def _applications(contact: Contact) -> list[TitleApplication]:
    return list(db.session.scalars(
        select(TitleApplication).where(TitleApplication.contact_id == contact.id)
        .options(selectinload(TitleApplication.events)).order_by(TitleApplication.id)))


def personal_data(contact: Contact):
    from liaison.privacy.subject import SubjectSection, row

    records = []
    for application in _applications(contact):
        record = row(application, skip=("submission_token", "version"))
        record["timeline"] = [row(event, skip=("application_id",)) for event in application.events]
        records.append(record)
    return [SubjectSection(_l("Translator title applications"), records)]


def erase_personal_data(contact: Contact, erasure):
    from liaison.privacy.erasure import PLACEHOLDER, ErasureOutcome, strip_columns, values_of

    outcome = ErasureOutcome()
    values = values_of(contact)
    for application in _applications(contact):
        for column in ERASED_TEXT:
            setattr(application, column, None)
        for event in application.events:
            if event.text:
                event.text = PLACEHOLDER
            if event.details:
                event.details = None
        reason = "certified_title" if application.status == Status.PASSED else "title_statistics"
        outcome.exceptions.append(("title_application", application.id, reason))
    db.session.flush()
    # Other people's applications that name this person.
    outcome.flags.extend(strip_columns(TitleApplication, ("education", "credentials", "representative_works",
                                                          "route_reason"), values,
                                       where=[TitleApplication.contact_id != contact.id]))
    outcome.flags.extend(strip_columns(TitleEvent, ("text",), values))
    return outcome


def retention_reasons():
    return REASONS
