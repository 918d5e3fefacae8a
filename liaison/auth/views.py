from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import limiter, login_manager
from ..forms import prefill
from ..models import db
from ..security import safe_next
from . import jobs as _jobs  # noqa: F401  (registers the reset e-mail job)
from . import services, throttle
from .forms import ForgotPasswordForm, LoginForm, PasswordForm, ProfileForm, ResetPasswordForm

bp = Blueprint("auth", __name__)
bp.record_once(lambda state: throttle.init_app(state.app))

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
login_manager.user_loader(services.load_user_from_session)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


# Pages a user with a temporary password may still open.
TEMPORARY_PASSWORD_ENDPOINTS = frozenset({"auth.profile", "auth.logout", "main.set_language", "static"})


@bp.before_app_request
def require_own_password():
    """A temporary password set by an admin only opens the page where it is replaced."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in TEMPORARY_PASSWORD_ENDPOINTS):
        flash(_("Please choose a new password of your own."), "warning")
        return redirect(url_for("auth.profile"))
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        email = services.normalise_email(form.email.data)
        # Failed log-ins are limited per account and per address (see throttle.py); a locked
        # account is refused before its password is even checked.
        wait = throttle.wait_seconds(email)
        if wait:
            return _locked_out(form, wait)
        user = services.authenticate(email, form.password.data)
        if user is None:
            throttle.record_failure(email)
            # One message for every failure: it does not say whether the address has an account.
            form.password.errors.append(_("The e-mail address or the password is not correct."))
            wait = throttle.wait_seconds(email)
            if wait:
                return _locked_out(form, wait)
        else:
            throttle.record_success(email)
            locale = session.get("locale")
            session.clear()  # a fresh session on log-in (no fixation)…
            if locale:
                session["locale"] = locale  # …that keeps the language picked on the log-in page
            login_user(user)
            session.permanent = True
            services.record_login(user)
            if user.must_change_password:
                flash(_("Please choose a new password of your own."), "warning")
                return redirect(url_for("auth.profile"))
            return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


def _locked_out(form: LoginForm, wait: int):
    minutes = max(1, -(-wait // 60))
    message = ngettext("Too many failed log-ins. Please wait %(num)d minute and try again.",
                       "Too many failed log-ins. Please wait %(num)d minutes and try again.", minutes)
    return render_template("auth/login.html", form=form, locked=message), 429, {"Retry-After": str(wait)}


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Ends the session on the server too: a copy of this cookie, and every other session of
        # the user, stops working ("log out everywhere").
        services.end_sessions(current_user._get_current_object())
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        # The same answer whether or not the address has an account.
        minutes = max(1, current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)
        flash(_("If this address has an account, we have sent it a link to choose a new password. "
                "The link works once, within %(minutes)d minutes.", minutes=minutes), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token: str):
    user = services.user_for_reset_token(token)
    if user is None:
        return render_template("auth/reset_password.html", form=None, invalid=True)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(user, form.new_password.data)
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your new password is set. Please log in with it."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, invalid=False)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    profile_form = ProfileForm(prefix="profile", obj=prefill(current_user))
    if request.method == "GET":
        profile_form.locale.data = current_user.locale or str(get_locale())
        profile_form.timezone.data = current_user.timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"]
    password_form = PasswordForm(prefix="password")
    if "profile-name" in request.form and profile_form.validate_on_submit():
        current_user.name = profile_form.name.data
        current_user.locale = profile_form.locale.data
        current_user.timezone = profile_form.timezone.data
        db.session.commit()
        session["locale"] = current_user.locale
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("auth.profile"))
    if "password-new_password" in request.form and password_form.validate_on_submit():
        if not current_user.check_password(password_form.current_password.data):
            password_form.current_password.errors.append(_("This is not your current password."))
        else:
            services.change_password(current_user, password_form.new_password.data)
            login_user(current_user._get_current_object())  # the session id changed with its version
            flash(_("Your password has been changed. Other sessions have been logged out."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", profile_form=profile_form, password_form=password_form)
