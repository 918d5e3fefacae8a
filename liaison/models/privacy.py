"""Personal-data protection: consent per purpose, reveals, the access log, erasure, retention.

The rules live in ``liaison.privacy`` (classification, masking, consent, subject reports,
erasure, retention); these are only the tables. Every enumeration is checked by the database.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow
from .choices import Labelled

if TYPE_CHECKING:
    from .contact import Contact
    from .user import User


def _one_of(column: str, enum: type[Labelled], name: str) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name)


# Vocabularies ------------------------------------------------------------------------------

class Sensitivity(Labelled):
    """How personal a column is (``liaison.privacy.classification``)."""

    NONE = "none"
    NORMAL = "normal"
    SENSITIVE = "sensitive"

    @classmethod
    def _labels(cls):
        return {cls.NONE: _l("Not personal"), cls.NORMAL: _l("Personal"), cls.SENSITIVE: _l("Sensitive")}


class Purpose(Labelled):
    """Why the app may hold or use a person's data; each needs its own lawful basis."""

    KEEP_IN_TOUCH = "keep_in_touch"
    PASS_TO_HQ = "pass_to_hq"
    EVENT_INVITATIONS = "event_invitations"
    POLICY_NEWS = "policy_news"
    EVENT_PHOTOS = "event_photos"

    @classmethod
    def _labels(cls):
        return {
            cls.KEEP_IN_TOUCH: _l("Keeping in touch about talent programmes"),
            cls.PASS_TO_HQ: _l("Passing the profile to HQ and partner departments in China"),
            cls.EVENT_INVITATIONS: _l("Invitations to events"),
            cls.POLICY_NEWS: _l("Policy news"),
            cls.EVENT_PHOTOS: _l("Photos taken at events"),
        }


class LawfulBasis(Labelled):
    CONSENT = "consent"
    CONTRACT = "contract"
    LEGITIMATE_INTEREST = "legitimate_interest"
    PUBLIC_TASK = "public_task"

    @classmethod
    def _labels(cls):
        return {
            cls.CONSENT: _l("Consent"),
            cls.CONTRACT: _l("Contract"),
            cls.LEGITIMATE_INTEREST: _l("Legitimate interest"),
            cls.PUBLIC_TASK: _l("Public task"),
        }


class ConsentSource(Labelled):
    FORM = "form"
    EMAIL = "email"
    EVENT_REGISTRATION = "event_registration"
    VERBAL = "verbal"
    PAPER = "paper"
    IMPORT = "import"

    @classmethod
    def _labels(cls):
        return {
            cls.FORM: _l("Web form"),
            cls.EMAIL: _l("E-mail"),
            cls.EVENT_REGISTRATION: _l("Event registration"),
            cls.VERBAL: _l("Verbally"),
            cls.PAPER: _l("Signed paper form"),
            cls.IMPORT: _l("Imported record"),
        }


class RevealReason(Labelled):
    """Why a masked value was revealed (a short list, as the access log must be readable)."""

    REVIEW_LEAD = "review_lead"
    CONTACT_PERSON = "contact_person"
    ARRANGE_EVENT = "arrange_event"
    VERIFY_IDENTITY = "verify_identity"
    SUBJECT_REQUEST = "subject_request"

    @classmethod
    def _labels(cls):
        return {
            cls.REVIEW_LEAD: _l("Reviewing a lead"),
            cls.CONTACT_PERSON: _l("Contacting the person"),
            cls.ARRANGE_EVENT: _l("Arranging an event or visit"),
            cls.VERIFY_IDENTITY: _l("Checking identity or a duplicate"),
            cls.SUBJECT_REQUEST: _l("Answering the person's own request"),
        }


class AccessAction(Labelled):
    VIEW = "view"
    REVEAL = "reveal"
    EXPORT = "export"
    SUBJECT_REPORT = "subject_report"
    ERASURE = "erasure"

    @classmethod
    def _labels(cls):
        return {
            cls.VIEW: _l("Viewed the full record"),
            cls.REVEAL: _l("Revealed masked fields"),
            cls.EXPORT: _l("Exported"),
            cls.SUBJECT_REPORT: _l("Subject access report"),
            cls.ERASURE: _l("Erased"),
        }


class ErasureStatus(Labelled):
    REQUESTED = "requested"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    DONE = "done"

    @classmethod
    def _labels(cls):
        return {
            cls.REQUESTED: _l("Awaiting approval"),
            cls.REJECTED: _l("Rejected"),
            cls.CANCELLED: _l("Cancelled"),
            cls.DONE: _l("Erased"),
        }


# Consent -----------------------------------------------------------------------------------

