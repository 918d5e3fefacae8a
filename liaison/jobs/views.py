"""Admins see failed background jobs with their error and retry them."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..models import JobRun, JobStatus, Role, db
from ..pagination import keyset_page
from ..params import parse_id
from ..permissions import roles_required
from . import retry

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")

SHOWN = (JobStatus.FAILED, JobStatus.RETRYING)


@bp.route("/")
@roles_required(Role.ADMIN)
def failed():
    stmt = select(JobRun).where(JobRun.status.in_(SHOWN)).order_by(JobRun.id.desc())
    page = keyset_page(stmt, per_page=50)
    return render_template("jobs/failed.html", page=page)


@bp.route("/<int:run_id>/retry", methods=["POST"])
@roles_required(Role.ADMIN)
def retry_job(run_id):
    run_id = parse_id(run_id)
    run = db.session.get(JobRun, run_id) if run_id is not None else None
    if run is None or run.status not in SHOWN:
        abort(404)
    retry(run)
    db.session.commit()  # the job runs (inline) or is pushed to the queue now
    flash(_("The job has been queued again."), "success")
    return redirect(url_for("jobs.failed"))
