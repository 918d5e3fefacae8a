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
* **Large exports off the request**: a selection of more than ``EXPORT_JOB_THRESHOLD`` rows
  (a capped count: at most threshold + 1 rows are counted) is written to a private file under
  ``EXPORTS_DIR`` (default ``instance/exports``) by a background job (``liaison.jobs``: RQ with
  Redis, inline without), acting as the requester: the same selection, rights, masking and record.
  Only the requester sees its page and downloads it; the file expires after
  ``EXPORT_FILE_HOURS`` and a daily job deletes it.
"""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator

from flask import abort, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone
from openpyxl import Workbook
from sqlalchemy import Select, exists, inspect, or_, select
from werkzeug.exceptions import Forbidden

from .. import jobs, plugins
from ..models import (AccessAction, Channel, Contact, ExportRecord, ExportStation, JobRun, JobStatus, Station, User,
                      db, station_membership, utcnow)
from ..plugins.activation import CORE, active_station_ids

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
    _workbook_rows(book, export, title, records, exported)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    book.save(spool)
    spool.seek(0)
    return spool


def _workbook_rows(book: Workbook, export: str, title: str, records: Iterable[Any], exported: Exported) -> None:
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


def _new_record(user: User, export: str, fmt: str, filters: dict[str, Any]) -> ExportRecord:
    record = ExportRecord(user_id=user.id, what=export, format=fmt, filters=filters, created_at=utcnow())
    db.session.add(record)
    return record


def start(user: User, export: str, fmt: str, filters: dict[str, Any]) -> ExportRecord:
    """Write the export's record before anything leaves (committed)."""
    from ..database import prepare_write

    prepare_write()  # exports are downloaded with GET
    record = _new_record(user, export, fmt, filters)
    db.session.commit()
    return record


def _complete(record_id: int, user: User, exported: Exported) -> None:
    record = db.session.get(ExportRecord, record_id)
    record.rows = exported.count
    record.finished_at = utcnow()
    for station_id, count in sorted(exported.per_station.items()):
        db.session.add(ExportStation(export_id=record.id, station_id=station_id, rows=count))
    log_export(user, record.what, exported, record.format)


def finish(record_id: int, user: User, exported: Exported) -> None:
    """The complete file's rows (in total and per station) and its access-log entries; commits."""
    from ..database import prepare_write

    prepare_write()  # the end of a download streamed after the view returned, still a GET
    _complete(record_id, user, exported)
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


# What an export selects (the list pages' filters, in the request) --------------------------------

LEAD_FILTERS = (
    "q", "status", "region", "station", "category", "reviewer", "submitted_from", "submitted_to", "sort", "queue")
CONTACT_FILTERS = ("q", "station", "kind", "tag")
FILTERS = {"leads": LEAD_FILTERS, "contacts": CONTACT_FILTERS}
ARG_VALUE_CHARS = 2000  # a background export's filters as the job reads them again


def _allowed_or_403(user: User, requested_station) -> frozenset[int] | None:
    """The stations ``user`` may export (``None``: the whole scope), or 403 — also for a
    requested station of the user's own whose volunteers may not export."""
    from ..params import parse_id
    from ..scope import member_station_ids

    allowed = allowed_station_ids(user)
    if allowed is None:
        return None
    if not allowed:
        abort(403)
    station = parse_id(requested_station)
    if station is not None and station in member_station_ids(user) and station not in allowed:
        abort(403)
    return allowed


