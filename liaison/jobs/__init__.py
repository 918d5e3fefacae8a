"""The job queue: e-mail, notification fan-out and other work off the request.

One code path, two ways to run it:

* **RQ on Redis** when ``REDIS_URL`` is set: ``enqueue`` pushes the job to the queue right after
  the commit that asked for it, and ``flask --app liaison worker`` runs it, retried with backoff
  (``rq.Retry``, ``JOB_RETRY_BACKOFF``).
* **Inline** without it (``make run``, the tests): the job runs right after that commit, in the
  same process, in a session of its own; a failed attempt is retried by ``flask --app liaison
  jobs run-due`` after the same backoff. A request that calls ``run_after_response()`` has its
  jobs run once its response is sent instead (the password reset mail: its timing must not tell
  whether the address has an account).

Every job is a row of ``job_runs`` (``liaison.models.JobRun``) keyed by an **idempotency key**,
written in the caller's own transaction — an outbox: a rolled-back change leaves no job, a
committed one always has its job, even if the process dies before the push. A job whose row is
``done`` is never run again under the same key; its effects and its ``done`` are committed
together. Failed jobs (no attempts left) are listed for admins at ``/admin/jobs`` with their error
and a Retry button. ``jobs run-due`` (cron, every few minutes) also re-pushes jobs lost between a
commit and the queue, hands RQ's abandoned jobs (a killed worker) back to the queue and runs the
scheduled work (``scheduled``), e.g. the daily notification digest.

Job functions are registered by name::

    @job("notifications.email")
    def send_email(notification_id: int) -> None: ...

    enqueue("notifications.email", key=f"mail:{notification.id}", notification_id=notification.id)

They take JSON-able keyword arguments, run inside an app context, use ``db.session`` and must
not commit their final changes themselves (the runner commits them with the ``done`` mark). Work
outside the database (an e-mail) is at-least-once: a process killed after the mail server took
the message and before the commit sends it again on the retry.
"""
from __future__ import annotations

import logging
import os
import threading
import traceback
import uuid
from datetime import timedelta
from typing import Any, Callable

from flask import Flask, after_this_request, current_app, g, has_app_context, has_request_context
from sqlalchemy import event, select

from ..models import JobRun, JobStatus, db, utcnow

log = logging.getLogger(__name__)

PENDING = "liaison_jobs_pending"  # session.info key: keys to dispatch after commit
REDIS_KEY = "liaison.jobs.redis"

_REGISTRY: dict[str, Callable[..., Any]] = {}
_SCHEDULED: dict[str, Callable[[], Any]] = {}


# Registration -----------------------------------------------------------------------------

def job(name: str) -> Callable:
    """Decorator: register a job function under ``name``."""

    def decorator(func):
        _REGISTRY[name] = func
        return func

    return decorator


def scheduled(name: str) -> Callable:
    """Decorator: a function ``jobs run-due`` calls on every run (it enqueues idempotent jobs)."""

    def decorator(func):
        _SCHEDULED[name] = func
        return func

    return decorator


def registered() -> dict[str, Callable[..., Any]]:
    return dict(_REGISTRY)


# Enqueueing -------------------------------------------------------------------------------

