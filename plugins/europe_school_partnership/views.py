"""Pages of the plugin, mounted at /p/europe_school_partnership. Views stay thin: loading in
scope, forms and messages here; rules and writes in ``services`` and ``stages``.

The core answers 404 for every route here when the plugin is off for all of the user's
stations; a single partnership additionally needs the plugin on for *its* station.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from liaison.i18n import country_name, display_name, name_order, sort_key
from liaison.models import Station, db
from liaison.params import paginate, parse_id
from liaison.scope import get_or_404, scoped

from . import services
from .choices import NAME, ProgrammeKind, Stage
from .dates import local_today
from .forms import (
    CompleteStepForm,
    DocumentForm,
    FilterForm,
    MoveForm,
    NewPartnershipForm,
    NextStepForm,
    PartnershipForm,
)
from .models import Partnership, PartnershipEvent
from .stages import IllegalMove, available_moves

bp = Blueprint(NAME, __name__, url_prefix=f"/p/{NAME}", template_folder="templates")

PER_PAGE = 25

DETAIL_OPTIONS = (
    selectinload(Partnership.station).selectinload(Station.region),
    selectinload(Partnership.contacts),
    selectinload(Partnership.documents),
    selectinload(Partnership.events).selectinload(PartnershipEvent.actor),
    selectinload(Partnership.created_by),
)


def _load(partnership_id: int, *options) -> Partnership:
    """One partnership in the user's scope with the plugin on for its station, else 404."""
    return get_or_404(Partnership, partnership_id, *options, plugin=NAME)


def _load_for_change(partnership_id: int, *options) -> Partnership:
    partnership = _load(partnership_id, selectinload(Partnership.station), *options)
    if not services.can_manage(current_user, partnership.station):
        abort(403)
    return partnership


# Lists -----------------------------------------------------------------------------------

def _filters(stage_choice: bool = True) -> tuple[FilterForm, services.Filters]:
    """The filter form from the query string, with choices from what the user can see."""
    form = FilterForm(request.args)
    countries = services.partner_countries(current_user)
    form.country.choices = [("", _("Any country"))] + sorted(
        ((code, country_name(code)) for code in countries), key=lambda item: sort_key(item[1]))
    form.programme.choices = [("", _("Any programme"))] + ProgrammeKind.choices()
    stations = db.session.scalars(
        scoped(select(Station), Station, current_user, plugin=NAME).order_by(*name_order(Station))).all()
    form.station.choices = [("", _("Any station"))] + [(str(s.id), display_name(s)) for s in stations]
    form.stage.choices = [("", _("Any stage")), ("open", _("Open (not concluded or dropped)"))] + Stage.choices()
    form.due.choices = [("", _("Any next step")), ("overdue", _("Next step overdue")),
                        ("month", _("Next step due this month"))]
    filters = services.Filters(
        country=form.country.data or None,
        programme=form.programme.data or None,
        station_id=parse_id(form.station.data),
        stage=(form.stage.data or None) if stage_choice else None,
        due=form.due.data if form.due.data in ("overdue", "month") else None,
        q=form.q.data or None,
    )
    return form, filters


@bp.route("/")
@login_required
def index():
    form, filters = _filters()
    stmt = services.filtered(current_user, filters).options(*services.LIST_OPTIONS)
    page = paginate(stmt, PER_PAGE)
    return render_template(f"{NAME}/index.html", form=form, page=page, today=local_today(),
                           can_create=bool(services.manageable_stations(current_user)))


@bp.route("/board")
@login_required
def board():
    form, filters = _filters(stage_choice=False)
    columns, counts = services.board(current_user, filters)
    return render_template(f"{NAME}/board.html", form=form, columns=columns, counts=counts,
                           stages=list(Stage), today=local_today(), list_args=_list_args())


