"""E-mail through Flask-Mailman, and absolute links that never trust the request's Host header.

The backend: ``MAIL_BACKEND`` when set; else SMTP when ``MAIL_SERVER`` is set; else (``make
run``) every mail is written as a file to ``instance/mail/`` (``MAIL_FILE_PATH``) — a newcomer
needs no mail server and can read what would have been sent. The tests use ``locmem`` or a real
local SMTP server.
"""
from __future__ import annotations

import os

from flask import Flask, current_app
from flask_mailman import EmailMultiAlternatives, Mail

mail = Mail()


def init_app(app: Flask) -> None:
    if not app.config.get("MAIL_BACKEND"):
        if app.config.get("MAIL_SERVER"):
            app.config["MAIL_BACKEND"] = "smtp"
        elif app.testing:
            app.config["MAIL_BACKEND"] = "locmem"
        else:
            app.config["MAIL_BACKEND"] = "file"
    if app.config["MAIL_BACKEND"] == "file" and not app.config.get("MAIL_FILE_PATH"):
        app.config["MAIL_FILE_PATH"] = os.path.join(app.instance_path, "mail")
    mail.init_app(app)


def public_base() -> str:
    """The address links in e-mails start with: ``PUBLIC_URL``, else the configured server name,
    else the development server's."""
    config = current_app.config
    if config.get("PUBLIC_URL"):
        return config["PUBLIC_URL"].rstrip("/")
    if config.get("SERVER_NAME"):
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}"
    return "http://127.0.0.1:5000"


def absolute(path: str | None) -> str:
    """An absolute link to ``path`` (a path of this app, as built by ``url_for``)."""
    from ..security import is_safe_local_path

    path = path if path and is_safe_local_path(path) else "/"
    return public_base() + path


def app_path(endpoint: str, **values) -> str:
    """The path of ``endpoint`` without a request (a job builds links for e-mails)."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return adapter.build(endpoint, values)


def send(to: str, subject: str, body: str, html: str | None = None) -> None:
    message = EmailMultiAlternatives(subject=subject, body=body, to=[to],
                                     from_email=current_app.config["MAIL_DEFAULT_SENDER"])
    if html:
        message.attach_alternative(html, "text/html")
    message.send(fail_silently=False)
