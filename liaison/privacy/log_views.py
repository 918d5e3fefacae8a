"""The access log page (admins: all; regional admins: their regions' stations) with CSV and
Excel exports, and the retention page (admins): the rules, their settings, the recent runs and a
dry run on demand. Blueprint ``privacy_log``; see docs/privacy.md."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload
from wtforms import DateField, StringField, ValidationError
from wtforms.validators import Length, Optional

from ..exports.services import MAX_ROWS, _cell, _safe
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


def _export_rows() -> tuple[list[Column], Iterable[list]] | None:
    form = filter_form()
    if not form.validate():
        return None
    stmt = log_query(current_user, form).options(*LOAD).limit(MAX_ROWS)
    stations = {s.id: display_name(s) for s in db.session.scalars(scoped(select(Station), Station))}
    columns = _columns(stations)

    def rows():
        for entry in db.session.scalars(stmt.execution_options(yield_per=1000)):
            yield [_safe(_cell(column.value(entry))) for column in columns]

    return columns, rows()


def _filename(extension: str) -> str:
    return f"access-log-{utcnow():%Y%m%d-%H%M}.{extension}"


@bp.route("/log.csv")
@roles_required(Role.REGIONAL_ADMIN)
def log_csv():
    exported = _export_rows()
    if exported is None:
        flash(_("Correct the filters marked below, then export again."), "error")
        return redirect(url_for(".log", **request.args))
    columns, rows = exported
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a byte-order mark: Excel then reads the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow([str(column.header) for column in columns])
    for row in rows:
        writer.writerow(["" if value is None else _text(value) for value in row])
    return Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'})


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@bp.route("/log.xlsx")
@roles_required(Role.REGIONAL_ADMIN)
def log_xlsx():
    exported = _export_rows()
    if exported is None:
        flash(_("Correct the filters marked below, then export again."), "error")
        return redirect(url_for(".log", **request.args))
    columns, rows = exported
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Access log")[:31])
    sheet.append([str(column.header) for column in columns])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), mimetype=XLSX,
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
