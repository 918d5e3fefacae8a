"""``ApiResource``: what a plugin returns from ``liaison_api_resources`` to expose its records."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiResource:
    """A plugin's record type, read through the API.

    ``name`` is the URL segment (``/api/v1/p/<plugin>/<name>/`` and ``…/<id>``), ``model`` a
    station-owned model (``station_id`` or ``__scope_station_column__``), ``schema`` the marshmallow
    schema of one record (it appears in the OpenAPI document under its class name: make it unique,
    e.g. prefixed with the plugin), ``options`` loader options for a page of records (no query
    per row), ``order_by`` the list order ending in a unique column (default: the id).
    The API scopes every query (``liaison.scope.scoped(..., plugin=NAME)``): records of stations
    the token's user may not see, or where the plugin is off, are 404. Never put a contact's
    masked fields in ``schema``: refer to the contact by ``contact_id`` (``/api/v1/contacts/<id>``
    shows it masked for the caller)."""

    name: str
    model: Any
    schema: Any
    description: str = ""
    options: tuple = ()
    order_by: tuple | None = None
    extra: dict = field(default_factory=dict)
