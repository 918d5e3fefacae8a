"""Appointments: the list (and terms ending soon), new appointments and renewals, the letter."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..models import Appointment, Role, StationStatus, db, utcnow
from ..pagination import keyset_page
from ..permissions import can_manage_station, roles_required
from ..scope import visible_stations_query
from . import services
from .forms import AppointmentForm

bp = Blueprint("appointments", __name__, url_prefix="/appointments")

LIST_OPTIONS = (selectinload(Appointment.user), selectinload(Appointment.station))


@bp.route("/")
@login_required
def index():
    stmt = services.visible(current_user).options(*LIST_OPTIONS).order_by(Appointment.id.desc())
    page = keyset_page(stmt, per_page=50)
    return render_template("appointments/index.html", page=page, expiring=False, today=utcnow().date())


@bp.route("/expiring")
@roles_required(Role.REGIONAL_ADMIN, Role.HQ_REVIEWER)
def expiring():
    today = utcnow().date()
    stmt = (services.visible(current_user).where(services.ending_within(services.EXPIRING_DAYS, today))
            .options(*LIST_OPTIONS).order_by(Appointment.term_end, Appointment.id))
    page = keyset_page(stmt, per_page=50)
    return render_template("appointments/index.html", page=page, expiring=True, today=today,
                           until=today + timedelta(days=services.EXPIRING_DAYS))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.REGIONAL_ADMIN)
def create():
    stations = [s for s in db.session.scalars(visible_stations_query()) if s.status != StationStatus.CLOSED
                and can_manage_station(current_user, s)]
    volunteers = services.volunteers_for(current_user)
    renew = None
    if request.method == "GET" and request.args.get("renew"):
        renew = services.get_or_404(request.args.get("renew"), current_user)
    form = AppointmentForm(volunteers=volunteers, stations=stations)
    if renew is not None:
        form.user_id.data, form.station_id.data = renew.user_id, renew.station_id
        form.appointing_body.data = renew.appointing_body
        form.term_start.data = renew.term_end + timedelta(days=1)
    if form.validate_on_submit():
        volunteer = next(u for u in volunteers if u.id == form.user_id.data)
        station = next(s for s in stations if s.id == form.station_id.data)
        appointment = services.create(current_user, volunteer, station, appointed_on=form.appointed_on.data,
                                      term_start=form.term_start.data, term_end=form.term_end.data,
                                      appointing_body=form.appointing_body.data,
                                      letter_number=form.letter_number.data)
        flash(_("The appointment has been recorded."), "success")
        return redirect(url_for("appointments.letter", appointment_id=appointment.id))
    return render_template("appointments/form.html", form=form, renew=renew)


@bp.route("/<int:appointment_id>/letter")
@login_required
def letter(appointment_id):
    appointment = services.get_or_404(appointment_id, current_user)
    history = db.session.scalars(services.visible(current_user).where(
        Appointment.user_id == appointment.user_id, Appointment.station_id == appointment.station_id)
        .order_by(Appointment.term_start, Appointment.id)).all()
    return render_template("appointments/letter.html", appointment=appointment, history=history,
                           may_renew=services.can_manage(current_user)
                           and can_manage_station(current_user, appointment.station))


@bp.route("/<int:appointment_id>/letter.pdf")
@login_required
def letter_pdf(appointment_id):
    """The letter as an A4 PDF (who may read the letter may download it)."""
    from . import pdf

    appointment = services.get_or_404(appointment_id, current_user)
    try:
        document = pdf.letter_pdf(appointment)
    except (ImportError, OSError):  # WeasyPrint or the system's Pango missing on this server
        current_app.logger.exception("The appointment letter PDF could not be rendered")
        flash(_("A PDF cannot be made on this server; print this page instead (A4)."), "warning")
        return redirect(url_for("appointments.letter", appointment_id=appointment.id))
    response = make_response(document)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{pdf.filename(appointment)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
