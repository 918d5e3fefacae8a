"""Title applications as the views, the demo loader and any API use them: create, edit, move,
re-route. Each function makes one change through ``workflow``, records it and commits — or
changes nothing and raises (``IllegalMove``, ``NotReady``, ``Conflict``)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from liaison import concurrency
from liaison.models import Contact, User, db

from .choices import Document, EventKind, Status
from .models import TitleApplication, TitleEvent
from .rules import Rules
from .workflow import IllegalMove, apply_move, can_edit, override_route, refresh_route

APPLICATION_FIELDS = (
    "language", "level", "practice_years", "current_title", "current_title_since", "education",
    "credentials", "representative_works", "documents",
)
OPTIONAL_TEXT = frozenset({"education", "credentials", "representative_works"})


class Conflict(concurrency.Conflict):
    """The application changed since the user loaded it (optimistic locking)."""

    message = _l("Someone else changed this application while you were working on it. "
                 "Nothing was saved: check its current state and try again.")


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Form values as stored: blanks become None, a date without a title is dropped and the
    documents are known codes in checklist order."""
    values = {name: data[name] for name in APPLICATION_FIELDS if name in data}
    for name in OPTIONAL_TEXT & values.keys():
        values[name] = values[name] or None
    if "current_title" in values:
        values["current_title"] = values["current_title"] or None
        if values["current_title"] is None:
            values["current_title_since"] = None
    if "documents" in values:
        given = set(values["documents"] or ())
        values["documents"] = [document.value for document in Document if document.value in given]
    return values


def _check_language(language: str | None, application: TitleApplication | None, rules: Rules) -> None:
    # A language dropped from the settings stays valid for the applications already made in it.
    if language not in rules.languages and (application is None or language != application.language):
        raise IllegalMove(_l("Choose a language from the list."), "language")


def by_token(token: str | None) -> TitleApplication | None:
    if not token:
        return None
    return db.session.scalar(select(TitleApplication).where(TitleApplication.submission_token == token))


def create_application(contact: Contact, data: dict[str, Any], actor: User, *, token: str | None = None,
                       submit: bool = False) -> TitleApplication:
    """Create a draft for ``contact`` (``contact.station`` loaded) and submit it if asked — once
    per form token: a form sent twice returns the application the first one created."""
    existing = by_token(token)
    if existing is not None:
        return existing
    values = _clean(data)
    rules = Rules.for_station(contact.station_id)
    _check_language(values.get("language"), None, rules)
    application = TitleApplication(contact_id=contact.id, station_id=contact.station_id, created_by_id=actor.id,
                                   status=Status.DRAFT, submission_token=token or None, **values)
    application.station = contact.station
    application.contact = contact
    refresh_route(application, actor, rules)
    db.session.add(application)
    db.session.add(TitleEvent(application=application, actor_id=actor.id, kind=EventKind.CREATED,
                              to_value=Status.DRAFT, details={"route": application.route}))
    try:
        db.session.flush()
        if submit:
            apply_move(application, "submit", actor)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = by_token(token)
        if existing is None:
            raise
        return existing
    except IllegalMove:
        db.session.rollback()
        raise
    return application


def update_application(application: TitleApplication, data: dict[str, Any], actor: User, *,
                       expected_version: int | None, submit: bool = False) -> list[str]:
    """Save the station's changes (``application.station`` loaded) and, if asked, submit or
    resubmit. Returns the names of the fields that changed."""
    concurrency.check_version(application, expected_version, Conflict)
    if not can_edit(application, actor):
        raise IllegalMove(_l("Only drafts and applications returned for corrections can be edited."))
    values = _clean(data)
    rules = Rules.for_station(application.station_id)
    _check_language(values.get("language", application.language), application, rules)
    changed = [name for name, value in values.items() if getattr(application, name) != value]
    with _saving():
        for name in changed:
            setattr(application, name, values[name])
        if changed:
            db.session.add(TitleEvent(application=application, actor_id=actor.id, kind=EventKind.EDITED,
                                      details={"fields": changed}))
            refresh_route(application, actor, rules)
        if submit:
            apply_move(application, "submit" if application.status == Status.DRAFT else "resubmit", actor)
    return changed


def make_move(application: TitleApplication, move: str, actor: User, *, expected_version: int | None,
              comment: str | None = None, **data) -> TitleEvent:
    with _saving(application, expected_version):
        event = apply_move(application, move, actor, comment, **data)
    return event


def change_route(application: TitleApplication, route: str, reason: str | None, actor: User, *,
                 expected_version: int | None) -> TitleEvent:
    with _saving(application, expected_version):
        event = override_route(application, route, reason, actor)
    return event


def _saving(application: TitleApplication | None = None, expected_version: int | None = None):
    """The core's commit: check the version, commit what the block changed; a lost race becomes
    ``Conflict`` and an illegal move leaves nothing behind."""
    return concurrency.commit_or_conflict(application, expected_version, conflict=Conflict, undo_on=(IllegalMove,))
