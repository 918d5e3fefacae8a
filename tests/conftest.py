"""Fixtures in the style of Flask's tutorial: ``app``, ``client``, ``runner`` and ``auth``.

The database is built once per test session by the real migrations (``db upgrade heads``) and
emptied after every test. It is SQLite in a temporary directory, or — when ``TEST_DATABASE_URL``
or ``DATABASE_URL`` names a PostgreSQL server — a scratch database created on that server for
this run and dropped after it; the database named in the URL itself is never touched.
"""
from __future__ import annotations

import os
import uuid
from contextlib import ExitStack, contextmanager

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, inspect, text

from liaison import create_app
from liaison.models import db

from .factories import World, build_world

PASSWORD = "correct-horse-battery"


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
def app(database_url, app_config):
    app = create_app(_test_config(database_url, **app_config))
    yield app
    with app.app_context():
        _empty_database()
        db.engine.dispose()


def _empty_database() -> None:
    db.session.remove()
    existing = set(inspect(db.engine).get_table_names())  # a skipped plugin's tables may be absent
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in existing]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
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
def world(app) -> World:
    """Two regions, three stations, one account per role, contacts and leads — see factories."""
    with app.app_context():
        return build_world(PASSWORD)


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
