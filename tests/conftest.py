"""Fixtures in the style of Flask's tutorial: ``app``, ``client``, ``runner`` and ``auth``.

The database is built once per test session by the real migrations (``db upgrade heads``) and
emptied after every test. It is SQLite in a temporary directory, or — when ``TEST_DATABASE_URL``
or ``DATABASE_URL`` names a PostgreSQL server — a scratch database created on that server for
this run and dropped after it; the database named in the URL itself is never touched.

Speed (the suite grows; each test gets a fresh app and a fresh database state):

* ``world`` is built through the real models and workflow only once per worker process (and per
  ``app_config``: a test that changes the configuration gets a world built under it). The rows of
  every table (``db.metadata.sorted_tables`` order, plugin tables included, absent tables skipped)
  are then captured, and every later test gets them back with one ``executemany`` INSERT per
  table — on SQLite the FTS5 triggers fire exactly as they did when the world was built; on
  PostgreSQL each table's id sequence is then set to the captured ``max(id)``. The ids are the same
  every time (the database is emptied, and its ids restarted, after every test), so the ``World``
  of ids is built once and handed out as a copy. Why not the alternatives: a SAVEPOINT/rollback per
  test cannot work here because the app commits and, on SQLite, starts write transactions with
  ``BEGIN IMMEDIATE``; copying a template SQLite file would need the WAL checkpointed and every
  engine disposed around each copy, and does not exist for PostgreSQL — one restore path for both
  dialects keeps them equal. ``TEST_FAST_FIXTURES=0`` turns this and the memoising below off (the
  old way), to compare.
* ``create_app`` per test is kept (no mutable app state is shared), but two pure, immutable
  computations it repeats are memoised for the session: Werkzeug's generated URL-builder functions
  (pure functions of the rule's text, parsed parts and default names; a rule with a default baked
  in through a converter is not memoised) and the installed plugins' entry points (the installed
  distributions do not change during a run).
"""
from __future__ import annotations

import copy
import os
import uuid
from contextlib import ExitStack, contextmanager

import pytest
from flask_migrate import upgrade
from sqlalchemy import Table, event, inspect, select, text
from sqlalchemy import exc as sa_exc

from liaison import create_app
from liaison.models import db

from .factories import World, build_world

PASSWORD = "correct-horse-battery"
FAST_FIXTURES = os.environ.get("TEST_FAST_FIXTURES", "1") != "0"  # "0": the slow, plain fixtures


@contextmanager
def _scratch_postgres(server_url: str):
    """A new, empty database on the server of ``server_url``, dropped afterwards."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(server_url.replace("postgres://", "postgresql://", 1))
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"liaison_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _memoise_immutable_app_setup():
    """Memoise what every ``create_app`` recomputes identically: see the module docstring."""
    from functools import lru_cache

    from werkzeug.routing.rules import Rule

    from liaison.plugins import manager

    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def _compile_builder(self, append_unknown=True):
        defaults = self.defaults or {}
        if any(dynamic and name in defaults for dynamic, name in self._trace):
            return compile_builder(self, append_unknown)  # a default baked in through a converter
        key = (self.rule, tuple(self._trace), tuple(sorted(map(str, defaults))), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    if not FAST_FIXTURES:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", _compile_builder)
        patch.setattr(manager, "entry_points", lru_cache(maxsize=None)(manager.entry_points))
        yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    server = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    with ExitStack() as stack:
        if server and server.startswith("postgres"):
            url = stack.enter_context(_scratch_postgres(server))
        else:
            url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
        app = create_app(_test_config(url))
        with app.app_context():
            upgrade(revision="heads")
            db.engine.dispose()
        yield url


def _test_config(url: str, **extra) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": url,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
        # Assertions read English; the bilingual tests choose their locale explicitly.
        "BABEL_DEFAULT_LOCALE": "en",
    }
    config.update(extra)
    return config


@pytest.fixture
def app_config():
    """Override to change the test app's configuration (e.g. enable CSRF)."""
    return {}


