from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..contacts import services as contact_services
from ..contacts.forms import ContactSearchForm
from ..leads.queries import filtered_leads
from ..leads.views import LIST_OPTIONS, filter_form
from ..models import Contact, db, utcnow
from ..i18n import name_order
from ..params import parse_id
from .services import MAX_ROWS, Exported, log_export, workbook

bp = Blueprint("exports", __name__, url_prefix="/exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, name: str) -> Response:
    filename = f"{name}-{utcnow():%Y%m%d-%H%M}.xlsx"
    return Response(content, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _logged(export: str, title: str, records) -> bytes:
    """The workbook, masked for the user, and its entries in the access log."""
    exported = Exported()
    content = workbook(export, title, records, exported)
    log_export(current_user, export, exported)
    db.session.commit()
    return content


@bp.route("/leads.xlsx")
@login_required
def leads():
    _form, filters = filter_form(sort="-submitted")
    stmt = filtered_leads(current_user, filters).options(*LIST_OPTIONS).limit(MAX_ROWS)
    records = db.session.scalars(stmt.execution_options(yield_per=1000))
    return _download(_logged("leads", _("Talent leads"), records), "leads")


@bp.route("/contacts.xlsx")
@login_required
def contacts():
    form = ContactSearchForm(request.args)
    station = form.station.data or ""
    stmt = contact_services.search(
        current_user, q=form.q.data, station_id=parse_id(station),
        kind=form.kind.data, tag=form.tag.data,
    ).options(selectinload(Contact.station), selectinload(Contact.tag_rows),
              selectinload(Contact.language_rows)).order_by(*name_order(Contact)).limit(MAX_ROWS)
    records = db.session.scalars(stmt.execution_options(yield_per=1000))
    return _download(_logged("contacts", _("Contacts"), records), "contacts")
