"""The organisers' pages: the list, an event, invitations, the door (check-in on a phone),
walk-ins, confirming registrations as contacts, figures, leads from attendees, the attendee list."""
from __future__ import annotations

import secrets
from functools import lru_cache

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..leads.services import Rejected
from ..models import Contact, ContactKind, Region, db
from ..notifications import mail
from ..pagination import keyset_page
from ..scope import get_or_404, recordable_stations, visible_regions_query
from ..workflow import IllegalMove
from . import kinds, services
from .forms import (EventForm, EventLeadForm, InviteForm, LinkForm, MoveForm, OutcomeForm, PersonForm,
                    PresentDemandForm, StatusForm, to_local)
from .models import AttendanceStatus, Event, EventStatus, Organiser

bp = Blueprint("events", __name__, url_prefix="/events")
CHECKIN_PAGE = 100  # registrations a page at the door (keyset pages; search finds anyone)


@bp.app_template_global()
def event_kind_label(name):
    return kinds.label_of(name)


@bp.app_template_global()
def event_local(event, value):
    """A stored (UTC) time in the event's own time zone."""
    local = to_local(value, event.timezone)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


@bp.app_context_processor
def _helpers():
    return {"registration_shown": services.registration_shown}


@bp.route("/")
@login_required
def index():
    stmt = services.visible_events(current_user)
    status = request.args.get("status")
    if status in {s.value for s in EventStatus}:
        stmt = stmt.where(Event.status == status)
    kind = request.args.get("kind")
    if kind in kinds.all_kinds():
        stmt = stmt.where(Event.kind == kind)
    stmt = stmt.order_by(Event.starts_at.desc(), Event.id.desc())
    page = keyset_page(stmt, per_page=30)
    # The rows' labels, each translated once for the page rather than once per row.
    kind_labels = {name: kinds.label_of(name) for name in {event.kind for event in page.items}}
    status_labels = {value: str(EventStatus.label_of(value)) for value in {event.status for event in page.items}}
    return render_template("events/index.html", page=page, status=status, kind=kind, statuses=EventStatus,
                           kinds=kinds.choices(), may_create=services.may_create(current_user),
                           kind_labels=kind_labels, status_labels=status_labels)


def _form_choices():
    regions = db.session.scalars(visible_regions_query(current_user)).all() if (
        current_user.is_hq or current_user.is_regional_admin) else []
    return regions, recordable_stations(current_user)


def _check_organiser(form) -> None:
    allowed, field = services.may_organise(current_user, form.organiser.data, form.region_id.data or None)
    if not allowed and field == "organiser":
        form.organiser.errors.append(_("Only HQ organises events in its own name."))
    elif not allowed:
        form.region_id.errors.append(_("Choose a region you administer."))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    if not services.may_create(current_user):
        abort(403)
    regions, stations = _form_choices()
    if not stations and not regions:
        abort(403)
    form = EventForm(regions=regions, stations=stations)
    if form.validate_on_submit():
        _check_organiser(form)
        if not (form.organiser.errors or form.region_id.errors):
            chosen = [s for s in stations if s.id in set(form.station_ids.data or [])]
            try:
                event = services.create_event(current_user, form.event_data(), organiser=form.organiser.data,
                                              region_id=form.region_id.data or None,
                                              stations=chosen if form.organiser.data == Organiser.STATIONS else [])
            except IllegalMove as exc:
                getattr(form, exc.field if exc.field in ("organiser", "region_id") else "station_ids"
                        ).errors.append(str(exc.message))
            else:
                flash(_("The event has been created."), "success")
                return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", form=form, event=None)


def _load(event_id, *, manage: bool = False) -> Event:
    event = services.get_event_or_404(event_id, current_user, selectinload(Event.target_fields),
                                      selectinload(Event.partners), selectinload(Event.photo_links))
    if manage:
        services.require_manage(current_user, event)
    return event


def _present_form(event: Event, formdata=None) -> PresentDemandForm | None:
    """The form presenting a demand at the event: HQ and regional admins (who manage demands)."""
    from ..demands import services as demands

    if not (current_user.is_hq or current_user.is_regional_admin):
        return None
    form = PresentDemandForm(formdata=formdata)
    form.demand_id.choices = [(d.id, f"#{d.id} {d.title} — {d.organisation}")
                              for d in demands.presentable_demands(event.id, current_user)]
    return form


@lru_cache(maxsize=512)
def _qr(url: str) -> str:
    """The public page's QR code: the same URL always makes the same SVG, so it is made once."""
    from ..notices.services import qr_svg

    return qr_svg(url)


