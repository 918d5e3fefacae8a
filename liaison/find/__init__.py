"""One search box: contacts, leads, stations and plugin records from the top bar (``/search``).

Plugins answer the ``liaison_search_results(q, user)`` hook with ``SearchResult`` items."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class SearchResult:
    """One plugin record found by the global search (already in the user's scope: the plugin
    scopes its query with ``liaison.scope.scoped(..., plugin=NAME)``).

    ``kind`` groups results (e.g. ``"asean_events"``); ``group`` is the group's heading (a lazy
    gettext string); ``title`` the record's name; ``url`` its page; ``detail`` one line under it
    (never a contact's masked fields); ``more_url`` a list showing all the plugin's matches."""

    kind: str
    group: Any
    title: Any
    url: str
    detail: Any = ""
    more_url: str | None = None


__all__ = ["SearchResult"]
