from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import plugins
from ..forms import prefill
from ..i18n import display_name, is_chinese, name_order
from ..duplicates import matching
from ..models import Contact, Station, StationStatus, TalentLead, db
from ..pagination import keyset_page
from ..params import parse_id
from ..permissions import acts_for_station
from ..privacy import masking
from ..privacy.forms import RevealForm
from ..scope import get_or_404, visible_stations_query
from . import services
from .forms import ContactForm, ContactSearchForm, NewContactForm

bp = Blueprint("contacts", __name__, url_prefix="/contacts")


def recordable_stations() -> list[Station]:
    """Active stations for which the current user records contacts and leads."""
    stations = db.session.scalars(
        visible_stations_query().where(Station.status == StationStatus.ACTIVE)
    ).all()
    return [station for station in stations if acts_for_station(current_user, station)]


@bp.route("/")
@login_required
def index():
    form = ContactSearchForm(request.args)
    # Only the columns the filter and the "New contact" check need (HQ sees every station, and
    # full rows cost more than the query); the page's own stations come with its contacts.
    stations = db.session.execute(visible_stations_query().with_only_columns(
        Station.id, Station.name, Station.name_zh, Station.region_id,
        (Station.status == StationStatus.ACTIVE).label("is_active"))).all()
    chinese = is_chinese()
    form.station.choices = [("", _("All stations"))] + [(str(s.id), display_name(s, chinese=chinese)) for s in stations]
    station_id = parse_id(form.station.data)
    stmt = services.search(current_user, q=form.q.data, station_id=station_id, kind=form.kind.data,
                           tag=form.tag.data).options(joinedload(Contact.station)).order_by(*name_order(Contact))
    page = keyset_page(stmt, per_page=25)
    masking.masker().prefetch(page.items)  # the page's reveals in one query
    # recordable_stations() without loading the stations a second time (``acts_for_station``
    # reads the station's id, region and whether it is active: the rows above carry them)
    user = current_user._get_current_object()
    can_create = any(acts_for_station(user, s) for s in stations)
    return render_template("contacts/index.html", form=form, page=page, can_create=can_create)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    stations = recordable_stations()
    if not stations:
        abort(403)
    chosen = parse_id(request.args.get("station_id"))
    station = next((s for s in stations if s.id == chosen), None)
    if chosen is not None and station is None:
        # A station was named but it is not one the user records for: never fall back to another.
        get_or_404(Station, chosen)
        abort(403)
    if station is None:
        if len(stations) == 1:
            station = stations[0]
        else:
            return render_template("contacts/choose_station.html", stations=stations)
    form = plugins.extend_form(NewContactForm, "contact", station)(phone_region=station.country)
    if request.method == "GET":
        form.submission_token.data = uuid.uuid4().hex
        form.country.data = station.country
    duplicates, elsewhere, check = [], 0, None
    if form.validate_on_submit():
        existing = services.by_token(form.submission_token.data)
        if existing is not None:  # the same form sent twice
            return redirect(url_for("contacts.detail", contact_id=existing.id))
        check = matching.check_form(station, form.data)  # this station's candidates; others only counted
        duplicates, elsewhere = check.contacts, check.elsewhere
        masking.masker().prefetch(duplicates)
        if not check or form.confirm_duplicate.data:
            contact = services.create_contact(station, form.data, current_user, form.submission_token.data,
                                              plugins.plugin_field_data(form))
            flash(_("Contact “%(name)s” has been saved.", name=contact.name), "success")
            return redirect(url_for("contacts.detail", contact_id=contact.id))
    return render_template("contacts/form.html", form=form, contact=None, station=station, duplicates=duplicates,
                           elsewhere=elsewhere, duplicate_check=check,
                           locked=())


@bp.route("/<int:contact_id>")
@login_required
def detail(contact_id: int):
    contact = get_or_404(
        Contact, contact_id,
        selectinload(Contact.station).selectinload(Station.region),
        selectinload(Contact.created_by), selectinload(Contact.updated_by),
        selectinload(Contact.tag_rows), selectinload(Contact.language_rows),
    )
    leads = db.session.scalars(
        select(TalentLead).where(TalentLead.contact_id == contact.id).order_by(TalentLead.id.desc())
    ).all()
    seen = masking.masker()
    page = render_template(
        "contacts/detail.html", contact=contact, leads=leads,
        can_edit=acts_for_station(current_user, contact.station) and contact.erased_at is None,
        panels=plugins.panels("contact", contact),
        reveal=RevealForm(formdata=None) if seen.hidden_fields(contact) else None,
        revealed_until=None if seen.by_rule(contact) else seen.revealed_until(contact),
    )
    # The full record shown in clear (by the role's rule or a reveal) goes to the access log.
    if masking.log_view(current_user, contact) is not None:
        db.session.commit()
    return page


def _seen(value: str | None):
    """The last-change time the edit form carried (``None``: not sent or unreadable — not checked)."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contact_id: int):
    contact = get_or_404(Contact, contact_id, selectinload(Contact.station), selectinload(Contact.tag_rows),
                         selectinload(Contact.language_rows))
    if not acts_for_station(current_user, contact.station):
        abort(403)
    if contact.erased_at is not None:
        flash(_("This person's data has been erased: the record cannot be edited."), "warning")
        return redirect(url_for("contacts.detail", contact_id=contact.id))
    form_class = plugins.extend_form(ContactForm, "contact", contact.station)
    form = form_class(obj=prefill(contact), data=plugins.form_data("contact", contact) if request.method == "GET" else None,
                      phone_region=contact.station.country)
    if request.method == "GET":
        form.seen.data = contact.updated_at.isoformat() if contact.updated_at else ""
    # Fields the user sees masked are shown masked, not sent, and keep their stored values.
    locked = masking.masker().hidden_fields(contact)
    for name in locked:
        form[name].data = getattr(contact, name) if request.method == "POST" else None
    duplicates, elsewhere, check = [], 0, None
    if form.validate_on_submit():
        check = matching.check_form(contact.station, form.data, contact_id=contact.id)
        duplicates, elsewhere = check.contacts, check.elsewhere
        masking.masker().prefetch(duplicates)
        if not check or form.confirm_duplicate.data:
            try:
                services.update_contact(contact, form.data, current_user, plugins.plugin_field_data(form),
                                        expected_updated_at=_seen(form.seen.data))
            except services.Conflict as exc:
                flash(exc.message, "error")
                return redirect(url_for("contacts.detail", contact_id=contact.id))
            flash(_("The contact has been saved."), "success")
            return redirect(url_for("contacts.detail", contact_id=contact.id))
    page = render_template("contacts/form.html", form=form, contact=contact, station=contact.station,
                           duplicates=duplicates, elsewhere=elsewhere, duplicate_check=check, locked=locked,
                           reveal=RevealForm(formdata=None) if locked else None)
    # The edit form of a record shown in clear is a full view: it goes to the access log.
    if request.method == "GET" and masking.log_view(current_user, contact) is not None:
        db.session.commit()
    return page
