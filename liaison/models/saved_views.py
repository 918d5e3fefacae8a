"""Saved views: a list's filters and sort (its query string) saved by name, per user.

A view belongs to its owner and may be shared with a region (by a regional admin of that
region) or with HQ (by an HQ user). What is stored is checked by ``liaison.saved_views.services``:
only known list endpoints and, for each, its allowed query parameters.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import db, utcnow


class Sharing:
    PRIVATE = "private"
    REGION = "region"
    HQ = "hq"

    ALL = (PRIVATE, REGION, HQ)


class SavedView(db.Model):
    __tablename__ = "saved_views"
    __table_args__ = (
        UniqueConstraint("user_id", "endpoint", "name", name="uq_saved_views_user_endpoint_name"),
        Index("ix_saved_views_endpoint_shared", "endpoint", "shared", "region_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[str] = mapped_column(String(10), default=Sharing.PRIVATE)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
