"""Exports of the lead and contact lists (CSV and XLSX, the list pages' filters), the pages of
large exports made in the background (``/exports/files/<id>``) and the list of exports made
(``/exports/``). The rules live in ``services``."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, redirect, render_template, request, send_file, stream_with_context,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from ..models import ExportRecord, Role, db, utcnow
from ..pagination import keyset_page
from ..permissions import roles_required
from . import services
from .services import CONTACT_FILTERS, LEAD_FILTERS, Exported  # noqa: F401  (kept importable from here)

bp = Blueprint("exports", __name__, url_prefix="/exports")

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PER_PAGE = 50
PAGING = ("after", "before", "last", "page", "count")
FILTER_LABELS = {
    "q": _l("Search"), "status": _l("Status"), "region": _l("Region"), "station": _l("Station"),
    "category": _l("Category"), "reviewer": _l("Reviewer"), "submitted_from": _l("Submitted from"),
    "submitted_to": _l("Submitted until"), "sort": _l("Sort by"), "queue": _l("Review queue"),
    "kind": _l("Kind"), "tag": _l("Tag"), "event": _l("Event"),
}


@bp.app_context_processor
def _export_links():
    def export_url(endpoint: str, **extra) -> str:
        """The export's address with the page's current filters (not its page position)."""
        args = {key: values for key, values in request.args.to_dict(flat=False).items() if key not in PAGING}
        return url_for(endpoint, **{**args, **{key: value for key, value in extra.items() if value}})

    return {"export_url": export_url, "may_export": lambda: services.may_export(current_user)}


def _send(export: str, fmt: str) -> Response:
    stmt, title = services.selection(export)  # 403 without the export right
    filters = services.clean_filters(request.args, services.FILTERS[export])
    if services.is_large(stmt):  # made in the background: its page shows when it is ready
        record_id = services.queue_file(current_user._get_current_object(), export, fmt, filters,
                                        services.selection_args(request.args, export), str(get_locale() or ""))
        return redirect(url_for("exports.prepared", record_id=record_id), 303)
    record = services.start(current_user, export, fmt, filters)
    record_id, user = record.id, current_user._get_current_object()
    filename = f"{export}-{utcnow():%Y%m%d-%H%M}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"}
    if fmt == "csv":
        body = services.streamed(user, record_id, export, stmt)
        return Response(stream_with_context(body), content_type=MIMETYPES[fmt], headers=headers)
    exported = Exported()
    records = db.session.scalars(stmt.execution_options(yield_per=services.BATCH))
    spool = services.xlsx_file(export, title, records, exported)
    services.finish(record_id, user, exported)
    return Response(services.file_chunks(spool), content_type=MIMETYPES[fmt], headers=headers)


def _leads(fmt: str) -> Response:
    return _send("leads", fmt)


def _contacts(fmt: str) -> Response:
    return _send("contacts", fmt)


@bp.route("/leads.xlsx")
@login_required
def leads():
    return _leads("xlsx")


@bp.route("/leads.csv")
@login_required
def leads_csv():
    return _leads("csv")


@bp.route("/contacts.xlsx")
@login_required
def contacts():
    return _contacts("xlsx")


@bp.route("/contacts.csv")
@login_required
def contacts_csv():
    return _contacts("csv")


def _file_or_404(record_id) -> services.ExportFile:
    """A background export of the current user's; anyone else's (or none) is 404."""
    found = services.export_file(current_user, record_id)
    if found is None:
        abort(404)
    return found


@bp.route("/files/<int:record_id>")
@login_required
def prepared(record_id):
    """"Your export is being prepared": the job's state, and the download link when ready."""
    found = _file_or_404(record_id)
    return render_template("exports/prepared.html", file=found, labels=_labels(), filter_labels=_filter_labels(),
                           hours=services.file_hours())


@bp.route("/files/<int:record_id>/download")
@login_required
def download(record_id):
    found = _file_or_404(record_id)
    if found.status != services.READY:
        abort(404)
    if not services.may_export(current_user):  # the right was taken away since
        abort(403)
    response = send_file(found.path, mimetype=MIMETYPES[found.record.format], as_attachment=True,
                         download_name=found.filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _filter_labels() -> dict:
    from ..reports import downloads

    return {**downloads.FILTER_LABELS, **FILTER_LABELS}


def _labels() -> dict[str, str]:
    from ..reports import downloads  # the figures' downloads (report tables, summary, scorecard, charts, log)

    return {"leads": _("Talent leads"), "contacts": _("Contacts"), "event_attendees": _("Event attendees"),
            **{key: str(label) for key, label in downloads.EXPORT_LABELS.items()}}


@bp.route("/")
@roles_required(Role.REGIONAL_ADMIN)
def index():
    """The exports made: admins all, regional admins those with rows of their regions."""
    stmt = services.records_visible_to(current_user).options(
        joinedload(ExportRecord.user)).order_by(ExportRecord.created_at.desc(), ExportRecord.id.desc())
    page = keyset_page(stmt, per_page=PER_PAGE)
    return render_template("exports/index.html", page=page, labels=_labels(), filter_labels=_filter_labels())
