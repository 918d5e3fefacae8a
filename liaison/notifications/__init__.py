"""Notifications in the app (the bell, the list) and by e-mail; see ``services``."""
from __future__ import annotations

from flask import Flask

from .kinds import NotificationKind

__all__ = ["NotificationKind", "init_app", "notify"]


def notify(*args, **kwargs):
    """See ``liaison.notifications.services.notify``."""
    from .services import notify as _notify

    return _notify(*args, **kwargs)


def init_app(app: Flask) -> None:
    from flask_login import current_user

    from . import deadlines, mail, services

    mail.init_app(app)
    services.listen()

    def notification_count() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread_count(current_user)

    app.jinja_env.globals["notification_count"] = notification_count
    # For the lead pages' due dates and overdue badges (liaison.notifications.deadlines).
    app.jinja_env.globals.update(lead_due_at=deadlines.due_at, lead_is_overdue=deadlines.is_overdue)
