"""Configuration: defaults here, then ``instance/config.py``, then the environment.

Environment variables: ``DATABASE_URL``, ``SECRET_KEY``, ``LIAISON_ENV`` (development,
production) and any setting prefixed with ``LIAISON_`` (e.g. ``LIAISON_ITEMS_PER_PAGE=50``).
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask


class DefaultConfig:
    ENV_NAME = "development"
    SECRET_KEY: str | None = None
    DATABASE_URL: str | None = None  # default: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # PostgreSQL connection pool (ignored on SQLite).
    DB_POOL_SIZE = 10
    DB_MAX_OVERFLOW = 20
    DB_POOL_RECYCLE = 1800
    # SQLite: how long a writer waits for the lock before giving up, in milliseconds.
    SQLITE_BUSY_TIMEOUT_MS = 30_000

    # Forms and sessions. A long form typed on a phone must not expire under the user.
    WTF_CSRF_TIME_LIMIT = 12 * 3600
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True in production (see below)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # Files attached to leads: stored outside the web root, by default in instance/attachments.
    ATTACHMENTS_DIR: str | None = None
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # per file
    ATTACHMENT_MAX_FILES = 5  # per upload
    # The request limit of the upload routes only (the rest keep MAX_CONTENT_LENGTH); the
    # reverse proxy's client_max_body_size must allow it (README: 25m).
    ATTACHMENT_MAX_REQUEST_BYTES = 24 * 1024 * 1024
    PASSWORD_HASH_METHOD = "scrypt"
    PASSWORD_MIN_LENGTH = 10

    # Rate limiting (Flask-Limiter); use e.g. "redis://127.0.0.1:6379" with several workers.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    # Requests for a password reset, per client address.
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
    # Failed log-ins (successful ones do not count), kept in RATELIMIT_STORAGE_URI: past the
    # account's limit even the correct password is refused until the window moves on.
    LOGIN_FAILURES_PER_ACCOUNT = "10 per 15 minutes"
    LOGIN_FAILURES_PER_ADDRESS = "50 per hour"

    # Internationalisation.
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

    ITEMS_PER_PAGE = 25
    # Static files (liaison/static_files.py): fingerprinted, precompressed copies are built here
    # at start-up (default instance/static-cache); plain, unfingerprinted URLs are cached this long.
    STATIC_CACHE_DIR: str | None = None
    STATIC_MAX_AGE = 3600
    # Compress HTML and JSON responses (brotli or gzip) when the client accepts it.
    COMPRESS_RESPONSES = True
    # bench/run.py only: an X-Query-Count header on every response. Never on a public server.
    QUERY_COUNT_HEADER = False
    # Plugins: names to skip entirely (a lifesaver when one installed plugin is broken).
    PLUGINS_DISABLED: list[str] = []
    # Extra plugin modules or objects to register (tests, local development).
    PLUGINS_EXTRA: list = []
    # Plugin errors older than this are deleted when new ones are stored.
    PLUGIN_ERROR_RETENTION_DAYS = 30

    # gunicorn (make serve).
    SERVER_BIND = "127.0.0.1:8000"
    SERVER_WORKERS = 2
    SERVER_THREADS = 4
    SERVER_TIMEOUT = 30
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES = 0


def load_config(app: Flask, overrides: dict | None) -> None:
    app.config.from_object(DefaultConfig)
    env_name = os.environ.get("LIAISON_ENV") or (overrides or {}).get("ENV_NAME") or "development"
    app.config["ENV_NAME"] = env_name
    if env_name == "development" and not (overrides or {}).get("TESTING"):
        _ensure_instance_config(Path(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("LIAISON")
    for key in ("DATABASE_URL", "SECRET_KEY"):
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if overrides:
        app.config.update(overrides)
    if app.config["ENV_NAME"] == "production":
        _apply_production(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app)


def _ensure_instance_config(instance: Path) -> None:
    """Give a development checkout its own random secret key, once."""
    path = instance / "config.py"
    if path.exists():
        return
    instance.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Local settings for this installation; never commit this file.\n"
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n",
        encoding="utf-8",
    )


class ConfigurationError(RuntimeError):
    pass


def _apply_production(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        raise ConfigurationError(
            "SECRET_KEY is not set. In production set the SECRET_KEY environment variable "
            "or put SECRET_KEY = '...' in instance/config.py (python -c 'import secrets; "
            "print(secrets.token_hex(32))' makes one)."
        )
    app.config["DEBUG"] = False
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["PREFERRED_URL_SCHEME"] = "https"


def database_uri(app: Flask) -> str:
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        return "sqlite:///" + os.path.join(app.instance_path, "liaison.sqlite")
    # Accept the usual postgres:// and postgresql:// forms and use psycopg 3 for them.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def engine_options(app: Flask) -> dict:
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_size", app.config["DB_POOL_SIZE"])
        options.setdefault("max_overflow", app.config["DB_MAX_OVERFLOW"])
        options.setdefault("pool_recycle", app.config["DB_POOL_RECYCLE"])
    return options


def server_settings() -> dict:
    """The settings gunicorn needs, read like the app's own (without creating the app)."""
    app = Flask("liaison", instance_path=os.environ.get("LIAISON_INSTANCE_PATH") or None,
                instance_relative_config=True, root_path=os.path.dirname(__file__))
    load_config(app, None)
    return {key: app.config[key] for key in ("SERVER_BIND", "SERVER_WORKERS", "SERVER_THREADS", "SERVER_TIMEOUT")}