def selection(export: str) -> tuple[Select, str]:
    """The records of ``export`` ("leads" or "contacts") the current request's filters select
    for the current user, and the sheet's title; 403 without the export right."""
    from flask_login import current_user
    from sqlalchemy.orm import selectinload

    from ..params import parse_id

    user = current_user._get_current_object()
    allowed = _allowed_or_403(user, request.args.get("station"))
    if export == "leads":
        from ..leads.queries import filtered_leads
        from ..leads.views import LIST_OPTIONS, filter_form
        from ..models import LeadStatus, TalentLead

        _form, filters = filter_form(sort="-submitted")
        stmt = filtered_leads(user, filters).options(*LIST_OPTIONS)
        if request.args.get("queue"):  # from the review queue: what the queue lists (no drafts)
            stmt = stmt.where(TalentLead.status != LeadStatus.DRAFT)
        if allowed is not None:
            stmt = stmt.where(TalentLead.station_id.in_(allowed))
        return stmt, _("Talent leads")
    from ..contacts import services as contact_services
    from ..contacts.forms import ContactSearchForm
    from ..i18n import name_order

    form = ContactSearchForm(request.args)
    stmt = contact_services.search(
        user, q=form.q.data, station_id=parse_id(form.station.data or ""), kind=form.kind.data, tag=form.tag.data,
    ).options(selectinload(Contact.station), selectinload(Contact.tag_rows),
              selectinload(Contact.language_rows)).order_by(*name_order(Contact))
    if allowed is not None:
        stmt = stmt.where(Contact.station_id.in_(allowed))
    return stmt, _("Contacts")


def selection_args(args, export: str) -> dict[str, list[str]]:
    """The request's filters (known names only) as a background export's job reads them again."""
    return {name: [value[:ARG_VALUE_CHARS] for value in args.getlist(name)][:20]
            for name in FILTERS[export] if args.getlist(name)}


# Large exports: a file made by a background job ------------------------------------------------

JOB = "exports.file"
CLEANUP_JOB = "exports.cleanup"
READY_KIND = "export_ready"  # the in-app notification to the requester
FILE_NAME = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(?:csv|xlsx)(?:\.part)?$")

PREPARING, READY, FAILED, EXPIRED, UNAVAILABLE = "preparing", "ready", "failed", "expired", "unavailable"


def job_threshold() -> int | None:
    """``EXPORT_JOB_THRESHOLD``: more rows than this go to a background job (``None``: never)."""
    value = current_app.config.get("EXPORT_JOB_THRESHOLD")
    return None if value is None or value is False else max(int(value), 0)


def is_large(stmt: Select) -> bool:
    """Does ``stmt`` select more rows than the threshold? Counts at most threshold + 1 rows."""
    from ..pagination import capped_count

    threshold = job_threshold()
    return threshold is not None and capped_count(stmt, threshold) > threshold


def file_hours() -> float:
    return float(current_app.config.get("EXPORT_FILE_HOURS") or 24)


