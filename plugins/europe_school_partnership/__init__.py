"""European school partnerships and joint training (中外合作 / 联合培养).

A station brokers a partnership between a home institution (a vocational or technician college,
a university school) and a European school, and follows it stage by stage — first contact,
intent, negotiation, MoU, agreement, active — with its documents, its next step and a timeline.
Switched on per region (EUROPE in the demo) or per station on the admin's Plugins page.
"""
from __future__ import annotations

import os

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from liaison import hookimpl
from liaison.models import db
from liaison.plugins import ExportColumn, NavItem, Panel, PluginInfo, Widget

from . import models  # noqa: F401  (registers the tables with the core's metadata)
from .api import liaison_api_resources  # noqa: F401  (the REST API's resources)
from .choices import NAME

HERE = os.path.dirname(__file__)
WIDGET_ITEMS = 5

plugin_info = PluginInfo(
    name=NAME,
    title=_l("European school partnerships"),
    version="1.0.0",
    description=_l("Partnerships and joint training with European schools, stage by stage, "
                   "with documents, next steps and overdue lists."),
    regions=("EUROPE",),
)


# Start-up ---------------------------------------------------------------------------------

@hookimpl
def liaison_blueprints():
    from .views import bp

    return [bp]


@hookimpl
def liaison_migration_dirs():
    return [os.path.join(HERE, "migrations")]


@hookimpl
def liaison_translation_dirs():
    return [os.path.join(HERE, "translations")]


@hookimpl
def liaison_demo_data(app):
    from . import demo

    demo.load(app)


# Pages -------------------------------------------------------------------------------------

@hookimpl
def liaison_nav_items(user):
    return NavItem(_l("School partnerships"), f"{NAME}.index", order=50)


@hookimpl
def liaison_panels(page, record, user):
    from . import services
    from .dates import local_today

    if page == "station":
        partnerships = services.for_station(user, record.id)
        new_url = url_for(f"{NAME}.create", station_id=record.id) if services.can_manage(user, record) else None
    elif page == "contact":
        partnerships = services.for_contact(user, record.id)
        if not partnerships:
            return None  # most contacts have none: no empty box on every contact page
        new_url = None
    else:
        return None
    body = render_template(f"{NAME}/_panel.html", partnerships=partnerships, new_url=new_url, today=local_today())
    return Panel(_l("School partnerships"), Markup(body), order=50)


@hookimpl
def liaison_home_widgets(user):
    """Overdue next steps and those due this month; a card only when it has something."""
    from . import services
    from .dates import local_today

    today = local_today()
    cards = (
        (_l("Overdue partnership steps"), services.overdue(user), url_for(f"{NAME}.overdue"), 40),
        (_l("Partnership steps due this month"), services.due_this_month(user),
         url_for(f"{NAME}.index", due="month"), 41),
    )
    widgets = []
    for title, stmt, more_url, order in cards:
        total = services.count_of(stmt)
        if not total:
            continue
        partnerships = db.session.scalars(stmt.limit(WIDGET_ITEMS)).all()
        body = render_template(f"{NAME}/_widget.html", partnerships=partnerships, total=total,
                               more_url=more_url, today=today)
        widgets.append(Widget(title, Markup(body), order=order))
    return widgets


@hookimpl
def liaison_export_columns(export):
    if export != "contacts":
        return None
    from . import services

    per_contact = services.partnerships_per_contact(current_user)  # one query, not one per row
    return [ExportColumn(f"{NAME}_count", _l("School partnerships"), lambda contact: per_contact.get(contact.id, 0))]


# Personal data --------------------------------------------------------------------------------

@hookimpl
def liaison_personal_fields():
    from .classification import PERSONAL_FIELDS

    return PERSONAL_FIELDS


@hookimpl
def liaison_personal_data(contact):
    from . import privacy

    return privacy.personal_data(contact)


@hookimpl
def liaison_erase_personal_data(contact, erasure):
    from . import privacy

    return privacy.erase_personal_data(contact, erasure)


@hookimpl
def liaison_retention_reasons():
    from . import privacy

    return privacy.retention_reasons()


@hookimpl
def liaison_report_sections(period, stations):
    from . import reports

    return reports.sections(period, stations)


@hookimpl
def liaison_scorecard_figures(year, station_ids):
    from . import scorecard

    return scorecard.figures(year, station_ids)


@hookimpl
def liaison_search_results(q, user):
    from . import search

    return search.results(q, user)