def _render_detail(event: Event, *, present_form=None, status=200):
    from ..demands import services as demands
    from ..scope import manages_demand

    public_url = mail.absolute(url_for("events_public.register", slug=event.slug))
    presented = demands.presented_demands(event.id, current_user)
    leads = services.leads_of(event, current_user)
    # The figures count every lead of the event; the list shows those in the user's scope.
    figures = services.figures(event, leads=leads if current_user.is_hq else None)
    may_manage = services.may_manage(current_user, event)
    region = db.session.get(Region, event.region_id) if event.organiser == Organiser.REGION and event.region_id else None
    return render_template("events/detail.html", event=event, figures=figures, region=region,
                           leads=leads, moves=services.available_moves(event, current_user),
                           may_manage=may_manage, public_url=public_url,
                           may_export=may_manage and services.may_export_attendees(event, current_user),
                           qr=_qr(public_url), move_form=MoveForm(),
                           registration_open=services.registration_open(event), status_label=EventStatus.label_of,
                           presented=presented, withdrawable={d.id for d in presented if manages_demand(d)},
                           present_form=present_form or _present_form(event)), status


@bp.route("/<int:event_id>")
@login_required
def detail(event_id):
    return _render_detail(_load(event_id))


@bp.route("/<int:event_id>/demands", methods=["POST"])
@login_required
def present_demand(event_id):
    """Presents a demand the user manages at the event (``event_demands``)."""
    from ..demands import services as demands
    from ..scope import get_demand_or_404, manages_demand

    event = _load(event_id)
    form = _present_form(event, formdata=request.form)
    if form is None:
        abort(403)
    if not form.validate_on_submit():
        return _render_detail(event, present_form=form)
    demand = get_demand_or_404(form.demand_id.data, *demands.demand_options())
    if not manages_demand(demand):
        abort(403)
    if demands.present_at_event(demand, event, current_user):
        flash(_("The demand “%(title)s” is presented at this event.", title=demand.title), "success")
    else:
        flash(_("The demand “%(title)s” was already presented at this event.", title=demand.title), "info")
    return redirect(url_for("events.detail", event_id=event.id, _anchor="demands"))


