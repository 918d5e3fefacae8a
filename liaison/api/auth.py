"""Who calls the API: a personal access token in ``Authorization: Bearer …``, nothing else.

Session cookies never authenticate an API call (so the API needs no CSRF token, and a page
cannot be tricked into writing through it): ``authenticate`` runs before every other
``before_request`` function on API paths and sets Flask-Login's user for the request to the
token's user — or to an anonymous user, answered 401. The token's user then has exactly the
scope (``liaison.scope``) and permissions (``liaison.permissions``) they have on the pages; a
read-only token is refused (403) any method but GET/HEAD/OPTIONS, and a token restricted to a
station sees only that station's records (``restrict`` / ``check_station``).
"""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l

from ..i18n import match_locale
from ..models import utcnow
from . import tokens
from .problems import API_PREFIX, ApiError, is_api_request

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Readable without a token: the OpenAPI document (no data in it).
PUBLIC_PATHS = frozenset({API_PREFIX + "/openapi.json"})


def current_token():
    return g.get("api_token")


def select_api_locale() -> None:
    """Messages in the language of ``Accept-Language`` (not the user's page preference)."""
    from babel import Locale

    chosen = None
    for tag, _quality in request.accept_languages:
        chosen = match_locale(tag)
        if chosen:
            break
    locale = Locale.parse(chosen or current_app.config["BABEL_DEFAULT_LOCALE"])
    from flask_babel import _get_current_context

    context = _get_current_context()
    if context is not None:
        context.babel_locale = locale


def authenticate():
    """``before_request`` (first of all) on API paths."""
    if not is_api_request():
        return None
    select_api_locale()
    g._login_user = current_app.login_manager.anonymous_user()  # never the session's user
    if request.path in PUBLIC_PATHS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    token = tokens.find(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise ApiError(401)
    now = utcnow()
    if token.revoked_at is not None:
        raise ApiError(401, _l("This token has been revoked."))
    if token.expires_at <= now:
        raise ApiError(401, _l("This token has expired."))
    from ..models import User, db

    user = db.session.get(User, token.user_id)
    if user is None or not user.active:
        raise ApiError(401, _l("The token's account is deactivated."))
    if user.must_change_password:
        raise ApiError(401, _l("The token's account must choose a new password on the pages first."))
    g._login_user = user
    g.api_token = token
    tokens.touch(token, now)
    if token.read_only and request.method not in READ_METHODS:
        raise ApiError(403, _l("This token is read-only."))
    return None


def restriction() -> int | None:
    """The station the request's token is restricted to, if any."""
    token = current_token()
    return token.station_id if token is not None else None


def restrict(stmt, column):
    """``stmt`` limited to the token's station (if the token is restricted)."""
    station_id = restriction()
    return stmt if station_id is None else stmt.where(column == station_id)


def check_station(station_id: int | None) -> None:
    """404 for a record of another station than the token's (existence does not leak)."""
    restricted = restriction()
    if restricted is not None and station_id != restricted:
        raise ApiError(404)


def rate_limit_key() -> str:
    token = current_token()
    if token is not None:
        return f"api-token:{token.id}"
    from flask_limiter.util import get_remote_address

    return f"api-ip:{get_remote_address()}"
