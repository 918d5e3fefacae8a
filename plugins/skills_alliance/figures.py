"""The alliance's figures: the report section (``liaison_report_sections``) and the scorecard
figures (``liaison_scorecard_figures``). Everything is grouped in SQL over the given stations.

* members by country and kind — those that joined by the end of the period;
* agreements by kind and year signed — signed by the end of the period;
* milestones due in the period: done on time, done late, still open;
* recognitions by issuing country — in the catalogue by the end of the period.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, extract, func, select

from liaison.i18n import country_name
from liaison.models import db
from liaison.reports import periods
from liaison.reports.sections import ReportSection, ReportTable
from liaison.scorecard.services import ScorecardFigure

from .choices import AgreementKind, DomesticKind, MemberKind
from .models import Agreement, Member, Milestone, Recognition


def _by_country(rows, columns) -> tuple[list[list], list[str]]:
    table: dict[str, dict[str, int]] = {}
    for country, key, n in rows:
        table.setdefault(country, {})[key] = int(n)
    countries = sorted(table, key=lambda c: (-sum(table[c].values()), c))
    return ([[country_name(c) or c, *[table[c].get(k, 0) for k in columns], sum(table[c].values())]
             for c in countries], countries)


def members_by_country_and_kind(stations, last_day):
    stmt = (select(Member.country, Member.kind, func.count())
            .where(Member.station_id.in_(stations), Member.joined_on <= last_day)
            .group_by(Member.country, Member.kind))
    return _by_country(db.session.execute(stmt), [k.value for k in MemberKind])


def agreements_by_kind_and_year(stations, last_day) -> list[list]:
    year = extract("year", Agreement.signed_on)
    stmt = (select(year, Agreement.kind, func.count())
            .where(Agreement.station_id.in_(stations), Agreement.signed_on.is_not(None),
                   Agreement.signed_on <= last_day)
            .group_by(year, Agreement.kind).order_by(year))
    table: dict[int, dict[str, int]] = {}
    for y, kind, n in db.session.execute(stmt):
        table.setdefault(int(y), {})[kind] = int(n)
    kinds = [k.value for k in AgreementKind]
    return [[str(y), *[table[y].get(k, 0) for k in kinds], sum(table[y].values())] for y in sorted(table)]


def milestones_on_time(stations, first_day, last_day) -> dict[str, int]:
    on_time = func.sum(case((Milestone.done_on <= Milestone.due_on, 1), else_=0))
    late = func.sum(case((Milestone.done_on > Milestone.due_on, 1), else_=0))
    still_open = func.sum(case((Milestone.done_on.is_(None), 1), else_=0))
    stmt = (select(func.count(), on_time, late, still_open)
            .join(Agreement, Agreement.id == Milestone.agreement_id)
            .where(Agreement.station_id.in_(stations), Milestone.due_on >= first_day, Milestone.due_on <= last_day))
    total, a, b, c = db.session.execute(stmt).one()
    return {"due": int(total or 0), "on_time": int(a or 0), "late": int(b or 0), "open": int(c or 0)}


def recognitions_by_country(stations, last_day):
    stmt = (select(Recognition.issuing_country, Recognition.domestic_kind, func.count())
            .where(Recognition.station_id.in_(stations), Recognition.source_date <= last_day)
            .group_by(Recognition.issuing_country, Recognition.domestic_kind))
    return _by_country(db.session.execute(stmt), [k.value for k in DomesticKind])


def sections(period, stations) -> ReportSection:
    member_rows, member_keys = members_by_country_and_kind(stations, period.last)
    recognition_rows, recognition_keys = recognitions_by_country(stations, period.last)
    milestones = milestones_on_time(stations, period.first, period.last)
    kinds, agreement_kinds, domestic = list(MemberKind), list(AgreementKind), list(DomesticKind)
    return ReportSection(_l("Skills-talent alliance"), [
        ReportTable("members", _l("Members by country and kind"),
                    [_l("Country"), *[k.label for k in kinds], _l("Total")], member_rows, keys=member_keys,
                    chart="bar", series=(len(kinds) + 1,), note=_l("Members that joined by the end of the period.")),
        ReportTable("agreements", _l("Framework agreements by kind and year signed"),
                    [_l("Year"), *[k.label for k in agreement_kinds], _l("Total")],
                    agreements_by_kind_and_year(stations, period.last), chart="bar",
                    series=tuple(range(1, len(agreement_kinds) + 1))),
        ReportTable("milestones", _l("Milestones due in the period"),
                    [_l("Milestones"), _l("Number")],
                    [[_l("Due"), milestones["due"]], [_l("Done on time"), milestones["on_time"]],
                     [_l("Done late"), milestones["late"]], [_l("Not done yet"), milestones["open"]]],
                    keys=["due", "on_time", "late", "open"]),
        ReportTable("recognitions", _l("Recognised international qualifications by issuing country"),
                    [_l("Country"), *[k.label for k in domestic], _l("Total")], recognition_rows,
                    keys=recognition_keys, chart="bar", series=(len(domestic) + 1,)),
    ], order=70)


def scorecard(year: int, station_ids) -> list[ScorecardFigure]:
    bounds = periods.named(str(year))
    first, last = bounds.first, bounds.last
    joined = (select(Member.station_id, func.count())
              .where(Member.station_id.in_(station_ids), Member.joined_on >= first, Member.joined_on <= last)
              .group_by(Member.station_id))
    signed = (select(Agreement.station_id, func.count())
              .where(Agreement.station_id.in_(station_ids), Agreement.signed_on >= first, Agreement.signed_on <= last)
              .group_by(Agreement.station_id))
    return [
        ScorecardFigure("members", _l("Alliance members joined"), {s: int(n) for s, n in db.session.execute(joined)}),
        ScorecardFigure("agreements", _l("Framework agreements signed"),
                        {s: int(n) for s, n in db.session.execute(signed)}),
    ]
