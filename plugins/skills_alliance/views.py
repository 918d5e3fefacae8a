"""Pages of the plugin, mounted at /p/skills_alliance. Views stay thin: loading in scope, forms and
messages here; rules and writes in ``services`` and ``lifecycle``.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from liaison.i18n import country_name, local_today, sort_key
from liaison.templating import per_catalog, translated_labels
from liaison.imports import services as imports
from liaison.models import db
from liaison.params import paginate
from liaison.scope import get_or_404

from . import services
from .choices import NAME, AgreementKind, Area, DomesticKind, Level, MemberKind, MemberStatus, Status
from .forms import (
    AgreementEditForm,
    AgreementForm,
    CompleteMilestoneForm,
    DocumentEditForm,
    DocumentForm,
    ImportForm,
    ListFilterForm,
    MemberForm,
    MilestoneEditForm,
    MilestoneForm,
    MoveForm,
    RecognitionForm,
    RemoveForm,
    RemoveRecognitionForm,
    RenewalForm,
)
from .imports import KEY as IMPORT_KEY
from .imports import TARGETS as IMPORT_TARGETS
from .lifecycle import IllegalMove, available_moves
from .models import Agreement, AgreementEvent, Member, Party, Recognition

bp = Blueprint(NAME, __name__, url_prefix=f"/p/{NAME}", template_folder="templates")

PER_PAGE = 25

AGREEMENT_OPTIONS = (
    selectinload(Agreement.station),
    selectinload(Agreement.parties).selectinload(Party.member),
    selectinload(Agreement.areas),
    selectinload(Agreement.documents),
    selectinload(Agreement.milestones),
    selectinload(Agreement.events).selectinload(AgreementEvent.actor),
)
MEMBER_OPTIONS = (selectinload(Member.station), selectinload(Member.contacts), selectinload(Member.renewals))


def _field_error(form, exc: IllegalMove) -> None:
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    else:
        form.form_errors.append(exc.message)


class Labels(dict):
    """A vocabulary's translated labels for a table's rows: ``labels[value]`` is
    ``enum.label_of(value)`` as text, looked up in a dict built once per catalog."""

    def __init__(self, enum):
        super().__init__(translated_labels(enum))
        self.enum = enum

    def __missing__(self, value):
        return self.enum.label_of(value)

    def choices(self) -> list[tuple[str, str]]:
        """``enum.choices()`` with the labels already translated (a filter's select)."""
        return list(self.items())


def _status_badges() -> dict[str, Markup]:
    """``status_badge`` (the macro) of each agreement status, built once per catalog."""
    return per_catalog("skills_alliance:status_badges", lambda: {
        status.value: Markup('<span class="badge text-bg-{}">{}</span>').format(status.badge, str(status.label))
        for status in Status})


def _country_choices(codes, blank):
    return [("", blank)] + sorted(((c, country_name(c)) for c in codes), key=lambda item: sort_key(item[1]))


# Agreements --------------------------------------------------------------------------------

@bp.route("/")
@login_required
def agreements():
    form = ListFilterForm(request.args)
    kinds, statuses = Labels(AgreementKind), Labels(Status)
    form.kind.choices = [("", _("Any kind"))] + kinds.choices()
    form.status.choices = [("", _("Any status"))] + statuses.choices()
    filters = services.AgreementFilters(q=form.q.data or None, kind=form.kind.data or None,
                                        status=form.status.data or None)
    page = paginate(services.agreements(current_user, filters), PER_PAGE)
    return render_template(f"{NAME}/agreements.html", form=form, page=page, today=local_today(),
                           can_create=services.may_record_any(current_user), kinds=kinds,
                           areas=Labels(Area), badges=_status_badges())


@bp.route("/milestones")
@login_required
def milestones():
    page = paginate(services.overdue_milestones(current_user), PER_PAGE)
    return render_template(f"{NAME}/milestones.html", page=page, today=local_today())


@bp.route("/agreements/new", methods=["GET", "POST"])
@login_required
def new_agreement():
    station, stations = services.station_for_new(request.args.get("station_id"), current_user)
    if station is None:
        return render_template(f"{NAME}/choose_station.html", stations=stations, endpoint=f"{NAME}.new_agreement")
    form = AgreementForm(members=services.party_choices(current_user))
    if request.method == "GET":
        form.proposed_on.data = local_today()
    if form.validate_on_submit():
        try:
            agreement = services.create_agreement(station, form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The agreement has been recorded."), "success")
            return redirect(url_for(".agreement", agreement_id=agreement.id))
    return render_template(f"{NAME}/agreement_form.html", form=form, station=station)


@bp.route("/agreements/<int:agreement_id>")
@login_required
def agreement(agreement_id: int):
    return _render_agreement(get_or_404(Agreement, agreement_id, *AGREEMENT_OPTIONS, plugin=NAME))


def _render_agreement(agreement: Agreement, *, move_form=None, milestone_form=None, document_form=None,
                      status: int = 200):
    manage = services.can_manage(current_user, agreement.station) and agreement.status != Status.TERMINATED
    today = local_today()
    move_forms = {}
    for move in available_moves(agreement, current_user):
        if move_form is not None and move_form.move.data == move.name:
            form = move_form
        else:
            form = MoveForm(formdata=None, move=move.name, version=agreement.version, on=today)
        for form_field in form:
            form_field.id = f"{move.name}-{form_field.name}"
        move_forms[move.name] = (move, form)
    milestone_form = (milestone_form or MilestoneForm(formdata=None)) if manage else None
    document_form = (document_form or DocumentForm(formdata=None)) if manage else None
    for prefix, form in (("milestone", milestone_form), ("document", document_form)):
        for form_field in form or ():  # two forms with a "title" on one page: unique ids, so labels match
            form_field.id = f"{prefix}-{form_field.name}"
    return render_template(
        f"{NAME}/agreement.html", agreement=agreement, move_forms=move_forms,
        open_move=move_form.move.data if move_form is not None else None, manage=manage, today=today,
        milestone_form=milestone_form, document_form=document_form,
        complete_form=CompleteMilestoneForm(formdata=None, done_on=today),
    ), status


@bp.route("/agreements/<int:agreement_id>/move", methods=["POST"])
@login_required
def move(agreement_id: int):
    agreement = get_or_404(Agreement, agreement_id, *AGREEMENT_OPTIONS, plugin=NAME)
    form = MoveForm()
    if not form.validate_on_submit():
        if form.move.errors or form.version.errors:
            flash(_("This action is not available. Check the agreement's current status."), "error")
        return _render_agreement(agreement, move_form=form, status=400)
    try:
        event = services.make_move(agreement, form.move.data, current_user, on=form.on.data, note=form.note.data,
                                   valid_until=form.valid_until.data, expected_version=form.version.data,
                                   confirmed=bool(form.confirm.data))
    except services.Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".agreement", agreement_id=agreement_id))
    except IllegalMove as exc:
        if exc.field and exc.field in form:
            _field_error(form, exc)
        else:
            flash(exc.message, "error")
        return _render_agreement(agreement, move_form=form, status=400)
    flash(_("The agreement is now “%(status)s”.", status=Status.label_of(event.to_status)), "success")
    return redirect(url_for(".agreement", agreement_id=agreement.id))


