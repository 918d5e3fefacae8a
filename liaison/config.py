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
    # Spreadsheet imports (liaison.imports): the upload limit, and the rows and columns one file
    # may have on the web (the CLI, ``flask import contacts``, takes any number of rows).
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    IMPORT_MAX_ROWS = 20_000
    IMPORT_MAX_COLUMNS = 40
    # A web import of more rows than this is committed by a background job (liaison.jobs).
    IMPORT_JOB_THRESHOLD = 2_000
    # Spreadsheet exports (liaison.exports): a selection of more rows than this is written to a
    # private file by a background job (liaison.jobs) and downloaded from its page by its requester
    # only (None: always streamed in the request); files are deleted after EXPORT_FILE_HOURS
    # by a daily job (`jobs run-due`). EXPORTS_DIR default: instance/exports.
    EXPORT_JOB_THRESHOLD = 5_000
    EXPORT_FILE_HOURS = 24
    EXPORTS_DIR: str | None = None
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

    # Personal data (liaison.privacy.masking): who sees a contact's personal fields unmasked,
    # per role — "all", "own_regions" (the contact's station is in a region the user
    # administers), "own_stations" (the user is a member of the contact's station) or "none".
    PRIVACY_UNMASKED: dict = {
        "volunteer": "own_stations",
        "regional_admin": "own_regions",
        "hq_reviewer": "none",
        "admin": "none",
    }
    # The contact fields masked for everyone else (names, organisation and place stay visible).
    PRIVACY_MASKED_FIELDS: list[str] = ["email", "phone", "messaging", "name_original", "notes"]
    # How long a reveal (with a reason) shows a contact's masked fields to the user who asked.
    PRIVACY_REVEAL_MINUTES = 30
    # Retention (liaison.privacy.retention: once a day from `flask --app liaison jobs run-due`,
    # or by hand with `flask --app liaison retention run`), in whole years: contacts with no
    # activity and no open lead for this long are anonymised ...
    RETENTION_CONTACT_YEARS = 5
    # ... and leads closed without landing (rejected, withdrawn, lost) lose their personal free
    # text and files this long after their last status change (their counts stay).
    RETENTION_REJECTED_LEAD_YEARS = 3
    # Erasures (liaison.privacy.erasure) are also appended (ids and dates, never values) to this
    # file outside the database, so that `flask --app liaison privacy reapply-erasures` can apply
    # them again after an older backup is restored. Default: erasure-ledger.jsonl in instance/.
    PRIVACY_ERASURE_LEDGER: str | None = None
    RETENTION_DAILY = True  # False: the daily job leaves retention to the command above

    # Job queue (liaison.jobs): RQ on Redis when REDIS_URL is set (then run `flask --app liaison
    # worker`); without it jobs run inline, right after the commit that asked for them.
    REDIS_URL: str | None = None
    JOB_QUEUE = "liaison"
    JOB_TIMEOUT = 600  # seconds one attempt may take
    JOB_RETRY_BACKOFF: list[int] = [30, 300, 1800]  # seconds before each retry; its length = retries
    JOB_MODULES: list[str] = []  # extra modules that register job functions (tests, development)
    # Absolute links in e-mails are built on this address, never on the request's Host header.
    PUBLIC_URL: str | None = None  # e.g. "https://liaison.example.org"; default http://127.0.0.1:5000
    # E-mail (Flask-Mailman). With MAIL_SERVER set, mails go out by SMTP; without it (make run)
    # they are written as files to instance/mail/ (or MAIL_FILE_PATH) and nothing is sent.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 30
    MAIL_DEFAULT_SENDER = "liaison@localhost"
    MAIL_BACKEND: str | None = None  # "smtp", "file", "console", "locmem"; chosen as above when unset
    MAIL_FILE_PATH: str | None = None
    # Review deadlines (liaison.notifications.deadlines), calendar days per lead status: a lead
    # that stays longer is overdue and one reminder goes out (`jobs run-due`).
    LEAD_DEADLINE_DAYS: dict = {"submitted": 5, "needs_info": 14, "accepted": 30}
    APPOINTMENT_REMINDER_DAYS = 30  # volunteers' terms: the reminder before the end (liaison.appointments)
    # Count those days as Chinese working days (public holidays and 调休 from `holidays`, CN) in
    # LEAD_DEADLINE_TIMEZONE (default BABEL_DEFAULT_TIMEZONE) instead of calendar days.
    LEAD_DEADLINE_WORKING_DAYS = False  # set True in instance/config.py
    LEAD_DEADLINE_TIMEZONE: str | None = None
    # A "due soon" reminder this many days before each deadline (working days when counting
    # them); a number or {status: days}; 0 turns it off.
    LEAD_DEADLINE_REMINDER_DAYS: int | dict = 2
    # Overdue reminders go to the lead's reviewer (all of HQ while nobody is assigned) and also
    # to these HQ supervisors (e-mail addresses of active HQ reviewers or admins).
    LEAD_OVERDUE_ALSO_NOTIFY: list[str] = []
    # "Forgot password": how long a reset link works (it also dies once used).
    PASSWORD_RESET_MAX_AGE = 3600

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
    for key in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL"):
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
