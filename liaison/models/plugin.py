from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import db, utcnow


class PluginScope(db.Model):
    """A plugin's switch and settings at one scope: global, one region or one station.

    Resolution runs from the narrow scope to the wide one: station, else region, else global,
    else off (``enabled`` None means "inherit"). Settings resolve key by key the same way and
    are plain JSON — never pickle.
    """

    __tablename__ = "plugin_scopes"
    __table_args__ = (UniqueConstraint("plugin", "scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(80), index=True)
    scope_key: Mapped[str] = mapped_column(String(40))  # "global", "region:3", "station:7"
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    enabled: Mapped[bool | None]
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PluginError(db.Model):
    """An exception raised by a plugin's hook, kept for the admin's Plugins page."""

    __tablename__ = "plugin_errors"
    __table_args__ = (Index("ix_plugin_errors_plugin_created", "plugin", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    plugin: Mapped[str] = mapped_column(String(80))
    hook: Mapped[str] = mapped_column(String(80))
    error: Mapped[str] = mapped_column(String(500))
    traceback: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(String(500))