class ContactConsent(db.Model):
    """The lawful basis for one purpose of one contact: where it came from, until when, withdrawn."""

    __tablename__ = "contact_consents"
    __table_args__ = (
        Index("ix_contact_consents_contact_purpose", "contact_id", "purpose"),
        Index("ix_contact_consents_purpose_expires", "purpose", "expires_on"),
        _one_of("purpose", Purpose, "purpose"),
        _one_of("basis", LawfulBasis, "basis"),
        _one_of("source", ConsentSource, "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(30))
    basis: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(30))
    given_on: Mapped[date]
    expires_on: Mapped[date | None]
    evidence: Mapped[str | None] = mapped_column(Text)
    # The version of the consent text the person saw (public forms), e.g. "2026-11".
    text_version: Mapped[str | None] = mapped_column(String(40))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_note: Mapped[str | None] = mapped_column(String(300))

    contact: Mapped[Contact] = relationship(lazy="raise")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id], lazy="raise")
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id], lazy="raise")


# Masking: reveals and the access log -------------------------------------------------------

class RevealGrant(db.Model):
    """A user revealed a contact's masked fields, with a reason; valid until ``expires_at``."""

    __tablename__ = "privacy_reveals"
    __table_args__ = (
        Index("ix_privacy_reveals_user_contact", "user_id", "contact_id", "expires_at"),
        _one_of("reason", RevealReason, "reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class AccessLogEntry(db.Model):
    """Who saw, revealed, exported or erased whose personal data, why and when."""

    __tablename__ = "privacy_access_log"
    __table_args__ = (
        Index("ix_privacy_access_log_contact_created", "contact_id", "created_at"),
        Index("ix_privacy_access_log_user_created", "user_id", "created_at"),
        Index("ix_privacy_access_log_station_created", "station_id", "created_at"),
        _one_of("action", AccessAction, "action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # NULL for an export of many contacts (``record_count`` says how many).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(300))
    record_count: Mapped[int] = mapped_column(default=1)

    user: Mapped[User | None] = relationship(lazy="raise")
    contact: Mapped[Contact | None] = relationship(lazy="raise")
    fields: Mapped[list[AccessLogField]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="AccessLogField.field"
    )


class AccessLogField(db.Model):
    """One personal field an access-log entry covered, as ``table.column``."""

    __tablename__ = "privacy_access_log_fields"

    entry_id: Mapped[int] = mapped_column(ForeignKey("privacy_access_log.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(100), primary_key=True)


# Erasure -----------------------------------------------------------------------------------

class ErasureRequest(db.Model):
    """A request to erase a person, approved by a second person; never stores erased values."""

    __tablename__ = "erasure_requests"
    __table_args__ = (
        Index("ix_erasure_requests_status_requested", "status", "requested_at"),
        _one_of("status", ErasureStatus, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    status: Mapped[str] = mapped_column(String(20), default=ErasureStatus.REQUESTED)
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    # Set when ``flask --app liaison privacy reapply-erasures`` re-applied it after a restore.
    reapplied_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    contact: Mapped[Contact] = relationship(lazy="raise")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id], lazy="raise")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="raise")
    exceptions: Mapped[list[RetentionException]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="RetentionException.id"
    )
    flags: Mapped[list[ErasureFlag]] = relationship(lazy="raise", cascade="all, delete-orphan", order_by="ErasureFlag.id")


class RetentionException(db.Model):
    """A record an erasure kept (e.g. a landed lead's figures), and why; ``reason`` is a code
    whose label the core or the plugin (``plugin``) translates."""

    __tablename__ = "erasure_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    erasure_id: Mapped[int] = mapped_column(ForeignKey("erasure_requests.id", ondelete="CASCADE"), index=True)
    plugin: Mapped[str] = mapped_column(String(60), default="core")
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(60))


class ErasureFlag(db.Model):
    """A free-text field an erasure touched that a person should read again."""

    __tablename__ = "erasure_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    erasure_id: Mapped[int] = mapped_column(ForeignKey("erasure_requests.id", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[int]
    column_name: Mapped[str] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# Retention ---------------------------------------------------------------------------------

class RetentionRun(db.Model):
    """One run of ``flask --app liaison retention run`` (or its dry run)."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    dry_run: Mapped[bool] = mapped_column(default=False)
    triggered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    counts: Mapped[list[RetentionRunCount]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="RetentionRunCount.rule"
    )


class RetentionRunCount(db.Model):
    """How many records one rule matched (dry run) or handled in a run."""

    __tablename__ = "retention_run_counts"

    run_id: Mapped[int] = mapped_column(ForeignKey("retention_runs.id", ondelete="CASCADE"), primary_key=True)
    rule: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
