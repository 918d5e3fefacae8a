"""Engine set-up per dialect.

SQLite is the embedded default: WAL lets readers run beside one writer, ``busy_timeout`` makes a
second writer wait instead of failing, and write transactions start with ``BEGIN IMMEDIATE`` so a
transaction that read first cannot fail with "database is locked" when it later writes. Safe
requests (GET, HEAD, OPTIONS) keep a plain deferred ``BEGIN`` so they never queue for the lock.

Writers of one process queue on a Python lock before ``BEGIN IMMEDIATE``. SQLite's busy handler
polls with growing sleeps (up to 100 ms each), so under contention a waiting writer kept losing
the lock to newcomers: lead submissions had a p50 of 8 ms but a p99 of a quarter of a second and
more. A waiter on the Python lock wakes as soon as the writer before it ends its transaction.
The busy timeout still arbitrates between processes; the in-process wait is bounded by it too.
"""
from __future__ import annotations

import threading

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.engine import Engine

from .models import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event, not pysqlite, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    writer = threading.Lock()
    wait_seconds = busy_timeout_ms / 1000

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if not _writes_expected():
            connection.exec_driver_sql("BEGIN")
            return
        info = connection.info
        if _WRITER_KEY not in info and writer.acquire(timeout=wait_seconds):
            info[_WRITER_KEY] = writer
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(info)
            raise

    # The transaction's end lets the next writer of this process in; checking the connection
    # back in to the pool (after a reset, an invalidation) does too, whatever happened before.
    event.listen(engine, "commit", _end)
    event.listen(engine, "rollback", _end)
    event.listen(engine.pool, "checkin", lambda _dbapi_connection, record: _release(record.info))


_WRITER_KEY = "liaison_sqlite_writer"


def _end(connection) -> None:
    """A transaction ended: the next writer of the process may go, and a safe request's write
    (``prepare_write``) is done — its later reads begin deferred again."""
    if has_request_context():
        g.pop(_WRITING, None)
    _release_connection(connection)


def _release_connection(connection) -> None:
    try:
        info = connection.info
    except SQLAlchemyError:  # invalidated or closed: its check-in releases the lock
        return
    _release(info)


def _release(info: dict) -> None:
    lock = info.pop(_WRITER_KEY, None)
    if lock is not None:
        lock.release()


def _writes_expected() -> bool:
    if has_request_context():
        return request.method not in SAFE_METHODS or g.get(_WRITING, False)
    return True  # CLI commands, migrations, background work


_WRITING = "_liaison_safe_request_writes"


def prepare_write() -> None:
    """Call before a safe request (GET, HEAD) writes — an access-log entry, an export's record, a
    token's last use. Its transaction began as a deferred read, and SQLite cannot turn a read
    transaction into a write once another connection has committed since it read: it fails at
    once with "database is locked" (the busy timeout does not apply). So the read transaction is
    ended here — the objects loaded so far stay loaded, not expired — and the request's next
    transaction begins with ``BEGIN IMMEDIATE``, waiting for its turn like any writer. Nothing to
    do outside a safe request, on PostgreSQL, or when changes are already pending."""
    if not has_request_context() or request.method not in SAFE_METHODS or g.get(_WRITING, False):
        return
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            return  # the caller already changed something: committing here would be that very write
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    g.setdefault(_WRITING, True)  # for the next transaction only: its end clears it (``_end``)
