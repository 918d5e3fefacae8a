"""The access log page (admins: all; regional admins: their regions' stations) with CSV and
Excel exports, and the retention page (admins): the rules, their settings, the recent runs and a
dry run on demand. Blueprint ``privacy_log``; see docs/privacy.md."""
from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from typing import Any, Iterable

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy import Select, inspect, or_, select
from sqlalchemy.orm import selectinload
from wtforms import DateField, StringField, ValidationError
from wtforms.validators import Length, Optional

from ..exports import services as export_services
from ..exports.services import _cell, _safe
from ..forms import BaseForm, SelectField
from ..i18n import display_name, utc_start_of
from ..models import AccessAction, AccessLogEntry, Contact, RevealReason, Role, Station, User, db, utcnow
from ..pagination import keyset_page
from ..params import parse_id
from ..permissions import roles_required
from ..scope import scoped, visible_stations_query, visible_users_query
from ..search import contact_condition
from . import retention
from .masking import person_name

bp = Blueprint("privacy_log", __name__, url_prefix="/privacy")

PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Labels of the core's personal fields as the access log names them ("table.column"); a field
# without a label (a plugin's) is shown as it is stored.
FIELD_LABELS = {
    "contacts.email": _l("E-mail"),
    "contacts.phone": _l("Phone"),
    "contacts.messaging": _l("Messaging"),
    "contacts.name_original": _l("Name in original script"),
    "contacts.notes": _l("Notes"),
}


def field_label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name


# The access log -----------------------------------------------------------------------------

class LogFilterForm(BaseForm):
    class Meta:
        csrf = False

    user = SelectField(_l("Who"), validators=[Optional()])
    contact = StringField(_l("Whom"), validators=[Optional(), Length(max=100)],
                          description=_l("Contact no. or name"))
    station = SelectField(_l("Station"), validators=[Optional()])
    action = SelectField(_l("Action"), validators=[Optional()],
                         choices=[("", _l("Any action"))] + AccessAction.choices())
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


def _user_choices(user: User) -> list[tuple[str, str]]:
    """Whose access the viewer may filter by: admins everyone; regional admins the accounts they
    manage, themselves, and the HQ reviewers and admins (who see every region's contacts)."""
    if user.is_admin:
        stmt = select(User).order_by(User.name, User.id)
    else:
        managed = select(visible_users_query(user).subquery().c.id)
        stmt = select(User).where(or_(User.id.in_(managed), User.id == user.id,
                                      User.role.in_([Role.HQ_REVIEWER, Role.ADMIN]))).order_by(User.name, User.id)
    return [("", _("Anyone"))] + [(str(u.id), f"{u.name} ({u.email})") for u in db.session.scalars(stmt)]


def filter_form() -> LogFilterForm:
    form = LogFilterForm(request.args)
    form.user.choices = _user_choices(current_user)
    form.station.choices = [("", _("Any station"))] + [
        (str(station.id), display_name(station)) for station in db.session.scalars(visible_stations_query())]
    return form


def log_query(user: User, form: LogFilterForm) -> Select:
    """The entries the user may see (through ``scope``) that match the (validated) filters,
    newest first. The order and the scope, user and contact filters are served by the indexes
    of ``privacy_access_log`` (``created_at``; ``station_id``, ``user_id`` or ``contact_id``
    with ``created_at``)."""
    stmt = scoped(select(AccessLogEntry), AccessLogEntry, user)
    if form.user.data:
        stmt = stmt.where(AccessLogEntry.user_id == parse_id(form.user.data))
    q = (form.contact.data or "").strip()
    if q:
        contact_id = parse_id(q.lstrip("#"))
        if contact_id is not None:
            stmt = stmt.where(AccessLogEntry.contact_id == contact_id)
        else:
            stmt = stmt.where(AccessLogEntry.contact_id.in_(select(Contact.id).where(contact_condition(q))))
    if form.station.data:
        stmt = stmt.where(AccessLogEntry.station_id == parse_id(form.station.data))
    if form.action.data:
        stmt = stmt.where(AccessLogEntry.action == form.action.data)
    if form.date_from.data:
        stmt = stmt.where(AccessLogEntry.created_at >= utc_start_of(form.date_from.data))
    if form.date_to.data:
        stmt = stmt.where(AccessLogEntry.created_at < utc_start_of(form.date_to.data + timedelta(days=1)))
    return stmt.order_by(AccessLogEntry.created_at.desc(), AccessLogEntry.id.desc())


LOAD = (selectinload(AccessLogEntry.user), selectinload(AccessLogEntry.contact), selectinload(AccessLogEntry.fields))


def _station_names(entries: Iterable[AccessLogEntry]) -> dict[int, str]:
    ids = {entry.station_id for entry in entries if entry.station_id}
    if not ids:
        return {}
    return {station.id: display_name(station) for station in db.session.scalars(select(Station).where(Station.id.in_(ids)))}


@bp.route("/log")
@roles_required(Role.REGIONAL_ADMIN)
def log():
    form = filter_form()
    valid = form.validate()
    page = keyset_page(log_query(current_user, form).options(*LOAD), per_page=PER_PAGE) if valid else None
    stations = _station_names(page.items) if page else {}
    return render_template("privacy/log.html", form=form, page=page, stations=stations,
                           field_label=field_label, reason_label=RevealReason.label_of,
                           action_label=AccessAction.label_of, person_name=person_name)


@dataclass(frozen=True)
class Column:
    header: Any
    value: Any


