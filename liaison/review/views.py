from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from ..leads import services as lead_services
from ..leads.queries import filtered_leads, status_counts
from ..leads.views import LIST_OPTIONS, filter_form
from ..leads.workflow import IllegalMove
from ..models import LeadStatus, Role, TalentLead, User, db
from ..notifications.deadlines import overdue_condition
from .. import pagination
from ..pagination import keyset_page
from ..params import parse_id
from ..permissions import roles_required
from ..security import safe_next

bp = Blueprint("review", __name__, url_prefix="/review")

QUEUE_STATUSES = [s for s in LeadStatus if s != LeadStatus.DRAFT]


@bp.route("/")
@roles_required(Role.HQ_REVIEWER)
def queue():
    form, filters = filter_form(sort="-submitted")
    form.status.choices = [c for c in form.status.choices if c.value != LeadStatus.DRAFT]
    stmt = filtered_leads(current_user, filters).where(TalentLead.status != LeadStatus.DRAFT)
    overdue = request.args.get("overdue") == "1"
    if overdue:  # past the status's deadline (liaison.notifications.deadlines)
        stmt = stmt.where(overdue_condition())
    page = keyset_page(stmt.options(*LIST_OPTIONS), per_page=50)
    counts = status_counts(current_user, cap=pagination.COUNT_CAP, statuses=QUEUE_STATUSES)
    return render_template("review/queue.html", form=form, page=page, counts=counts, overdue=overdue,
                           statuses=QUEUE_STATUSES, reviewers=lead_services.reviewers())


@bp.route("/assign", methods=["POST"])
@roles_required(Role.HQ_REVIEWER)
def bulk_assign():
    back = safe_next(request.form.get("next"), "review.queue")
    ids = [i for i in map(parse_id, request.form.getlist("lead_ids")) if i][:500]
    reviewer_value = request.form.get("reviewer_id", "")
    if not ids:
        flash(_("Select at least one lead."), "error")
        return redirect(back)
    reviewer = None
    if reviewer_value != "0":
        reviewer_id = parse_id(reviewer_value)
        reviewer = db.session.get(User, reviewer_id) if reviewer_id else None
        if reviewer is None or not reviewer.is_hq or not reviewer.active:
            flash(_("Choose a reviewer from the list."), "error")
            return redirect(back)
    leads = db.session.scalars(select(TalentLead).where(TalentLead.id.in_(ids))).all()
    try:
        changed = lead_services.assign_reviewer(leads, reviewer, current_user)
    except (lead_services.Conflict, IllegalMove) as exc:
        flash(exc.message, "error")
    else:
        flash(ngettext("Reviewer saved for %(num)d lead.", "Reviewer saved for %(num)d leads.", changed), "success")
    return redirect(back)


@bp.route("/report")
@roles_required(Role.HQ_REVIEWER)
def report():
    """The old report's address (links and bookmarks keep working): the report of
    ``liaison.reports``, whose filters include this page's ``date_from`` and ``date_to``."""
    from ..reports.views import index

    return index()
