"""The kinds of notification: the core's, and the plugins' (hook ``liaison_notification_kinds``).

A kind has a label (the preferences page), a message with ``%(name)s`` placeholders filled from
the notification's ``params`` in the reader's language, and a default channel.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..models import Channel


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notification. Plugins return these from ``liaison_notification_kinds``; their
    names must start with ``<plugin>.``."""

    name: str
    label: object
    message: object  # lazy gettext text with %(…)s placeholders filled from params
    default: str = Channel.APP
    description: object = ""


CORE_KINDS = [
    NotificationKind("lead_submitted", _l("A lead was submitted to HQ"),
                     _l("Lead #%(lead)s from %(station)s was submitted to HQ by %(actor)s."), Channel.EMAIL,
                     _l("HQ reviewers; regional admins for their region's leads.")),
    NotificationKind("lead_assigned", _l("A lead was assigned to me"),
                     _l("Lead #%(lead)s from %(station)s was assigned to you for review by %(actor)s."),
                     Channel.EMAIL),
    NotificationKind("info_requested", _l("HQ asked for more information"),
                     _l("HQ asked for more information on lead #%(lead)s (%(station)s)."),
                     Channel.EMAIL, _l("The station's volunteers and the lead's submitter.")),
    NotificationKind("info_answered", _l("A station answered HQ's question"),
                     _l("%(actor)s answered HQ's question on lead #%(lead)s (%(station)s)."),
                     Channel.EMAIL, _l("The lead's reviewer (all of HQ while nobody is assigned).")),
    NotificationKind("lead_decided", _l("HQ decided on a lead"),
                     _l("Lead #%(lead)s (%(station)s) is now “%(status)s”."), Channel.EMAIL,
                     _l("The station's volunteers and the lead's submitter.")),
    NotificationKind("lead_comment", _l("A comment on a lead"),
                     _l("%(actor)s commented on lead #%(lead)s (%(station)s)."), Channel.APP,
                     _l("HQ's comments reach the station; the station's reach the reviewer.")),
]


def all_kinds() -> dict[str, NotificationKind]:
    """The core's kinds and those of every installed plugin (switched on or not: a user keeps
    their preference when a region switches a plugin off and on)."""
    from flask import g, has_app_context

    if has_app_context() and "_notification_kinds" in g:
        return g._notification_kinds
    kinds = {kind.name: kind for kind in CORE_KINDS}
    try:
        from ..plugins import host

        for plugin, result in host().call("liaison_notification_kinds", None):
            for kind in result if isinstance(result, (list, tuple)) else [result]:
                if isinstance(kind, NotificationKind) and kind.name.startswith(f"{plugin}.") \
                        and kind.default in Channel.ALL:
                    kinds[kind.name] = kind
                else:
                    host().record_error(plugin, "liaison_notification_kinds", TypeError(
                        "expected NotificationKind entries named '<plugin>.<kind>'"))
    except RuntimeError:  # outside an app
        pass
    if has_app_context():
        g._notification_kinds = kinds
    return kinds


class _SafeParams(dict):
    def __missing__(self, key):
        return ""


def render_message(kind_name: str, params: dict) -> str:
    """The notification's text in the current locale."""
    from ..i18n import display_name
    from ..models import LeadStatus

    kind = all_kinds().get(kind_name)
    values = _SafeParams({key: value for key, value in (params or {}).items()})
    if "station_name" in values:
        values["station"] = display_name(values.get("station_name"), values.get("station_name_zh"))
    if "status" in values:
        values["status"] = str(LeadStatus.label_of(values["status"]))
    if "match_stage" in values:  # a demand match's stage (liaison.demands)
        from ..demands.models import MatchStage

        values["match_stage"] = str(MatchStage.label_of(values["match_stage"]))
    if kind is None:
        return str(_l("A notification (%(kind)s)", kind=kind_name))
    try:
        return str(kind.message) % values
    except (TypeError, ValueError, KeyError):
        return str(kind.label)
