"""Errors as RFC 9457 ``application/problem+json``, for every error on an ``/api/v1`` path.

The app's error handlers (``liaison.errors``) render HTML pages; ``install`` wraps them so that a
request under ``API_PREFIX`` (except the documentation page) gets a problem document instead:
``type``, ``title``, ``status``, ``detail``, ``instance`` and, for bad input, ``errors`` — one
``{"field": …, "message": …}`` per refused field. Titles and details are in the language of the
request's ``Accept-Language`` (see ``auth.select_api_locale``).
"""
from __future__ import annotations

import logging
import re

from flask import Flask, json, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: _l("Bad request"),
    401: _l("Not authenticated"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    412: _l("Precondition failed"),
    413: _l("Too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid input"),
    428: _l("Precondition required"),
    429: _l("Too many requests"),
    500: _l("Internal server error"),
}
DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("Send a valid, unexpired personal access token: “Authorization: Bearer <token>”."),
    403: _l("You do not have permission to do this."),
    404: _l("This resource does not exist, or you do not have access to it."),
    405: _l("This method is not allowed on this resource."),
    409: _l("The request conflicts with the current state of the resource."),
    412: _l("The resource changed since you read it: read it again and retry with its current ETag."),
    413: _l("What you sent is too large."),
    415: _l("Send the request body as application/json."),
    422: _l("Some fields are not valid."),
    428: _l("Send an If-Match header with the resource's current ETag."),
    429: _l("Too many requests with this token: wait and try again."),
    500: _l("An unexpected error occurred. It has been logged; please try again later."),
}


def is_api_request() -> bool:
    path = request.path
    return (path == API_PREFIX or path.startswith(API_PREFIX + "/")) and path != API_PREFIX + "/docs"


# marshmallow's own messages (the API's schema checks: types, lengths, ranges, choices, unknown
# fields) are English constants; they are translated here, where every API field error passes.
# Each is its English text with ``{name}`` for the value marshmallow filled in.
MARSHMALLOW_MESSAGES = (
    ("Missing data for required field.", _l("Missing data for required field.")),
    ("Field may not be null.", _l("Field may not be null.")),
    ("Unknown field.", _l("Unknown field.")),
    ("Invalid input type.", _l("Invalid input type.")),
    ("Invalid input.", _l("Invalid input.")),
    ("Invalid type.", _l("Invalid type.")),
    ("Invalid value.", _l("Invalid value.")),
    ("Not a valid string.", _l("Not a valid string.")),
    ("Not a valid integer.", _l("Not a valid integer.")),
    ("Not a valid number.", _l("Not a valid number.")),
    ("Number too large.", _l("Number too large.")),
    ("Not a valid boolean.", _l("Not a valid boolean.")),
    ("Not a valid date.", _l("Not a valid date.")),
    ("Not a valid datetime.", _l("Not a valid date and time.")),
    ("Not a valid list.", _l("Not a valid list.")),
    ("Not a valid mapping type.", _l("Not a valid object.")),
    ("Not a valid email address.", _l("Not a valid email address.")),
    ("Not a valid URL.", _l("Not a valid URL.")),
    ("Special numeric values (nan or infinity) are not permitted.",
     _l("Special numeric values (nan or infinity) are not permitted.")),
    ("String does not match expected pattern.", _l("The value does not have the expected form.")),
    ("Longer than maximum length {max}.", _l("Longer than maximum length %(max)s.")),
    ("Shorter than minimum length {min}.", _l("Shorter than minimum length %(min)s.")),
    ("Length must be between {min} and {max}.", _l("Length must be between %(min)s and %(max)s.")),
    ("Length must be {equal}.", _l("Length must be %(equal)s.")),
    ("Must be one of: {choices}.", _l("Must be one of: %(choices)s.")),
    ("Must be greater than or equal to {min} and less than or equal to {max}.",
     _l("Must be at least %(min)s and at most %(max)s.")),
    ("Must be greater than or equal to {min}.", _l("Must be at least %(min)s.")),
    ("Must be less than or equal to {max}.", _l("Must be at most %(max)s.")),
    ("Must be greater than {min}.", _l("Must be greater than %(min)s.")),
    ("Must be less than {max}.", _l("Must be less than %(max)s.")),
)


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(f"^{regex}$", re.S)


