from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from .. import plugins
from ..contacts.views import recordable_stations
from ..forms import prefill
from ..models import Contact, LeadCategory, LeadEvent, LeadEventKind, LeadStatus, Station, TalentLead, db
from ..pagination import keyset_page
from ..permissions import acts_for_station
from ..scope import get_or_404, visible_stations_query
from . import files as attachment_files
from . import services
from .forms import AssignForm, AttachForm, CommentForm, LeadFilterForm, LeadForm, MoveForm
from .queries import LeadFilters, filtered_leads
from .workflow import IllegalMove, available_moves

bp = Blueprint("leads", __name__, url_prefix="/leads")


def filter_form(sort: str = "-updated") -> tuple[LeadFilterForm, LeadFilters]:
    """The filter form from the query string, with choices in the user's scope."""
    from ..i18n import display_name, is_chinese

    form = LeadFilterForm(request.args)
    form.status.choices = [("", _("Any status")), ("open", _("Open (not closed)"))] + LeadStatus.choices()
    form.category.choices = [("", _("Any category"))] + LeadCategory.choices()
    # Only the columns the choices need: HQ sees every station, and full rows cost more than the query.
    stations = db.session.execute(visible_stations_query().with_only_columns(
        Station.id, Station.name, Station.name_zh, Station.region_id)).all()
    chinese = is_chinese()
    form.station.choices = [("", _("Any station"))] + [(str(s.id), display_name(s, chinese=chinese)) for s in stations]
    regions = {s.region_id for s in stations}
    from ..scope import visible_regions_query

    form.region.choices = [("", _("Any region"))] + [
        (r.code, display_name(r)) for r in db.session.scalars(visible_regions_query()) if r.id in regions
    ]
    form.reviewer.choices = [("", _("Any reviewer")), ("me", _("Assigned to me")), ("none", _("Not assigned"))] + [
        (str(u.id), u.name) for u in services.reviewers()
    ]
    if not form.sort.data:
        form.sort.data = sort
    return form, LeadFilters.from_form(form, default_sort=sort)


LIST_OPTIONS = (
    joinedload(TalentLead.contact),
    joinedload(TalentLead.station),
    joinedload(TalentLead.reviewer),
)


@bp.route("/")
@login_required
def index():
    form, filters = filter_form()
    page = keyset_page(filtered_leads(current_user, filters).options(*LIST_OPTIONS), per_page=25)
    return render_template("leads/index.html", form=form, page=page)


def _load_contact_for_lead(contact_id) -> Contact:
    contact = get_or_404(Contact, contact_id, selectinload(Contact.station))
    if not acts_for_station(current_user, contact.station):
        abort(403)
    return contact


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    contact_id = request.args.get("contact_id", type=int)
    if contact_id is None:
        if not recordable_stations():
            abort(403)
        flash(_("Choose the contact the lead is about, or record a new contact first."), "info")
        return redirect(url_for("contacts.index"))
    contact = _load_contact_for_lead(contact_id)
    form = plugins.extend_form(LeadForm, "lead", contact.station)()
    if request.method == "GET":
        form.submission_token.data = uuid.uuid4().hex
    if form.validate_on_submit():
        try:
            lead = services.create_lead(
                contact, form.data, current_user, token=form.submission_token.data,
                submit=bool(form.save_and_submit.data), extra=plugins.plugin_field_data(form),
            )
        except services.Rejected as exc:
            form.form_errors.extend(exc.problems)
        except IllegalMove as exc:
            form.form_errors.append(exc.message)
        else:
            lead_id, submitted = lead.id, lead.status == LeadStatus.SUBMITTED
            # Committed: end the read that followed the commit (the plugins' events reload the
            # lead) now rather than at teardown — on SQLite a POST's transaction holds the write lock.
            db.session.rollback()
            if submitted:
                flash(_("The lead has been submitted to HQ."), "success")
            else:
                flash(_("The draft has been saved. Submit it to HQ when it is ready."), "success")
            return redirect(url_for("leads.detail", lead_id=lead_id))
    return render_template("leads/form.html", form=form, contact=contact, lead=None)


