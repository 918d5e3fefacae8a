from __future__ import annotations

import functools
from zoneinfo import available_timezones

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import BaseForm, SelectField


class LoginForm(BaseForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username", "inputmode": "email"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class PasswordLength:
    def __call__(self, form, field):
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        if len(field.data or "") < minimum:
            raise ValidationError(_l("Use at least %(num)d characters.", num=minimum))


def new_password_fields():
    return (
        PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200), PasswordLength()],
                      render_kw={"autocomplete": "new-password"}),
        PasswordField(_l("Repeat the new password"),
                      validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
                      render_kw={"autocomplete": "new-password"}),
    )


class PasswordForm(BaseForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)],
                                     render_kw={"autocomplete": "current-password"})
    new_password, new_password_repeat = new_password_fields()


@functools.cache
def _timezone_names() -> tuple[str, ...]:
    # available_timezones() walks the tz database on disk (~10 ms): once per process is enough.
    return tuple(name for name in sorted(available_timezones()) if "/" in name or name == "UTC")


def timezone_choices():
    return [(name, name) for name in _timezone_names()]


class ProfileForm(BaseForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language"), validate_choice=True)
    timezone = SelectField(_l("Time zone"), validate_choice=True,
                           description=_l("Dates and times are shown in this time zone."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = list(current_app.config["LANGUAGES"].items())
        self.timezone.choices = timezone_choices()


class ForgotPasswordForm(BaseForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(BaseForm):
    new_password, new_password_repeat = new_password_fields()
