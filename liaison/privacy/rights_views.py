"""Pages of the data subject's rights: find a person, their report (HTML and JSON), erasure
requests, the approvers' queue, a request with its decision, flags to review afterwards.

Who: the station's volunteers, the region's admins and admins (scope: ``liaison.scope``); HQ
reviewers have no access (403). Approving and rejecting: ``erasure.may_decide``.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..concurrency import Conflict
from ..models import (
    AccessAction,
    Contact,
    ErasureRequest,
    ErasureStatus,
    LeadStatus,
    Role,
    Station,
    TalentLead,
    User,
    db,
)
from ..pagination import keyset_page
from ..params import parse_id
from ..permissions import roles_required
from ..scope import get_or_404, scoped
from . import erasure as erasures
from . import subject
from .rights_forms import ApproveForm, CancelForm, ErasureRequestForm, RejectForm, ResolveFlagForm, SubjectSearchForm

bp = Blueprint("rights", __name__, url_prefix="/privacy/rights")

STATION_SIDE = (Role.VOLUNTEER, Role.REGIONAL_ADMIN)  # and admins (roles_required lets them pass)


def _version(value) -> int | None:
    return parse_id(value)


def _contact(contact_id: int) -> Contact:
    return get_or_404(Contact, contact_id, selectinload(Contact.station))


def _log_report(contact: Contact) -> None:
    """The subject report shows every personal field unmasked: logged (committed)."""
    from .masking import log_access

    log_access(current_user._get_current_object(), AccessAction.SUBJECT_REPORT, contact=contact,
               station_id=contact.station_id, fields=subject.REPORTED_FIELDS)
    db.session.commit()


@bp.app_template_global()
def subject_rights_actions(contact) -> dict:
    """For the contact page: may the current user open the report / ask for an erasure?"""
    user = current_user
    if not getattr(user, "is_authenticated", False) or user.role == Role.HQ_REVIEWER:
        return {}
    station = db.session.get(Station, contact.station_id)
    return {"report": True, "erasure": contact.erased_at is None and erasures.may_request(user, station)}


# Finding the person and the report ---------------------------------------------------------

@bp.route("/")
@roles_required(*STATION_SIDE)
def index():
    form = SubjectSearchForm(request.args)
    results = subject.find_subjects(current_user, form.q.data) if form.validate() and form.q.data else []
    return render_template("privacy/subject_search.html", form=form, results=results, searched=bool(form.q.data))


@bp.route("/contacts/<int:contact_id>")
@roles_required(*STATION_SIDE)
def report(contact_id: int):
    contact = _contact(contact_id)
    _log_report(contact)
    data = subject.build_report(contact, current_user)
    open_request = erasures.open_request(contact.id)
    may_request = contact.erased_at is None and erasures.may_request(current_user, contact.station)
    return render_template("privacy/subject_report.html", contact=contact, report=data, open_request=open_request,
                           may_request=may_request)


@bp.route("/contacts/<int:contact_id>/report.json")
@roles_required(*STATION_SIDE)
def report_json(contact_id: int):
    contact = _contact(contact_id)
    _log_report(contact)
    data = subject.build_report(contact, current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="subject-report-{contact.id}.json"',
        "Cache-Control": "no-store",
    })


# Erasure: request, queue, decision ---------------------------------------------------------

@bp.route("/contacts/<int:contact_id>/erasure", methods=["GET", "POST"])
@roles_required(*STATION_SIDE)
def request_erasure(contact_id: int):
    contact = _contact(contact_id)
    if not erasures.may_request(current_user, contact.station):
        abort(403)
    form = ErasureRequestForm()
    existing = erasures.open_request(contact.id)
    if form.validate_on_submit():
        try:
            created = erasures.request(contact, current_user, form.reason.data)
        except erasures.ErasureRefused as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("The erasure has been requested. An admin or an admin of the region must approve it."), "success")
            return redirect(url_for("rights.erasure", erasure_id=created.id))
    return render_template("privacy/erasure_request.html", contact=contact, form=form, existing=existing,
                           plan=_plan(contact), table_label=erasures.table_label)


@bp.route("/erasures")
@roles_required(Role.REGIONAL_ADMIN)
def erasures_queue():
    status = request.args.get("status", ErasureStatus.REQUESTED)
    if status not in {s.value for s in ErasureStatus} | {"all"}:
        status = ErasureStatus.REQUESTED
    stmt = scoped(select(ErasureRequest), ErasureRequest, current_user).options(
        selectinload(ErasureRequest.contact), selectinload(ErasureRequest.requested_by))
    if status != "all":
        stmt = stmt.where(ErasureRequest.status == status)
    page = keyset_page(stmt.order_by(ErasureRequest.requested_at.desc(), ErasureRequest.id.desc()), per_page=25)
    stations = {s.id: s for s in db.session.scalars(select(Station).where(
        Station.id.in_({e.station_id for e in page.items})))} if page.items else {}
    return render_template("privacy/erasure_queue.html", page=page, status=status, statuses=list(ErasureStatus),
                           stations=stations, status_label=ErasureStatus.label_of)


def _erasure(erasure_id: int) -> tuple[ErasureRequest, Station]:
    if current_user.role == Role.HQ_REVIEWER:
        abort(403)
    record = get_or_404(ErasureRequest, erasure_id, selectinload(ErasureRequest.contact),
                        selectinload(ErasureRequest.requested_by), selectinload(ErasureRequest.decided_by),
                        selectinload(ErasureRequest.exceptions), selectinload(ErasureRequest.flags))
    station = db.session.get(Station, record.station_id)
    if not erasures.may_request(current_user, station):
        abort(403)
    return record, station


def _plan(contact: Contact) -> dict:
    """What an erasure of ``contact`` would erase and keep (read only)."""
    leads = db.session.execute(
        select(TalentLead.status, func.count()).where(TalentLead.contact_id == contact.id).group_by(TalentLead.status)
    ).all()
    landed = sum(n for s, n in leads if s == LeadStatus.LANDED)
    from ..models import LeadAttachment

    files = db.session.scalar(select(func.count()).select_from(LeadAttachment).join(TalentLead).where(
        TalentLead.contact_id == contact.id, TalentLead.status != LeadStatus.LANDED)) or 0
    from ..plugins.manager import host

    plugin_host = host()
    from ..models.audit import plugin_title

    plugins = [plugin_title(name) for name in plugin_host.plugins
               if erasures.HOOK in plugin_host.implemented_hooks(name)]
    return {"leads": sum(n for _s, n in leads), "landed": landed, "files": files, "plugins": plugins,
            "mentions": erasures.mentions(contact)}


def _plugin_title(name: str) -> str:
    from ..models.audit import plugin_title

    return plugin_title(name)


def _reasons() -> dict[tuple[str, str], str]:
    from ..plugins.manager import host

    labels = {("core", code): str(label) for code, label in erasures.RETENTION_REASONS.items()}
    for plugin, result in host().call("liaison_retention_reasons", active=None):
        for code, label in (result or {}).items():
            labels[(plugin, code)] = str(label)
    return labels


def _render_erasure(record: ErasureRequest, station: Station, *, approve_form=None, reject_form=None,
                    show: str | None = None):
    user = current_user._get_current_object()
    approve_form = approve_form or ApproveForm(formdata=None, version=record.version)
    reject_form = reject_form or RejectForm(formdata=None, version=record.version)
    names = {}
    ids = {f.resolved_by_id for f in record.flags if f.resolved_by_id}
    if ids:
        names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    return render_template(
        "privacy/erasure_detail.html", erasure=record, station=station, contact=record.contact,
        may_decide=record.status == ErasureStatus.REQUESTED and erasures.may_decide(user, record, station),
        is_requester=record.requested_by_id == user.id,
        may_cancel=record.status == ErasureStatus.REQUESTED and erasures.may_cancel(user, record),
        plan=_plan(record.contact) if record.status == ErasureStatus.REQUESTED else None,
        reasons=_reasons(), resolver_names=names, status_label=ErasureStatus.label_of,
        table_label=erasures.table_label, plugin_title=_plugin_title,
        approve_form=approve_form, reject_form=reject_form,
        cancel_form=CancelForm(formdata=None, version=record.version), flag_form=ResolveFlagForm(formdata=None),
        show=show,
    )


@bp.route("/erasures/<int:erasure_id>")
@login_required
def erasure(erasure_id: int):
    record, station = _erasure(erasure_id)
    return _render_erasure(record, station)


def _decider(record: ErasureRequest, station: Station) -> None:
    if not erasures.may_decide(current_user, record, station):
        if record.requested_by_id == current_user.id and erasures._administers(current_user, station):
            return  # the requester: refused with a clear message by the service
        abort(403)


@bp.route("/erasures/<int:erasure_id>/approve", methods=["POST"])
@login_required
def approve(erasure_id: int):
    record, station = _erasure(erasure_id)
    _decider(record, station)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _render_erasure(record, station, approve_form=form, show="approve")
    try:
        outcome = erasures.approve(record, current_user, form.note.data, expected_version=_version(form.version.data))
    except (Conflict, erasures.ErasureRefused) as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The person's data has been erased: %(kept)d record(s) kept as retention exceptions, "
                "%(flags)d field(s) to review.", kept=len(outcome.exceptions), flags=len(set(outcome.flags))),
              "success")
    return redirect(url_for("rights.erasure", erasure_id=erasure_id))


@bp.route("/erasures/<int:erasure_id>/reject", methods=["POST"])
@login_required
def reject(erasure_id: int):
    record, station = _erasure(erasure_id)
    _decider(record, station)
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_erasure(record, station, reject_form=form, show="reject")
    try:
        erasures.reject(record, current_user, form.note.data, expected_version=_version(form.version.data))
    except (Conflict, erasures.ErasureRefused) as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The erasure request has been rejected."), "success")
    return redirect(url_for("rights.erasure", erasure_id=erasure_id))


@bp.route("/erasures/<int:erasure_id>/cancel", methods=["POST"])
@login_required
def cancel(erasure_id: int):
    record, _station = _erasure(erasure_id)
    if not erasures.may_cancel(current_user, record):
        abort(403)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            erasures.cancel(record, current_user, expected_version=_version(form.version.data))
        except (Conflict, erasures.ErasureRefused) as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("The erasure request has been cancelled."), "success")
    return redirect(url_for("rights.erasure", erasure_id=erasure_id))


@bp.route("/erasures/<int:erasure_id>/flags/<int:flag_id>/resolve", methods=["POST"])
@login_required
def resolve_flag(erasure_id: int, flag_id: int):
    record, station = _erasure(erasure_id)
    flag = next((f for f in record.flags if f.id == flag_id), None)
    if flag is None:
        abort(404)
    form = ResolveFlagForm()
    if form.validate_on_submit():
        erasures.resolve_flag(flag, current_user)
        flash(_("Marked as reviewed."), "success")
    return redirect(url_for("rights.erasure", erasure_id=erasure_id) + "#flags")
