"""What plugins return from ``liaison_report_sections(period, stations)``.

::

    from liaison.reports.sections import ReportSection, ReportTable

    @hookimpl
    def liaison_report_sections(period, stations):
        rows = [["2025", "vi", 3], ...]          # counted in SQL over ``stations`` in ``period``
        return ReportSection(_l("Title applications"), [
            ReportTable("applications", _l("Applications by year and language"),
                        [_l("Year"), _l("Language"), _l("Applications")], rows, chart="bar", series=(2,)),
        ])

``ReportTable`` is the core's ``Table``: the page prints it, draws its chart from the same rows
and offers it as CSV. Its ``key`` is prefixed with the plugin's name by the core.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .charts import Table as ReportTable

__all__ = ["ReportSection", "ReportTable"]


@dataclass
class ReportSection:
    title: Any
    tables: list[ReportTable] = field(default_factory=list)
    note: Any = ""
    order: int = 100
    plugin: str = ""  # set by the core
