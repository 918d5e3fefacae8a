"""Pages of the plugin, mounted at /p/asean_language_title. Thin: the rules live in ``rules``,
the state machine in ``workflow``, the writes in ``services`` and the reads in ``queries``."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from liaison.models import Contact, Station, db, utcnow
from liaison.params import paginate
from liaison.permissions import acts_for_station
from liaison.scope import get_or_404, station_for_new

from . import queries, services
from .choices import (
    EDITABLE_STATUSES, KNOWN_LANGUAGES, PLUGIN, Document, EventKind, Level, Route, Status, language_choices,
    language_label,
)
from .forms import ApplicationFilterForm, ApplicationForm, MoveForm, RouteForm, StatisticsForm
from .models import TitleApplication, TitleEvent
from .rules import Candidate, Problem, Rules, by_field, submission_problems
from .workflow import IllegalMove, NotReady, available_moves, can_edit, can_override_route


bp = Blueprint(PLUGIN, __name__, url_prefix=f"/p/{PLUGIN}", template_folder="templates")

TEMPLATE_HELPERS = {
    "Status": Status, "Level": Level, "Route": Route, "Document": Document, "EventKind": EventKind,
    "language_label": language_label,
}


def render(template: str, **context) -> str:
    """``render_template`` with the plugin's vocabularies (also for panels and widgets)."""
    return render_template(f"{PLUGIN}/{template}", **TEMPLATE_HELPERS, **context)


# List ------------------------------------------------------------------------------------------

def _language_filter_choices() -> list[tuple[str, object]]:
    """The known languages and any other language an application in scope was made in."""
    used = db.session.scalars(queries.visible(current_user, select(TitleApplication.language).distinct()))
    codes = list(dict.fromkeys([*KNOWN_LANGUAGES, *sorted(used)]))
    return [("", _("Any translation language"))] + language_choices(codes)


@bp.route("/")
@login_required
def index():
    form = ApplicationFilterForm(request.args)
    form.validate()  # a bad year is reported next to the field and ignored
    form.language.choices = _language_filter_choices()
    form.level.choices = [("", _("Any level"))] + queries.level_filter_choices()
    filters = queries.ListFilters.from_form(form)
    page = paginate(queries.filtered(current_user, filters), per_page=25)
    return render("index.html", form=form, page=page)



@bp.route("/statistics")
@login_required
def statistics():
    form = StatisticsForm(request.args)
    form.validate()
    form.language.choices = _language_filter_choices()
    form.level.choices = [("", _("Any level"))] + queries.level_filter_choices()
    filters = queries.StatisticsFilters(
        year=None if form.year.errors else form.year.data, language=form.language.data or None,
        level=form.level.data or None, route=form.route.data or None)
    return render("statistics.html", form=form, stats=queries.statistics(current_user, filters))


# Create and edit -----------------------------------------------------------------------------

def _station_contact(contact_id) -> Contact:
    """The contact a new application is for: in scope with the plugin on (else 404), and of a
    station the user records for (else 403) — the core's rule for every "new" page."""
    contact = get_or_404(Contact, contact_id, selectinload(Contact.station), plugin=PLUGIN)
    station_for_new(contact.station_id, plugin=PLUGIN)
    return contact


def _candidate(form: ApplicationForm) -> Candidate:
    return Candidate(form.level.data, form.practice_years.data, form.current_title.data or None,
                     form.current_title_since.data, frozenset(form.documents.data or ()))


def _notes(candidate: Candidate, rules: Rules) -> dict[str, list[str]]:
    """Unmet rules to show next to the fields: a draft may be saved, a submission may not."""
    if candidate.level not in {level.value for level in Level}:
        return {}
    return by_field(submission_problems(candidate, rules, utcnow().date()))


def _attach(form, problems: list[Problem] | None = None, error: IllegalMove | None = None) -> None:
    """Show problems next to the fields they concern (or above the form)."""
    if error is not None:
        problems = [Problem(error.field or "", str(error.message))]
    for problem in problems or ():
        if problem.field and problem.field in form:
            form[problem.field].errors = [*form[problem.field].errors, problem.message]
        else:
            form.form_errors.append(problem.message)


def _render_form(form, rules: Rules, contact: Contact, application: TitleApplication | None, notes=None):
    return render("form.html", form=form, rules=rules, contact=contact, application=application, notes=notes or {})


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    contact_id = request.args.get("contact_id", type=int)
    if contact_id is None:
        flash(_("Open the page of the translator's contact and choose “New title application” there."), "info")
        return redirect(url_for("contacts.index"))
    contact = _station_contact(contact_id)
    rules = Rules.for_station(contact.station_id)
    form = ApplicationForm()
    form.language.choices = language_choices(rules.languages)
    if request.method == "GET":
        form.submission_token.data = uuid.uuid4().hex
        return _render_form(form, rules, contact, None)
    if form.validate_on_submit():
        try:
            application = services.create_application(contact, form.data, current_user,
                                                      token=form.submission_token.data,
                                                      submit=bool(form.save_and_submit.data))
        except NotReady as exc:
            _attach(form, exc.problems)
            return _render_form(form, rules, contact, None)
        except IllegalMove as exc:
            _attach(form, error=exc)
        else:
            _flash_saved(application)
            return redirect(url_for(".detail", application_id=application.id))
    return _render_form(form, rules, contact, None, _notes(_candidate(form), rules))


