"""Fixtures in the style of Flask's tutorial: ``app``, ``client``, ``runner`` and ``auth``.

The database is built once per test session by the real migrations (``db upgrade heads``) and
emptied after every test. It is SQLite in a temporary directory, or PostgreSQL when
``TEST_DATABASE_URL`` is set (``.ci/run`` does that with a scratch database).
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, text

from liaison import create_app
from liaison.models import db

from .factories import World, build_world

PASSWORD = "correct-horse-battery"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    app = create_app(_test_config(url))
    with app.app_context():
        upgrade(revision="heads")
    yield url
    with app.app_context():
        db.engine.dispose()


def _test_config(url: str, **extra) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": url,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
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
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
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
