from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import plugins
from ..models import LeadStatus, Region, Station, StationStatus, TalentLead, User, db
from ..pagination import keyset_page
from ..permissions import acts_for_station, administers_region, can_manage_station
from ..scope import get_or_404, scoped, visible_regions_query, visible_users_query
from ..forms import prefill
from ..i18n import country_choices, display_name
from . import services
from .forms import MemberForm, StationFilterForm, StationForm, StationStatusForm

bp = Blueprint("stations", __name__, url_prefix="/stations")


def _manageable_regions() -> list[Region]:
    regions = db.session.scalars(visible_regions_query()).all()
    return [region for region in regions if administers_region(current_user, region.id)]


@bp.route("/")
@login_required
def index():
    form = StationFilterForm(request.args)
    regions = db.session.scalars(visible_regions_query()).all()
    form.region.choices = [("", _("Any region"))] + [(r.code, display_name(r)) for r in regions]
    form.country.choices = country_choices(blank=_("Any country"))
    stmt = services.filtered_stations(
        current_user, region=form.region.data, country=form.country.data,
        status=form.status.data, q=form.q.data,
    ).options(selectinload(Station.region))
    page = keyset_page(stmt, per_page=50)
    counts = services.counts_by_station([station.id for station in page.items])
    return render_template("stations/index.html", form=form, page=page, counts=counts,
                           can_create=bool(_manageable_regions()))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    regions = _manageable_regions()
    if not regions:
        abort(403)
    form = StationForm(regions=regions)
    if form.validate_on_submit():
        if _name_taken(form.name.data):
            form.name.errors.append(_("A station with this name already exists."))
        else:
            station = services.create_station(form.data, current_user)
            flash(_("Station “%(name)s” has been created.", name=display_name(station)), "success")
            return redirect(url_for("stations.detail", station_id=station.id))
    return render_template("stations/form.html", form=form, station=None)


def _name_taken(name: str, station_id: int | None = None) -> bool:
    stmt = select(func.count()).select_from(Station).where(func.lower(Station.name) == name.lower())
    if station_id:
        stmt = stmt.where(Station.id != station_id)
    return bool(db.session.scalar(stmt))


DETAIL_OPTIONS = (joinedload(Station.region), selectinload(Station.members))


@bp.route("/<int:station_id>")
@login_required
def detail(station_id: int):
    return _render_detail(get_or_404(Station, station_id, *DETAIL_OPTIONS))


def _render_detail(station: Station, status_form: StationStatusForm | None = None, code: int = 200):
    """The station page; ``status_form`` carries a rejected status change back with its errors."""
    counts = services.counts_by_station([station.id])[station.id]
    recent_leads = db.session.scalars(
        scoped(select(TalentLead), TalentLead).where(TalentLead.station_id == station.id)
        .options(joinedload(TalentLead.contact))
        .order_by(TalentLead.updated_at.desc()).limit(10)
    ).all()
    manage = can_manage_station(current_user, station)
    member_form = None
    if manage:
        member_form = MemberForm(prefix="member", formdata=None)
        member_form.user_id.choices = [(u.id, f"{u.name} <{u.email}>") for u in services.candidate_members(station, current_user)]
        if status_form is None and (not station.is_closed or current_user.is_admin):
            # Only admins reopen a closed station.
            status_form = StationStatusForm(prefix="status", formdata=None, status=station.status)
    return render_template(
        "stations/detail.html", station=station, counts=counts, recent_leads=recent_leads,
        statuses=list(LeadStatus), manage=manage, member_form=member_form, status_form=status_form,
        can_record=acts_for_station(current_user, station),
        panels=plugins.panels("station", station),
    ), code


def _managed_station_or_403(station_id: int, *options) -> Station:
    station = get_or_404(Station, station_id, *options)
    if not can_manage_station(current_user, station):
        abort(403)
    return station


@bp.route("/<int:station_id>/edit", methods=["GET", "POST"])
@login_required
def edit(station_id: int):
    station = _managed_station_or_403(station_id)
    if station.is_closed:
        flash(_("This station is closed: its records are kept read-only."), "warning")
        return redirect(url_for("stations.detail", station_id=station.id))
    form = StationForm(obj=prefill(station), regions=_manageable_regions())
    if form.validate_on_submit():
        if _name_taken(form.name.data, station.id):
            form.name.errors.append(_("A station with this name already exists."))
        else:
            services.update_station(station, form.data, current_user)
            flash(_("The station has been saved."), "success")
            return redirect(url_for("stations.detail", station_id=station.id))
    return render_template("stations/form.html", form=form, station=station)


@bp.route("/<int:station_id>/status", methods=["POST"])
@login_required
def change_status(station_id: int):
    station = _managed_station_or_403(station_id, *DETAIL_OPTIONS)
    form = StationStatusForm(prefix="status")
    if station.is_closed and not current_user.is_admin:
        abort(403, description=_("Only an administrator can reopen a closed station."))
    if not form.validate_on_submit():
        return _render_detail(station, form, 400)  # errors next to the fields, input kept
    services.set_status(station, form.status.data, current_user, form.reason.data)
    flash(_("The station is now “%(status)s”.", status=StationStatus.label_of(station.status)), "success")
    return redirect(url_for("stations.detail", station_id=station.id))


@bp.route("/<int:station_id>/members", methods=["POST"])
@login_required
def add_member(station_id: int):
    station = _managed_station_or_403(station_id)
    if station.is_closed:
        abort(403)
    form = MemberForm(prefix="member")
    candidates = {u.id: u for u in services.candidate_members(station, current_user)}
    form.user_id.choices = [(uid, u.name) for uid, u in candidates.items()]
    if form.validate_on_submit():
        services.add_member(station, candidates[form.user_id.data], current_user)
        flash(_("%(name)s is now a member of this station.", name=candidates[form.user_id.data].name), "success")
    else:
        flash(_("Choose a volunteer from the list."), "error")
    return redirect(url_for("stations.detail", station_id=station.id))


@bp.route("/<int:station_id>/members/<int:user_id>/remove", methods=["POST"])
@login_required
def remove_member(station_id: int, user_id: int):
    station = _managed_station_or_403(station_id)
    if station.is_closed:
        abort(403)
    user = db.session.scalar(visible_users_query().where(User.id == user_id))
    if user is None:
        abort(404)
    services.remove_member(station, user, current_user)
    flash(_("%(name)s is no longer a member of this station.", name=user.name), "success")
    return redirect(url_for("stations.detail", station_id=station.id))
