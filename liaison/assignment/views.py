"""HQ's assignment rules (``/review/rules``) and the reviewers' workload (``/review/workload``)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..concurrency import Conflict
from ..leads import services as lead_services
from ..models import AssignmentRule, Role, User, db
from ..params import parse_id
from ..permissions import roles_required
from . import services
from .forms import ConfirmForm, RuleForm, criterion_label, strategy_label

bp = Blueprint("assignment", __name__, url_prefix="/review")


def _rule_or_404(rule_id) -> AssignmentRule:
    ident = parse_id(rule_id)
    rule = db.session.scalar(select(AssignmentRule).where(AssignmentRule.id == ident).options(
        selectinload(AssignmentRule.members), selectinload(AssignmentRule.reviewer))) if ident else None
    if rule is None:
        abort(404)
    return rule


def _save(form: RuleForm, rule: AssignmentRule):
    members = list(db.session.scalars(select(User).where(User.id.in_(form.member_id_list())))) \
        if form.member_ids.data else []
    services.save_rule(rule, form.values(), members, current_user)
    flash(_("Rule saved."), "success")
    return redirect(url_for("assignment.rules"))


@bp.route("/rules", methods=["GET", "POST"])
@roles_required(Role.HQ_REVIEWER)
def rules():
    reviewers = lead_services.reviewers()
    form = RuleForm()
    form.fill_choices(reviewers)
    if form.validate_on_submit():
        return _save(form, AssignmentRule())
    names = {"region": dict(form.region_id.choices), "station": dict(form.station_id.choices),
             "category": dict(form.category.choices)}

    def describe(rule: AssignmentRule) -> str:
        target = {"region": str(rule.region_id), "station": str(rule.station_id),
                  "category": rule.category}.get(rule.criterion)
        detail = names[rule.criterion].get(target, target) if target else rule.plugin
        return f"{criterion_label(rule.criterion)}: {detail}" if detail else criterion_label(rule.criterion)

    return render_template("assignment/rules.html", rules=services.all_rules(), form=form, confirm=ConfirmForm(),
                           describe=describe, strategy_label=strategy_label)


@bp.route("/rules/<rule_id>/edit", methods=["GET", "POST"])
@roles_required(Role.HQ_REVIEWER)
def edit(rule_id):
    rule = _rule_or_404(rule_id)
    reviewers = lead_services.reviewers()
    form = RuleForm(data={
        "name": rule.name, "position": rule.position, "active": rule.active, "criterion": rule.criterion,
        "strategy": rule.strategy, "region_id": str(rule.region_id or ""), "station_id": str(rule.station_id or ""),
        "category": rule.category or "", "plugin": rule.plugin or "", "reviewer_id": str(rule.reviewer_id or ""),
        "member_ids": [str(m.id) for m in rule.members]})
    form.fill_choices(reviewers)
    if form.validate_on_submit():
        return _save(form, rule)
    return render_template("assignment/edit.html", rule=rule, form=form)


@bp.route("/rules/<rule_id>/delete", methods=["POST"])
@roles_required(Role.HQ_REVIEWER)
def delete(rule_id):
    rule = _rule_or_404(rule_id)
    if ConfirmForm().validate_on_submit():
        services.delete_rule(rule)
        flash(_("Rule deleted."), "success")
    return redirect(url_for("assignment.rules"))


@bp.route("/rules/apply", methods=["POST"])
@roles_required(Role.HQ_REVIEWER)
def reapply():
    if ConfirmForm().validate_on_submit():
        try:
            changed = services.reapply()
        except Conflict as exc:
            flash(exc.message, "error")
        else:
            flash(ngettext("The rules assigned %(num)d open lead.", "The rules assigned %(num)d open leads.",
                           changed), "success")
    return redirect(url_for("assignment.rules"))


@bp.route("/workload")
@roles_required(Role.HQ_REVIEWER)
def workload():
    return render_template("assignment/workload.html", rows=services.workload(),
                           buckets=[label for _days, label in services.AGE_BUCKETS])


@bp.app_template_global("lead_due")
def lead_due(lead):
    """(due datetime or None, overdue?) for the lead lists and page (``liaison.notifications.deadlines``)."""
    from ..models import utcnow
    from ..notifications.deadlines import due_at

    due = due_at(lead)
    return due, due is not None and due < utcnow()


@bp.route("/deadlines", methods=["GET", "POST"])
@roles_required(Role.HQ_REVIEWER)
def deadlines():
    """HQ's review deadlines per status, the configuration's values as defaults."""
    from ..assignment import workdays
    from ..models import LeadStatus
    from ..notifications import deadlines as rules
    from .forms import DEADLINE_STATUSES, DeadlinesForm

    kept = rules.stored()
    data = {}
    for status in DEADLINE_STATUSES:
        if status in kept:
            data[f"days_{status}"], data[f"remind_{status}"] = kept[status]
    form = DeadlinesForm(data=data if request.method == "GET" else None)  # a field left out: the default
    if form.validate_on_submit():
        if rules.save(form.values(), current_user):
            flash(_("The review deadlines are saved."), "success")
        else:
            flash(_("Nothing changed."), "info")
        return redirect(url_for("assignment.deadlines"))
    defaults = rules.configured_days()
    return render_template("assignment/deadlines.html", form=form,
                           defaults={s: (defaults.get(s), rules.configured_reminder_days(s) if s in defaults else None)
                                     for s in DEADLINE_STATUSES},
                           effective=rules.deadline_days(), reminders=rules.reminder_days(),
                           working_days=workdays.enabled(),
                           labels={s: LeadStatus.label_of(s) for s in DEADLINE_STATUSES})
