"""Policy notices (政策推送): HQ's notices to stations, their targets and read receipts."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow

if TYPE_CHECKING:
    from .user import User


def new_slug() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, unguessable: the public page's address


class NoticeTargetKind:
    REGION = "region"
    STATION = "station"
    HOST_KIND = "host_kind"
    ALL = (REGION, STATION, HOST_KIND)


class PolicyNotice(db.Model):
    """A notice from HQ to all stations (``to_all``) or to those its targets name."""

    __tablename__ = "policy_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True, default=new_slug)
    title: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_zh: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    effective_from: Mapped[date]
    effective_until: Mapped[date | None]
    to_all: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    created_by: Mapped[User | None] = relationship(lazy="raise")
    targets: Mapped[list[NoticeTarget]] = relationship(back_populates="notice", lazy="raise",
                                                       cascade="all, delete-orphan", order_by="NoticeTarget.id")
    attachments: Mapped[list[NoticeAttachment]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="NoticeAttachment.position")


class NoticeTarget(db.Model):
    """One target of a notice: a region, a station or a kind of host organisation."""

    __tablename__ = "notice_targets"
    __table_args__ = (Index("ix_notice_targets_notice", "notice_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("policy_notices.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    host_kind: Mapped[str | None] = mapped_column(String(30))

    notice: Mapped[PolicyNotice] = relationship(back_populates="targets", lazy="raise")


class NoticeAttachment(db.Model):
    """An attachment as a link (the file lives elsewhere)."""

    __tablename__ = "notice_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("policy_notices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))


class NoticeReceipt(db.Model):
    """A volunteer read (and perhaps acknowledged) a notice, for one of their stations."""

    __tablename__ = "notice_receipts"
    __table_args__ = (UniqueConstraint("notice_id", "user_id", name="uq_notice_receipts_notice_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("policy_notices.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
