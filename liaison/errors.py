"""Error pages: every error answers with a page in the user's language, never a stack trace."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to do this.")),
    404: (_l("Not found"), _l("This page does not exist, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This action cannot be done this way.")),
    409: (_l("Changed by someone else"), _l("Someone else changed this record while you were working on it. Reload the page and try again.")),
    413: (_l("Too large"), _l("What you sent is too large. Shorten the text or send a smaller file.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. It has been logged; please try again later.")),
}


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def render_error(code: int, message=None):
    title, default = MESSAGES.get(code, (str(code), ""))
    try:
        # A 500 may come from the database itself: render without anything that queries it.
        return render_template("errors/error.html", code=code, title=title,
                               message=message or default, minimal=code >= 500), code
    except Exception:
        log.exception("could not render the error page for %s", code)
        return f"<!doctype html><title>{code}</title><h1>{code}</h1>", code


def handle_csrf_error(error: CSRFError):
    message = _l(
        "Your form had expired or was sent from another page, so nothing was saved. "
        "Go back, reload the page and send it again."
    )
    return render_error(400, message)


def handle_http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    # A view may explain itself: abort(403, description=_("…")) replaces the generic message.
    # (Not for 429: Flask-Limiter puts the limit itself, "3 per 1 minute", in the description.)
    custom = error.description if error.description != type(error).description and error.code != 429 else None
    response = render_error(error.code, custom)
    if error.code == 405 and error.valid_methods:
        return response[0], 405, {"Allow": ", ".join(error.valid_methods)}
    return response


def handle_unexpected_error(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    from .models import db

    db.session.rollback()
    return render_error(InternalServerError.code)
