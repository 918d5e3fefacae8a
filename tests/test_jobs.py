"""The job queue: inline (no Redis) and RQ on a real Redis give the same results; jobs are
idempotent by key, written with the change that asked for them (nothing for a rolled-back change),
retried with backoff, failures listed for admins; a killed worker's job is retried and done once.

The Redis tests use the Redis at ``LIAISON_TEST_REDIS_URL`` (default
``redis://127.0.0.1:6379/14``); without one they are skipped with the reason — except in CI
(``CI=true``), where a missing Redis fails them: CI must run them.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from liaison import jobs
from liaison.models import AuditEntry, JobRun, JobStatus, Notification, TalentLead, db, utcnow

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LIAISON_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


# Job functions of the tests (the worker subprocess imports this module: JOB_MODULES) ----------

@jobs.job("test.audit")
def audit_job(note: str, marker_dir: str | None = None) -> None:
    """Writes one audit entry; with a ``block`` file in ``marker_dir`` it first hangs (to be killed)."""
    if marker_dir:
        marker = Path(marker_dir)
        (marker / f"started-{os.getpid()}-{time.monotonic_ns()}").write_text("x")
        while (marker / "block").exists():
            time.sleep(0.05)
    db.session.add(AuditEntry(actor_id=None, action="test.job", object_type="test", object_id=None,
                              details={"note": note}))


@jobs.job("test.broken")
def broken_job(message: str = "the mail server is down") -> None:
    raise ConnectionError(message)


def audits(app, note: str | None = None) -> int:
    with app.app_context():
        try:
            stmt = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "test.job")
            if note:
                stmt = stmt.where(AuditEntry.details["note"].as_string() == note)
            return db.session.scalar(stmt)
        finally:
            db.session.remove()


def run_of(app, key: str) -> JobRun | None:
    with app.app_context():
        try:
            run = db.session.scalar(select(JobRun).where(JobRun.key == key))
            if run is not None:
                db.session.expunge(run)
            return run
        finally:
            db.session.remove()


# Inline mode (no REDIS_URL: make run, most of the suite) ------------------------------------

def test_a_job_runs_right_after_the_commit(app, world):
    with app.app_context():
        jobs.enqueue("test.audit", key="k1", note="one")
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0  # not before the commit
        db.session.commit()
        db.session.remove()
    assert audits(app, "one") == 1
    run = run_of(app, "k1")
    assert (run.status, run.attempts, run.finished_at is not None) == (JobStatus.DONE, 1, True)


def test_a_rolled_back_change_leaves_no_job(app, world):
    with app.app_context():
        jobs.enqueue("test.audit", key="k2", note="never")
        db.session.rollback()
        db.session.commit()
        db.session.remove()
    assert run_of(app, "k2") is None and audits(app) == 0


def test_the_same_key_runs_once(app, world):
    with app.app_context():
        first = jobs.enqueue("test.audit", key="same", note="a")
        assert jobs.enqueue("test.audit", key="same", note="a") is first  # in the same transaction
        db.session.commit()
        jobs.enqueue("test.audit", key="same", note="a")  # after it ran
        db.session.commit()
        assert jobs.run_key(app, "same", inline=True) == "skipped"
        db.session.remove()
    assert audits(app) == 1


def test_unknown_job_names_are_refused(app):
    with app.app_context(), pytest.raises(KeyError):
        jobs.enqueue("no.such.job")


def test_a_failing_job_is_retried_with_backoff_then_failed(app, world):
    with app.app_context():
        jobs.enqueue("test.broken", key="broken")
        db.session.commit()
        db.session.remove()
    run = run_of(app, "broken")
    assert run.status == JobStatus.RETRYING and run.attempts == 1
    assert "ConnectionError: the mail server is down" in run.last_error
    first_delay = app.config["JOB_RETRY_BACKOFF"][0]
    assert abs((run.next_attempt_at - utcnow()).total_seconds() - first_delay) < 5
    with app.app_context():
        jobs.run_due(app)  # not due yet
        db.session.remove()
    assert run_of(app, "broken").attempts == 1
    for _ in app.config["JOB_RETRY_BACKOFF"]:
        with app.app_context():
            jobs.run_due(app, now=utcnow() + timedelta(hours=2))
            db.session.remove()
    run = run_of(app, "broken")
    assert run.status == JobStatus.FAILED and run.attempts == 1 + len(app.config["JOB_RETRY_BACKOFF"])


def test_a_job_lost_before_its_push_is_run_by_run_due(app, world):
    """The row was committed but the process died before running it (or Redis was down)."""
    with app.app_context():
        db.session.add(JobRun(key="lost", name="test.audit", kwargs={"note": "lost"}, status=JobStatus.QUEUED,
                              attempts=0, created_at=utcnow() - timedelta(hours=1)))
        db.session.commit()  # added by hand: nothing dispatched
        db.session.remove()
    assert audits(app) == 0
    with app.app_context():
        jobs.run_due(app)
        db.session.remove()
    assert audits(app, "lost") == 1 and run_of(app, "lost").status == JobStatus.DONE


def test_a_job_whose_process_died_mid_run_is_run_again(app, world):
    with app.app_context():
        db.session.add(JobRun(key="died", name="test.audit", kwargs={"note": "died"}, status=JobStatus.RUNNING,
                              attempts=1, updated_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        db.session.remove()
    with app.app_context():
        jobs.run_due(app)
        db.session.remove()
    run = run_of(app, "died")
    assert run.status == JobStatus.DONE and run.attempts == 2 and audits(app) == 1


def test_a_job_that_keeps_killing_its_process_is_given_up(app, world):
    attempts = 1 + len(app.config["JOB_RETRY_BACKOFF"])
    with app.app_context():
        db.session.add(JobRun(key="doomed", name="test.audit", kwargs={"note": "doomed"}, status=JobStatus.RUNNING,
                              attempts=attempts, updated_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        assert jobs.run_due(app)["given_up"] == 1
        db.session.remove()
    run = run_of(app, "doomed")
    assert run.status == JobStatus.FAILED and "Abandoned" in run.last_error and audits(app) == 0


def test_run_due_cli(runner, app, world):
    result = runner.invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0, result.output
    assert "requeued: 0" in result.output and "notifications.digest: 0" in result.output


def test_worker_cli_needs_redis(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output


def test_failed_jobs_page_lists_errors_for_admins_only(app, client, login, world):
    with app.app_context():
        jobs.enqueue("test.broken", key="page-broken", message="SMTP 421 try later")
        db.session.commit()
        db.session.remove()
    body = login("admin").get("/admin/jobs/").get_data(as_text=True)
    assert "test.broken" in body and "SMTP 421 try later" in body and "Retry" in body
    for role in ("hq", "asean_admin", "vol_hanoi"):
        assert login(role).get("/admin/jobs/").status_code == 403


def test_retry_button_runs_the_job_again(app, client, login, world):
    with app.app_context():
        jobs.enqueue("test.broken", key="retry-me")
        db.session.commit()
        run_id = db.session.scalar(select(JobRun.id).where(JobRun.key == "retry-me"))
        db.session.remove()
    login("admin")
    assert client.post(f"/admin/jobs/{run_id}/retry").status_code == 302
    assert run_of(app, "retry-me").attempts == 2


# RQ on a real Redis ----------------------------------------------------------------------------

def _redis_or_skip():
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        connection = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        connection.ping()
        return connection
    except RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the job queue's Redis tests, but no Redis answers at {REDIS_URL}: {error}")
        pytest.skip(f"no Redis answers at {REDIS_URL} ({error}); the RQ tests need one "
                    "(set LIAISON_TEST_REDIS_URL, or start redis-server)")


@pytest.fixture
def redis_queue(request):
    connection = _redis_or_skip()
    name = f"liaison-test-{uuid.uuid4().hex[:12]}"
    yield name
    for key in connection.scan_iter(f"rq:*{name}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def app_config(request):
    if "redis_queue" not in request.fixturenames:
        return {}
    name = request.getfixturevalue("redis_queue")
    return {"REDIS_URL": REDIS_URL, "JOB_QUEUE": name, "JOB_RETRY_BACKOFF": [0, 0]}


def burst(app) -> None:
    """Run every job waiting in the queue, in this process (RQ's SimpleWorker)."""
    from rq import SimpleWorker

    with app.app_context():
        worker = SimpleWorker([jobs.rq_queue(app)], connection=jobs.redis_connection(app))
        worker.work(burst=True)
        db.session.remove()


def _cleanup_rq_jobs(app):
    with app.app_context():
        keys = db.session.scalars(select(JobRun.key)).all()
        connection = jobs.redis_connection(app)
        for key in keys:
            connection.delete(f"rq:job:{jobs.rq_job_id(key)}")
        db.session.remove()


def test_redis_mode_pushes_after_commit_and_a_worker_runs_it(app, world, redis_queue):
    with app.app_context():
        jobs.enqueue("test.audit", key="rq-1", note="rq")
        db.session.commit()
        assert jobs.rq_queue(app).count == 1
        db.session.remove()
    assert audits(app) == 0 and run_of(app, "rq-1").status == JobStatus.QUEUED
    burst(app)
    assert audits(app, "rq") == 1 and run_of(app, "rq-1").status == JobStatus.DONE
    _cleanup_rq_jobs(app)


def test_inline_and_redis_modes_give_the_same_notifications(app, client, login, world, redis_queue):
    """The same submission, answered by the worker: the same people are told (inline: see
    test_notifications.test_lead_submitted_reaches_hq_and_the_regions_admins_only)."""
    login("vol_hanoi")
    lead = world.leads["hanoi_draft"]
    with app.app_context():
        version = db.session.get(TalentLead, lead).version
        db.session.remove()
    assert client.post(f"/leads/{lead}/move", data={"move": "submit", "version": str(version)}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0  # not yet: the worker's
        db.session.remove()
    burst(app)
    with app.app_context():
        told = sorted(db.session.scalars(select(Notification.user_id).where(Notification.kind == "lead_submitted")))
        mails = db.session.scalar(select(func.count()).select_from(JobRun).where(
            JobRun.name == "notifications.email", JobRun.status == JobStatus.DONE))
        db.session.remove()
    assert told == sorted(world.users[k] for k in ("admin", "hq", "hq2", "asean_admin"))
    assert mails == 4  # the fan-out's e-mail jobs went through the queue too
    _cleanup_rq_jobs(app)


def test_rq_retries_with_backoff_then_the_job_is_failed(app, world, redis_queue):
    from rq.registry import FailedJobRegistry

    with app.app_context():
        jobs.enqueue("test.broken", key="rq-broken")
        db.session.commit()
        db.session.remove()
    burst(app)
    run = run_of(app, "rq-broken")
    assert run.status == JobStatus.FAILED and run.attempts == 3 and "ConnectionError" in run.last_error
    with app.app_context():
        assert jobs.rq_job_id("rq-broken") in FailedJobRegistry(queue=jobs.rq_queue(app)).get_job_ids()
    _cleanup_rq_jobs(app)


def _worker_env(app, database_url, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    env.update({
        "DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "REDIS_URL": REDIS_URL,
        "LIAISON_JOB_QUEUE": app.config["JOB_QUEUE"], "LIAISON_JOB_RETRY_BACKOFF": "[0, 0]",
        "LIAISON_JOB_MODULES": '["tests.test_jobs"]', "LIAISON_INSTANCE_PATH": str(tmp_path / "instance"),
        "LIAISON_BABEL_DEFAULT_LOCALE": "en", "PYTHONPATH": str(ROOT),
    })
    return env


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_workers_job_is_retried_and_done_once(app, world, redis_queue, database_url, tmp_path):
    """Like the reliability run: the worker process (and its work horse) is killed with SIGKILL
    in the middle of a job; RQ's abandoned-job handling (``jobs run-due`` calls it, workers do
    too) queues it again and the next worker does it — once."""
    marker = tmp_path / "marker"
    marker.mkdir()
    (marker / "block").write_text("hold")
    with app.app_context():
        jobs.enqueue("test.audit", key="kill-me", note="killed", marker_dir=str(marker))
        db.session.commit()
        db.session.remove()
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "liaison", "worker"], cwd=ROOT,
                              env=_worker_env(app, database_url, tmp_path), start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not list(marker.glob("started-*")):
            assert worker.poll() is None, worker.stdout.read().decode(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.1)
        # The worker and its work horse (RQ runs it in a session of its own), mid-job.
        horse = int(next(marker.glob("started-*")).name.split("-")[1])
        os.killpg(worker.pid, signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)
        worker.wait(timeout=10)
        _wait_gone(horse)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
    assert audits(app) == 0
    assert run_of(app, "kill-me").status == JobStatus.RUNNING
    (marker / "block").unlink()
    with app.app_context():
        # As `jobs run-due` would once the job's heartbeat has expired (here: pretend it has).
        jobs.recover_abandoned(app, timestamp=time.time() + 3600)
        assert jobs.rq_queue(app).count == 1
        db.session.remove()
    burst(app)
    run = run_of(app, "kill-me")
    assert audits(app, "killed") == 1
    assert run.status == JobStatus.DONE and run.attempts == 2
    burst(app)  # nothing left, nothing done twice
    assert audits(app) == 1
    _cleanup_rq_jobs(app)
