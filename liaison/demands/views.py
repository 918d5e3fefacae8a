"""Demands and matchmaking (需求对接): the list, a demand's page with its suggestions and matches,
recording and editing demands, recording matches and moving them on. Views are thin: the rules
are in ``services``, scope in ``liaison.scope``, the suggestions in ``matching``."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..forms import prefill
from ..models import Contact, TalentLead, db
from ..pagination import keyset_page
from ..params import parse_id
from ..scope import (demand_target_regions, get_demand_or_404, get_or_404, manages_demand, visible_demands_condition,
                     visible_regions_query)
from ..search import escape_like, fold
from ..workflow import IllegalMove
from . import matching, services
from .forms import DemandFilterForm, DemandForm, DemandMoveForm, MatchForm, MatchMoveForm
from .models import (Demand, DemandField, DemandKind, DemandMatch, DemandRegion, DemandSource, DemandStatus,
                     MatchStage)

bp = Blueprint("demands", __name__, url_prefix="/demands")


@bp.app_context_processor
def _labels():
    return {"demand_kind_label": DemandKind.label_of, "demand_status_label": DemandStatus.label_of,
            "demand_source_label": DemandSource.label_of, "match_stage_label": MatchStage.label_of}


def translated_labels(vocabulary) -> dict[str, str]:
    """``{value: label}`` of a vocabulary in the request's language, for a table's rows: each
    label translated once per page, not once per row (unknown values: ``label_of``)."""
    return {member.value: str(member.label) for member in vocabulary}

PER_PAGE = 25


def _may_create() -> bool:
    return current_user.is_hq or current_user.is_regional_admin


def filtered_demands(user, args):
    """The list's query: the user's demands (``liaison.scope``) narrowed by the filters; newest first."""
    stmt = select(Demand).where(visible_demands_condition(user))
    status = args.get("status") or ""
    if status in {s.value for s in DemandStatus}:
        stmt = stmt.where(Demand.status == status)
    kind = args.get("kind") or ""
    if kind in {k.value for k in DemandKind}:
        stmt = stmt.where(Demand.kind == kind)
    field = fold(args.get("field"))[:100]
    if field:
        stmt = stmt.where(Demand.id.in_(select(DemandField.demand_id).where(DemandField.folded == field)))
    region = parse_id(args.get("region"))
    if region:
        stmt = stmt.where(Demand.id.in_(select(DemandRegion.demand_id).where(DemandRegion.region_id == region)))
    q = fold(args.get("q"))[:200]
    if q:
        stmt = stmt.where(Demand.search_text.like(f"%{escape_like(q)}%", escape="\\"))
    return stmt.order_by(Demand.created_at.desc(), Demand.id.desc())


@bp.route("/")
@login_required
def index():
    regions = db.session.scalars(visible_regions_query()).all()
    form = DemandFilterForm(request.args, regions=regions)
    stmt = filtered_demands(current_user, request.args).options(selectinload(Demand.field_rows))
    page = keyset_page(stmt, per_page=PER_PAGE)
    return render_template("demands/index.html", page=page, form=form, may_create=_may_create(),
                           kind_labels=translated_labels(DemandKind), status_labels=translated_labels(DemandStatus))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    if not _may_create():
        abort(403)
    form = DemandForm(regions=db.session.scalars(demand_target_regions()).all())
    if form.validate_on_submit():
        demand = services.create_demand(current_user, form.data_for_service(), fields=form.fields.data,
                                        region_ids=form.regions.data)
        flash(_("The demand has been recorded; suggestions of talent are on its page."), "success")
        return redirect(url_for("demands.detail", demand_id=demand.id))
    return render_template("demands/form.html", form=form, demand=None)


def _load(demand_id) -> Demand:
    return get_demand_or_404(demand_id, *services.demand_options())


def _match_form(demand: Demand, events, formdata=None) -> MatchForm:
    """The match form; its event is one of the events the demand was presented at."""
    form = MatchForm(formdata=formdata)
    form.event_id.choices = [(0, "—"), *((e.id, f"{e.title_zh} · {e.title}") for e in events)]
    if formdata is None:
        form.event_id.data = 0
    return form


def _render_detail(demand: Demand, *, move_form=None, match_form=None, match_move_forms=None, status=200,
                   events=None):
    manages = manages_demand(demand, current_user)
    matches = services.matches_in_scope(demand, current_user)
    suggestions = matching.for_demand(demand, current_user)
    moves = services.DEMAND_WORKFLOW.available(demand, current_user)
    events = services.events_of_demand(demand, current_user) if events is None else events
    return render_template(
        "demands/detail.html", demand=demand, manages=manages, matches=matches, suggestions=suggestions,
        moves=moves, move_form=move_form or DemandMoveForm(formdata=None, version=demand.version),
        match_form=match_form or _match_form(demand, events), match_move_forms=match_move_forms or {},
        match_workflow=services.MATCH_WORKFLOW, events=events,
    ), status


@bp.route("/<int:demand_id>")
@login_required
def detail(demand_id):
    return _render_detail(_load(demand_id))


@bp.route("/<int:demand_id>/edit", methods=["GET", "POST"])
@login_required
def edit(demand_id):
    demand = _load(demand_id)
    if not manages_demand(demand, current_user):
        abort(403)
    regions = db.session.scalars(demand_target_regions()).all()
    form = DemandForm(obj=prefill(demand), regions=regions)
    if request.method == "GET":
        form.fields.data = ", ".join(demand.field_list)
        allowed = {r.id for r in regions}
        form.regions.data = [i for i in demand.region_ids if i in allowed]
        form.version.data = demand.version
    if form.validate_on_submit():
        try:
            services.update_demand(demand, current_user, form.data_for_service(), fields=form.fields.data,
                                   region_ids=form.regions.data,
                                   expected_version=parse_id(form.version.data) or None)
        except services.Conflict as exc:
            flash(exc.message, "error")
            return render_template("demands/form.html", form=form, demand=demand), 409
        flash(_("The demand has been saved."), "success")
        return redirect(url_for("demands.detail", demand_id=demand.id))
    return render_template("demands/form.html", form=form, demand=demand)


@bp.route("/<int:demand_id>/move", methods=["POST"])
@login_required
def move(demand_id):
    demand = _load(demand_id)
    if not manages_demand(demand, current_user):
        abort(403)
    form = DemandMoveForm()
    if not form.validate_on_submit():
        flash(_("This action could not be done: the page was out of date or incomplete. Reload it and try again."),
              "error")
        return _render_detail(demand, move_form=form, status=400)
    try:
        services.move_demand(demand, form.move.data, current_user, comment=form.comment.data,
                             expected_version=form.version.data)
    except services.Conflict as exc:
        flash(exc.message, "error")
        db.session.expire_all()
        return _render_detail(_load(demand_id), status=409)
    except IllegalMove as exc:
        form.comment.errors = [exc.message] if exc.field == "comment" else []
        if exc.field != "comment":
            flash(str(exc.message), "error")
        return _render_detail(demand, move_form=form, status=400)
    flash(_("The demand is now “%(status)s”.", status=DemandStatus.label_of(demand.status)), "success")
    return redirect(url_for("demands.detail", demand_id=demand.id))


@bp.route("/<int:demand_id>/matches", methods=["POST"])
@login_required
def record_match(demand_id):
    demand = _load(demand_id)
    if not current_user.is_hq:
        abort(403)
    events = services.events_of_demand(demand, current_user)
    form = _match_form(demand, events, formdata=request.form)
    if not form.validate_on_submit():
        return _render_detail(demand, match_form=form, status=400, events=events)
    contact = db.session.scalar(select(Contact).where(Contact.id == form.contact_id.data))
    contact = get_or_404(Contact, form.contact_id.data) if contact is not None else None
    if contact is None:
        form.contact_id.errors = [_("There is no contact with this number.")]
        return _render_detail(demand, match_form=form, status=400)
    lead = None
    if form.lead_id.data:
        lead = db.session.get(TalentLead, form.lead_id.data)
        if lead is None or lead.contact_id != contact.id:
            form.lead_id.errors = [_("This lead is not about the chosen contact.")]
            return _render_detail(demand, match_form=form, status=400)
    event_id = form.event_id.data or None  # one of the demand's events (the select's choices)
    try:
        match = services.record_match(demand, contact, current_user, lead=lead, note=form.note.data,
                                      event_id=event_id)
    except IllegalMove as exc:
        field = getattr(form, exc.field, None) if exc.field else None
        (field or form.contact_id).errors = [str(exc.message)]
        return _render_detail(demand, match_form=form, status=400)
    flash(_("%(name)s has been introduced for this demand (match #%(id)s).", name=contact.name, id=match.id),
          "success")
    return redirect(url_for("demands.detail", demand_id=demand.id, _anchor=f"match-{match.id}"))


@bp.route("/matches/<int:match_id>/move", methods=["POST"])
@login_required
def move_match(match_id):
    match = get_or_404(DemandMatch, match_id)
    if not current_user.is_hq:
        abort(403)
    demand = _load(match.demand_id)
    form = MatchMoveForm()
    if not form.validate_on_submit():
        flash(_("This action could not be done: the page was out of date or incomplete. Reload it and try again."),
              "error")
        return _render_detail(demand, match_move_forms={match.id: form}, status=400)
    try:
        services.move_match(match, form.move.data, current_user, comment=form.comment.data,
                            expected_version=form.version.data)
    except services.Conflict as exc:
        flash(exc.message, "error")
        db.session.expire_all()
        return _render_detail(_load(match.demand_id), status=409)
    except IllegalMove as exc:
        if exc.field == "comment":
            form.comment.errors = [exc.message]
        else:
            flash(str(exc.message), "error")
        return _render_detail(demand, match_move_forms={match.id: form}, status=400)
    flash(_("The match is now “%(stage)s”.", stage=services.stage_label(match.stage)), "success")
    return redirect(url_for("demands.detail", demand_id=demand.id, _anchor=f"match-{match.id}"))


def contact_panel(contact: Contact, user):
    """The demands that fit a contact and the contact's matches (the contact's page)."""
    from markupsafe import Markup

    from ..plugins.types import Panel

    suggestions = matching.for_contact(contact, user)
    matches = services.matches_of_contact(contact)
    if not suggestions and not matches:
        return None
    body = render_template("demands/_contact_panel.html", contact=contact, suggestions=suggestions,
                           matches=matches)
    return Panel(_("Demands from home"), Markup(body), order=40)


__all__ = ["bp", "contact_panel", "filtered_demands"]
