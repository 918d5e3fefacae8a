"""The plugin's section of the core's report (``liaison_report_sections``), grouped in SQL over the
report's stations: students by stage × country and by field (today's stage of the students recorded
by the end of the period), returned and companies founded in the period, services by kind ×
outcome (requests made in the period), internships matched, roll calls and the time it took to
reach everyone."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from liaison.i18n import country_name
from liaison.models import db
from liaison.reports.sections import ReportSection, ReportTable

from .choices import ApplicationStatus, ProgrammeKind, RequestStatus, ServiceKind, Stage
from .models import Application, Programme, RollCall, RollCallEntry, ServiceRequest, Student
from .services import minutes_to_reach


def sections(period, stations) -> ReportSection:
    start, end = period.utc_bounds()
    return ReportSection(_l("Services for students abroad"), [
        _stage_country(stations, end), _fields(stations, end), _returns(period, stations),
        _services(stations, start, end), _internships(stations, start, end), _roll_calls(stations, start, end),
    ], order=55)


def _stage_country(stations, end) -> ReportTable:
    stmt = (select(Student.country, Student.stage, func.count())
            .where(Student.station_id.in_(stations), Student.created_at < end)
            .group_by(Student.country, Student.stage))
    counts: dict[str, dict[str, int]] = {}
    for country, stage, n in db.session.execute(stmt):
        counts.setdefault(country, {})[stage] = int(n)
    stages = list(Stage)
    countries = sorted(counts, key=lambda c: (-sum(counts[c].values()), c))
    rows = [[country_name(c) or c, *[counts[c].get(s.value, 0) for s in stages], sum(counts[c].values())]
            for c in countries]
    return ReportTable("stage_country", _l("Students by stage and country of study"),
                       [_l("Country"), *[s.label for s in stages], _l("Total")], rows, keys=countries, chart="bar",
                       series=(len(stages) + 1,), note=_l("Students recorded by the end of the period, at their "
                                                          "stage today."))


def _fields(stations, end) -> ReportTable:
    stmt = (select(Student.field, func.count(), func.sum(case((Student.stage == Stage.ABROAD, 1), else_=0)))
            .where(Student.station_id.in_(stations), Student.created_at < end)
            .group_by(Student.field).order_by(func.count().desc(), Student.field).limit(30))
    rows = [[field, int(n), int(abroad or 0)] for field, n, abroad in db.session.execute(stmt)]
    return ReportTable("fields", _l("Students by field (the 30 largest)"),
                       [_l("Field"), _l("Students"), _l("Studying abroad")], rows, chart="bar", series=(1,))


def _returns(period, stations) -> ReportTable:
    returned = db.session.scalar(select(func.count()).where(
        Student.station_id.in_(stations), Student.returned_on >= period.first, Student.returned_on <= period.last)) or 0
    founded = db.session.scalar(select(func.count()).where(
        Student.station_id.in_(stations), Student.stage == Stage.FOUNDED_COMPANY)) or 0
    employed = db.session.scalar(select(func.count()).where(
        Student.station_id.in_(stations), Student.stage == Stage.EMPLOYED_AT_HOME)) or 0
    rows = [[_l("Returned in the period"), int(returned)], [_l("Companies founded by returnees (all time)"), int(founded)],
            [_l("Employed at home (all time)"), int(employed)]]
    return ReportTable("returns", _l("Returns, companies founded and jobs at home"), [_l("Figure"), _l("Students")],
                       rows, keys=["returned", "founded", "employed"])


def _services(stations, start, end) -> ReportTable:
    stmt = (select(ServiceRequest.kind, ServiceRequest.status, func.count())
            .where(ServiceRequest.station_id.in_(stations), ServiceRequest.created_at >= start,
                   ServiceRequest.created_at < end)
            .group_by(ServiceRequest.kind, ServiceRequest.status))
    counts: dict[str, dict[str, int]] = {}
    for kind, status, n in db.session.execute(stmt):
        counts.setdefault(kind, {})[status] = int(n)
    statuses = list(RequestStatus)
    kinds = [k.value for k in ServiceKind if k.value in counts]
    rows = [[ServiceKind.label_of(k), *[counts[k].get(s.value, 0) for s in statuses], sum(counts[k].values())]
            for k in kinds]
    return ReportTable("services", _l("Service requests by kind and outcome"),
                       [_l("Service"), *[s.label for s in statuses], _l("Total")], rows, keys=kinds, chart="bar",
                       series=(len(statuses) + 1,), note=_l("Requests made in the period, at their status today."))


def _internships(stations, start, end) -> ReportTable:
    stmt = (select(Programme.kind, func.count(), func.sum(case((Application.status == ApplicationStatus.MATCHED, 1),
                                                               else_=0)),
                   func.sum(case((Application.attended.is_(True), 1), else_=0)))
            .join(Programme, Programme.id == Application.programme_id)
            .where(Application.station_id.in_(stations), Application.created_at >= start, Application.created_at < end)
            .group_by(Programme.kind))
    found = {kind: (int(n), int(m or 0), int(a or 0)) for kind, n, m, a in db.session.execute(stmt)}
    kinds = [k.value for k in ProgrammeKind if k.value in found]
    rows = [[ProgrammeKind.label_of(k), *found[k]] for k in kinds]
    return ReportTable("programmes", _l("Programmes: applications, places given (internships matched), attendance"),
                       [_l("Programme"), _l("Applications"), _l("Places given"), _l("Attended")], rows, keys=kinds,
                       chart="bar", series=(1, 2, 3))


def _roll_calls(stations, start, end) -> ReportTable:
    entries = (select(RollCallEntry.roll_call_id, func.count().label("n"),
                      func.sum(case((RollCallEntry.mark == "needs_help", 1), else_=0)).label("help"))
               .where(RollCallEntry.station_id.in_(stations)).group_by(RollCallEntry.roll_call_id).subquery())
    stmt = (select(RollCall, entries.c.n, entries.c.help).join(entries, entries.c.roll_call_id == RollCall.id)
            .where(RollCall.opened_at >= start, RollCall.opened_at < end).order_by(RollCall.opened_at))
    rows, keys = [], []
    for call, n, needs_help in db.session.execute(stmt):
        minutes = minutes_to_reach(call)
        rows.append([f"{call.title} ({country_name(call.country)})", int(n), int(needs_help or 0),
                     minutes if minutes is not None else "—"])
        keys.append(str(call.id))
    return ReportTable("roll_calls", _l("Emergency roll calls"),
                       [_l("Roll call"), _l("Students"), _l("Needed help"), _l("Minutes to reach everyone")], rows,
                       keys=keys)
