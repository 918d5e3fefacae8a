"""Spreadsheet exports: the core's columns and the active plugins' (``liaison_export_columns``)."""
from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any, Iterable

from flask_babel import to_user_timezone
from openpyxl import Workbook

from .. import plugins
from ..plugins.activation import CORE, active_station_ids

MAX_ROWS = 100_000


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_user_timezone(value).replace(tzinfo=None)
    if value is None or isinstance(value, (int, float, date, str)):
        return value
    return str(value)


def _safe(value: Any) -> Any:
    """Spreadsheet formula injection: a text cell must not start like a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def workbook(export: str, title: str, records: Iterable[Any]) -> bytes:
    columns = plugins.export_columns(export)
    active = {plugin: active_station_ids(plugin) for plugin, _column in columns if plugin != CORE}
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([str(column.header) for _plugin, column in columns])
    for count, record in enumerate(records):
        if count >= MAX_ROWS:
            break
        row = []
        for plugin, column in columns:
            if plugin != CORE and record.station_id not in active[plugin]:
                row.append(None)  # the plugin is off for this record's station
                continue
            try:
                row.append(_safe(_cell(column.value(record))))
            except Exception as exc:
                plugins.host().record_error(plugin, "liaison_export_columns", exc)
                row.append(None)
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