@pytest.fixture
def app(database_url, app_config, tmp_path):
    # Files attached to leads go to the test's own directory, never to the instance folder.
    app = create_app(_test_config(database_url, **{"ATTACHMENTS_DIR": str(tmp_path / "attachments"), **app_config}))
    yield app
    with app.app_context():
        _empty_database()
        db.engine.dispose()


def _empty_database() -> None:
    db.session.remove()
    tables = [t.name for t in reversed(_existing_tables())]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Not TRUNCATE: it replaces the files of every table (~0.5 s per test for ~100 tables).
            # The tables with rows are found in one statement and emptied children first; then
            # every sequence of the schema starts at 1 again, as TRUNCATE … RESTART IDENTITY did.
            probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
            filled = [t for t in tables if t in set(connection.execute(text(probe)).scalars())]
            try:
                with connection.begin_nested():
                    for table in filled:
                        connection.execute(text(f'DELETE FROM "{table}"'))
            except sa_exc.IntegrityError:  # rows referring to each other across tables: let TRUNCATE cut them
                connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in filled) + " CASCADE"))
            connection.execute(text(
                "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'S' AND n.nspname = current_schema()"))
        else:
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.test_request_context():
        yield


@pytest.fixture
def world(app, database_url, app_config) -> World:
    """Two regions, three stations, one account per role, contacts and leads — see factories.

    Built once per worker (and configuration), then restored from its captured rows: see above.
    """
    key = _snapshot_key(database_url, app_config)
    with app.app_context():
        snapshot = _WORLD_SNAPSHOTS.get(key) if key is not None else None
        if snapshot is None:
            world = build_world(PASSWORD)
            if key is not None:
                _WORLD_SNAPSHOTS[key] = (copy.deepcopy(world), _capture_rows())
            return world
        template, rows = snapshot
        _restore_rows(rows)
        return copy.deepcopy(template)


# (database URL, configuration) -> (World, captured rows); one per worker process.
_WORLD_SNAPSHOTS: dict[tuple[str, str], tuple[World, list[tuple[Table, list[dict]]]]] = {}


def _snapshot_key(database_url: str, app_config: dict) -> tuple[str, str] | None:
    """The cache key of a world built under ``app_config``; None (build every time) when the
    configuration has no stable text (an object printed with its address) or snapshots are off."""
    if not FAST_FIXTURES:
        return None
    try:
        text_ = repr(sorted(app_config.items()))
    except Exception:  # unorderable keys, a failing repr: just build the world
        return None
    return None if " at 0x" in text_ else (database_url, text_)


def _existing_tables() -> list[Table]:
    existing = set(inspect(db.engine).get_table_names())  # a skipped plugin's tables may be absent
    return [t for t in db.metadata.sorted_tables if t.name in existing]


def _capture_rows() -> list[tuple[Table, list[dict]]]:
    """Every row of every table, parents first, each table's rows in primary-key order."""
    db.session.remove()
    captured = []
    with db.engine.connect() as connection:
        for table in _existing_tables():
            columns = list(table.columns)
            query = select(*columns).order_by(*table.primary_key.columns)
            rows = [{c.key: value for c, value in zip(columns, row)} for row in connection.execute(query)]
            if rows:
                captured.append((table, rows))
    return captured


def _restore_rows(captured: list[tuple[Table, list[dict]]]) -> None:
    """Insert the captured rows into the (empty) database: one executemany INSERT per table."""
    with db.engine.begin() as connection:
        for table, rows in captured:
            connection.execute(table.insert(), rows)
        if connection.dialect.name == "postgresql":
            for table, rows in captured:
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and table.autoincrement_column is pk[0]:
                    top = max(row[pk[0].key] for row in rows)
                    connection.execute(text("SELECT setval(pg_get_serial_sequence(:table, :column), :top)"),
                                       {"table": f'"{table.name}"', "column": pk[0].name, "top": top})


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD):
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login(client, auth, world):
    """``login("hq")`` logs the client in as one of the world's accounts by key."""

    def _login(key: str):
        auth.logout()
        response = auth.login(world.emails[key])
        assert response.status_code == 302, f"login as {key} failed"
        return client

    return _login


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter: ...`` counts the SQL statements issued."""

    @contextmanager
    def _count():
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return _count
