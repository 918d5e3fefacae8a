"""Spreadsheet exports: CSV (UTF-8 with BOM, streamed) and XLSX (openpyxl, write-only, spooled),
the core's columns and the active plugins' (``liaison_export_columns``).

* **A right of its own** (``allowed_station_ids``): HQ and regional admins export what they see;
  a volunteer only the stations whose setting "volunteers may export" is on (none: 403).
* **Masked**: every record goes through the masking layer (``liaison.privacy.masking.export_view``):
  a contact's masked fields are exported masked for users who see them masked.
* **Recorded**: every export is an ``ExportRecord`` (who, when, what, filters, format) written
  before the first byte leaves; when the file is complete its row count and rows per station
  are added and the access log gets its EXPORT entries (one per station, with the personal
  fields that left in clear). A download broken off halfway keeps ``rows`` empty.
* **No cut**: neither format stops at a row limit. A CSV is generated batch by batch (no whole
  file in memory); an XLSX is written row by row to a temporary file (kept in memory up to
  ``SPOOL_BYTES``) and sent from there in chunks; past the rows an Excel sheet holds
  (``SHEET_ROWS``) the rows continue on a further sheet.
* **Formula injection**: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets an
  apostrophe in front (the import takes it off again).
"""
from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any, Iterable, Iterator

from flask_babel import to_user_timezone
from openpyxl import Workbook
from sqlalchemy import Select, exists, inspect, or_, select

from .. import plugins
from ..models import AccessAction, Contact, ExportRecord, ExportStation, Station, User, db, station_membership, utcnow
from ..plugins.activation import CORE, active_station_ids

MAX_ROWS = 100_000  # the access log's own exports (liaison.privacy.log_views); not used here
BATCH = 1000  # records per batch: the masking layer loads the batch's reveals in one query
SHEET_ROWS = 1_048_575  # rows an Excel sheet holds below its header row
SPOOL_BYTES = 8 * 1024 * 1024  # an XLSX up to this size stays in memory, a larger one on disk
CHUNK = 64 * 1024
BOM = "\ufeff"
FORMATS = ("csv", "xlsx")
FILTER_VALUE_CHARS = 200


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


# Who may export what --------------------------------------------------------------------------

