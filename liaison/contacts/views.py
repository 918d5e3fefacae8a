from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import plugins
from ..forms import prefill
from ..i18n import display_name, name_order
from ..models import Contact, Station, StationStatus, TalentLead, db
from ..pagination import keyset_page
from ..params import parse_id
from ..permissions import acts_for_station
from ..scope import get_or_404, visible_stations_query
from . import services
from .forms import ContactForm, ContactSearchForm

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
    stations = db.session.scalars(visible_stations_query()).all()
    form.station.choices = [("", _("All stations"))] + [(str(s.id), display_name(s)) for s in stations]
    station_id = parse_id(form.station.data)
    stmt = services.search(current_user, q=form.q.data, station_id=station_id, kind=form.kind.data,
                           tag=form.tag.data).options(selectinload(Contact.station)).order_by(*name_order(Contact))
    page = keyset_page(stmt, per_page=25)
    # recordable_stations() without loading the stations a second time
    user = current_user._get_current_object()
    can_create = any(s.status == StationStatus.ACTIVE and acts_for_station(user, s) for s in stations)
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
    form = plugins.extend_form(ContactForm, "contact", station)(phone_region=station.country)
    if request.method == "GET":
        form.submission_token.data = uuid.uuid4().hex
        form.country.data = station.country
    duplicates = []
    if form.validate_on_submit():
        existing = services.by_token(form.submission_token.data)
        if existing is not None:  # the same form sent twice
            return redirect(url_for("contacts.detail", contact_id=existing.id))
        duplicates = services.find_duplicates(station.id, form.email.data, form.phone.data, form.country.data)
        if not duplicates or form.confirm_duplicate.data:
            contact = services.create_contact(station, form.data, current_user, form.submission_token.data,
                                              plugins.plugin_field_data(form))
            flash(_("Contact “%(name)s” has been saved.", name=contact.name), "success")
            return redirect(url_for("contacts.detail", contact_id=contact.id))
    return render_template("contacts/form.html", form=form, contact=None, station=station, duplicates=duplicates)


@bp.route("/<int:contact_id>")
@login_required
def detail(contact_id: int):
    contact = get_or_404(
        Contact, contact_id,
        selectinload(Contact.station).selectinload(Station.region),
        selectinload(Contact.created_by), selectinload(Contact.updated_by),
    )
    leads = db.session.scalars(
        select(TalentLead).where(TalentLead.contact_id == contact.id).order_by(TalentLead.id.desc())
    ).all()
    return render_template(
        "contacts/detail.html", contact=contact, leads=leads,
        can_edit=acts_for_station(current_user, contact.station),
        panels=plugins.panels("contact", contact),
    )


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contact_id: int):
    contact = get_or_404(Contact, contact_id, selectinload(Contact.station))
    if not acts_for_station(current_user, contact.station):
        abort(403)
    form_class = plugins.extend_form(ContactForm, "contact", contact.station)
    form = form_class(obj=prefill(contact), data=plugins.form_data("contact", contact) if request.method == "GET" else None,
                      phone_region=contact.station.country)
    duplicates = []
    if form.validate_on_submit():
        duplicates = services.find_duplicates(contact.station_id, form.email.data, form.phone.data,
                                              form.country.data, exclude_id=contact.id)
        if not duplicates or form.confirm_duplicate.data:
            services.update_contact(contact, form.data, current_user, plugins.plugin_field_data(form))
            flash(_("The contact has been saved."), "success")
            return redirect(url_for("contacts.detail", contact_id=contact.id))
    return render_template("contacts/form.html", form=form, contact=contact, station=contact.station,
                           duplicates=duplicates)
