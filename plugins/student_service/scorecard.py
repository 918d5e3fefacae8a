"""The plugin's figures on the yearly station scorecard (``liaison_scorecard_figures``): students
recorded and service requests completed in the year, per station — grouped in SQL."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from liaison.models import db
from liaison.reports import periods
from liaison.scorecard.services import ScorecardFigure

from .choices import RequestStatus
from .models import ServiceRequest, Student


def figures(year: int, station_ids) -> list[ScorecardFigure]:
    period = periods.named(str(year))
    start, end = period.utc_bounds()
    students = (select(Student.station_id, func.count())
                .where(Student.station_id.in_(station_ids), Student.created_at >= start, Student.created_at < end)
                .group_by(Student.station_id))
    done = (select(ServiceRequest.station_id, func.count())
            .where(ServiceRequest.station_id.in_(station_ids), ServiceRequest.status == RequestStatus.DONE,
                   ServiceRequest.closed_on >= period.first, ServiceRequest.closed_on <= period.last)
            .group_by(ServiceRequest.station_id))
    return [
        ScorecardFigure("students", _l("Students abroad recorded"), {s: int(n) for s, n in db.session.execute(students)}),
        ScorecardFigure("services_done", _l("Student services completed"),
                        {s: int(n) for s, n in db.session.execute(done)}),
    ]
