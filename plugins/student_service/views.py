"""Pages of the plugin, mounted at /p/student_service. Views stay thin: loading in scope
(``access``), forms and messages here; rules and writes in ``services`` and ``workflow``.

The core answers 404 for every route here when the plugin is off for all of the user's
stations — unless the user is in a home service team (``liaison_plugin_access``: the county's
staff need no station); every page then scopes its data by the team grant (``access``). A single
student-linked record also needs the plugin on for *its* station. Departments and teams are kept
by ``access.may_manage`` (HQ, admins, the admins of a region where the plugin is on).
"""
from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from liaison.i18n import country_name, local_today, sort_key
from liaison.models import Contact, User, db
from liaison.params import MAX_PAGE, paginate, parse_id
from liaison.permissions import acts_for_station
from liaison.scope import get_or_404 as core_get_or_404
from liaison.scope import scoped as core_scoped

from . import access, services
from .choices import (NAME, STAGE_BADGES, ApplicationStatus, Channel, Mark, ProgrammeKind, RequestStatus,
                      ServiceKind, Stage, labels)
from .forms import (ApplyForm, DecideForm, DepartmentForm, FilterForm, MarkForm, MemberForm, NewStudentForm,
                    ProgrammeForm, RequestForm, RequestMoveForm, RollCallForm, StageForm, StudentForm, TeamForm)
from .models import (Application, Department, HomeTeam, Programme, RequestEvent, RollCallEntry, ServiceRequest, Student,
                     StudentEvent)
from .workflow import REQUEST_WORKFLOW, STAGE_WORKFLOW, IllegalMove

bp = Blueprint(NAME, __name__, url_prefix=f"/p/{NAME}", template_folder="templates", static_folder="static")

PER_PAGE = 25
T = NAME + "/"


@bp.context_processor
def _template_helpers():
    return {"student_service_may_manage": access.may_manage}


def _hq_only() -> None:
    if not current_user.is_hq:
        abort(403)


def _managers_only() -> None:
    """The alliance's departments and the home teams: HQ, admins and the regional admins of a
    region where the plugin is on (``access.may_manage``)."""
    if not access.may_manage(current_user):
        abort(403)


def _field_error(form, exc: IllegalMove) -> None:
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    else:
        form.form_errors.append(exc.message)


@lru_cache(maxsize=2048)
def _name_key(name: str) -> str:
    """``sort_key`` of a country's name (pinyin for Chinese: slow), computed once per name."""
    return sort_key(name)


def _load_student(student_id, *options) -> Student:
    return access.get_or_404(Student, student_id, selectinload(Student.station), *options)


# Students -------------------------------------------------------------------------------------

@bp.route("/")
@login_required
def index():
    form = FilterForm(request.args)
    form.stage.choices = [("", _("Any stage"))] + Stage.choices()
    countries = db.session.scalars(access.scoped(select(Student.country).distinct(), Student, current_user)).all()
    country_names = {c: country_name(c) for c in countries}  # named once, for the filter and the rows
    form.country.choices = [("", _("Any country"))] + sorted(country_names.items(),
                                                             key=lambda item: _name_key(item[1]))
    filters = services.Filters(stage=form.stage.data or None, country=form.country.data or None,
                               field=(form.field.data or None) if form.validate() else None,
                               q=(form.q.data or None) if not form.q.errors else None)
    page = paginate(services.students(current_user, filters).options(*services.LIST_OPTIONS), PER_PAGE)
    return render_template(T + "index.html", form=form, page=page, country_names=country_names,
                           stage_labels=labels(Stage), stage_badges=STAGE_BADGES)


