"""Exports of the lead and contact lists (CSV and XLSX, the list pages' filters) and the list of
exports made (``/exports/``). The rules live in ``services``."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from ..contacts import services as contact_services
from ..contacts.forms import ContactSearchForm
from ..i18n import name_order
from ..leads.queries import filtered_leads
from ..leads.views import LIST_OPTIONS, filter_form
from ..models import Contact, ExportRecord, LeadStatus, Role, TalentLead, db, utcnow
from ..pagination import keyset_page
from ..params import parse_id
from ..permissions import roles_required
from ..scope import member_station_ids
from . import services
from .services import Exported

bp = Blueprint("exports", __name__, url_prefix="/exports")

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PER_PAGE = 50
PAGING = ("after", "before", "last", "page", "count")
LEAD_FILTERS = (
    "q", "status", "region", "station", "category", "reviewer", "submitted_from", "submitted_to", "sort", "queue")
CONTACT_FILTERS = ("q", "station", "kind", "tag")
FILTER_LABELS = {
    "q": _l("Search"), "status": _l("Status"), "region": _l("Region"), "station": _l("Station"),
    "category": _l("Category"), "reviewer": _l("Reviewer"), "submitted_from": _l("Submitted from"),
    "submitted_to": _l("Submitted until"), "sort": _l("Sort by"), "queue": _l("Review queue"),
    "kind": _l("Kind"), "tag": _l("Tag"),
}


@bp.app_context_processor
def _export_links():
    def export_url(endpoint: str, **extra) -> str:
        """The export's address with the page's current filters (not its page position)."""
        args = {key: values for key, values in request.args.to_dict(flat=False).items() if key not in PAGING}
        return url_for(endpoint, **{**args, **{key: value for key, value in extra.items() if value}})

    return {"export_url": export_url, "may_export": lambda: services.may_export(current_user)}


def _allowed(requested_station) -> frozenset[int] | None:
    """The stations the user may export (``None``: the whole scope), or 403 — also for a
    requested station of the user's own whose volunteers may not export."""
    allowed = services.allowed_station_ids(current_user)
    if allowed is None:
        return None
    if not allowed:
        abort(403)
    station = parse_id(requested_station)
    if station is not None and station in member_station_ids(current_user) and station not in allowed:
        abort(403)
    return allowed


def _send(export: str, fmt: str, title: str, stmt, filter_names) -> Response:
    record = services.start(current_user, export, fmt, services.clean_filters(request.args, filter_names))
    record_id, user = record.id, current_user._get_current_object()
    filename = f"{export}-{utcnow():%Y%m%d-%H%M}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"}
    if fmt == "csv":
        body = services.streamed(user, record_id, export, stmt)
        return Response(stream_with_context(body), mimetype=MIMETYPES[fmt], headers=headers)
    exported = Exported()
    records = db.session.scalars(stmt.execution_options(yield_per=services.BATCH))
    spool = services.xlsx_file(export, title, records, exported)
    services.finish(record_id, user, exported)
    return Response(services.file_chunks(spool), mimetype=MIMETYPES[fmt], headers=headers)


def _leads(fmt: str) -> Response:
    allowed = _allowed(request.args.get("station"))
    _form, filters = filter_form(sort="-submitted")
    stmt = filtered_leads(current_user, filters).options(*LIST_OPTIONS)
    if request.args.get("queue"):  # from the review queue: what the queue lists (no drafts)
        stmt = stmt.where(TalentLead.status != LeadStatus.DRAFT)
    if allowed is not None:
        stmt = stmt.where(TalentLead.station_id.in_(allowed))
    return _send("leads", fmt, _("Talent leads"), stmt, LEAD_FILTERS)


def _contacts(fmt: str) -> Response:
    allowed = _allowed(request.args.get("station"))
    form = ContactSearchForm(request.args)
    stmt = contact_services.search(
        current_user, q=form.q.data, station_id=parse_id(form.station.data or ""),
        kind=form.kind.data, tag=form.tag.data,
    ).options(selectinload(Contact.station), selectinload(Contact.tag_rows),
              selectinload(Contact.language_rows)).order_by(*name_order(Contact))
    if allowed is not None:
        stmt = stmt.where(Contact.station_id.in_(allowed))
    return _send("contacts", fmt, _("Contacts"), stmt, CONTACT_FILTERS)


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


@bp.route("/")
@roles_required(Role.REGIONAL_ADMIN)
def index():
    """The exports made: admins all, regional admins those with rows of their regions."""
    stmt = services.records_visible_to(current_user).options(
        joinedload(ExportRecord.user)).order_by(ExportRecord.created_at.desc(), ExportRecord.id.desc())
    page = keyset_page(stmt, per_page=PER_PAGE)
    return render_template("exports/index.html", page=page, labels={"leads": _("Talent leads"), "contacts": _("Contacts")},
                           filter_labels=FILTER_LABELS)
