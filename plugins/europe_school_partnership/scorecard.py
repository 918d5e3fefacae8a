"""The plugin's figure on the yearly station scorecard (``liaison_scorecard_figures``):
school partnerships recorded in the year, per station — grouped in SQL."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from liaison.models import db
from liaison.reports import periods
from liaison.scorecard.services import ScorecardFigure

from .models import Partnership


def figures(year: int, station_ids) -> list[ScorecardFigure]:
    start, end = periods.named(str(year)).utc_bounds()
    stmt = (select(Partnership.station_id, func.count())
            .where(Partnership.station_id.in_(station_ids), Partnership.created_at >= start,
                   Partnership.created_at < end)
            .group_by(Partnership.station_id))
    return [ScorecardFigure("partnerships", _l("School partnerships recorded"),
                            {sid: int(n) for sid, n in db.session.execute(stmt)})]