_COMPILED = [(_pattern(english), translated) for english, translated in MARSHMALLOW_MESSAGES]


def translate_message(message: str) -> str:
    """A marshmallow message in the request's language (others unchanged: WTForms' and the
    services' are translated where they are made)."""
    for pattern, translated in _COMPILED:
        found = pattern.match(message)
        if found:
            return str(translated) % found.groupdict() if found.groupdict() else str(translated)
    return message


def field_errors(errors) -> list[dict]:
    """``{"body": {"summary": ["…"]}}`` (webargs) or ``{"summary": ["…"]}`` (WTForms) as a flat list
    of ``{"field", "message"}`` — nested names joined with dots."""
    out: list[dict] = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                name = str(key) if not prefix else f"{prefix}.{key}"
                walk(name, inner)
        elif isinstance(value, (list, tuple)):
            for inner in value:
                walk(prefix, inner)
        else:
            out.append({"field": prefix or None, "message": translate_message(str(value))})

    if isinstance(errors, dict):
        # webargs groups errors by location ("json", "query", "headers"): the location is not a field.
        for location, inner in errors.items():
            if location in ("json", "query", "querystring", "headers", "form", "files", "view_args") \
                    and isinstance(inner, dict):
                walk("", inner)
            else:
                walk(str(location), inner)
    elif errors:
        walk("", errors)
    return out


def problem(status: int, detail=None, *, errors=None, title=None, headers=None, type_: str = "about:blank",
            **extra):
    body = {
        "type": type_,
        "title": str(title or TITLES.get(status, str(status))),
        "status": status,
        "detail": str(detail or DETAILS.get(status, "")),
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = current_app_response(body, status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def current_app_response(body: dict, status: int):
    from flask import current_app

    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype=PROBLEM_JSON)
    return response


class ApiError(HTTPException):
    """An error a view raises with a detail, field errors and headers of its own."""

    def __init__(self, code: int, detail=None, *, errors=None, headers=None, **extra):
        super().__init__(description=str(detail) if detail else None)
        self.code = code
        self.detail = detail
        self.errors = errors
        self.extra_headers = headers or {}
        self.extra = extra


def from_exception(error: HTTPException):
    code = error.code or 500
    if isinstance(error, ApiError):
        return problem(code, error.detail, errors=error.errors, headers=error.extra_headers, **error.extra)
    data = getattr(error, "data", None) or {}
    errors = None
    if isinstance(data, dict) and data.get("errors"):
        errors = field_errors(data["errors"])
    exc = getattr(error, "exc", None)  # webargs' ValidationError
    if errors is None and exc is not None and getattr(exc, "messages", None):
        errors = field_errors(exc.messages)
    headers = {}
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="liaison"'
    if code == 429:
        headers["Retry-After"] = "60"
    custom = error.description if error.description != type(error).description and code not in (429, 422) else None
    if code == 422 and errors is None:
        errors = []
    return problem(code, custom, errors=errors, headers=headers)


def install(app: Flask) -> None:
    """Wrap the app's handlers of ``HTTPException`` and ``Exception``: API paths get problems."""
    spec = app.error_handler_spec.setdefault(None, {}).setdefault(None, {})
    html_http = spec.get(HTTPException)
    html_any = spec.get(Exception)

    def handle_http(error: HTTPException):
        if is_api_request():
            if error.code is None or error.code < 400:
                return error
            return from_exception(error)
        return html_http(error) if html_http is not None else error

    def handle_any(error: Exception):
        if is_api_request():
            log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
            from ..models import db

            db.session.rollback()
            return problem(500)
        if html_any is not None:
            return html_any(error)
        raise error

    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_any)