def _columns(stations: dict[int, str]) -> list[Column]:
    return [
        Column(_l("When"), lambda e: e.created_at),
        Column(_l("Who"), lambda e: f"{e.user.name} ({e.user.email})" if e.user else ""),
        Column(_l("Contact no."), lambda e: e.contact_id),
        Column(_l("Whom"), lambda e: person_name(e.contact) if e.contact else ""),
        Column(_l("Station"), lambda e: stations.get(e.station_id, "")),
        Column(_l("Action"), lambda e: str(AccessAction.label_of(e.action))),
        Column(_l("Fields"), lambda e: ", ".join(field_label(f.field) for f in e.fields)),
        Column(_l("Reason"), lambda e: str(RevealReason.label_of(e.reason)) if e.reason else ""),
        Column(_l("Note"), lambda e: e.note or ""),
        Column(_l("Records"), lambda e: e.record_count),
    ]


LOG_FILTERS = ("user", "contact", "station", "action", "date_from", "date_to")


def _export_query() -> tuple[list[Column], Select] | None:
    """The columns and the statement of an export of the log: every entry the filters match —
    no row limit (the CSV is streamed, the XLSX written row by row to a spooled file)."""
    form = filter_form()
    if not form.validate():
        return None
    stmt = log_query(current_user, form).options(*LOAD)
    stations = {s.id: display_name(s) for s in db.session.scalars(scoped(select(Station), Station))}
    return _columns(stations), stmt


def _export_rows(columns: list[Column], stmt: Select, counted) -> Iterable[list]:
    """The rows of the export; ``counted`` (``downloads.Counted``) gets its rows per station."""
    for entry in db.session.scalars(stmt.execution_options(yield_per=export_services.BATCH)):
        counted.total += 1
        if entry.station_id is not None:
            counted.per_station[entry.station_id] += 1
        yield [_safe(_cell(column.value(entry))) for column in columns]


def _filename(extension: str) -> str:
    return f"access-log-{utcnow():%Y%m%d-%H%M}.{extension}"


def _start(fmt: str):
    """The export's record (written before anything leaves) and what will count its rows."""
    from ..reports.downloads import ACCESS_LOG, Counted

    record = export_services.start(current_user, ACCESS_LOG, fmt,
                                   export_services.clean_filters(request.args, LOG_FILTERS))
    return record.id, Counted()


@bp.route("/log.csv")
@roles_required(Role.REGIONAL_ADMIN)
def log_csv():
    exported = _export_query()
    if exported is None:
        flash(_("Correct the filters marked below, then export again."), "error")
        return redirect(url_for(".log", **request.args))
    columns, stmt = exported
    record_id, counted = _start("csv")
    user = current_user._get_current_object()

    def header() -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerow([str(column.header) for column in columns])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM: Excel then reads UTF-8

    def entries():
        if inspect(user).detached:
            db.session.add(user)  # current_user is this object: attach it again
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for n, row in enumerate(_export_rows(columns, stmt, counted), 1):
            writer.writerow(["" if value is None else _text(value) for value in row])
            if n % export_services.BATCH == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")
        export_services.finish(record_id, user, counted)  # only once every entry has left

    # The heading row first, made here; the entries then in the request's context (pushed only
    # once the client reads past the heading row).
    return Response(chain([header()], stream_with_context(entries())), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'})


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@bp.route("/log.xlsx")
@roles_required(Role.REGIONAL_ADMIN)
def log_xlsx():
    exported = _export_query()
    if exported is None:
        flash(_("Correct the filters marked below, then export again."), "error")
        return redirect(url_for(".log", **request.args))
    columns, stmt = exported
    record_id, counted = _start("xlsx")
    book = Workbook(write_only=True)
    title, header = _("Access log"), [str(column.header) for column in columns]
    sheet, rows, sheets = None, export_services.SHEET_ROWS, 0
    for row in _export_rows(columns, stmt, counted):
        if rows >= export_services.SHEET_ROWS:  # a full sheet: the entries go on on the next one
            sheets += 1
            sheet = book.create_sheet((title[:26] + (f" ({sheets})" if sheets > 1 else ""))[:31])
            sheet.append(header)
            rows = 0
        sheet.append(row)
        rows += 1
    if sheet is None:
        book.create_sheet(title[:31]).append(header)
    spool = tempfile.SpooledTemporaryFile(max_size=export_services.SPOOL_BYTES)
    book.save(spool)
    spool.seek(0)
    export_services.finish(record_id, current_user, counted)
    return Response(export_services.file_chunks(spool), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx")}"'})


# Retention ------------------------------------------------------------------------------------

class DryRunForm(BaseForm):
    """Only the CSRF token: the button starts a dry run of every rule."""


@bp.route("/retention")
@roles_required()
def retention_page():
    rules = retention.rules()
    runs = retention.recent_runs()
    user_ids = {run.triggered_by_id for run in runs if run.triggered_by_id}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    return render_template("privacy/retention.html", rules=rules, runs=runs, users=users, form=DryRunForm(),
                           labels={rule.key: rule.label for rule in rules})


@bp.route("/retention/dry-run", methods=["POST"])
@roles_required()
def dry_run():
    form = DryRunForm()
    if not form.validate_on_submit():  # only the CSRF token, which the app checks first anyway
        flash(_("Nothing was run: send the form again."), "error")
        return redirect(url_for(".retention_page"))
    done = retention.run(True, current_user)
    problems = [result for result in done.results if result.error]
    if problems:
        flash(_("The dry run finished, but %(num)s rules failed: see the log and the Plugins page.",
                num=len(problems)), "error")
    else:
        flash(_("Dry run finished: nothing was changed. The counts are shown under Recent runs."), "success")
    return redirect(url_for(".retention_page"))
