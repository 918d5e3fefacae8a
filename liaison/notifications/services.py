"""Who is told what, and how: the rules of notifications.

Lead events (``LeadEvent`` rows: a submission, HQ's question, the station's answer, a decision,
an assignment, a comment) are noticed when they are flushed during a request, and a fan-out job
(``notifications.lead_event``, one per event, keyed by its id) is added to the same transaction:
no notification for a change that was rolled back, none lost for one that was committed. The
job computes the recipients, drops the actor and **everyone who may not see the lead's station**
(``liaison.scope``: the one rule for every kind, core or plugin), applies each recipient's
preference and writes the notifications; e-mails are jobs of their own.

Plugins announce their kinds with ``liaison_notification_kinds`` and call ``notify``.
"""
from __future__ import annotations

from typing import Iterable

from flask import current_app, g, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import selectinload

from .. import jobs
from ..models import (
    Channel,
    EmailState,
    LeadEvent,
    LeadEventKind,
    LeadStatus,
    Notification,
    NotificationPreference,
    Role,
    Station,
    TalentLead,
    User,
    db,
    region_admin,
    station_membership,
    utcnow,
)
from ..scope import station_filter
from . import mail
from .kinds import all_kinds, render_message

COLLECTED = "liaison_notify_events"
DECIDED = frozenset({LeadStatus.ACCEPTED, LeadStatus.REJECTED, LeadStatus.REFERRED, LeadStatus.LANDED,
                     LeadStatus.CLOSED_LOST})
NOTIFY_STATUSES = DECIDED | {LeadStatus.SUBMITTED, LeadStatus.NEEDS_INFO}
UNREAD_CAP = 99


# Noticing lead events -----------------------------------------------------------------------

def _relevant(lead_event: LeadEvent) -> bool:
    if lead_event.kind in (LeadEventKind.ASSIGNED, LeadEventKind.COMMENT):
        return True
    return lead_event.kind == LeadEventKind.STATUS and lead_event.to_status in NOTIFY_STATUSES


def _after_flush(session, _flush_context) -> None:
    if not (has_request_context() or session.info.get("liaison_notify")):
        return  # demo data, imports, fixtures: only what people do notifies (or an opt-in)
    found = [obj for obj in session.new if isinstance(obj, LeadEvent) and _relevant(obj)]
    if found:
        session.info.setdefault(COLLECTED, []).extend(found)


def _after_flush_postexec(session, _flush_context) -> None:
    found = session.info.pop(COLLECTED, None)
    if not found:
        return
    for lead_event in found:
        if lead_event.id is None:
            continue
        lead = lead_event.__dict__.get("lead")  # set in memory by the workflow; never loaded here
        reviewer_id = lead.reviewer_id if lead is not None else None
        jobs.enqueue("notifications.lead_event", key=f"lead_event:{lead_event.id}",
                     event_id=lead_event.id, reviewer_id=reviewer_id)


def listen() -> None:
    if getattr(listen, "done", False):
        return
    event.listen(db.session, "after_flush", _after_flush)
    event.listen(db.session, "after_flush_postexec", _after_flush_postexec)
    listen.done = True


# Recipients ----------------------------------------------------------------------------------

def _active(stmt):
    return stmt.where(User.active.is_(True))


def hq_ids() -> set[int]:
    return set(db.session.scalars(_active(select(User.id).where(User.role.in_([Role.HQ_REVIEWER, Role.ADMIN])))))


def region_admin_ids(region_id: int) -> set[int]:
    return set(db.session.scalars(_active(
        select(User.id).join(region_admin, region_admin.c.user_id == User.id)
        .where(region_admin.c.region_id == region_id, User.role == Role.REGIONAL_ADMIN))))


def station_volunteer_ids(station_id: int) -> set[int]:
    return set(db.session.scalars(_active(
        select(User.id).join(station_membership, station_membership.c.user_id == User.id)
        .where(station_membership.c.station_id == station_id, User.role == Role.VOLUNTEER))))


