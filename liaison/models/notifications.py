"""Notifications (in the app and by e-mail), their per-user preferences, and the job table.

* ``Notification`` — one message for one user. Its text is *not* stored: ``kind`` and ``params``
  are rendered in the reader's language when shown or mailed (``liaison.notifications.kinds``).
* ``NotificationPreference`` — how a user wants one kind: in the app, by e-mail, in a daily
  digest, or not at all. No row means the kind's default.
* ``JobRun`` — every background job by its idempotency key (``liaison.jobs``): written in the
  same transaction as the change that asked for it (an outbox), so a job is never lost between a
  commit and the queue, and a job that ran to the end is never run twice.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow

if TYPE_CHECKING:
    from .user import User


class Channel:
    """Where a user gets one kind of notification."""

    APP = "app"  # in the app only
    EMAIL = "email"  # in the app and an e-mail at once
    DIGEST = "digest"  # in the app and once a day in a digest e-mail
    OFF = "off"  # nothing

    ALL = (APP, EMAIL, DIGEST, OFF)


class EmailState:
    NONE = "none"  # not to be mailed
    PENDING = "pending"  # an e-mail job is queued
    DIGEST = "digest"  # waits for the next daily digest
    SENT = "sent"
    SKIPPED = "skipped"  # the preference changed, or the account was closed, before it went out


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # The bell: unread count of one user (user_id, read_at IS NULL); the list: newest first.
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_user_id", "user_id", "id"),
        Index("ix_notifications_email_state", "email_state", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(80))
    # The record it is about, for the link and for scope (never shown outside it).
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A path inside the app (built by url_for, never taken from user input).
    path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    email_state: Mapped[str] = mapped_column(String(10), default=EmailState.NONE)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class NotificationPreference(db.Model):
    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))


class JobStatus:
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"  # failed, another attempt is due at next_attempt_at
    DONE = "done"
    FAILED = "failed"  # no attempts left: an admin retries it from the Jobs page


class JobRun(db.Model):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # the idempotency key
    name: Mapped[str] = mapped_column(String(100))  # a registered job function
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    next_attempt_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<JobRun {self.key} {self.status}>"