@bp.route("/students/new", methods=["GET", "POST"])
@login_required
def student_new():
    contact = core_get_or_404(Contact, request.args.get("contact_id"), selectinload(Contact.station), plugin=NAME)
    if not (acts_for_station(current_user, contact.station) or current_user.is_hq):
        abort(403)
    existing = services.student_of_contact(contact.id)
    if existing is not None:
        return redirect(url_for(".student", student_id=existing.id))
    form = NewStudentForm(teams=services.teams())
    if request.method == "GET":
        form.since.data = local_today()
        form.country.data = contact.station.country
        form.city.data = contact.station.city
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k not in ("stage", "since")}
        try:
            student = services.create_student(contact, data, current_user, stage=form.stage.data,
                                              since=form.since.data)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The student has been recorded."), "success")
            return redirect(url_for(".student", student_id=student.id))
    return render_template(T + "student_form.html", form=form, contact=contact, student=None)


@bp.route("/students/<int:student_id>")
@login_required
def student(student_id: int):
    return _render_student(_load_student(student_id))


def _render_student(student: Student, stage_form: StageForm | None = None, status: int = 200):
    events = db.session.scalars(select(StudentEvent).where(StudentEvent.student_id == student.id)
                                .options(selectinload(StudentEvent.actor))
                                .order_by(StudentEvent.happened_on, StudentEvent.id)).all()
    contact = db.session.get(Contact, student.contact_id)
    team = db.session.get(HomeTeam, student.home_team_id) if student.home_team_id else None
    requests_ = db.session.scalars(select(ServiceRequest).where(ServiceRequest.student_id == student.id)
                                   .options(selectinload(ServiceRequest.department))
                                   .order_by(ServiceRequest.id.desc())).all()
    moves = STAGE_WORKFLOW.available(student, current_user)
    stage_forms = {}
    for move in moves:
        if stage_form is not None and stage_form.move.data == move.name:
            stage_forms[move.name] = stage_form
        else:
            stage_forms[move.name] = StageForm(formdata=None, move=move.name, version=student.version,
                                               on=local_today())
        for f in stage_forms[move.name]:
            f.id = f"{move.name}-{f.name}"
    # Through the team grant alone the contact page is not theirs (the station's): no link to a 404.
    contact_link = not access.in_team(current_user, student) or db.session.scalar(
        core_scoped(select(Contact.id).where(Contact.id == contact.id), Contact)) is not None
    return render_template(T + "student.html", student=student, contact=contact, team=team, events=events,
                           contact_link=contact_link,
                           requests=requests_, moves=moves, stage_forms=stage_forms, today=local_today(),
                           may_edit=services.may_edit(current_user, student), label_stage=Stage.label_of,
                           open_move=stage_form.move.data if stage_form is not None else None), status


@bp.route("/students/<int:student_id>/edit", methods=["GET", "POST"])
@login_required
def student_edit(student_id: int):
    student = _load_student(student_id)
    if not services.may_edit(current_user, student):
        abort(403)
    form = StudentForm(obj=student, teams=services.teams())
    if request.method == "GET":
        form.version.data = student.version
    if form.validate_on_submit():
        try:
            services.update_student(student, form.data, current_user, expected_version=parse_id(form.version.data))
        except services.Conflict as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for(".student", student_id=student_id))
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The student has been saved."), "success")
            return redirect(url_for(".student", student_id=student_id))
    contact = db.session.get(Contact, student.contact_id)
    return render_template(T + "student_form.html", form=form, contact=contact, student=student)


@bp.route("/students/<int:student_id>/move", methods=["POST"])
@login_required
def student_move(student_id: int):
    student = _load_student(student_id)
    form = StageForm()
    if not form.validate_on_submit():
        if form.move.errors or form.version.errors:
            flash(_("This action is not available. Check the student's current stage."), "error")
        return _render_student(student, form, 400)
    try:
        services.change_stage(student, form.move.data, current_user, expected_version=form.version.data,
                              on=form.on.data, note=form.note.data, company=form.company.data,
                              employer=form.employer.data)
    except services.Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".student", student_id=student_id))
    except IllegalMove as exc:
        if exc.field and exc.field in form:
            _field_error(form, exc)
        else:
            flash(exc.message, "error")
        return _render_student(student, form, 400)
    flash(_("The student is now “%(stage)s”.", stage=Stage.label_of(student.stage)), "success")
    return redirect(url_for(".student", student_id=student_id))


