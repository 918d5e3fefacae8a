"""Jinja filters and globals shared by every template (core and plugins)."""
from __future__ import annotations

from flask import Flask, g, request, url_for
from flask_babel import format_decimal, get_locale
from markupsafe import Markup, escape

from . import i18n
from .models import (
    ContactKind,
    HostKind,
    LandingKind,
    LeadCategory,
    LeadEventKind,
    LeadStatus,
    Priority,
    Role,
    StationStatus,
)

LABELS = {
    "role": Role,
    "host_kind": HostKind,
    "station_status": StationStatus,
    "contact_kind": ContactKind,
    "category": LeadCategory,
    "priority": Priority,
    "landing_kind": LandingKind,
    "lead_status": LeadStatus,
    "event_kind": LeadEventKind,
}

STATUS_BADGES = {
    LeadStatus.DRAFT: "secondary",
    LeadStatus.SUBMITTED: "primary",
    LeadStatus.UNDER_REVIEW: "info",
    LeadStatus.NEEDS_INFO: "warning",
    LeadStatus.ACCEPTED: "success",
    LeadStatus.REFERRED: "success",
    LeadStatus.LANDED: "dark",
    LeadStatus.REJECTED: "danger",
    LeadStatus.WITHDRAWN: "light",
    LeadStatus.CLOSED_LOST: "light",
}


def _request_cache(name: str) -> dict:
    """A dict that lives for one request and one locale (labels, badges, URL patterns): what every
    row of a table shares is built once, not per row."""
    key = ("_render_cache", name, str(get_locale()))
    cache = g.get("_render_caches")
    if cache is None:
        cache = g._render_caches = {}
    return cache.setdefault(key, {})


def _translated_labels(vocabulary: str) -> dict:
    cache = _request_cache("labels")
    labels = cache.get(vocabulary)
    if labels is None:
        labels = cache[vocabulary] = _catalog_labels(vocabulary)
    return labels


def per_catalog(key: str, build):
    """``build()``, kept with the current translations catalog (Flask-Babel keeps one per locale
    for the life of the process): what depends only on the language — translated labels, badges —
    is built once per language, not once per request or per row. The core and the plugins share it."""
    from flask_babel import get_translations

    store = getattr(get_translations(), "__dict__", None)
    if store is None:
        return build()
    built = store.setdefault("_liaison_per_catalog", {})
    value = built.get(key)
    if value is None:
        value = built[key] = build()
    return value


def translated_labels(enum) -> dict:
    """``{value: translated label}`` of a labelled enumeration (``label`` per member), once per
    language (``per_catalog``)."""
    return per_catalog(f"labels:{enum.__module__}.{enum.__qualname__}",
                       lambda: {member.value: str(member.label) for member in enum})


def _catalog_labels(vocabulary: str) -> dict:
    return translated_labels(LABELS[vocabulary])


def label(value, vocabulary: str):
    enum = LABELS[vocabulary]
    if vocabulary == "priority":
        try:
            value = int(value)
        except (TypeError, ValueError):
            return value
        return _translated_labels(vocabulary).get(value, value)
    labels = _translated_labels(vocabulary)
    if value in labels:
        return labels[value]
    return enum.label_of(value)


def status_badge(status: str) -> Markup:
    badges = _request_cache("badges")
    badge = badges.get(status)
    if badge is None:
        colour = STATUS_BADGES.get(status, "secondary")
        text_class = " text-dark" if colour in ("light", "warning", "info") else ""
        badge = badges[status] = Markup('<span class="badge text-bg-{}{}">{}</span>').format(
            colour, text_class, label(status, "lead_status")
        )
    return badge


