"""The plugin's figures on the yearly station scorecard (``liaison_scorecard_figures``):
title applications submitted and titles granted in the year, per station — grouped in SQL."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from liaison.models import db
from liaison.reports import periods
from liaison.scorecard.services import ScorecardFigure

from .choices import Status
from .models import TitleApplication


def figures(year: int, station_ids) -> list[ScorecardFigure]:
    period = periods.named(str(year))
    start, end = period.utc_bounds()
    applied = (select(TitleApplication.station_id, func.count())
               .where(TitleApplication.station_id.in_(station_ids), TitleApplication.submitted_at >= start,
                      TitleApplication.submitted_at < end)
               .group_by(TitleApplication.station_id))
    granted = (select(TitleApplication.station_id, func.count())
               .where(TitleApplication.station_id.in_(station_ids), TitleApplication.status == Status.PASSED,
                      TitleApplication.decision_date >= period.first, TitleApplication.decision_date <= period.last)
               .group_by(TitleApplication.station_id))
    return [
        ScorecardFigure("applications", _l("Title applications submitted"),
                        {sid: int(n) for sid, n in db.session.execute(applied)}),
        ScorecardFigure("granted", _l("Translator titles granted"),
                        {sid: int(n) for sid, n in db.session.execute(granted)}),
    ]