def in_scope(user_ids: Iterable[int], station_id: int | None) -> list[User]:
    """The active users among ``user_ids`` who may see ``station_id``'s records — decided by
    ``liaison.scope`` for each of them (a handful per event, in a background job). Without a
    station only HQ (who sees everything) qualifies."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    users = db.session.scalars(_active(select(User).where(User.id.in_(ids)))).all()
    allowed = []
    for user in users:
        if station_id is None:
            if user.is_hq:
                allowed.append(user)
            continue
        visible = db.session.scalar(select(Station.id).where(Station.id == station_id,
                                                              station_filter(Station.id, user)))
        if visible is not None:
            allowed.append(user)
    return allowed


def _station_side(lead: TalentLead) -> set[int]:
    ids = station_volunteer_ids(lead.station_id)
    if lead.submitter_id:
        ids.add(lead.submitter_id)
    return ids


def recipients_for(lead_event: LeadEvent, lead: TalentLead, reviewer_id: int | None) -> tuple[str | None, set[int]]:
    """(kind, user ids) for one lead event, before the scope filter."""
    actor = lead_event.actor
    if lead_event.kind == LeadEventKind.ASSIGNED:
        reviewer = reviewer_id if reviewer_id is not None else lead.reviewer_id
        return ("lead_assigned", {reviewer}) if reviewer else (None, set())
    if lead_event.kind == LeadEventKind.COMMENT:
        if actor is not None and actor.is_hq:
            return "lead_comment", _station_side(lead)
        return "lead_comment", ({lead.reviewer_id} if lead.reviewer_id else set())
    to_status = lead_event.to_status
    if to_status == LeadStatus.SUBMITTED:
        if lead_event.from_status == LeadStatus.NEEDS_INFO:
            return "info_answered", ({lead.reviewer_id} if lead.reviewer_id else hq_ids())
        return "lead_submitted", hq_ids() | region_admin_ids(lead.station.region_id)
    if to_status == LeadStatus.NEEDS_INFO:
        return "info_requested", _station_side(lead)
    if to_status in DECIDED:
        return "lead_decided", _station_side(lead)
    return None, set()


@jobs.job("notifications.lead_event")
def lead_event_job(event_id: int, reviewer_id: int | None = None) -> int:
    lead_event = db.session.scalar(select(LeadEvent).where(LeadEvent.id == event_id).options(
        selectinload(LeadEvent.actor),
        selectinload(LeadEvent.lead).selectinload(TalentLead.station)))
    if lead_event is None:
        return 0  # the lead is gone
    lead = lead_event.lead
    kind, user_ids = recipients_for(lead_event, lead, reviewer_id)
    if kind is None:
        return 0
    if lead_event.actor_id is not None:
        user_ids.discard(lead_event.actor_id)
    params = {"lead": lead.id, "station_name": lead.station.name, "station_name_zh": lead.station.name_zh,
              "actor": lead_event.actor.name if lead_event.actor else "", "status": lead_event.to_status or ""}
    # No free text (a question, a comment) is copied: it may be about the person, and it would
    # outlive an erasure here and in mailboxes. The link leads to it, in scope.
    return deliver(kind, user_ids, station_id=lead.station_id, lead_id=lead.id, actor_id=lead_event.actor_id,
                   params=params, path=mail.app_path("leads.detail", lead_id=lead.id))


# Delivering ----------------------------------------------------------------------------------

def preferences_of(user_ids: Iterable[int], kind: str) -> dict[int, str]:
    rows = db.session.execute(select(NotificationPreference.user_id, NotificationPreference.channel).where(
        NotificationPreference.kind == kind, NotificationPreference.user_id.in_(list(user_ids))))
    return dict(rows.all())


def deliver(kind: str, user_ids: Iterable[int], *, station_id: int | None, lead_id: int | None = None,
            actor_id: int | None = None, params: dict | None = None, path: str | None = None) -> int:
    """Write the notifications of ``kind`` for those of ``user_ids`` in scope of ``station_id``,
    as each prefers; queue the e-mails. Returns how many were written. Runs inside a job."""
    definition = all_kinds().get(kind)
    if definition is None:
        raise LookupError(f"unknown notification kind {kind!r}")
    users = in_scope(user_ids, station_id)
    chosen = preferences_of([u.id for u in users], kind)
    written = []
    for user in users:
        channel = chosen.get(user.id, definition.default)
        if channel == Channel.OFF:
            continue
        state = {Channel.EMAIL: EmailState.PENDING, Channel.DIGEST: EmailState.DIGEST}.get(channel, EmailState.NONE)
        written.append(Notification(user_id=user.id, kind=kind, lead_id=lead_id, station_id=station_id,
                                    actor_id=actor_id, params=params or {}, path=path, email_state=state))
    db.session.add_all(written)
    db.session.flush()
    for notification in written:
        if notification.email_state == EmailState.PENDING:
            jobs.enqueue("notifications.email", key=f"mail:{notification.id}", notification_id=notification.id)
    return len(written)


@jobs.job("notifications.deliver")
def deliver_job(kind: str, user_ids: list[int], station_id: int | None, lead_id: int | None = None,
                actor_id: int | None = None, params: dict | None = None, path: str | None = None) -> int:
    return deliver(kind, user_ids, station_id=station_id, lead_id=lead_id, actor_id=actor_id, params=params,
                   path=path)


def notify(kind: str, user_ids: Iterable[int], *, station_id: int | None, params: dict | None = None,
           path: str | None = None, lead_id: int | None = None, actor_id: int | None = None,
           key: str | None = None):
    """For plugins (and the core): notify ``user_ids`` of ``kind`` about a record of
    ``station_id``. The fan-out is a job added to the current transaction (commit it); users
    who may not see the station are dropped. ``path`` is a path of this app (``url_for``);
    ``params`` fill the kind's message. ``key`` makes the call idempotent."""
    if kind not in all_kinds():
        raise LookupError(f"unknown notification kind {kind!r} (declare it with liaison_notification_kinds)")
    return jobs.enqueue("notifications.deliver", key=key, kind=kind, user_ids=sorted(set(user_ids)),
                        station_id=station_id, lead_id=lead_id, actor_id=actor_id, params=params or {}, path=path)