class RowKit:
    """What every row of a table shares, built once per table (``{% set kit = row_kit() %}``):
    the date formatter of the user's locale and time zone, translated labels and badges, station
    and region names — each looked up once, not once per row."""

    def __init__(self):
        self.dates = i18n.date_formatter()
        self._labels: dict[str, dict] = {}
        self._badges: dict[str, Markup] = {}
        self._names: dict[tuple, str] = {}
        self._chinese = i18n.is_chinese()

    def label(self, value, vocabulary: str):
        labels = self._labels.get(vocabulary)
        if labels is None:
            labels = self._labels[vocabulary] = _translated_labels(vocabulary)
        found = labels.get(value)
        return found if found is not None else label(value, vocabulary)

    def badge(self, status: str) -> Markup:
        badge = self._badges.get(status)
        if badge is None:
            badge = self._badges[status] = status_badge(status)
        return badge

    def name(self, record) -> str:
        """``display_name`` of a station or region, once per record."""
        key = (type(record).__name__, getattr(record, "id", None))
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = i18n.display_name(record, chinese=self._chinese)
        return name


ID_SENTINEL = 2147483647  # never a row's id in a URL pattern (the largest id a route accepts)


def id_url(endpoint: str, key: str, **values):
    """``url_for(endpoint, key=id)`` as a function of the id, built once: a table of 50 rows calls
    the router once instead of 50 times. ``id_url('leads.detail', 'lead_id')(7)`` → ``/leads/7``."""
    patterns = _request_cache("urls")
    cache_key = (endpoint, key, tuple(sorted(values.items())))
    pattern = patterns.get(cache_key)
    if pattern is None:
        built = url_for(endpoint, **values, **{key: ID_SENTINEL})
        prefix, _, suffix = built.partition(str(ID_SENTINEL))
        pattern = patterns[cache_key] = (prefix, suffix)
    prefix, suffix = pattern
    return lambda id_: f"{prefix}{int(id_)}{suffix}"


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (pagination, sorting)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


_GROUP_SYMBOLS: dict[str, str] = {}


def format_number(value, *args, **kwargs) -> str:
    """The ``number`` filter: a whole number with the locale's digit grouping, the same text as
    Flask-Babel's ``format_decimal`` but without parsing the locale's pattern for every cell of a
    report table (thousands of cells); anything else goes to ``format_decimal``."""
    if type(value) is int and not args and not kwargs:
        locale = get_locale()
        key = str(locale)
        group = _GROUP_SYMBOLS.get(key)
        if group is None:
            from babel.numbers import get_group_symbol

            group = _GROUP_SYMBOLS[key] = get_group_symbol(locale)
        text = f"{value:,}"
        return text if group == "," else text.replace(",", group)
    return format_decimal(value, *args, **kwargs)


def capped(number: int, cap: int | None = None) -> str:
    """A count from a capped query: "1,000+" past the cap, the number otherwise."""
    from . import pagination

    cap = cap or pagination.COUNT_CAP
    return f"{format_decimal(cap)}+" if number > cap else format_decimal(number)


def nl2br(text: str | None) -> Markup:
    return Markup("<br>").join(escape(line) for line in (text or "").splitlines())


def init_app(app: Flask) -> None:
    from . import plugins

    app.jinja_env.filters.update(
        label=label,
        status_badge=status_badge,
        country=i18n.country_name,
        language=i18n.language_name,
        display_name=i18n.display_name,
        phone=i18n.phone_display,
        # One medium date format per locale (the old ``fmt`` argument is accepted and ignored).
        date=lambda value, fmt=None: i18n.format_date(value),
        datetime=lambda value, fmt=None: i18n.format_datetime(value),
        number=format_number,
        nl2br=nl2br,
        capped=capped,
    )
    app.jinja_env.globals.update(
        url_with=url_with,
        id_url=id_url,
        row_kit=RowKit,
        closed_statuses=frozenset(status.value for status in LeadStatus if not status.is_open),
        date_formatter=i18n.date_formatter,
        nav_items=plugins.nav_items,
        get_locale=get_locale,
        languages=lambda: app.config["LANGUAGES"],
    )
    app.jinja_env.add_extension("jinja2.ext.do")
