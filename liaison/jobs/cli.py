"""``flask --app liaison worker`` and ``flask --app liaison jobs run-due``."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
@with_appcontext
def worker_command(burst: bool):
    """Run an RQ worker for the app's queue (needs REDIS_URL)."""
    from rq import Worker

    from . import _set_worker_app, redis_connection, rq_queue

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: without it jobs run inline and no worker is needed.")
    _set_worker_app(app)
    worker = Worker([rq_queue(app)], connection=redis_connection(app))
    worker.work(burst=burst, with_scheduler=True)


@click.group("jobs")
def jobs_cli():
    """Background jobs."""


@jobs_cli.command("run-due")
@with_appcontext
def run_due_command():
    """Scheduled work for cron: due retries, lost and abandoned jobs, the daily digest."""
    from . import run_due

    report = run_due(current_app._get_current_object())
    click.echo(", ".join(f"{name}: {value}" for name, value in report.items()))


@jobs_cli.command("failed")
@with_appcontext
def failed_command():
    """List the failed jobs."""
    from sqlalchemy import select

    from ..models import JobRun, JobStatus, db

    for run in db.session.scalars(select(JobRun).where(JobRun.status == JobStatus.FAILED).order_by(JobRun.id)):
        first_line = (run.last_error or "").splitlines()[0] if run.last_error else ""
        click.echo(f"{run.id}\t{run.name}\t{run.key}\t{run.attempts}\t{first_line}")


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_cli)