# E-mail ----------------------------------------------------------------------------------------

def _locale_of(user: User) -> str:
    from ..i18n import match_locale

    return match_locale(user.locale) or current_app.config["BABEL_DEFAULT_LOCALE"]


@jobs.job("notifications.email")
def email_job(notification_id: int) -> str:
    notification = db.session.scalar(select(Notification).where(Notification.id == notification_id)
                                     .options(selectinload(Notification.user)))
    if notification is None:
        return "gone"
    if notification.email_state != EmailState.PENDING:
        return notification.email_state
    user = notification.user
    if not user.active:
        notification.email_state = EmailState.SKIPPED
        return EmailState.SKIPPED
    from flask import render_template

    with force_locale(_locale_of(user)):
        kind = all_kinds().get(notification.kind)
        text = render_message(notification.kind, notification.params)
        subject = _("[Liaison] %(subject)s", subject=str(kind.label) if kind else text[:60])
        context = {"user": user, "text": text, "link": mail.absolute(notification.path),
                   "preferences": mail.absolute(mail.app_path("notifications.preferences"))}
        body = render_template("email/notification_text.html", **context)
        html = render_template("email/notification.html", **context)
    to = user.email
    db.session.commit()  # no transaction (on SQLite: no write lock) while the mail server answers
    mail.send(to, subject, body, html)
    notification.email_state = EmailState.SENT
    return EmailState.SENT


@jobs.job("notifications.digest")
def digest_job(user_id: int) -> int:
    user = db.session.get(User, user_id)
    notifications = db.session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.email_state == EmailState.DIGEST)
        .order_by(Notification.id).limit(200)).all()
    if not notifications:
        return 0
    if user is None or not user.active:
        for notification in notifications:
            notification.email_state = EmailState.SKIPPED
        return 0
    from flask import render_template

    with force_locale(_locale_of(user)):
        items = [(render_message(n.kind, n.params), mail.absolute(n.path)) for n in notifications]
        subject = _("[Liaison] Your daily summary: %(num)d notifications", num=len(items))
        context = {"user": user, "items": items,
                   "preferences": mail.absolute(mail.app_path("notifications.preferences"))}
        body = render_template("email/digest_text.html", **context)
        html = render_template("email/digest.html", **context)
    to, ids = user.email, [n.id for n in notifications]
    db.session.commit()  # no transaction while the mail server answers
    mail.send(to, subject, body, html)
    db.session.execute(update(Notification).where(Notification.id.in_(ids)).values(email_state=EmailState.SENT))
    return len(items)


@jobs.scheduled("notifications.digest")
def queue_digests() -> int:
    """One digest a day per user with waiting notifications (the key holds the UTC date)."""
    today = utcnow().date().isoformat()
    user_ids = db.session.scalars(select(Notification.user_id).where(
        Notification.email_state == EmailState.DIGEST).distinct()).all()
    for user_id in user_ids:
        jobs.enqueue("notifications.digest", key=f"digest:{user_id}:{today}", user_id=user_id)
    return len(user_ids)


# In the app ------------------------------------------------------------------------------------

def unread_count(user: User) -> int:
    """The bell: one indexed count per request (capped), cached for the request."""
    cache = g.setdefault("_unread_notifications", {})
    if user.id not in cache:
        capped = (select(Notification.id).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                  .limit(UNREAD_CAP + 1).subquery())
        cache[user.id] = db.session.scalar(select(func.count()).select_from(capped)) or 0
    return cache[user.id]


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.commit()


def mark_all_read(user: User) -> int:
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount or 0


def channels_of(user: User) -> dict[str, str]:
    """The user's channel per kind (defaults filled in)."""
    saved = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.channel)
                                    .where(NotificationPreference.user_id == user.id)).all())
    return {name: saved.get(name, kind.default) for name, kind in all_kinds().items()}


def save_channels(user: User, channels: dict[str, str]) -> None:
    kinds = all_kinds()
    existing = {p.kind: p for p in db.session.scalars(select(NotificationPreference).where(
        NotificationPreference.user_id == user.id))}
    for name, channel in channels.items():
        if name not in kinds or channel not in Channel.ALL:
            continue
        if name in existing:
            existing[name].channel = channel
        else:
            db.session.add(NotificationPreference(user_id=user.id, kind=name, channel=channel))
    db.session.commit()