@bp.route("/<int:event_id>/demands/<int:demand_id>/withdraw", methods=["POST"])
@login_required
def withdraw_demand(event_id, demand_id):
    """Takes a demand the user manages off the event (its matches keep the event)."""
    from ..demands import services as demands
    from ..scope import get_demand_or_404, manages_demand

    event = _load(event_id)
    if not (current_user.is_hq or current_user.is_regional_admin):
        abort(403)
    demand = get_demand_or_404(demand_id, *demands.demand_options())
    if not manages_demand(demand):
        abort(403)
    if demands.withdraw_from_event(demand, event, current_user):
        flash(_("The demand “%(title)s” is no longer presented at this event.", title=demand.title), "success")
    else:
        flash(_("The demand “%(title)s” was not presented at this event.", title=demand.title), "info")
    return redirect(url_for("events.detail", event_id=event.id, _anchor="demands"))


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id):
    event = _load(event_id, manage=True)
    regions, stations = _form_choices()
    if request.method == "GET":
        form = EventForm(regions=regions, stations=stations, obj=event)
        form.starts_at.data = to_local(event.starts_at, event.timezone)
        form.ends_at.data = to_local(event.ends_at, event.timezone)
        form.registration_opens_at.data = to_local(event.registration_opens_at, event.timezone)
        form.registration_closes_at.data = to_local(event.registration_closes_at, event.timezone)
        form.target_fields.data = "\n".join(f.field for f in event.target_fields)
        form.partners.data = "\n".join(p.name for p in event.partners)
        form.station_ids.data = event.station_ids
        form.region_id.data = event.region_id or 0
    else:
        form = EventForm(regions=regions, stations=stations)
        # Who organises is decided at creation: the edit form keeps it.
        form.organiser.data = event.organiser
        form.station_ids.choices = [(row.station_id, "") for row in event.organising]
        form.station_ids.data = event.station_ids
        form.region_id.choices = [(event.region_id or 0, "")]
        form.region_id.data = event.region_id or 0
    if form.validate_on_submit():
        try:
            services.update_event(event, current_user, form.event_data())
        except IllegalMove as exc:
            getattr(form, exc.field or "title").errors.append(str(exc.message))
        else:
            flash(_("The event has been saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", form=form, event=event)


@bp.route("/<int:event_id>/move", methods=["POST"])
@login_required
def move(event_id):
    event = _load(event_id, manage=True)
    form = MoveForm()
    if not form.validate_on_submit():
        flash(_("Choose an action."), "danger")
        return redirect(url_for("events.detail", event_id=event.id))
    try:
        services.move(event, form.move.data, current_user, comment=form.comment.data)
    except IllegalMove as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(_("The event is now “%(status)s”.", status=EventStatus.label_of(event.status)), "success")
    return redirect(url_for("events.detail", event_id=event.id))


@bp.route("/<int:event_id>/figures", methods=["GET", "POST"])
@login_required
def outcome(event_id):
    event = _load(event_id, manage=True)
    form = OutcomeForm(obj=event if request.method == "GET" else None)
    if request.method == "GET":
        form.notes.data = event.outcome_notes
        form.photo_links.data = "\n".join(link.url for link in event.photo_links)
        if event.participants is None:
            form.participants.data = services.counts(event)["attended"]
    if form.validate_on_submit():
        try:
            services.record_outcome(event, current_user, participants=form.participants.data,
                                    notes=form.notes.data, photo_links=form.links)
        except IllegalMove as exc:
            db.session.rollback()
            form.participants.errors.append(str(exc.message))
        else:
            flash(_("The event's figures have been recorded."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/outcome.html", form=form, event=event)


@bp.route("/<int:event_id>/invite", methods=["GET", "POST"])
@login_required
def invite(event_id):
    event = _load(event_id, manage=True)
    q, field, kind, tag = (request.args.get(k, "")[:200] for k in ("q", "field", "kind", "tag"))
    candidates = services.invitable_contacts(event, current_user, q=q or None, field=field or None,
                                             kind=kind or None, tag=tag or None)
    form = InviteForm()
    form.contact_ids.choices = [(c.id, c.name) for c in candidates]
    if form.validate_on_submit():
        try:
            result = services.invite(event, form.contact_ids.data, current_user)
        except IllegalMove as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("%(n)s invited.", n=result.invited), "success")
            if result.no_consent:
                flash(_("Not invited — no valid agreement to event invitations: %(names)s",
                        names=", ".join(result.no_consent)), "warning")
            if result.already:
                flash(_("%(n)s were on the list already.", n=result.already), "info")
            return redirect(url_for("events.checkin", event_id=event.id))
    from ..privacy import consent

    allowed = consent.valid_purposes([c.id for c in candidates], consent.Purpose.EVENT_INVITATIONS)
    return render_template("events/invite.html", event=event, form=form, candidates=candidates, allowed=allowed,
                           q=q, field=field, kind=kind, tag=tag, contact_kinds=ContactKind.choices())


@bp.route("/<int:event_id>/check-in")
@login_required
def checkin(event_id):
    """The door: every registration, searchable by name in any script; one tap checks in."""
    event = _load(event_id, manage=True)
    q = request.args.get("q", "")[:200]
    status = request.args.get("status", "")
    page = keyset_page(services.registrations(event, q=q or None, status=status or None), per_page=CHECKIN_PAGE)
    rows = page.items
    stations = services.filing_stations(event, current_user)
    return render_template("events/checkin.html", event=event, rows=rows, page=page, q=q, status=status,
                           counts=services.counts(event), statuses=AttendanceStatus, status_form=StatusForm(),
                           may_confirm=bool(stations), check_in_open=services.check_in_open(event),
                           lead_ids=services.lead_registration_ids(event, current_user, rows, stations))


@bp.route("/<int:event_id>/counts.json")
@login_required
def live_counts(event_id):
    event = _load(event_id, manage=True)
    return jsonify(services.counts(event))


def _back(event, registration=None):
    target = request.form.get("next", "")
    if target.startswith("/events/") and "//" not in target:
        return redirect(target)
    return redirect(url_for("events.checkin", event_id=event.id, _anchor=f"r{registration.id}" if registration else None))


@bp.route("/<int:event_id>/registrations/<int:registration_id>/check-in", methods=["POST"])
@login_required
def check_in(event_id, registration_id):
    event = _load(event_id, manage=True)
    registration = services.get_registration_or_404(event, registration_id)
    if not services.check_in_open(event):
        flash(str(services.CHECK_IN_CLOSED), "danger")
    elif services.check_in(registration, current_user):
        flash(_("%(name)s is checked in.", name=registration.name), "success")
    else:
        flash(_("%(name)s was already checked in.", name=registration.name), "info")
    return _back(event, registration)


@bp.route("/<int:event_id>/registrations/<int:registration_id>/status", methods=["POST"])
@login_required
def set_status(event_id, registration_id):
    event = _load(event_id, manage=True)
    registration = services.get_registration_or_404(event, registration_id)
    form = StatusForm()
    if not form.validate_on_submit():
        flash(_("Choose a status from the list."), "danger")
        return _back(event, registration)
    try:
        services.set_status(registration, form.status.data, current_user)
    except IllegalMove as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    return _back(event, registration)


@bp.route("/<int:event_id>/walk-in", methods=["GET", "POST"])
@login_required
def walk_in(event_id):
    event = _load(event_id, manage=True)
    form = PersonForm()
    if form.validate_on_submit():
        try:
            result = services.walk_in(event, {name: form[name].data for name in
                                              ("name", "name_original", "email", "phone", "organisation", "field",
                                               "country")},
                                      current_user)
        except IllegalMove as exc:
            db.session.rollback()
            form.name.errors.append(str(exc.message))
        else:
            flash(_("%(name)s is checked in as a walk-in.", name=result.registration.name) if result.created
                  else _("%(name)s had registered: checked in.", name=result.registration.name), "success")
            return redirect(url_for("events.checkin", event_id=event.id))
    return render_template("events/walk_in.html", event=event, form=form)


@bp.route("/r/<token>")
@login_required
def by_token(token):
    """The confirmation's QR code: that registration at the door, for a logged-in organiser."""
    from .models import EventRegistration

    if not token or len(token) > 40:
        abort(404)
    registration = db.session.scalar(select(EventRegistration).where(EventRegistration.token == token))
    if registration is None:
        abort(404)
    event = _load(registration.event_id, manage=True)
    return render_template("events/registration.html", event=event, registration=registration,
                           check_in_open=services.check_in_open(event))


@bp.route("/<int:event_id>/registrations/<int:registration_id>/contact", methods=["GET", "POST"])
@login_required
def confirm(event_id, registration_id):
    """Match a public registration or a walk-in to a contact, or confirm it as a new one."""
    event = _load(event_id, manage=True)
    registration = services.get_registration_or_404(event, registration_id)
    if registration.contact_id is not None:
        flash(_("This registration is already linked to a contact."), "info")
        return redirect(url_for("events.checkin", event_id=event.id))
    stations = services.filing_stations(event, current_user)
    matches = services.matching_contacts(event, registration, current_user, stations)
    form = LinkForm()
    if form.validate_on_submit():
        try:
            if form.contact_id.data:
                contact = get_or_404(Contact, form.contact_id.data)
                if contact.station_id not in {s.id for s in stations}:
                    abort(404)
                services.link_contact(event, registration, contact, current_user)
            elif form.station_id.data:
                station = next((s for s in stations if s.id == form.station_id.data), None)
                if station is None:
                    abort(404)
                services.confirm_new_contact(event, registration, station, current_user)
            else:
                flash(_("Choose a contact or a station."), "danger")
                return redirect(request.path)
        except IllegalMove as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("%(name)s is now a contact.", name=registration.name), "success")
        return redirect(url_for("events.checkin", event_id=event.id, _anchor=f"r{registration.id}"))
    return render_template("events/confirm.html", event=event, registration=registration, matches=matches,
                           stations=stations, form=form)


@bp.route("/<int:event_id>/registrations/<int:registration_id>/lead", methods=["GET", "POST"])
@login_required
def create_lead(event_id, registration_id):
    """A lead about an attendee in two taps: this prefilled form, then Save."""
    event = _load(event_id, manage=True)
    registration = services.get_registration_or_404(event, registration_id)
    if registration.contact_id is None:
        flash(_("Confirm the person as a contact first."), "warning")
        return redirect(url_for("events.confirm", event_id=event.id, registration_id=registration.id))
    if registration.id not in services.lead_registration_ids(event, current_user, [registration]):
        abort(403)
    form = EventLeadForm()
    if request.method == "GET":
        form.category.data = "expert_pool"
        form.field.data = registration.field
        form.summary.data = _("Met at “%(title)s” (%(date)s).", title=event.title_zh or event.title,
                              date=event_local(event, event.starts_at)[:10])
        form.submission_token.data = secrets.token_urlsafe(24)
    if form.validate_on_submit():
        try:
            lead = services.create_lead(event, registration, {"category": form.category.data, "field": form.field.data,
                                                              "summary": form.summary.data},
                                        current_user, token=form.submission_token.data or None)
        except (IllegalMove, Rejected) as exc:
            db.session.rollback()
            form.summary.errors.append(str(getattr(exc, "message", exc)))
        else:
            flash(_("Lead #%(id)s was created as a draft.", id=lead.id), "success")
            return redirect(url_for("events.detail", event_id=event.id, _anchor="leads"))
    return render_template("events/lead.html", event=event, registration=registration, form=form)


@bp.route("/<int:event_id>/attendees.csv")
@login_required
def export(event_id):
    """The attendee list (export right, masked like contacts, recorded and logged)."""
    from ..exports import services as exports

    event = _load(event_id, manage=True)
    if not services.may_export_attendees(event, current_user):
        abort(403)
    record = exports.start(current_user, "event_attendees", "csv", {"event": event.id})
    # Streamed, every row (no cut-off): the rows are read and written after this view returned.
    body = services.attendee_csv(current_app._get_current_object(), current_user.id, record.id, event.id,
                                 services.attendee_header(),
                                 {s.value: str(AttendanceStatus.label_of(s.value)) for s in AttendanceStatus})
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=event-{event.id}-attendees.csv",
                             "X-Content-Type-Options": "nosniff"})
