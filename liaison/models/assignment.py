"""Assignment rules: HQ's ordered rules that pick a reviewer for a submitted lead
(``liaison.assignment``).

A rule matches a lead by one criterion — its station's region, its category, its station, or a
plugin switched on for its station (``any`` matches every lead) — and assigns one reviewer, or
one of a group in turn (round-robin) or the one with the fewest open leads (least-loaded). The
first active matching rule (lowest ``position``) wins.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow

if TYPE_CHECKING:
    from .user import User


class RuleCriterion:
    ANY = "any"
    REGION = "region"
    CATEGORY = "category"
    STATION = "station"
    PLUGIN = "plugin"
    ALL = (ANY, REGION, CATEGORY, STATION, PLUGIN)


class RuleStrategy:
    REVIEWER = "reviewer"  # always the one reviewer
    ROUND_ROBIN = "round_robin"  # the group in turn
    LEAST_LOADED = "least_loaded"  # the group member with the fewest open leads
    ALL = (REVIEWER, ROUND_ROBIN, LEAST_LOADED)


assignment_rule_members = Table(
    "assignment_rule_members",
    db.metadata,
    Column("rule_id", ForeignKey("assignment_rules.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class AssignmentRule(db.Model):
    __tablename__ = "assignment_rules"
    __table_args__ = (Index("ix_assignment_rules_active_position", "active", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    criterion: Mapped[str] = mapped_column(String(20), default=RuleCriterion.ANY)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    category: Mapped[str | None] = mapped_column(String(30))
    plugin: Mapped[str | None] = mapped_column(String(80))
    strategy: Mapped[str] = mapped_column(String(20), default=RuleStrategy.REVIEWER)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Round-robin: the member assigned last; the next one in id order is next.
    last_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id], lazy="raise")
    members: Mapped[list[User]] = relationship(secondary=assignment_rule_members, lazy="raise",
                                               order_by="User.id")

    def __repr__(self) -> str:
        return f"<AssignmentRule {self.id} {self.criterion}→{self.strategy}>"


def _overdue_index() -> None:
    """The review queue's "overdue" filter (``deadlines.overdue_condition``): per status, the
    leads that entered it before a cutoff — a range scan of (status, status_changed_at)."""
    from sqlalchemy import Index as _Index

    from .lead import TalentLead

    leads = TalentLead.__table__
    if not any(ix.name == "ix_leads_status_changed" for ix in leads.indexes):
        _Index("ix_leads_status_changed", leads.c.status, leads.c.status_changed_at)


_overdue_index()
