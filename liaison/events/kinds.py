"""The kinds of event: the core's, and those plugins add through ``liaison_event_kinds``."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class EventKind:
    """A kind of event. Plugins return these from ``liaison_event_kinds``; their names must start
    with ``<plugin>.``."""

    name: str
    label: object


CORE_KINDS = [
    EventKind("symposium", _l("Symposium")),
    EventKind("matchmaking", _l("Matchmaking")),
    EventKind("roadshow", _l("Roadshow")),
    EventKind("talent_fair", _l("Talent fair or expo")),
    EventKind("salon", _l("Salon")),
    EventKind("online_seminar", _l("Online seminar")),
    EventKind("training", _l("Training")),
    EventKind("summer_camp", _l("Summer camp")),
    EventKind("ceremony", _l("Signing or award ceremony")),
]


def all_kinds() -> dict[str, EventKind]:
    """The core's kinds and every installed plugin's (a kind stays readable when a plugin is
    switched off: its events keep their kind)."""
    from flask import g, has_app_context

    if has_app_context() and "_event_kinds" in g:
        return g._event_kinds
    kinds = {kind.name: kind for kind in CORE_KINDS}
    try:
        from ..plugins import host

        plugin_host = host()
        for plugin, result in plugin_host.call("liaison_event_kinds", None):
            for kind in result if isinstance(result, (list, tuple)) else [result]:
                if isinstance(kind, EventKind) and kind.name.startswith(f"{plugin}."):
                    kinds[kind.name] = kind
                else:
                    plugin_host.record_error(plugin, "liaison_event_kinds", TypeError(
                        "expected EventKind entries named '<plugin>.<kind>'"))
    except RuntimeError:  # outside an app
        pass
    if has_app_context():
        g._event_kinds = kinds
    return kinds


def choices() -> list[tuple[str, str]]:
    return [(kind.name, str(kind.label)) for kind in all_kinds().values()]


def label_of(name: str | None) -> str:
    kind = all_kinds().get(name or "")
    return str(kind.label) if kind is not None else (name or "")