# The to-one relations ride on the lead's own statement (one query, not five); collections stay
# select-in loads.
DETAIL_OPTIONS = (
    joinedload(TalentLead.contact),
    joinedload(TalentLead.station).joinedload(Station.region),
    joinedload(TalentLead.submitter),
    joinedload(TalentLead.reviewer),
    selectinload(TalentLead.events).joinedload(LeadEvent.actor),
    selectinload(TalentLead.attachments),
)


def _render_detail(lead: TalentLead, move_form: MoveForm | None = None, status: int = 200,
                   attach_form: AttachForm | None = None):
    moves = available_moves(lead, current_user)
    move_forms = {
        move.name: move_form if move_form is not None and move_form.move.data == move.name
        else MoveForm(formdata=None, move=move.name, version=lead.version)
        for move in moves
    }
    for name, form in move_forms.items():  # several forms on one page: unique ids, so labels match
        for form_field in form:
            form_field.id = f"{name}-{form_field.name}"
    # HQ's question, shown at the top while the lead waits for the station's answer, with the
    # answer form (its own caption, files allowed) right under it for those who can answer.
    question = None
    if lead.status == LeadStatus.NEEDS_INFO:
        question = next((e for e in reversed(lead.events)
                         if e.kind == LeadEventKind.STATUS and e.to_status == LeadStatus.NEEDS_INFO), None)
    answer_form = move_forms.get("answer")
    if answer_form is not None:
        answer_form.comment.label.text = _("Your answer to HQ")
        answer_form.files.label.text = _("Supplementary files")
    can_attach = attachment_files.may_attach(lead, current_user)
    if can_attach and attach_form is None:
        attach_form = AttachForm(formdata=None)
    assign_form = None
    if current_user.is_hq and lead.status_enum.is_open:
        assign_form = AssignForm(reviewer_id=lead.reviewer_id or 0, version=lead.version)
        assign_form.reviewer_id.choices = [(0, _("Not assigned"))] + [(u.id, u.name) for u in services.reviewers()]
    return render_template(
        "leads/detail.html", lead=lead, moves=moves, move_forms=move_forms,
        open_move=move_form.move.data if move_form is not None else None, assign_form=assign_form,
        comment_form=CommentForm() if services.can_comment(lead, current_user) else None,
        can_edit=services.can_edit(lead, current_user),
        panels=plugins.panels("lead", lead),
        question=question, answer_form=answer_form, attach_form=attach_form if can_attach else None,
        removable={a.id for a in lead.attachments if attachment_files.may_remove(a, lead, current_user)},
        upload_limits={"count": current_app.config["ATTACHMENT_MAX_FILES"], "size": attachment_files.max_megabytes(),
                       "types": attachment_files.allowed_extensions()},
    ), status


@bp.route("/<int:lead_id>")
@login_required
def detail(lead_id: int):
    return _render_detail(get_or_404(TalentLead, lead_id, *DETAIL_OPTIONS))