def allowed_station_ids(user: User) -> frozenset[int] | None:
    """``None``: everything in the user's scope (HQ, regional admins); otherwise the ids of the
    user's stations that let their volunteers export (empty: the user may not export)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_hq or user.is_regional_admin:
        return None
    return frozenset(db.session.scalars(
        select(station_membership.c.station_id)
        .join(Station, Station.id == station_membership.c.station_id)
        .where(station_membership.c.user_id == user.id, Station.volunteers_may_export.is_(True))))


def may_export(user: User) -> bool:
    allowed = allowed_station_ids(user)
    return allowed is None or bool(allowed)


def records_visible_to(user: User) -> Select:
    """Export records an admin sees (all) or a regional admin (those with rows of their
    regions' stations, and their own); nothing for anyone else."""
    stmt = select(ExportRecord)
    if user.is_admin:
        return stmt
    if user.is_regional_admin:
        from ..scope import visible_station_ids

        touches = exists().where(ExportStation.export_id == ExportRecord.id,
                                 ExportStation.station_id.in_(visible_station_ids(user)))
        return stmt.where(or_(touches, ExportRecord.user_id == user.id))
    return stmt.where(ExportRecord.id.is_(None))


# Rows -----------------------------------------------------------------------------------------

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


def header(export: str) -> list[str]:
    return [str(column.header) for _plugin, column in plugins.export_columns(export)]


def rows(export: str, records: Iterable[Any], exported: Exported) -> Iterator[list[list[Any]]]:
    """Batches of rows (cells neutralised, masked for the current user); ``exported`` collects
    what left."""
    from ..privacy import masking

    masker = masking.masker()
    columns = plugins.export_columns(export)
    active = {plugin: active_station_ids(plugin) for plugin, _column in columns if plugin != CORE}
    for batch in _batches(records, BATCH):
        masker.prefetch(_contacts_of(batch))
        out = []
        for record in batch:
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
            out.append(row)
            exported.per_station[record.station_id] += 1
        yield out


def csv_chunks(export: str, records: Iterable[Any], exported: Exported) -> Iterator[bytes]:
    """The CSV, UTF-8 with a BOM (Excel then reads Chinese correctly), one chunk per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header(export))
    yield (BOM + buffer.getvalue()).encode("utf-8")
    for batch in rows(export, records, exported):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(["" if value is None else value for value in row] for row in batch)
        yield buffer.getvalue().encode("utf-8")


def xlsx_file(export: str, title: str, records: Iterable[Any], exported: Exported):
    """The workbook in a ``SpooledTemporaryFile`` (at position 0; the caller closes it)."""
    book = Workbook(write_only=True)
    names = header(export)
    sheet, count, sheets = None, SHEET_ROWS, 0
    for batch in rows(export, records, exported):
        for row in batch:
            if count >= SHEET_ROWS:  # a full sheet: the rows go on on the next one
                sheets += 1
                sheet = book.create_sheet((title[:26] + (f" ({sheets})" if sheets > 1 else ""))[:31])
                sheet.append(names)
                count = 0
            sheet.append(row)
            count += 1
    if sheet is None:
        book.create_sheet(title[:31]).append(names)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    book.save(spool)
    spool.seek(0)
    return spool


def file_chunks(spool) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


def workbook(export: str, title: str, records: Iterable[Any], exported: Exported | None = None) -> bytes:
    """The whole workbook as bytes (for small exports and tests)."""
    with xlsx_file(export, title, records, exported if exported is not None else Exported()) as spool:
        return spool.read()


# Records --------------------------------------------------------------------------------------

def clean_filters(args, names: Iterable[str]) -> dict[str, Any]:
    """The filters an export was made with, as recorded: the known names, non-empty values,
    each cut to ``FILTER_VALUE_CHARS``."""
    out: dict[str, Any] = {}
    for name in names:
        values = [value[:FILTER_VALUE_CHARS] for value in args.getlist(name) if value.strip()][:20]
        if values:
            out[name] = values[0] if len(values) == 1 else values
    return out


def start(user: User, export: str, fmt: str, filters: dict[str, Any]) -> ExportRecord:
    """Write the export's record before anything leaves (committed)."""
    record = ExportRecord(user_id=user.id, what=export, format=fmt, filters=filters, created_at=utcnow())
    db.session.add(record)
    db.session.commit()
    return record


def finish(record_id: int, user: User, exported: Exported) -> None:
    """The complete file's rows (in total and per station) and its access-log entries; commits."""
    record = db.session.get(ExportRecord, record_id)
    record.rows = exported.count
    record.finished_at = utcnow()
    for station_id, count in sorted(exported.per_station.items()):
        db.session.add(ExportStation(export_id=record.id, station_id=station_id, rows=count))
    log_export(user, record.what, exported, record.format)
    db.session.commit()


def log_export(user, export: str, exported: Exported, fmt: str = "xlsx") -> None:
    """One EXPORT entry per station exported (its count and the personal fields that left in
    clear), so that each region's admins see their stations' exports; one entry with count 0
    for an empty export. The caller commits."""
    from ..privacy.masking import log_access

    note = f"{export}.{fmt}"
    if not exported.per_station:
        log_access(user, AccessAction.EXPORT, fields=(), count=0, note=note)
    for station_id, count in sorted(exported.per_station.items()):
        log_access(user, AccessAction.EXPORT, station_id=station_id, fields=exported.fields, count=count, note=note)


def streamed(user: User, record_id: int, export: str, stmt: Select) -> Iterator[bytes]:
    """The CSV of ``stmt``'s records, then the record finished — only if every chunk was
    produced. Runs after the view has returned (``stream_with_context``): the request's session
    was closed by then, so the query runs here and the user is attached to the new session."""
    if inspect(user).detached:
        db.session.add(user)  # current_user is this object: attach it again
    exported = Exported()
    records = db.session.scalars(stmt.execution_options(yield_per=BATCH))
    yield from csv_chunks(export, records, exported)
    finish(record_id, user, exported)
