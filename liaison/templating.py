"""Jinja filters and globals shared by every template (core and plugins)."""
from __future__ import annotations

from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale
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


def label(value, vocabulary: str):
    enum = LABELS[vocabulary]
    if vocabulary == "priority":
        try:
            return enum(int(value)).label
        except (TypeError, ValueError):
            return value
    return enum.label_of(value)


def status_badge(status: str) -> Markup:
    colour = STATUS_BADGES.get(status, "secondary")
    text_class = " text-dark" if colour in ("light", "warning", "info") else ""
    return Markup('<span class="badge text-bg-{}{}">{}</span>').format(
        colour, text_class, LeadStatus.label_of(status)
    )


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (pagination, sorting)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


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
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
        number=format_decimal,
        nl2br=nl2br,
    )
    app.jinja_env.globals.update(
        url_with=url_with,
        nav_items=plugins.nav_items,
        get_locale=get_locale,
        languages=lambda: app.config["LANGUAGES"],
    )
    app.jinja_env.add_extension("jinja2.ext.do")