def _load_for_change(agreement_id: int) -> Agreement:
    agreement = get_or_404(Agreement, agreement_id, *AGREEMENT_OPTIONS, plugin=NAME)
    if not services.can_manage(current_user, agreement.station):
        abort(403)
    return agreement


@bp.route("/agreements/<int:agreement_id>/milestones", methods=["POST"])
@login_required
def add_milestone(agreement_id: int):
    agreement = _load_for_change(agreement_id)
    form = MilestoneForm()
    if form.validate_on_submit():
        try:
            services.add_milestone(agreement, form.title.data, form.due_on.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The milestone has been planned."), "success")
            return redirect(url_for(".agreement", agreement_id=agreement.id) + "#milestones")
    return _render_agreement(agreement, milestone_form=form, status=400)


@bp.route("/agreements/<int:agreement_id>/milestones/<int:milestone_id>/done", methods=["POST"])
@login_required
def complete_milestone(agreement_id: int, milestone_id: int):
    agreement = _load_for_change(agreement_id)
    form = CompleteMilestoneForm()
    if not form.validate_on_submit():
        for message in [*form.done_on.errors, *form.form_errors]:
            flash(message, "error")
        return redirect(url_for(".agreement", agreement_id=agreement.id) + "#milestones")
    try:
        milestone = services.complete_milestone(agreement, milestone_id, form.done_on.data, current_user)
    except IllegalMove as exc:
        flash(exc.message, "error")
    else:
        if milestone is None:
            abort(404)
        flash(_("The milestone has been marked as done."), "success")
    return redirect(url_for(".agreement", agreement_id=agreement.id) + "#milestones")


@bp.route("/agreements/<int:agreement_id>/documents", methods=["POST"])
@login_required
def add_document(agreement_id: int):
    agreement = _load_for_change(agreement_id)
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            services.add_document(agreement, form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The document has been added."), "success")
            return redirect(url_for(".agreement", agreement_id=agreement.id) + "#documents")
    return _render_agreement(agreement, document_form=form, status=400)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _conflict(exc: services.Conflict, agreement_id: int):
    db.session.rollback()
    flash(exc.message, "error")
    return redirect(url_for(".agreement", agreement_id=agreement_id))


def _load_for_correction(agreement_id: int) -> Agreement | None:
    """The agreement to correct (404 out of scope, 403 not the user's to change); ``None`` with a
    message if it is terminated (closed: kept as it was)."""
    agreement = _load_for_change(agreement_id)
    if agreement.status == Status.TERMINATED:
        flash(_("A terminated agreement cannot be changed."), "error")
        return None
    return agreement


@bp.route("/agreements/<int:agreement_id>/edit", methods=["GET", "POST"])
@login_required
def edit_agreement(agreement_id: int):
    agreement = _load_for_correction(agreement_id)
    if agreement is None:
        return redirect(url_for(".agreement", agreement_id=agreement_id))
    form = AgreementEditForm(obj=agreement, members=_party_members(agreement))
    if request.method == "GET":
        form.version.data = agreement.version
        form.areas.data = [row.area for row in agreement.areas]
        form.member_ids.data = [party.member_id for party in agreement.parties if party.member_id]
        form.home_institutions.data = "\n".join(party.home_institution for party in agreement.parties
                                                if not party.member_id)
    if form.validate_on_submit():
        try:
            changed = services.update_agreement(agreement, form.data, current_user,
                                                expected_version=_int(form.version.data))
        except services.Conflict as exc:
            return _conflict(exc, agreement_id)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The agreement has been saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for(".agreement", agreement_id=agreement.id))
    return render_template(f"{NAME}/agreement_form.html", form=form, station=agreement.station,
                           agreement=agreement), (400 if request.method == "POST" else 200)


def _party_members(agreement: Agreement) -> list[Member]:
    """The members the user may name, and the agreement's current members (a withdrawn member
    stays a party until removed)."""
    members = services.party_choices(current_user)
    known = {member.id for member in members}
    return members + [party.member for party in agreement.parties if party.member_id and party.member_id not in known]


def _render_part(agreement: Agreement, form, part, kind: str, status: int = 200):
    for form_field in form:
        form_field.id = f"{kind}-{form_field.name}"
    return render_template(f"{NAME}/part_form.html", agreement=agreement, form=form, part=part, kind=kind,
                           remove_form=RemoveForm(formdata=None, version=agreement.version)), status


def _edit_part(agreement: Agreement, form, part, kind: str, anchor: str, done: str, save):
    """The edit page of one part of an agreement (a milestone, a document): ``save(version)``
    with the agreement's version the user saw; a conflict, or a refusal next to the field."""
    if request.method == "GET":
        form.version.data = agreement.version
    if form.validate_on_submit():
        try:
            save(_int(form.version.data))
        except services.Conflict as exc:
            return _conflict(exc, agreement.id)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(done, "success")
            return redirect(url_for(".agreement", agreement_id=agreement.id) + f"#{anchor}")
    return _render_part(agreement, form, part, kind, 400 if request.method == "POST" else 200)


@bp.route("/agreements/<int:agreement_id>/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
@login_required
def edit_milestone(agreement_id: int, milestone_id: int):
    agreement = _load_for_correction(agreement_id)
    if agreement is None:
        return redirect(url_for(".agreement", agreement_id=agreement_id) + "#milestones")
    milestone = next((m for m in agreement.milestones if m.id == milestone_id), None)
    if milestone is None:
        abort(404)
    if milestone.done_on is not None:
        flash(_("A completed milestone cannot be changed."), "error")
        return redirect(url_for(".agreement", agreement_id=agreement.id) + "#milestones")
    form = MilestoneEditForm(obj=milestone)
    return _edit_part(agreement, form, milestone, "milestone", "milestones", _("The milestone has been saved."),
                      lambda version: services.update_milestone(agreement, milestone.id, form.title.data,
                                                                form.due_on.data, current_user,
                                                                expected_version=version))


@bp.route("/agreements/<int:agreement_id>/milestones/<int:milestone_id>/remove", methods=["POST"])
@login_required
def remove_milestone(agreement_id: int, milestone_id: int):
    return _remove(agreement_id, milestone_id, services.remove_milestone, "milestones",
                   _("The milestone has been removed."))


@bp.route("/agreements/<int:agreement_id>/documents/<int:document_id>/edit", methods=["GET", "POST"])
@login_required
def edit_document(agreement_id: int, document_id: int):
    agreement = _load_for_correction(agreement_id)
    if agreement is None:
        return redirect(url_for(".agreement", agreement_id=agreement_id) + "#documents")
    document = next((d for d in agreement.documents if d.id == document_id), None)
    if document is None:
        abort(404)
    form = DocumentEditForm(obj=document)
    return _edit_part(agreement, form, document, "document", "documents", _("The document has been saved."),
                      lambda version: services.update_document(agreement, document.id, form.data, current_user,
                                                               expected_version=version))


@bp.route("/agreements/<int:agreement_id>/documents/<int:document_id>/remove", methods=["POST"])
@login_required
def remove_document(agreement_id: int, document_id: int):
    return _remove(agreement_id, document_id, services.remove_document, "documents",
                   _("The document has been removed."))


def _remove(agreement_id: int, part_id: int, remove, anchor: str, done: str):
    agreement = _load_for_change(agreement_id)
    back = url_for(".agreement", agreement_id=agreement.id) + "#" + anchor
    form = RemoveForm()
    if not form.validate_on_submit():
        flash(_("This action is not available. Check the agreement's current status."), "error")
        return redirect(back)
    try:
        removed = remove(agreement, part_id, current_user, expected_version=form.version.data)
    except services.Conflict as exc:
        return _conflict(exc, agreement_id)
    except IllegalMove as exc:
        flash(exc.message, "error")
        return redirect(back)
    if removed is None:
        abort(404)
    flash(done, "success")
    return redirect(back)


# Members -----------------------------------------------------------------------------------

@bp.route("/members")
@login_required
def members():
    form = ListFilterForm(request.args)
    form.country.choices = _country_choices(services.member_countries(current_user), _("Any country"))
    kinds, statuses = Labels(MemberKind), Labels(MemberStatus)
    form.kind.choices = [("", _("Any kind"))] + kinds.choices()
    form.status.choices = [("", _("Any status"))] + statuses.choices()
    filters = services.MemberFilters(q=form.q.data or None, country=form.country.data or None,
                                     kind=form.kind.data or None, status=form.status.data or None)
    page = paginate(services.members(current_user, filters), PER_PAGE)
    return render_template(f"{NAME}/members.html", form=form, page=page,
                           can_create=services.may_record_any(current_user), kinds=kinds,
                           statuses=statuses)


@bp.route("/members/new", methods=["GET", "POST"])
@login_required
def new_member():
    station, stations = services.station_for_new(request.args.get("station_id"), current_user)
    if station is None:
        return render_template(f"{NAME}/choose_station.html", stations=stations, endpoint=f"{NAME}.new_member")
    form = MemberForm(contacts=services.station_contacts(station.id))
    if request.method == "GET":
        form.joined_on.data = local_today()
        form.country.data = station.country
    if form.validate_on_submit():
        try:
            member = services.create_member(station, form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The member has been recorded."), "success")
            return redirect(url_for(".member", member_id=member.id))
    return render_template(f"{NAME}/member_form.html", form=form, station=station, member=None)


@bp.route("/members/<int:member_id>")
@login_required
def member(member_id: int):
    record = get_or_404(Member, member_id, *MEMBER_OPTIONS, plugin=NAME)
    return _render_member(record)


def _render_member(record: Member, renewal_form=None, status: int = 200):
    manage = services.can_manage(current_user, record.station)
    agreements = [party.agreement for party in db.session.scalars(
        db.select(Party).where(Party.member_id == record.id,
                               Party.agreement_id.in_(services.visible_agreements(current_user)
                                                      .with_only_columns(Agreement.id)))
        .options(selectinload(Party.agreement)))]
    return render_template(f"{NAME}/member.html", member=record, manage=manage, agreements=agreements,
                           today=local_today(), remind_days=services.MEMBERSHIP_REMIND_DAYS,
                           renewal_form=(renewal_form or RenewalForm(formdata=None)) if manage else None), status


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def edit_member(member_id: int):
    record = get_or_404(Member, member_id, *MEMBER_OPTIONS, plugin=NAME)
    if not services.can_manage(current_user, record.station):
        abort(403)
    form = MemberForm(obj=record, contacts=services.station_contacts(record.station_id))
    if request.method == "GET":
        form.contact_ids.data = [c.id for c in record.contacts]
    if form.validate_on_submit():
        try:
            services.update_member(record, form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The member has been saved."), "success")
            return redirect(url_for(".member", member_id=record.id))
    return render_template(f"{NAME}/member_form.html", form=form, station=record.station, member=record)


@bp.route("/members/<int:member_id>/renewals", methods=["POST"])
@login_required
def renew_member(member_id: int):
    record = get_or_404(Member, member_id, *MEMBER_OPTIONS, plugin=NAME)
    if not services.can_manage(current_user, record.station):
        abort(403)
    form = RenewalForm()
    if form.validate_on_submit():
        try:
            services.add_renewal(record, form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The renewal has been recorded."), "success")
            return redirect(url_for(".member", member_id=record.id) + "#renewals")
    return _render_member(record, renewal_form=form, status=400)


# Recognition catalogue --------------------------------------------------------------------------

@bp.route("/recognitions")
@login_required
def recognitions():
    form = ListFilterForm(request.args)
    form.country.choices = _country_choices(services.recognition_countries(current_user), _("Any country"))
    kinds = Labels(DomesticKind)
    form.kind.choices = [("", _("Any kind"))] + kinds.choices()
    filters = services.RecognitionFilters(q=form.q.data or None, country=form.country.data or None,
                                          domestic_kind=form.kind.data or None)
    page = paginate(services.recognitions(current_user, filters), PER_PAGE)
    can_create = services.may_record_any(current_user)
    return render_template(f"{NAME}/recognitions.html", form=form, page=page, can_create=can_create, kinds=kinds,
                           levels=Labels(Level),
                           editable=services.manageable_station_ids(current_user) if can_create else set())


@bp.route("/recognitions/new", methods=["GET", "POST"])
@login_required
def new_recognition():
    station, stations = services.station_for_new(request.args.get("station_id"), current_user)
    if station is None:
        return render_template(f"{NAME}/choose_station.html", stations=stations, endpoint=f"{NAME}.new_recognition")
    form = RecognitionForm()
    if form.validate_on_submit():
        try:
            services.create_recognition(station, form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The recognition has been added to the catalogue."), "success")
            return redirect(url_for(".recognitions", q=form.name_original.data))
    return render_template(f"{NAME}/recognition_form.html", form=form, station=station)


@bp.route("/recognitions/import", methods=["GET", "POST"])
@login_required
def import_recognitions():
    station, stations = services.station_for_new(request.args.get("station_id"), current_user)
    if station is None:
        return render_template(f"{NAME}/choose_station.html", stations=stations,
                               endpoint=f"{NAME}.import_recognitions")
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read() if upload else b""
        if not data:
            form.file.errors = [_("Choose a file.")]
        else:
            try:
                batch, problems = imports.import_records(IMPORT_KEY, station, upload.filename or "upload", data,
                                                         current_user)
            except (imports.ImportRefused, imports.FileRefused) as exc:
                form.file.errors = [getattr(exc, "message", str(exc))]
            else:
                if batch is not None:
                    flash(_("%(num)d entries have been imported.", num=batch.created_count), "success")
                    return redirect(url_for(".recognitions"))
    return render_template(f"{NAME}/import.html", form=form, station=station, problems=problems,
                           targets=IMPORT_TARGETS), (400 if request.method == "POST" else 200)


@bp.route("/recognitions/<int:recognition_id>/edit", methods=["GET", "POST"])
@login_required
def edit_recognition(recognition_id: int):
    record = _recognition_for_change(recognition_id)
    form = RecognitionForm(obj=record)
    if form.validate_on_submit():
        try:
            services.update_recognition(record, form.data, current_user)
        except IllegalMove as exc:
            _field_error(form, exc)
        else:
            flash(_("The entry has been saved."), "success")
            return redirect(url_for(".recognitions", q=record.name_original))
    return render_template(f"{NAME}/recognition_form.html", form=form, station=record.station, record=record,
                           remove_form=RemoveRecognitionForm(formdata=None)), (400 if request.method == "POST" else 200)


@bp.route("/recognitions/<int:recognition_id>/remove", methods=["POST"])
@login_required
def remove_recognition(recognition_id: int):
    record = _recognition_for_change(recognition_id)
    remove_form = RemoveRecognitionForm()
    if not remove_form.validate_on_submit():
        return render_template(f"{NAME}/recognition_form.html", form=RecognitionForm(obj=record, formdata=None),
                               station=record.station, record=record, remove_form=remove_form), 400
    services.remove_recognition(record, current_user)
    flash(_("The entry has been removed from the catalogue."), "success")
    return redirect(url_for(".recognitions"))


def _recognition_for_change(recognition_id: int) -> Recognition:
    record = get_or_404(Recognition, recognition_id, selectinload(Recognition.station), plugin=NAME)
    if not services.can_manage(current_user, record.station):
        abort(403)
    return record