def _flash_saved(application: TitleApplication) -> None:
    if application.status == Status.SUBMITTED:
        flash(_("The application has been submitted."), "success")
    else:
        flash(_("The draft has been saved. Submit it when every rule is met."), "success")


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@login_required
def edit(application_id: int):
    application = get_or_404(TitleApplication, application_id, selectinload(TitleApplication.contact),
                             selectinload(TitleApplication.station), plugin=PLUGIN)
    if not acts_for_station(current_user, application.station):
        abort(403)
    if not can_edit(application, current_user):
        flash(_("Only drafts and applications returned for corrections can be edited."), "warning")
        return redirect(url_for(".detail", application_id=application.id))
    rules = Rules.for_station(application.station_id)
    codes = list(rules.languages)
    if application.language not in codes:  # dropped from the settings since: keep it selectable
        codes.append(application.language)
    form = ApplicationForm(obj=application if request.method == "GET" else None)
    form.language.choices = language_choices(codes)
    if request.method == "GET":
        form.version.data = application.version
        return _render_form(form, rules, application.contact, application,
                            _notes(Candidate.of(application), rules))
    contact = application.contact  # a failed save rolls back and expires the loaded relationships
    if form.validate_on_submit():
        try:
            services.update_application(application, form.data, current_user,
                                        expected_version=_int(form.version.data),
                                        submit=bool(form.save_and_submit.data))
        except services.Conflict as exc:
            flash(str(exc.message), "error")
            return redirect(url_for(".detail", application_id=application_id))
        except NotReady as exc:
            _attach(form, exc.problems)
            return _render_form(form, rules, contact, application)
        except IllegalMove as exc:
            _attach(form, error=exc)
        else:
            _flash_saved(application)
            return redirect(url_for(".detail", application_id=application.id))
    return _render_form(form, rules, contact, application, _notes(_candidate(form), rules))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Detail, moves and route -----------------------------------------------------------------------

DETAIL_OPTIONS = (
    selectinload(TitleApplication.contact),
    selectinload(TitleApplication.station).selectinload(Station.region),
    selectinload(TitleApplication.created_by),
    selectinload(TitleApplication.events).selectinload(TitleEvent.actor),
)


def _load(application_id: int) -> TitleApplication:
    return get_or_404(TitleApplication, application_id, *DETAIL_OPTIONS, plugin=PLUGIN)


def _render_detail(application: TitleApplication, move_form: MoveForm | None = None,
                   route_form: RouteForm | None = None, status: int = 200):
    rules = Rules.for_station(application.station_id)
    moves = available_moves(application, current_user)
    move_forms = {
        move.name: move_form if move_form is not None and move_form.move.data == move.name
        else MoveForm(formdata=None, move=move.name, version=application.version)
        for move in moves
    }
    for name, form in move_forms.items():  # several forms on one page: keep element ids unique
        for form_field in form:
            form_field.id = form_field.label.field_id = f"{name}-{form_field.name}"
    if route_form is None and can_override_route(application, current_user):
        route_form = RouteForm(formdata=None, route=application.route, version=application.version)
    problems = (submission_problems(Candidate.of(application), rules, utcnow().date())
                if application.status_enum in EDITABLE_STATUSES else [])
    return render(
        "detail.html", application=application, rules=rules, moves=moves, move_forms=move_forms,
        open_move=move_form.move.data if move_form is not None else None,
        route_form=route_form if can_override_route(application, current_user) else None,
        problems=problems, can_edit=can_edit(application, current_user),
    ), status


@bp.route("/<int:application_id>")
@login_required
def detail(application_id: int):
    return _render_detail(_load(application_id))


@bp.route("/<int:application_id>/move", methods=["POST"])
@login_required
def move(application_id: int):
    application = _load(application_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _render_detail(application, form, status=400)
    try:
        event = services.make_move(application, form.move.data, current_user, expected_version=form.version.data,
                                   comment=form.comment.data, certificate_number=form.certificate_number.data,
                                   decision_date=form.decision_date.data)
    except services.Conflict as exc:
        db.session.expire_all()
        flash(str(exc.message), "error")
        return _render_detail(_load(application_id), status=409)
    except NotReady as exc:
        for problem in exc.problems:
            flash(problem.message, "error")
        return _render_detail(_load(application_id), status=400)
    except IllegalMove as exc:
        if exc.field and exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, str(exc.message)]
        else:
            flash(str(exc.message), "error")
        return _render_detail(_load(application_id), form, status=400)
    flash(_("The application is now “%(status)s”.", status=Status.label_of(event.to_value)), "success")
    return redirect(url_for(".detail", application_id=application.id))


@bp.route("/<int:application_id>/route", methods=["POST"])
@login_required
def route(application_id: int):
    application = _load(application_id)
    form = RouteForm()
    if not can_override_route(application, current_user):
        flash(_("Only an admin or a regional admin of this region may change the route, "
                "and only before the evaluation starts."), "error")
        return _render_detail(application, status=403)
    if not form.validate_on_submit():
        return _render_detail(application, route_form=form, status=400)
    try:
        services.change_route(application, form.route.data, form.reason.data, current_user,
                              expected_version=form.version.data)
    except services.Conflict as exc:
        db.session.expire_all()
        flash(str(exc.message), "error")
        return _render_detail(_load(application_id), status=409)
    except IllegalMove as exc:
        application = _load(application_id)
        _attach(form, error=exc)
        return _render_detail(application, route_form=form, status=400)
    flash(_("The route has been changed and the reason recorded."), "success")
    return redirect(url_for(".detail", application_id=application.id))