@bp.route("/<int:lead_id>/edit", methods=["GET", "POST"])
@login_required
def edit(lead_id: int):
    lead = get_or_404(TalentLead, lead_id, selectinload(TalentLead.contact), selectinload(TalentLead.station))
    if not acts_for_station(current_user, lead.station):
        abort(403)
    if not services.can_edit(lead, current_user):
        flash(_("Only drafts and leads that need more information can be edited."), "warning")
        return redirect(url_for("leads.detail", lead_id=lead.id))
    form_class = plugins.extend_form(LeadForm, "lead", lead.station)
    form = form_class(obj=prefill(lead), data=plugins.form_data("lead", lead) if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = lead.version
    if form.validate_on_submit():
        try:
            services.update_lead(lead, form.data, current_user,
                                 expected_version=_int(form.version.data),
                                 extra=plugins.plugin_field_data(form))
        except services.Conflict as exc:
            flash(exc.message, "error")
            return redirect(url_for("leads.detail", lead_id=lead.id))
        except services.Rejected as exc:
            form.form_errors.extend(exc.problems)
        except IllegalMove as exc:
            form.form_errors.append(exc.message)
        else:
            if form.save_and_submit.data and lead.status == LeadStatus.DRAFT:
                _submit_saved_draft(lead)
            else:
                flash(_("The lead has been saved."), "success")
            return redirect(url_for("leads.detail", lead_id=lead.id))
    return render_template("leads/form.html", form=form, contact=lead.contact, lead=lead)


def _submit_saved_draft(lead: TalentLead) -> None:
    try:
        services.make_move(lead, "submit", current_user, expected_version=lead.version)
    except services.Rejected as exc:
        flash(_("The draft has been saved but not submitted: %(problems)s", problems="; ".join(exc.problems)), "warning")
    except (services.Conflict, IllegalMove) as exc:
        flash(_("The draft has been saved but not submitted: %(problems)s", problems=exc.message), "warning")
    else:
        flash(_("The lead has been submitted to HQ."), "success")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.route("/<int:lead_id>/move", methods=["POST"])
@login_required
def move(lead_id: int):
    lead = get_or_404(TalentLead, lead_id, *DETAIL_OPTIONS)
    try:
        form = MoveForm()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:  # files beyond the upload limit (see .attachments)
        from .attachments import refuse_body

        flash(refuse_body(), "error")
        return _render_detail(lead, status=413)
    if not valid:
        if form.move.errors or form.version.errors:  # hidden fields: their errors would not show
            flash(_("This action could not be done: the page was out of date or incomplete. "
                    "Reload it and try again."), "error")
        return _render_detail(lead, form, 400)
    uploads = getattr(form.files, "uploads", [])
    if uploads and form.move.data != "answer":
        form.files.errors = [_("Files can be sent with the answer to HQ only.")]
        return _render_detail(lead, form, 400)
    staged = []  # the answer's files: stored, and committed with the answer or not at all
    try:
        staged = attachment_files.stage(lead, uploads, current_user) if uploads else []
        event = services.make_move(
            lead, form.move.data, current_user, expected_version=form.version.data,
            comment=form.comment.data, referral_target=form.referral_target.data,
            landed_on=form.landed_on.data, landing_kind=form.landing_kind.data or None,
        )
    except (services.Conflict, services.Rejected, IllegalMove, attachment_files.UploadRefused) as exc:
        if staged:
            db.session.rollback()
            attachment_files.discard(staged)
        if isinstance(exc, services.Conflict) or staged:
            db.session.expire_all()
            lead = get_or_404(TalentLead, lead_id, *DETAIL_OPTIONS)
        if isinstance(exc, services.Conflict):
            flash(exc.message, "error")
            return _render_detail(lead, status=409)
        if isinstance(exc, services.Rejected):
            for problem in exc.problems:
                flash(problem, "error")
        elif isinstance(exc, attachment_files.UploadRefused):
            form.files.errors = [exc.message]
        elif exc.field and exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        else:
            flash(exc.message, "error")
        return _render_detail(lead, form, 400)
    except BaseException:
        if staged:
            db.session.rollback()
            attachment_files.discard(staged)
        raise
    flash(_("The lead is now “%(status)s”.", status=LeadStatus.label_of(event.to_status)), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.route("/<int:lead_id>/comment", methods=["POST"])
@login_required
def comment(lead_id: int):
    lead = get_or_404(TalentLead, lead_id, selectinload(TalentLead.station))
    form = CommentForm()
    if not services.can_comment(lead, current_user):
        abort(403)
    if form.validate_on_submit():
        services.add_comment(lead, current_user, form.text.data)
        flash(_("Your comment has been added."), "success")
    else:
        flash(_("Write a comment of at most 4,000 characters."), "error")
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#timeline")


@bp.route("/<int:lead_id>/assign", methods=["POST"])
@login_required
def assign(lead_id: int):
    if not current_user.is_hq:
        abort(403)
    lead = get_or_404(TalentLead, lead_id)
    form = AssignForm()
    candidates = {u.id: u for u in services.reviewers()}
    form.reviewer_id.choices = [(0, "")] + [(uid, u.name) for uid, u in candidates.items()]
    if not form.validate_on_submit():
        flash(_("Choose a reviewer from the list."), "error")
        return redirect(url_for("leads.detail", lead_id=lead.id))
    try:
        if form.version.data is not None and form.version.data != lead.version:
            raise services.Conflict()
        services.assign_reviewer([lead], candidates.get(form.reviewer_id.data), current_user)
    except services.Conflict as exc:
        flash(exc.message, "error")
    except IllegalMove as exc:
        flash(exc.message, "error")
    else:
        flash(_("The reviewer has been saved."), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id))


from . import attachments  # noqa: E402,F401  (registers the attachment routes on ``bp``)
