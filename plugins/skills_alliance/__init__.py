"""A skills-talent alliance (技术技能人才国际发展联盟).

From the Chongqing seed: an alliance of technician colleges, enterprises and HR service agencies
from several countries, with membership certificates and renewals, framework agreements among
two or more parties (school–enterprise and school–school cooperation) followed through their
lifecycle and milestones, and a catalogue of international vocational qualifications recognised
as domestic qualifications or professional titles. Switched on per region (ASEAN in the demo:
the New International Land-Sea Trade Corridor) or per station on the admin's Plugins page.
"""
from __future__ import annotations

import os

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from liaison import hookimpl
from liaison.models import Channel, db
from liaison.plugins import NavItem, Panel, PluginInfo, Widget

from . import models  # noqa: F401  (registers the tables with the core's metadata)
from .api import liaison_api_resources  # noqa: F401  (the REST API's resources)
from . import services  # noqa: F401  (registers the renewal reminders and lapses with ``jobs run-due``)
from .choices import NAME

HERE = os.path.dirname(__file__)
WIDGET_ITEMS = 5

plugin_info = PluginInfo(
    name=NAME,
    title=_l("Skills-talent alliance"),
    version="1.0.0",
    description=_l("An international skills-talent alliance: members and renewals, framework agreements "
                   "with milestones and renewal reminders, and a recognition catalogue of international "
                   "vocational qualifications."),
    regions=("ASEAN",),
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
    return NavItem(_l("Skills alliance"), f"{NAME}.agreements", order=55)


@hookimpl
def liaison_panels(page, record, user):
    if page != "station":
        return None
    from sqlalchemy import func

    from .models import Agreement, Member

    counts = {
        "members": db.session.scalar(services.visible_members(user).where(Member.station_id == record.id)
                                     .with_only_columns(func.count())) or 0,
        "agreements": db.session.scalar(services.visible_agreements(user).where(Agreement.station_id == record.id)
                                        .with_only_columns(func.count())) or 0,
    }
    body = render_template(f"{NAME}/_panel.html", counts=counts, station=record)
    return Panel(_l("Skills-talent alliance"), Markup(body), order=55)


@hookimpl
def liaison_home_widgets(user):
    """Overdue milestones of the alliance's agreements; a card only when there are some."""
    total, milestones = services.overdue_summary(user, WIDGET_ITEMS)
    if not total:
        return None
    body = render_template(f"{NAME}/_widget.html", milestones=milestones, total=total,
                           more_url=url_for(f"{NAME}.milestones"))
    return Widget(_l("Overdue agreement milestones"), Markup(body), order=45)


@hookimpl
def liaison_notification_kinds():
    from liaison.notifications.kinds import NotificationKind

    recipients = _l("The station's volunteers and its region's admins.")
    return [
        NotificationKind(
            f"{NAME}.agreement_expiring", _l("A framework agreement is about to expire"),
            _l("The framework agreement “%(title)s” (%(station)s) is valid until %(date)s: renew it or let it expire."),
            Channel.EMAIL, recipients),
        NotificationKind(
            f"{NAME}.membership_expiring", _l("An alliance membership is about to end"),
            _l("The membership of “%(name)s” (%(station)s) is valid until %(date)s: record its renewal, or it lapses."),
            Channel.EMAIL, recipients),
    ]


@hookimpl
def liaison_import_types():
    from .imports import IMPORT_TYPE

    return [IMPORT_TYPE]


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


# Figures and search ---------------------------------------------------------------------------

@hookimpl
def liaison_report_sections(period, stations):
    from . import figures

    return figures.sections(period, stations)


@hookimpl
def liaison_scorecard_figures(year, station_ids):
    from . import figures

    return figures.scorecard(year, station_ids)


@hookimpl
def liaison_search_results(q, user):
    from . import search

    return search.results(q, user)