@bp.route("/counts")
@login_required
def counts():
    form, filters = _filters(stage_choice=False)
    table = services.counts_by_stage_and_country(current_user, filters)
    countries = sorted(table, key=lambda code: sort_key(country_name(code)))
    stage_totals = {stage.value: sum(row.get(stage.value, 0) for row in table.values()) for stage in Stage}
    return render_template(f"{NAME}/counts.html", form=form, table=table, countries=countries,
                           stages=list(Stage), stage_totals=stage_totals, list_args=_list_args())


@bp.route("/overdue")
@login_required
def overdue():
    today = local_today()
    page = paginate(services.overdue(current_user).options(*services.LIST_OPTIONS), PER_PAGE)
    return render_template(f"{NAME}/overdue.html", page=page, today=today)


# One partnership ---------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    # The core decides, as for its own forms: the named station or 404/403, never another one.
    station, stations = services.station_for_new(request.args.get("station_id"), current_user)
    if station is None:
        return render_template(f"{NAME}/choose_station.html", stations=stations)
    form = NewPartnershipForm(contacts=services.station_contacts(station.id))
    if request.method == "GET":
        form.first_contact_on.data = local_today()
        form.partner_country.data = station.country  # stations are usually in the partner's country
    if form.validate_on_submit():
        try:
            partnership = services.create_partnership(station, form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The partnership has been recorded."), "success")
            return redirect(url_for(".detail", partnership_id=partnership.id))
    return render_template(f"{NAME}/form.html", form=form, station=station, partnership=None)


@bp.route("/<int:partnership_id>")
@login_required
def detail(partnership_id: int):
    return _render_detail(_load(partnership_id, *DETAIL_OPTIONS))


def _render_detail(partnership: Partnership, *, move_form: MoveForm | None = None,
                   step_form: NextStepForm | None = None, document_form: DocumentForm | None = None,
                   status: int = 200):
    manage = services.can_manage(current_user, partnership.station)
    today = local_today()
    moves = available_moves(partnership, current_user)
    move_forms = {}
    for move in moves:
        if move_form is not None and move_form.move.data == move.name:
            move_forms[move.name] = move_form
        else:
            move_forms[move.name] = MoveForm(formdata=None, move=move.name, version=partnership.version, on=today)
    for name, form in move_forms.items():  # several forms on one page: unique ids, so labels match
        for form_field in form:
            form_field.id = f"{name}-{form_field.name}"
    if manage and not partnership.is_closed and step_form is None:
        step_form = NextStepForm(formdata=None, version=partnership.version, next_step=partnership.next_step,
                                 next_step_due=partnership.next_step_due)
    return render_template(
        f"{NAME}/detail.html", partnership=partnership, moves=moves, move_forms=move_forms,
        open_move=move_form.move.data if move_form is not None else None, manage=manage,
        step_form=step_form if manage else None,
        document_form=(document_form or DocumentForm(formdata=None)) if manage else None,
        complete_form=CompleteStepForm(formdata=None, version=partnership.version), today=today,
        document_kinds={document.kind for document in partnership.documents},
    ), status


@bp.route("/<int:partnership_id>/edit", methods=["GET", "POST"])
@login_required
def edit(partnership_id: int):
    partnership = _load_for_change(partnership_id, selectinload(Partnership.contacts))
    form = PartnershipForm(obj=partnership, contacts=services.station_contacts(partnership.station_id))
    if request.method == "GET":
        form.version.data = partnership.version
        form.contact_ids.data = [contact.id for contact in partnership.contacts]
    if form.validate_on_submit():
        try:
            services.update_partnership(partnership, form.data, current_user,
                                        expected_version=_int(form.version.data))
        except services.Conflict as exc:
            flash(exc.message, "error")
            return redirect(url_for(".detail", partnership_id=partnership.id))
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The partnership has been saved."), "success")
            return redirect(url_for(".detail", partnership_id=partnership.id))
    return render_template(f"{NAME}/form.html", form=form, station=partnership.station, partnership=partnership)


@bp.route("/<int:partnership_id>/move", methods=["POST"])
@login_required
def move(partnership_id: int):
    partnership = _load(partnership_id, *DETAIL_OPTIONS)
    form = MoveForm()
    if not form.validate_on_submit():
        if form.move.errors or form.version.errors:  # a tampered or outdated form, not a typo
            flash(_("This action is not available. Check the partnership's current stage."), "error")
        return _render_detail(partnership, move_form=form, status=400)
    try:
        event = services.make_move(partnership, form.move.data, current_user, on=form.on.data,
                                   note=form.note.data, expected_version=form.version.data,
                                   confirmed=bool(form.confirm.data), override_reason=form.override_reason.data)
    except services.Conflict as exc:
        return _conflict(exc, partnership_id)
    except IllegalMove as exc:
        if exc.field and exc.field in form:
            _field_error(form, exc)
        else:  # e.g. the stage changed meanwhile: the move's form is no longer on the page
            flash(exc.message, "error")
        return _render_detail(partnership, move_form=form, status=400)
    flash(_("The partnership is now at stage “%(stage)s”.", stage=Stage.label_of(event.to_stage)), "success")
    return redirect(url_for(".detail", partnership_id=partnership.id))


@bp.route("/<int:partnership_id>/next-step", methods=["POST"])
@login_required
def next_step(partnership_id: int):
    partnership = _load(partnership_id, *DETAIL_OPTIONS)
    if not services.can_manage(current_user, partnership.station):
        abort(403)
    form = NextStepForm()
    if not form.validate_on_submit():
        return _render_detail(partnership, step_form=form, status=400)
    try:
        services.set_next_step(partnership, form.next_step.data, form.next_step_due.data, current_user,
                               expected_version=form.version.data)
    except services.Conflict as exc:
        return _conflict(exc, partnership_id)
    except IllegalMove as exc:
        _field_error(form, exc)
        return _render_detail(partnership, step_form=form, status=400)
    flash(_("The next step has been saved."), "success")
    return redirect(url_for(".detail", partnership_id=partnership.id))


@bp.route("/<int:partnership_id>/next-step/done", methods=["POST"])
@login_required
def complete_step(partnership_id: int):
    partnership = _load_for_change(partnership_id)
    form = CompleteStepForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.complete_next_step(partnership, current_user, expected_version=form.version.data)
    except services.Conflict as exc:
        return _conflict(exc, partnership_id)
    except IllegalMove as exc:
        flash(exc.message, "error")
    else:
        flash(_("The next step has been marked as done."), "success")
    return redirect(url_for(".detail", partnership_id=partnership.id))


@bp.route("/<int:partnership_id>/documents", methods=["POST"])
@login_required
def add_document(partnership_id: int):
    partnership = _load(partnership_id, *DETAIL_OPTIONS)
    if not services.can_manage(current_user, partnership.station):
        abort(403)
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            services.add_document(partnership, form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The document has been added."), "success")
            return redirect(url_for(".detail", partnership_id=partnership.id) + "#documents")
    return _render_detail(partnership, document_form=form, status=400)


@bp.route("/<int:partnership_id>/documents/<int:document_id>/remove", methods=["POST"])
@login_required
def remove_document(partnership_id: int, document_id: int):
    partnership = _load_for_change(partnership_id)
    if services.remove_document(partnership, document_id, current_user) is None:
        abort(404)
    flash(_("The document has been removed."), "success")
    return redirect(url_for(".detail", partnership_id=partnership.id) + "#documents")


# Helpers ---------------------------------------------------------------------------------

def _list_args() -> dict[str, str]:
    """The current filters, for links from the board and the counts to the list."""
    return {key: value for key, value in request.args.items() if key in ("q", "country", "programme", "station") and value}


def _field_error(form, exc: IllegalMove) -> None:
    """Show a service's objection next to its field, else above the form."""
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def _conflict(exc: services.Conflict, partnership_id: int):
    db.session.rollback()
    flash(exc.message, "error")
    return redirect(url_for(".detail", partnership_id=partnership_id))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
