"""The plugin's section of the core's report (``liaison_report_sections``): partnerships by stage
× partner country — those brokered by the report's stations by the end of its period, at their
stage today — and the ones started in the period. Grouped in SQL."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from liaison.i18n import country_name
from liaison.models import db
from liaison.reports.sections import ReportSection, ReportTable

from .choices import Stage
from .models import Partnership


def sections(period, stations) -> ReportSection:
    start, end = period.utc_bounds()
    started = func.sum(case((Partnership.created_at >= start, 1), else_=0))
    stmt = (select(Partnership.partner_country, Partnership.stage, func.count(), started)
            .where(Partnership.station_id.in_(stations), Partnership.created_at < end)
            .group_by(Partnership.partner_country, Partnership.stage))
    counts: dict[str, dict[str, int]] = {}
    new: dict[str, int] = {}
    for country, stage, n, fresh in db.session.execute(stmt):
        counts.setdefault(country, {})[stage] = int(n)
        new[country] = new.get(country, 0) + int(fresh or 0)
    stages = list(Stage)
    countries = sorted(counts, key=lambda c: (-sum(counts[c].values()), c))
    rows = [[country_name(c) or c, *[counts[c].get(s.value, 0) for s in stages], sum(counts[c].values()), new.get(c, 0)]
            for c in countries]
    return ReportSection(_l("School partnerships in Europe"), [
        ReportTable("stage_country", _l("Partnerships by stage and partner country"),
                    [_l("Partner country"), *[s.label for s in stages], _l("Total"), _l("Started in the period")],
                    rows, keys=countries, chart="bar", series=(len(stages) + 1, len(stages) + 2),
                    note=_l("Partnerships started by the end of the period, at their stage today.")),
    ], order=60)


