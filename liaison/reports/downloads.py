"""Downloads of figures — the report's tables and summary, the scorecard, the home page's charts,
the access log — under the same rules as the lead and contact exports (``liaison.exports``):

* **the export right** (``liaison.exports.services.allowed_station_ids``): HQ and regional admins
  download what they see; a volunteer only when every station the download counts lets its
  volunteers export (``may_download``; otherwise 403, and the page shows no link);
* **recorded** (``record``): one ``ExportRecord`` per download through ``exports.services.start``
  and ``finish`` — what, format, filters, rows — tied to the stations the selection counts (so
  their regions' admins see it on ``/exports/``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

from flask import abort
from flask_babel import lazy_gettext as _l

from ..exports import services as export_services
from ..exports.services import Exported
from ..models import ExportRecord, User

# What the downloads are called on /exports/ (``ExportRecord.what``), and their filters' names.
REPORT_TABLE = "report_table"
REPORT_SUMMARY = "report_summary"
SCORECARD = "scorecard"
HOME_CHART = "home_chart"
ACCESS_LOG = "access_log"
EXPORT_LABELS = {
    REPORT_TABLE: _l("Report table"),
    REPORT_SUMMARY: _l("Report summary and tables"),
    SCORECARD: _l("Station scorecard"),
    HOME_CHART: _l("Home page chart"),
    ACCESS_LOG: _l("Access log"),
}
REPORT_FILTERS = ("period", "date_from", "date_to", "region", "station", "category")
FILTER_LABELS = {
    "period": _l("Period"), "date_from": _l("From"), "date_to": _l("Until"), "region": _l("Region"),
    "station": _l("Station"), "category": _l("Category"), "table": _l("Table"), "chart": _l("Chart"),
    "year": _l("Year"),
}


@dataclass
class Counted(Exported):
    """What a download of figures let out: ``total`` rows (figures are not records of a station;
    the stations the selection counts are listed with 0 rows each)."""

    total: int = 0

    @property
    def count(self) -> int:
        return self.total


def may_download(user: User, station_ids: Iterable[int] | None) -> bool:
    """Whether ``user`` may download figures over ``station_ids`` (``None``: every station)."""
    allowed = export_services.allowed_station_ids(user)
    if allowed is None:
        return True
    if not allowed or station_ids is None:
        return False
    return set(station_ids) <= allowed


def require(user: User, station_ids: Iterable[int] | None) -> None:
    if not may_download(user, station_ids):
        abort(403)


def record(user: User, what: str, fmt: str, filters: dict[str, Any], rows: int,
           station_ids: Iterable[int] | None = None, exported: Exported | None = None) -> ExportRecord:
    """The download's ``ExportRecord`` (with its row count) and its access-log entry; commits."""
    entry = export_services.start(user, what, fmt, filters)
    if exported is None:
        exported = Counted(per_station=Counter({int(s): 0 for s in station_ids or ()}), total=rows)
    export_services.finish(entry.id, user, exported)
    return entry
