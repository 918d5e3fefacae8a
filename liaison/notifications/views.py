from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ..forms import BaseForm, SelectField
from ..models import Channel, Notification, db
from ..pagination import keyset_page
from ..params import parse_id
from ..security import safe_next
from . import services
from .kinds import all_kinds, render_message

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

CHANNEL_LABELS = {
    Channel.APP: _l("In the app"),
    Channel.EMAIL: _l("In the app and by e-mail"),
    Channel.DIGEST: _l("In the app and in a daily e-mail summary"),
    Channel.OFF: _l("Off"),
}


def _own_or_404(notification_id) -> Notification:
    ident = parse_id(notification_id)
    notification = db.session.scalar(select(Notification).where(
        Notification.id == ident, Notification.user_id == current_user.id)) if ident else None
    if notification is None:
        abort(404)
    return notification


@bp.route("/")
@login_required
def index():
    stmt = select(Notification).where(Notification.user_id == current_user.id).order_by(Notification.id.desc())
    page = keyset_page(stmt, per_page=30)
    messages = {n.id: render_message(n.kind, n.params) for n in page.items}
    return render_template("notifications/index.html", page=page, messages=messages,
                           unread=services.unread_count(current_user))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id):
    notification = _own_or_404(notification_id)
    services.mark_read(notification)
    if request.form.get("open") and notification.path:
        return redirect(safe_next(notification.path, "notifications.index"))
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    count = services.mark_all_read(current_user)
    flash(_("%(num)d notifications marked as read.", num=count), "success")
    return redirect(url_for("notifications.index"))


def preferences_form(kinds, current: dict[str, str]):
    choices = [(value, label) for value, label in CHANNEL_LABELS.items()]

    class PreferencesForm(BaseForm):
        pass

    for name, kind in kinds.items():
        field = SelectField(kind.label, choices=choices, validate_choice=True, default=current.get(name),
                            description=kind.description or None)
        setattr(PreferencesForm, "kind__" + name.replace(".", "__"), field)
    return PreferencesForm()


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    kinds = all_kinds()
    current = services.channels_of(current_user)
    form = preferences_form(kinds, current)
    if form.validate_on_submit():
        chosen = {name: form["kind__" + name.replace(".", "__")].data for name in kinds}
        services.save_channels(current_user, chosen)
        flash(_("Your notification settings have been saved."), "success")
        return redirect(url_for("notifications.preferences"))
    fields = [form["kind__" + name.replace(".", "__")] for name in kinds]
    return render_template("notifications/preferences.html", form=form, fields=fields)