# Service requests --------------------------------------------------------------------------------

@bp.route("/students/<int:student_id>/requests/new", methods=["GET", "POST"])
@login_required
def request_new(student_id: int):
    student = _load_student(student_id)
    if not services.may_edit(current_user, student):
        abort(403)
    form = RequestForm()
    if form.validate_on_submit():
        try:
            service_request = services.create_request(student, form.kind.data, form.summary.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The request has been recorded."), "success")
            return redirect(url_for(".request_detail", request_id=service_request.id))
    contact = db.session.get(Contact, student.contact_id)
    return render_template(T + "request_form.html", form=form, student=student, contact=contact)


@bp.route("/requests")
@login_required
def requests_list():
    status = request.args.get("status") or None
    if status not in (None, "open", *[s.value for s in RequestStatus]):
        status = None
    kind = request.args.get("kind") or None
    if kind not in {k.value for k in ServiceKind}:
        kind = None
    page = paginate(services.requests(current_user, status=status, kind=kind).options(*services.REQUEST_OPTIONS),
                    PER_PAGE)
    return render_template(T + "requests.html", page=page, status=status, kind=kind, today=local_today(),
                           statuses=list(RequestStatus), kinds=list(ServiceKind), overdue_view=False)


@bp.route("/requests/overdue")
@login_required
def overdue():
    page = paginate(services.overdue(current_user).options(*services.REQUEST_OPTIONS), PER_PAGE)
    return render_template(T + "requests.html", page=page, status=None, kind=None, today=local_today(),
                           statuses=list(RequestStatus), kinds=list(ServiceKind), overdue_view=True)


def _load_request(request_id) -> ServiceRequest:
    return access.get_or_404(ServiceRequest, request_id, selectinload(ServiceRequest.station),
                             selectinload(ServiceRequest.student).selectinload(Student.contact),
                             selectinload(ServiceRequest.department))


def _render_request(service_request: ServiceRequest, move_form: RequestMoveForm | None = None, status: int = 200):
    departments = services.departments()
    moves = REQUEST_WORKFLOW.available(service_request, current_user)
    forms = {}
    for move in moves:
        if move_form is not None and move_form.move.data == move.name:
            forms[move.name] = move_form
        else:
            forms[move.name] = RequestMoveForm(formdata=None, move=move.name, version=service_request.version,
                                               departments=departments)
        for f in forms[move.name]:
            f.id = f"{move.name}-{f.name}"
    events = db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == service_request.id)
                                .options(selectinload(RequestEvent.actor)).order_by(RequestEvent.id)).all()
    department_names = {d.id: d for d in services.departments(active_only=False)}  # the history's, inactive too
    return render_template(T + "request.html", req=service_request, moves=moves, forms=forms, events=events,
                           departments=department_names, no_department=not departments, today=local_today(), label_status=RequestStatus.label_of,
                           open_move=move_form.move.data if move_form is not None else None), status


@bp.route("/requests/<int:request_id>")
@login_required
def request_detail(request_id: int):
    return _render_request(_load_request(request_id))


@bp.route("/requests/<int:request_id>/move", methods=["POST"])
@login_required
def request_move(request_id: int):
    service_request = _load_request(request_id)
    form = RequestMoveForm(departments=services.departments())
    if not form.validate_on_submit():
        if form.move.errors or form.version.errors:
            flash(_("This action is not available. Check the request's current status."), "error")
        return _render_request(service_request, form, 400)
    try:
        services.change_request(service_request, form.move.data, current_user, expected_version=form.version.data,
                                department_id=form.department_id.data, due_on=form.due_on.data,
                                outcome=form.outcome.data, note=form.note.data)
    except services.Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".request_detail", request_id=request_id))
    except IllegalMove as exc:
        if exc.field and exc.field in form:
            _field_error(form, exc)
        else:
            flash(exc.message, "error")
        return _render_request(service_request, form, 400)
    flash(_("The request is now “%(status)s”.", status=RequestStatus.label_of(service_request.status)), "success")
    return redirect(url_for(".request_detail", request_id=request_id))


