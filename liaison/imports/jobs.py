"""The background commit of a large import (``IMPORT_JOB_THRESHOLD`` rows and more on the web).

The job runs the very ``services.commit`` the page and the CLI run, all or nothing. It commits the
import itself, so a retry after a crash between that commit and the job's "done" finds the import
no longer staged and does nothing. A refusal (rows with problems, a plugin objecting) is not
retried: it is kept with the import (a notice "commit_refused") and shown on its page.
"""
from __future__ import annotations

import uuid

from sqlalchemy import select

from .. import jobs
from ..models import ImportBatch, JobRun, User, db
from ..models.imports import ImportStatus

JOB = "imports.commit"


def key_prefix(import_id: int) -> str:
    return f"import:{import_id}:"


@jobs.job(JOB)
def commit_import(import_id: int, mode: str, actor_id: int, leave_out_errors: bool = False) -> None:
    from . import services

    batch = db.session.get(ImportBatch, import_id)
    if batch is None or batch.status != ImportStatus.STAGED:
        return
    actor = db.session.get(User, actor_id)
    try:
        services.commit(batch, mode, actor, leave_out_errors=leave_out_errors)
    except services.ImportRefused as exc:
        batch = db.session.get(ImportBatch, import_id)
        notices = [n for n in (batch.notices or []) if n.get("code") != "commit_refused"]
        notices.append({"code": "commit_refused", "row": None, "column": None,
                        "params": {"message": str(exc.message), "problems": [str(p) for p in exc.problems[:200]]}})
        batch.notices = notices


def start(batch: ImportBatch, mode: str, actor: User, leave_out_errors: bool) -> JobRun:
    """Ask for the background commit (in the caller's transaction; the caller commits)."""
    notices = [n for n in (batch.notices or []) if n.get("code") != "commit_refused"]
    if len(notices) != len(batch.notices or []):
        batch.notices = notices
    return jobs.enqueue(JOB, key=key_prefix(batch.id) + uuid.uuid4().hex[:12], import_id=batch.id, mode=mode,
                        actor_id=actor.id, leave_out_errors=bool(leave_out_errors))


def latest(import_id: int) -> JobRun | None:
    """The import's latest background commit, if any."""
    return db.session.scalar(select(JobRun).where(JobRun.key.startswith(key_prefix(import_id), autoescape=True))
                             .order_by(JobRun.id.desc()).limit(1))


def refusal(batch: ImportBatch) -> dict | None:
    return next((n["params"] for n in (batch.notices or []) if n.get("code") == "commit_refused"), None)