def exports_dir(create: bool = True) -> Path:
    """``EXPORTS_DIR`` (default ``instance/exports``), private to the app's user."""
    configured = current_app.config.get("EXPORTS_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "exports"
    if create:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def file_path(token: str, fmt: str) -> Path:
    if not FILE_NAME.match(f"{token}.{fmt}") or fmt not in FORMATS:
        raise ValueError("not an export file name")
    return exports_dir() / f"{token}.{fmt}"


def job_key(record_id: int) -> str:
    return f"export:{record_id}"


def queue_file(user: User, export: str, fmt: str, filters: dict[str, Any], args: dict[str, list[str]],
               locale: str) -> int:
    """Record the export and ask for its file, in one transaction (committed): the job runs now
    (inline) or in a worker (Redis). Returns the record's id."""
    record = _new_record(user, export, fmt, filters)
    db.session.flush()
    record_id = record.id
    jobs.enqueue(JOB, key=job_key(record_id), record_id=record_id, user_id=user.id, args=args, locale=locale,
                 token=secrets.token_urlsafe(24))
    db.session.commit()
    return record_id


@jobs.job(JOB)
def make_file(record_id: int, user_id: int, args: dict, locale: str, token: str) -> None:
    """Write the export's file as its requester would have downloaded it, then its record and
    access-log entries (committed by the job runner with the job's "done"). A retry after a crash
    writes the file again: nothing was recorded."""
    record = db.session.get(ExportRecord, record_id)
    if record is None or record.finished_at is not None:
        return
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return  # nothing leaves for a removed or deactivated user
    export, fmt = record.what, record.format
    path = file_path(token, fmt)
    part = path.with_name(path.name + ".part")
    with current_app.test_request_context(f"/exports/{export}.{fmt}", query_string=args,
                                          headers={"Accept-Language": locale or ""}):
        g._login_user = user  # the requester (rights, scope, masking, language, time zone)
        g.pop("_privacy_maskers", None)
        try:
            stmt, title = selection(export)
        except Forbidden:  # the right was taken away in the meantime: no file
            return
        exported = Exported()
        records = db.session.scalars(stmt.execution_options(yield_per=BATCH))
        descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as out:
                if fmt == "csv":
                    for chunk in csv_chunks(export, records, exported):
                        out.write(chunk)
                else:
                    book = Workbook(write_only=True)
                    _workbook_rows(book, export, title, records, exported)
                    book.save(out)
            os.replace(part, path)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        page = url_for("exports.prepared", record_id=record_id)
    # After the request context: its teardown may store plugin errors (rolling back what is pending).
    _complete(record_id, user, exported)
    _notify_ready(user, record_id, exported, page)


def _register_kind() -> None:
    from ..notifications.kinds import CORE_KINDS, NotificationKind

    if not any(kind.name == READY_KIND for kind in CORE_KINDS):
        CORE_KINDS.append(NotificationKind(
            READY_KIND, _l("An export is ready"), _l("Your export (%(count)s rows) is ready to download."),
            Channel.APP, _l("The person who asked for a large export.")))


_register_kind()


def _notify_ready(user: User, record_id: int, exported: Exported, page: str) -> None:
    """An in-app notification to the requester (filed under one of the exported stations: the
    requester sees them all; an export of no station's rows notifies nobody)."""
    from ..notifications import notify

    if not exported.per_station:
        return
    notify(READY_KIND, [user.id], station_id=min(exported.per_station), params={"count": exported.count},
           path=page, key=f"{READY_KIND}:{record_id}")


@dataclass
class ExportFile:
    """A background export as its page shows it."""

    record: ExportRecord
    run: JobRun
    status: str
    path: Path | None = None
    expires_at: datetime | None = None

    @property
    def filename(self) -> str:
        return f"{self.record.what}-{self.record.created_at:%Y%m%d-%H%M}.{self.record.format}"


def export_file(user: User, record_id) -> ExportFile | None:
    """The background export ``record_id`` of ``user`` (``None``: not theirs, not a background
    export, unknown)."""
    from ..params import parse_id

    record_id = parse_id(record_id)
    if record_id is None or not getattr(user, "is_authenticated", False):
        return None
    record = db.session.get(ExportRecord, record_id)
    if record is None or record.user_id != user.id:
        return None
    run = db.session.scalar(select(JobRun).where(JobRun.key == job_key(record.id), JobRun.name == JOB))
    if run is None:
        return None
    if run.status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.RETRYING):
        return ExportFile(record, run, PREPARING)
    if run.status == JobStatus.FAILED:
        return ExportFile(record, run, FAILED)
    if record.finished_at is None:
        return ExportFile(record, run, UNAVAILABLE)  # the right was gone when the job ran
    expires_at = record.finished_at + timedelta(hours=file_hours())
    try:
        path = file_path(str((run.kwargs or {}).get("token")), record.format)
    except ValueError:
        path = None
    if path is None or expires_at <= utcnow() or not path.is_file():
        return ExportFile(record, run, EXPIRED, expires_at=expires_at)
    return ExportFile(record, run, READY, path, expires_at)


@jobs.scheduled(CLEANUP_JOB)
def queue_cleanup() -> int:
    """Ask for the day's clean-up of expired files (once a day, whatever the cron's rhythm)."""
    key = f"{CLEANUP_JOB}:{utcnow():%Y-%m-%d}"
    if db.session.scalar(select(JobRun.id).where(JobRun.key == key)) is not None:
        return 0
    jobs.enqueue(CLEANUP_JOB, key=key)
    return 1


@jobs.job(CLEANUP_JOB)
def cleanup_job() -> int:
    return delete_expired()


def delete_expired(now: float | None = None) -> int:
    """Delete the export files older than ``EXPORT_FILE_HOURS`` (and parts left by a crash);
    returns how many."""
    directory = exports_dir(create=False)
    if not directory.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - file_hours() * 3600
    deleted = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            if FILE_NAME.match(entry.name) and entry.is_file(follow_symlinks=False) \
                    and entry.stat().st_mtime < limit:
                try:
                    os.unlink(entry.path)
                    deleted += 1
                except FileNotFoundError:
                    pass
    return deleted