def enqueue(name: str, *, key: str | None = None, **kwargs: Any) -> JobRun:
    """Ask for job ``name`` with ``kwargs`` (JSON-able), once per ``key``.

    The job's row joins the current transaction; the job is pushed (or run inline) after the
    commit. The same key asked for again returns the existing job and adds nothing."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    key = key or f"{name}:{uuid.uuid4().hex}"
    session = db.session()
    with session.no_autoflush:
        for pending in session.new:
            if isinstance(pending, JobRun) and pending.key == key:
                return pending
        existing = session.scalar(select(JobRun).where(JobRun.key == key))
    if existing is not None:
        return existing
    run = JobRun(key=key, name=name, kwargs=kwargs, status=JobStatus.QUEUED, attempts=0)
    session.add(run)
    session.info.setdefault(PENDING, []).append(key)
    return run


def retry(run: JobRun) -> None:
    """Queue a failed job again (the admin's Retry button); dispatched after the commit."""
    run.status = JobStatus.QUEUED
    run.next_attempt_at = None
    db.session.info.setdefault(PENDING, []).append(run.key)


# After commit: push to RQ or run inline ---------------------------------------------------

_local = threading.local()


def _after_commit(session) -> None:
    keys = session.info.pop(PENDING, None)
    if not keys or not has_app_context():
        return
    dispatch(current_app._get_current_object(), keys)


def _after_rollback(session) -> None:
    session.info.pop(PENDING, None)


def dispatch(app: Flask, keys: list[str]) -> None:
    """Push committed jobs to RQ, or run them now (inline). Never raises."""
    if app.config.get("REDIS_URL"):
        for key in keys:
            try:
                push(app, key)
            except Exception:  # Redis down: the row stays queued, `jobs run-due` pushes it later
                log.exception("could not push job %s to the queue", key)
        return
    if _defer_to_response_close(app, keys):
        return
    dispatch_inline(app, keys)


# Inline, after the response --------------------------------------------------------------------

AFTER_RESPONSE = "_liaison_jobs_after_response"  # flask.g: keys to run once the response is sent


def run_after_response() -> None:
    """Inline mode, in a request: run the jobs this request asks for after its response has been
    sent (the WSGI server closing the response), not before. For answers that must not tell by
    their timing what a job did (the password reset mail: an SMTP exchange only when the address
    has an account). Jobs that the response's next page relies on (a redirect to a result) must
    not use it. With ``REDIS_URL`` jobs are off the request anyway; outside a request it does
    nothing. A response that is never closed leaves its jobs queued: ``jobs run-due`` runs them."""
    if has_request_context() and AFTER_RESPONSE not in g:
        setattr(g, AFTER_RESPONSE, None)  # asked for; the list comes with the first job


def _defer_to_response_close(app: Flask, keys: list[str]) -> bool:
    if not has_request_context() or AFTER_RESPONSE not in g:
        return False
    pending = getattr(g, AFTER_RESPONSE)
    if pending is None:
        pending = []
        setattr(g, AFTER_RESPONSE, pending)

        @after_this_request
        def _on_close(response):
            response.call_on_close(lambda: _run_deferred(app, pending))
            return response

    pending.extend(keys)
    return True


def _run_deferred(app: Flask, keys: list[str]) -> None:
    try:
        dispatch_inline(app, list(keys))
    except Exception:  # never into the server's close()
        log.exception("jobs run after the response failed")


def dispatch_inline(app: Flask, keys: list[str]) -> None:
    """Run the jobs of ``keys`` now, in this thread, and those they ask for in turn."""
    queue = getattr(_local, "queue", None)
    if queue is None:
        queue = _local.queue = []
    queue.extend(keys)
    if getattr(_local, "draining", False):
        return  # a job's own commit: the loop below runs what it asked for
    _local.draining = True
    try:
        while queue:
            run_key(app, queue.pop(0), inline=True)
    finally:
        _local.draining = False


def _listen() -> None:
    if getattr(_listen, "done", False):
        return
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_rollback", _after_rollback)
    _listen.done = True


# RQ ---------------------------------------------------------------------------------------

def redis_connection(app: Flask | None = None):
    app = app or current_app
    connection = app.extensions.get(REDIS_KEY)
    if connection is None:
        from redis import Redis

        connection = app.extensions[REDIS_KEY] = Redis.from_url(app.config["REDIS_URL"])
    return connection


def rq_queue(app: Flask | None = None):
    from rq import Queue

    app = app or current_app
    return Queue(app.config["JOB_QUEUE"], connection=redis_connection(app),
                 default_timeout=app.config["JOB_TIMEOUT"])


def rq_job_id(key: str) -> str:
    import hashlib

    return "liaison-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def push(app: Flask, key: str) -> None:
    from rq import Retry

    backoff = list(app.config["JOB_RETRY_BACKOFF"])
    queue = rq_queue(app)
    queue.enqueue("liaison.jobs.rq_entry", key, job_id=rq_job_id(key), job_timeout=app.config["JOB_TIMEOUT"],
                  retry=Retry(max=len(backoff), interval=backoff) if backoff else None,
                  description=key[:200])


_worker_app: Flask | None = None
_worker_pid: int | None = None


def rq_entry(key: str) -> str:
    """What an RQ worker runs: the job of ``key`` in an app context of the worker's app."""
    global _worker_pid
    if has_app_context():
        app = current_app._get_current_object()
    else:
        from .. import create_app

        app = _worker_app or _set_worker_app(create_app())
    if _worker_pid is not None and _worker_pid != os.getpid():
        # A forked work horse: never use the connections the parent's pool holds.
        with app.app_context():
            db.engine.dispose(close=False)
        _worker_pid = os.getpid()
    return run_key(app, key, inline=False)


def _set_worker_app(app: Flask) -> Flask:
    global _worker_app, _worker_pid
    _worker_app, _worker_pid = app, os.getpid()
    _load_job_modules(app)
    return app


def _current_rq_job():
    try:
        from rq import get_current_job

        return get_current_job()
    except Exception:
        return None


# Running one job --------------------------------------------------------------------------

class JobFailed(RuntimeError):
    """Raised to RQ so that it retries (or fails) the job; the row holds the real error."""


def run_key(app: Flask, key: str, *, inline: bool) -> str:
    """Run the job of ``key`` once, in a fresh app context: returns its new status (or
    ``"skipped"``). Inline, errors are recorded and swallowed; under RQ they are re-raised so
    RQ retries with its backoff."""
    with app.app_context():
        try:
            run = db.session.scalar(select(JobRun).where(JobRun.key == key))
            if run is None or run.status == JobStatus.DONE:
                db.session.rollback()
                return "skipped"
            func = _REGISTRY.get(run.name)
            run.status = JobStatus.RUNNING
            run.attempts += 1
            run.next_attempt_at = None
            name, kwargs, attempts = run.name, dict(run.kwargs or {}), run.attempts
            db.session.commit()  # read nothing after it: on SQLite a new transaction takes the write lock
        except Exception:
            db.session.rollback()
            log.exception("job %s could not be started", key)
            if not inline:
                raise
            return "error"
        try:
            if func is None:
                raise LookupError(f"no job function named {name!r} is registered")
            func(**kwargs)
            run = db.session.scalar(select(JobRun).where(JobRun.key == key))
            run.status = JobStatus.DONE
            run.finished_at = utcnow()
            run.last_error = None
            db.session.commit()
            return JobStatus.DONE
        except Exception as exc:
            db.session.rollback()
            status = _record_failure(app, key, exc, attempts, inline=inline)
            if not inline:
                raise JobFailed(f"{key}: {exc}") from exc
            return status


def _record_failure(app: Flask, key: str, exc: BaseException, attempts: int, *, inline: bool) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    tail = "".join(traceback.format_tb(exc.__traceback__)[-3:])
    backoff = list(app.config["JOB_RETRY_BACKOFF"])
    if inline:
        retries_left = len(backoff) - (attempts - 1)
    else:
        rq_job = _current_rq_job()
        retries_left = (rq_job.retries_left or 0) if rq_job is not None else 0
    log.warning("job %s failed (attempt %d): %s", key, attempts, text)
    try:
        run = db.session.scalar(select(JobRun).where(JobRun.key == key))
        run.last_error = (text + "\n\n" + tail)[:4000]
        if retries_left > 0:
            run.status = JobStatus.RETRYING
            if inline:
                delay = backoff[min(attempts - 1, len(backoff) - 1)]
                run.next_attempt_at = utcnow() + timedelta(seconds=delay)
        else:
            run.status = JobStatus.FAILED
            run.finished_at = utcnow()
        db.session.commit()
        return run.status
    except Exception:
        db.session.rollback()
        log.exception("could not record the failure of job %s", key)
        return JobStatus.FAILED


# Scheduled work (cron) --------------------------------------------------------------------

def run_due(app: Flask, *, now=None) -> dict[str, Any]:
    """What ``flask --app liaison jobs run-due`` does; returns counts for its output."""
    now = now or utcnow()
    report: dict[str, Any] = {}
    redis_mode = bool(app.config.get("REDIS_URL"))
    if redis_mode:
        report["abandoned"] = recover_abandoned(app)
    stale = now - timedelta(seconds=app.config["JOB_TIMEOUT"] + 60)
    # Jobs lost between a commit and the queue, and (inline) retries that are due.
    rows = db.session.execute(select(JobRun.key, JobRun.status, JobRun.attempts).where(
        ((JobRun.status == JobStatus.QUEUED) & (JobRun.created_at < now - timedelta(minutes=5)))
        | ((JobRun.status == JobStatus.RETRYING) & (JobRun.next_attempt_at <= now))
        | ((JobRun.status == JobStatus.RUNNING) & (JobRun.updated_at < stale))
    ).order_by(JobRun.id)).all()
    db.session.rollback()
    retries = len(app.config["JOB_RETRY_BACKOFF"])
    redone = abandoned = 0
    for key, status, attempts in rows:
        if redis_mode and _alive_in_rq(app, key):
            continue
        if status == JobStatus.RUNNING and (redis_mode or attempts > retries):
            # Its process died mid-job and RQ has given up on it (or, inline, no attempt is left).
            _mark_abandoned(key)
            abandoned += 1
            continue
        redone += 1
        dispatch(app, [key])  # inline, a job whose process died counts one more attempt
    report["requeued"] = redone
    report["given_up"] = abandoned
    for name, func in _SCHEDULED.items():
        try:
            report[name] = func()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("scheduled work %s failed", name)
            report[name] = "error"
    return report


def _mark_abandoned(key: str) -> None:
    run = db.session.scalar(select(JobRun).where(JobRun.key == key))
    if run is not None and run.status == JobStatus.RUNNING:
        run.status = JobStatus.FAILED
        run.finished_at = utcnow()
        run.last_error = ((run.last_error or "") + "\n\nAbandoned: the process running it stopped.").strip()
    db.session.commit()


def recover_abandoned(app: Flask, timestamp: float | None = None) -> int:
    """Hand jobs of a killed worker back to the queue (RQ retries them while they have retries
    left; else they fail). RQ's own workers do this too, every few minutes."""
    from rq.registry import StartedJobRegistry

    registry = StartedJobRegistry(queue=rq_queue(app))
    expired = len(registry.get_expired_job_ids(timestamp))
    registry.cleanup(timestamp)
    return expired


def _alive_in_rq(app: Flask, key: str) -> bool:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        rq_job = Job.fetch(rq_job_id(key), connection=redis_connection(app))
    except NoSuchJobError:
        return False
    except Exception:
        return False
    return rq_job.get_status(refresh=False) in ("queued", "started", "scheduled", "deferred")


# Set-up -----------------------------------------------------------------------------------

def _load_job_modules(app: Flask) -> None:
    import importlib

    for module in app.config.get("JOB_MODULES") or []:
        importlib.import_module(module)


def init_app(app: Flask) -> None:
    from . import cli

    _listen()
    _load_job_modules(app)
    cli.init_app(app)
