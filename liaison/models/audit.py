from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow

if TYPE_CHECKING:
    from .user import User


class AuditEntry(db.Model):
    """Who did what to which record: user and station administration, plugin activation.

    Lead changes have their own, richer trail in ``LeadEvent``.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_region_created", "region_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="raise")

    @property
    def description(self) -> str:
        """What happened, in the viewer's language."""
        template = ACTIONS.get(self.action)
        if template is None:
            return self.action
        details = self.details or {}
        values = {key: details.get(key, "") for key in ("name", "email", "code", "plugin", "scope", "after", "year")}
        if self.action == "station.status":
            from .choices import StationStatus

            values["after"] = StationStatus.label_of(details.get("after"))
        if self.action == "plugin.switch":
            values["after"] = {True: _l("on"), False: _l("off"), None: _l("inherit")}.get(details.get("after"), "")
        if self.action == "station.create" and self.station_id:
            values["name"] = scope_name(f"station:{self.station_id}") or values["name"]
        if self.action.startswith("plugin."):
            values["plugin"] = plugin_title(details.get("plugin"))
            values["scope"] = scope_name(details.get("scope"))
        if self.action.startswith("consent."):
            from .privacy import Purpose

            values["purpose"] = Purpose.label_of(details.get("purpose"))
            values["contact"] = self.object_id or ""
        return str(template) % values


def plugin_title(name: str | None) -> str:
    """A plugin's human name in the viewer's language; its internal name if it is not installed."""
    from ..plugins.manager import host

    plugin = host().plugins.get(name or "")
    info = getattr(plugin, "info", None)
    return str(info.title) if info is not None else (name or "")


def scope_name(key: str | None) -> str:
    """``global`` / ``region:3`` / ``station:7`` as people say it: the region's or station's name."""
    from ..i18n import display_name
    from .station import Region, Station

    kind, _sep, ident = (key or "").partition(":")
    if kind == "global":
        return str(_l("all regions"))
    model = {"region": Region, "station": Station}.get(kind)
    record = db.session.get(model, int(ident)) if model is not None and ident.isdigit() else None
    return display_name(record) if record is not None else (key or "")


ACTIONS = {
    "station.create": _l("created the station %(name)s"),
    "station.update": _l("edited a station"),
    "station.status": _l("set a station to “%(after)s”"),
    "station.member_add": _l("added %(email)s to a station"),
    "station.member_remove": _l("removed %(email)s from a station"),
    "user.create": _l("created the account %(email)s"),
    "user.update": _l("edited an account"),
    "user.activate": _l("reactivated an account"),
    "user.deactivate": _l("deactivated an account"),
    "user.password": _l("changed a password"),
    "user.password_reset": _l("set a temporary password"),
    "user.password_reset_requested": _l("asked for a new password"),
    "region.create": _l("created the region %(code)s"),
    "region.update": _l("edited the region %(code)s"),
    "plugin.switch": _l("switched the plugin %(plugin)s %(after)s (%(scope)s)"),
    "plugin.settings": _l("changed the settings of the plugin %(plugin)s (%(scope)s)"),
    "consent.record": _l("recorded a lawful basis for “%(purpose)s” (contact #%(contact)s)"),
    "consent.withdraw": _l("withdrew a lawful basis for “%(purpose)s” (contact #%(contact)s)"),
    "report.close": _l("closed the report period %(name)s"),
    "report.reopen": _l("reopened the report period %(name)s"),
    "appointment.create": _l("appointed %(email)s to a station until %(after)s"),
    "appointment.expired": _l("ended the access of %(email)s to a station: the term ran out"),
    "scorecard.weights": _l("set the scorecard weights of %(year)s"),
    "deadlines.update": _l("changed the review deadlines"),
    "api_token.create": _l("created the API token %(name)s"),
    "api_token.revoke": _l("revoked the API token %(name)s"),
    "event.create": _l("created an event"),
    "event.edit": _l("edited an event"),
    "event.status": _l("changed the status of an event"),
    "event.figures": _l("recorded the figures of an event"),
    "event.invite": _l("invited contacts to an event"),
    "event.link_contact": _l("confirmed an event registration as a contact"),
    "demand.create": _l("recorded the demand %(name)s"),
    "demand.update": _l("edited the demand %(name)s"),
    "demand.status": _l("changed the status of the demand %(name)s"),
    "demand.present": _l("presented the demand %(name)s at an event"),
    "demand.withdraw": _l("took the demand %(name)s off an event"),
    "demand_match.create": _l("recorded the match %(name)s of a demand with a contact"),
    "demand_match.stage": _l("moved the match %(name)s to another stage"),
}
