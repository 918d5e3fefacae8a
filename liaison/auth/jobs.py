"""The e-mail with a password reset link, sent from the job queue."""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import jobs
from ..models import User, db


@jobs.job("auth.password_reset_mail")
def password_reset_mail(user_id: int) -> str:
    from ..i18n import match_locale
    from ..notifications import mail
    from .services import reset_token

    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return "skipped"
    locale = match_locale(user.locale) or current_app.config["BABEL_DEFAULT_LOCALE"]
    link = mail.absolute(mail.app_path("auth.reset_password", token=reset_token(user)))
    minutes = max(1, current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)
    with force_locale(locale):
        subject = _("[Liaison] Choose a new password")
        context = {"user": user, "link": link, "minutes": minutes}
        body = render_template("email/password_reset_text.html", **context)
        html = render_template("email/password_reset.html", **context)
    to = user.email
    db.session.commit()  # no transaction while the mail server answers
    mail.send(to, subject, body, html)
    return "sent"