# Roll calls ------------------------------------------------------------------------------------------

@bp.route("/roll-calls")
@login_required
def roll_calls():
    page = paginate(services.visible_roll_calls(current_user), PER_PAGE)
    return render_template(T + "roll_calls.html", page=page, minutes=services.minutes_to_reach)


@bp.route("/roll-calls/new", methods=["GET", "POST"])
@login_required
def roll_call_new():
    _hq_only()
    form = RollCallForm()
    if form.validate_on_submit():
        roll_call = services.open_roll_call(form.title.data, form.country.data, form.city.data, form.reason.data,
                                            current_user)
        flash(_("The roll call is open."), "success")
        return redirect(url_for(".roll_call", roll_call_id=roll_call.id))
    return render_template(T + "roll_call_form.html", form=form)


def _entries_page(roll_call, mark, total: int):
    """A page of 50 entries; ``total`` (the entries the user sees, from the counts by mark) spares
    a second COUNT over the same rows."""
    student = joinedload(RollCallEntry.student)  # each entry has one student: one query for the page
    stmt = services.entries(current_user, roll_call, mark).options(
        student.joinedload(Student.contact).load_only(Contact.name, Contact.name_zh, Contact.station_id),
        student.joinedload(Student.station), joinedload(RollCallEntry.marked_by))
    page = request.args.get("page", 1, type=int) or 1
    result = db.paginate(stmt, page=min(max(page, 1), MAX_PAGE), per_page=50, error_out=False, count=False)
    result.total = total
    return result


@bp.route("/roll-calls/<int:roll_call_id>")
@login_required
def roll_call(roll_call_id: int, mark_form: MarkForm | None = None, form_entry: int | None = None,
              status: int = 200):
    record = services.load_roll_call(current_user, roll_call_id)
    mark = request.args.get("mark") or None
    if mark not in {m.value for m in Mark}:
        mark = None
    summary = services.roll_call_counts(current_user, record)
    page = _entries_page(record, mark, summary["counts"][mark] if mark else summary["total"])
    markable = ({entry.id for entry in page.items if services.may_mark(current_user, entry)} if record.is_open
                else set())
    return render_template(T + "roll_call.html", roll_call=record, page=page, mark=mark, marks=list(Mark),
                           summary=summary, markable=markable, mark_labels=labels(Mark),
                           channel_labels=labels(Channel), mark_form=mark_form, form_entry=form_entry,
                           blank_form=MarkForm(formdata=None)), status


@bp.route("/roll-calls/<int:roll_call_id>/counts.json")
@login_required
def roll_call_counts(roll_call_id: int):
    record = services.load_roll_call(current_user, roll_call_id)
    response = jsonify(services.roll_call_counts(current_user, record))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/roll-calls/<int:roll_call_id>/entries/<int:entry_id>", methods=["POST"])
@login_required
def roll_call_mark(roll_call_id: int, entry_id: int):
    record = services.load_roll_call(current_user, roll_call_id)
    entry = access.get_or_404(RollCallEntry, entry_id, selectinload(RollCallEntry.roll_call),
                              selectinload(RollCallEntry.student).selectinload(Student.station))
    if entry.roll_call_id != record.id:
        abort(404)
    if not services.may_mark(current_user, entry):
        abort(403)
    form = MarkForm()
    if form.validate_on_submit():
        try:
            services.mark_entry(entry, form.mark.data, form.channel.data, form.note.data, current_user)
        except IllegalMove as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("Marked: %(mark)s.", mark=Mark.label_of(entry.mark)), "success")
            return redirect(url_for(".roll_call", roll_call_id=record.id, **request.args) + f"#entry-{entry.id}")
    return roll_call(roll_call_id, mark_form=form, form_entry=entry.id, status=400)


