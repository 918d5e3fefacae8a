"""Plugin errors are written to ``plugin_errors`` at the end of the request.

Writing them at once could deadlock on SQLite (the request may hold the write lock) and could
mix them into the request's own transaction. So they are queued on ``g`` and stored in a fresh
transaction when the request ends, after the request's own work is committed or discarded.
"""
from __future__ import annotations

import logging

from datetime import timedelta

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import delete

from ..models import PluginError, db, utcnow

log = logging.getLogger(__name__)


def queue_for_storage(failure) -> None:
    if not has_request_context():
        return  # CLI or start-up: the log and the in-memory list have it
    failure.path = request.path[:500]
    g.setdefault("_plugin_failures", []).append(failure)


def store_queued(_exc=None) -> None:
    failures = g.pop("_plugin_failures", None)
    if not failures:
        return
    try:
        db.session.rollback()  # whatever the request left uncommitted is discarded anyway
        # A plugin failing on every page must not fill the database: keep a few weeks.
        cutoff = utcnow() - timedelta(days=current_app.config["PLUGIN_ERROR_RETENTION_DAYS"])
        db.session.execute(delete(PluginError).where(
            PluginError.plugin.in_({f.plugin for f in failures}), PluginError.created_at < cutoff))
        db.session.add_all(
            PluginError(
                plugin=f.plugin, hook=f.hook, error=f.error, traceback=f.traceback,
                path=f.path, created_at=f.at,
            )
            for f in failures
        )
        db.session.commit()
    except Exception:  # never turn a plugin's error into a failed request
        db.session.rollback()
        log.exception("could not store %d plugin error(s)", len(failures))


def init_app(app: Flask) -> None:
    app.teardown_request(store_queued)
