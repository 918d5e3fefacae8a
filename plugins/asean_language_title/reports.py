"""The plugin's section of the core's report (``liaison_report_sections``): applications by
year × language × level × route over the report's period and stations — grouped in SQL."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import extract, func, select

from liaison.models import db
from liaison.reports.sections import ReportSection, ReportTable

from .choices import KNOWN_LANGUAGES, Level, Route, Status, language_label
from .models import TitleApplication


def sections(period, stations) -> ReportSection:
    start, end = period.utc_bounds()
    year = extract("year", TitleApplication.submitted_at)
    applied = (select(year, TitleApplication.language, TitleApplication.level, TitleApplication.route, func.count())
               .where(TitleApplication.station_id.in_(stations), TitleApplication.submitted_at >= start,
                      TitleApplication.submitted_at < end)
               .group_by(year, TitleApplication.language, TitleApplication.level, TitleApplication.route))
    granted = (select(TitleApplication.language, func.count())
               .where(TitleApplication.station_id.in_(stations), TitleApplication.status == Status.PASSED,
                      TitleApplication.decision_date >= period.first, TitleApplication.decision_date <= period.last)
               .group_by(TitleApplication.language))
    language_order = {code: n for n, code in enumerate(KNOWN_LANGUAGES)}
    rows = sorted(((int(y), language, level, route, int(n)) for y, language, level, route, n in db.session.execute(applied)),
                  key=lambda r: (r[0], language_order.get(r[1], len(language_order)), r[1], Level(r[2]).rank, r[3]))
    by_language: dict[str, int] = {}
    for _y, language, _level, _route, n in rows:
        by_language[language] = by_language.get(language, 0) + n
    granted_by_language = {language: int(n) for language, n in db.session.execute(granted)}
    languages = sorted(set(by_language) | set(granted_by_language),
                       key=lambda code: (language_order.get(code, len(language_order)), code))
    return ReportSection(_l("Translator titles in ASEAN languages"), [
        ReportTable("by_language", _l("Title applications by language"),
                    [_l("Language"), _l("Applications submitted"), _l("Titles granted")],
                    [[str(language_label(code)), by_language.get(code, 0), granted_by_language.get(code, 0)]
                     for code in languages], keys=languages, chart="bar", series=(1, 2),
                    note=_l("Applications: submitted in the period. Titles granted: decided in the period.")),
        ReportTable("applications", _l("Title applications by year, language, level and route"),
                    [_l("Year"), _l("Language"), _l("Level"), _l("Route"), _l("Applications submitted")],
                    [[str(y), str(language_label(language)), str(Level.label_of(level)), str(Route.label_of(route)), n]
                     for y, language, level, route, n in rows],
                    keys=["|".join(map(str, r[:4])) for r in rows]),
    ], order=50)