@bp.route("/roll-calls/<int:roll_call_id>/close", methods=["POST"])
@login_required
def roll_call_close(roll_call_id: int):
    _hq_only()
    record = services.load_roll_call(current_user, roll_call_id)
    try:
        services.close_roll_call(record, current_user)
    except IllegalMove as exc:
        flash(exc.message, "error")
    else:
        flash(_("The roll call is closed; its record is kept."), "success")
    return redirect(url_for(".roll_call", roll_call_id=record.id))


# Programmes ----------------------------------------------------------------------------------------

@bp.route("/programmes")
@login_required
def programmes():
    kind = request.args.get("kind") or None
    if kind not in {k.value for k in ProgrammeKind}:
        kind = None
    page = paginate(services.programmes(kind), PER_PAGE)
    counts = services.application_counts([p.id for p in page.items])
    return render_template(T + "programmes.html", page=page, kind=kind, kinds=list(ProgrammeKind), counts=counts)


@bp.route("/programmes/new", methods=["GET", "POST"])
@login_required
def programme_new():
    _hq_only()
    form = ProgrammeForm(events=services.event_choices())
    if request.method == "GET":
        form.year.data = local_today().year
    if form.validate_on_submit():
        try:
            programme_ = services.create_programme(form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The programme has been recorded."), "success")
            return redirect(url_for(".programme", programme_id=programme_.id))
    return render_template(T + "programme_form.html", form=form)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@login_required
def programme_edit(programme_id: int):
    _hq_only()
    record = _load_programme(programme_id)
    form = ProgrammeForm(obj=record, events=services.event_choices())
    if form.validate_on_submit():
        try:
            services.update_programme(record, form.data, current_user)
        except IllegalMove as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("The programme has been saved."), "success")
            return redirect(url_for(".programme", programme_id=record.id))
    return render_template(T + "programme_form.html", form=form, programme=record)


def _load_programme(programme_id) -> Programme:
    record = db.session.get(Programme, parse_id(programme_id) or 0, options=[selectinload(Programme.field_rows)])
    if record is None:
        abort(404)
    return record


@bp.route("/programmes/<int:programme_id>")
@login_required
def programme(programme_id: int, apply_form: ApplyForm | None = None, status: int = 200):
    record = _load_programme(programme_id)
    applications = db.session.scalars(services.applications(current_user, record)).all()
    candidates = services.matching_students(current_user, record) if record.kind == ProgrammeKind.INTERNSHIP else []
    counts = services.application_counts([record.id]).get(record.id, {})
    return render_template(T + "programme.html", programme=record, applications=applications, candidates=candidates,
                           counts=counts, apply_form=apply_form or ApplyForm(formdata=None),
                           decide_form=DecideForm(formdata=None), statuses=ApplicationStatus), status


@bp.route("/programmes/<int:programme_id>/apply", methods=["POST"])
@login_required
def programme_apply(programme_id: int):
    record = _load_programme(programme_id)
    form = ApplyForm()
    if form.validate_on_submit():
        student_ = access.get_or_404(Student, form.student_id.data, selectinload(Student.station))
        try:
            services.apply(record, student_, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The application has been recorded."), "success")
            return redirect(url_for(".programme", programme_id=record.id))
    return programme(programme_id, apply_form=form, status=400)


@bp.route("/applications/<int:application_id>/decide", methods=["POST"])
@login_required
def application_decide(application_id: int):
    _hq_only()
    application = access.get_or_404(Application, application_id, selectinload(Application.programme))
    form = DecideForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide(application, form.decision.data, current_user)
    except IllegalMove as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for(".programme", programme_id=application.programme_id))


# The service alliance's departments ------------------------------------------------------------------

