"""Spreadsheet exports: the core's columns and the active plugins' (``liaison_export_columns``).

Every record goes through the masking layer (``liaison.privacy.masking.export_view``): a
contact's masked fields are exported masked for users who see them masked, and every export is
written to the access log (EXPORT: how many records of which station, which personal fields).
"""
from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any, Iterable

from flask_babel import to_user_timezone
from openpyxl import Workbook

from .. import plugins
from ..models import AccessAction, Contact
from ..plugins.activation import CORE, active_station_ids

MAX_ROWS = 100_000
BATCH = 1000  # records per batch: the masking layer loads the batch's reveals in one query


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


@dataclass
class Exported:
    """What an export let out: rows per station and the personal fields read in clear."""

    per_station: Counter = field(default_factory=Counter)
    fields: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return sum(self.per_station.values())


def _batches(records: Iterable[Any], size: int):
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def _contacts_of(batch: list[Any]) -> list[Contact]:
    return [record if isinstance(record, Contact) else getattr(record, "contact", None) for record in batch]


def workbook(export: str, title: str, records: Iterable[Any], exported: Exported | None = None) -> bytes:
    """The spreadsheet of ``records``, masked for the current user; ``exported`` (if given)
    collects what left, for the access log (``log_export``)."""
    from ..privacy import masking

    exported = exported if exported is not None else Exported()
    masker = masking.masker()
    columns = plugins.export_columns(export)
    active = {plugin: active_station_ids(plugin) for plugin, _column in columns if plugin != CORE}
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([str(column.header) for _plugin, column in columns])
    count = 0
    for batch in _batches(records, BATCH):
        if count >= MAX_ROWS:
            break
        masker.prefetch(_contacts_of(batch))
        for record in batch[: MAX_ROWS - count]:
            count += 1
            shown = masking.export_view(record, masker, exported.fields)
            row = []
            for plugin, column in columns:
                if plugin != CORE and record.station_id not in active[plugin]:
                    row.append(None)  # the plugin is off for this record's station
                    continue
                try:
                    row.append(_safe(_cell(column.value(shown))))
                except Exception as exc:
                    plugins.host().record_error(plugin, "liaison_export_columns", exc)
                    row.append(None)
            sheet.append(row)
            exported.per_station[record.station_id] += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def log_export(user, export: str, exported: Exported) -> None:
    """One EXPORT entry per station exported (its count and the personal fields that left in
    clear), so that each region's admins see their stations' exports; one entry with count 0
    for an empty export. The caller commits."""
    from ..privacy.masking import log_access

    note = f"{export}.xlsx"
    if not exported.per_station:
        log_access(user, AccessAction.EXPORT, fields=(), count=0, note=note)
    for station_id, count in sorted(exported.per_station.items()):
        log_access(user, AccessAction.EXPORT, station_id=station_id, fields=exported.fields, count=count, note=note)
