"""Figures HQ reports: leads by status, category, region and year, and what landed."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import extract, func, select

from ..i18n import display_name
from ..leads.queries import submitted_between
from ..models import LeadStatus, Region, Station, TalentLead, db

REACHED = {
    # A lead "reached" a stage if it is there now or went further along the main path.
    "submitted": {LeadStatus.SUBMITTED, LeadStatus.UNDER_REVIEW, LeadStatus.NEEDS_INFO, LeadStatus.ACCEPTED,
                  LeadStatus.REFERRED, LeadStatus.LANDED, LeadStatus.REJECTED, LeadStatus.CLOSED_LOST},
    "accepted": {LeadStatus.ACCEPTED, LeadStatus.REFERRED, LeadStatus.LANDED, LeadStatus.CLOSED_LOST},
    "referred": {LeadStatus.REFERRED, LeadStatus.LANDED},
    "landed": {LeadStatus.LANDED},
}


@dataclass
class Report:
    date_from: date | None
    date_to: date | None
    by_region: list[dict] = field(default_factory=list)
    by_category: dict[str, dict[str, int]] = field(default_factory=dict)
    landed_by_kind: dict[str, int] = field(default_factory=dict)
    landed_by_year: dict[int, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)


def _submitted_between(stmt, date_from: date | None, date_to: date | None):
    return submitted_between(stmt, date_from, date_to).where(TalentLead.submitted_at.is_not(None))


def build_report(date_from: date | None = None, date_to: date | None = None) -> Report:
    """Figures over leads submitted in the period (all of them if no period is given)."""
    report = Report(date_from, date_to)
    # Counted in leads alone, in the order of ix_leads_report (a covering index: no row is read and
    # the GROUP BY needs no sort), then summed per region over the few hundred station groups.
    per_station = _submitted_between(
        select(TalentLead.status, TalentLead.station_id, TalentLead.category, func.count().label("number"))
        .group_by(TalentLead.status, TalentLead.station_id, TalentLead.category),
        date_from, date_to,
    ).subquery()
    rows = db.session.execute(
        select(Region.code, Region.name, Region.name_zh, per_station.c.category, per_station.c.status,
               func.sum(per_station.c.number))
        .join(Station, Station.id == per_station.c.station_id).join(Region, Region.id == Station.region_id)
        .group_by(Region.code, Region.name, Region.name_zh, per_station.c.category, per_station.c.status)
    ).all()
    regions: dict[str, dict] = {}
    categories: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for code, name, name_zh, category, status, number in rows:
        number = int(number)  # a SUM: Decimal on PostgreSQL
        region = regions.setdefault(code, {"code": code, "name": display_name(name, name_zh),
                                           **{stage: 0 for stage in REACHED}, "rejected": 0})
        for stage, statuses in REACHED.items():
            if status in statuses:
                region[stage] += number
                categories[category][stage] += number
                totals[stage] += number
        if status == LeadStatus.REJECTED:
            region["rejected"] += number
            totals["rejected"] += number
    report.by_region = sorted(regions.values(), key=lambda r: r["code"])
    report.by_category = {k: dict(v) for k, v in categories.items()}
    report.totals = dict(totals)
    landed = _submitted_between(select(TalentLead.landing_kind, func.count())
                                .where(TalentLead.status == LeadStatus.LANDED)
                                .group_by(TalentLead.landing_kind), date_from, date_to)
    report.landed_by_kind = dict(db.session.execute(landed).all())
    year = extract("year", TalentLead.landed_on)
    by_year = (select(year, func.count()).where(TalentLead.status == LeadStatus.LANDED)
               .group_by(year).order_by(year))
    report.landed_by_year = {int(y): n for y, n in db.session.execute(by_year) if y is not None}
    return report