@bp.route("/departments", methods=["GET", "POST"])
@login_required
def departments():
    """The departments requests are referred to, and a form for a new one."""
    _managers_only()
    form = DepartmentForm()
    if form.validate_on_submit():
        try:
            department = services.create_department(form.data, current_user)
        except IllegalMove as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("The department “%(name)s” has been added.", name=department.name_zh), "success")
            return redirect(url_for(".departments"))
    return render_template(T + "departments.html", rows=services.all_departments(), form=form)


def _load_department(department_id) -> Department:
    record = db.session.get(Department, parse_id(department_id) or 0)
    if record is None:
        abort(404)
    return record


@bp.route("/departments/<int:department_id>/edit", methods=["GET", "POST"])
@login_required
def department_edit(department_id: int):
    _managers_only()
    record = _load_department(department_id)
    form = DepartmentForm(obj=record)
    if form.validate_on_submit():
        try:
            services.update_department(record, form.data, current_user)
        except IllegalMove as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("The department has been saved."), "success")
            return redirect(url_for(".departments"))
    return render_template(T + "department_form.html", form=form, department=record,
                           in_use=services.department_in_use(record))


@bp.route("/departments/<int:department_id>/delete", methods=["POST"])
@login_required
def department_delete(department_id: int):
    _managers_only()
    record = _load_department(department_id)
    try:
        services.delete_department(record, current_user)
    except IllegalMove as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".department_edit", department_id=record.id))
    flash(_("The department has been deleted."), "success")
    return redirect(url_for(".departments"))


# Home service teams ---------------------------------------------------------------------------------

def _render_teams(form: MemberForm | None = None, form_team: int | None = None, team_form: TeamForm | None = None,
                  status: int = 200):
    teams_ = services.teams_with_members()
    manageable = access.manageable_ids([user.id for team in teams_ for user in team.members])
    return render_template(T + "teams.html", teams=teams_, manageable=manageable,
                           form=form or MemberForm(formdata=None), form_team=form_team,
                           team_form=team_form or TeamForm(formdata=None)), status


def _load_team(team_id) -> HomeTeam:
    record = db.session.get(HomeTeam, parse_id(team_id) or 0)
    if record is None:
        abort(404)
    return record


@bp.route("/teams")
@login_required
def teams():
    _managers_only()
    return _render_teams()


@bp.route("/teams/new", methods=["POST"])
@login_required
def team_new():
    _managers_only()
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = services.create_team(form.data, current_user)
        except IllegalMove as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("The team “%(name)s” has been created.", name=team.name_zh), "success")
            return redirect(url_for(".teams") + f"#team-{team.id}")
    return _render_teams(team_form=form, status=400)


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@login_required
def team_edit(team_id: int):
    _managers_only()
    team = _load_team(team_id)
    form = TeamForm(obj=team)
    if form.validate_on_submit():
        try:
            services.rename_team(team, form.data, current_user)
        except IllegalMove as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            flash(_("The team has been renamed."), "success")
            return redirect(url_for(".teams") + f"#team-{team.id}")
    return render_template(T + "team_form.html", form=form, team=team)


@bp.route("/teams/<int:team_id>/members", methods=["POST"])
@login_required
def team_add(team_id: int):
    _managers_only()
    team = _load_team(team_id)
    form = MemberForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == form.email.data.strip().lower()))
        if user is None or not access.manageable_user(user):  # an account one may not manage: as if unknown
            form.email.errors = [_("No account has this e-mail address.")]
        else:
            services.add_member(team, user)
            flash(_("%(name)s is now a member of the team.", name=user.name), "success")
            return redirect(url_for(".teams"))
    return _render_teams(form, team.id, status=400)


@bp.route("/teams/<int:team_id>/members/<int:user_id>/remove", methods=["POST"])
@login_required
def team_remove(team_id: int, user_id: int):
    _managers_only()
    team = _load_team(team_id)
    user = db.session.get(User, user_id)
    if user is None or not access.manageable_user(user):
        abort(404)
    if services.remove_member(team, user_id):
        flash(_("The member has been removed from the team."), "success")
    return redirect(url_for(".teams"))
