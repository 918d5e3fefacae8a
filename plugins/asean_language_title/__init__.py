"""Translator professional titles in ASEAN minor languages (翻译系列职称).

A station records a translator's application for a title level in one of the ASEAN minor
languages; HQ checks the materials and sends it to evaluation — by the region's own panel or,
for the languages that panel does not cover, entrusted to the national body (委托评审) — and
records the outcome. The rules (minimum years, the panel's languages) are plugin settings.

Modules: ``choices`` (vocabularies), ``rules`` (settings, eligibility, routing), ``workflow``
(the state machine), ``services`` (writes), ``queries`` (reads, statistics), ``views``.
"""
from __future__ import annotations

import os

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect

from liaison import hookimpl
from liaison.models import Station, db
from liaison.permissions import acts_for_station
from liaison.plugins import ExportColumn, NavItem, Panel, PluginInfo, Widget

from . import models  # noqa: F401  (registers the tables with the core's metadata)
from .api import liaison_api_resources  # noqa: F401  (the REST API's resources)
from .choices import OPEN_STATUSES, PLUGIN, Level, Status, language_label
from .rules import SETTINGS

HERE = os.path.dirname(__file__)

plugin_info = PluginInfo(
    name=PLUGIN,
    title=_l("Translator titles in ASEAN languages"),
    version="1.0.0",
    description=_l("Applications for translator professional titles in ASEAN minor languages: eligibility "
                   "rules, routing to the regional panel or to entrusted evaluation, statistics."),
    regions=("ASEAN",),
    settings=SETTINGS,
)


# Start-up -------------------------------------------------------------------------------------

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

    demo.load()


# Pages ----------------------------------------------------------------------------------------

def _station_of(record) -> Station:
    if "station" in inspect(record).unloaded:
        return db.session.get(Station, record.station_id)
    return record.station


@hookimpl
def liaison_panels(page, record, user):
    if page != "contact":
        return None
    from . import queries
    from .views import render

    body = render("_panel.html", contact=record, applications=queries.of_contact(record.id),
                  can_create=acts_for_station(user, _station_of(record)))
    return Panel(_l("Translator title applications"), Markup(body), order=50)


@hookimpl
def liaison_nav_items(user):
    return [NavItem(_l("Translator titles"), f"{PLUGIN}.index", order=50)]


@hookimpl
def liaison_home_widgets(user):
    from . import queries
    from .views import render

    counts = queries.open_counts(user)
    body = render("_widget.html", counts=counts, statuses=OPEN_STATUSES, total=sum(counts.values()))
    return Widget(_l("Open translator title applications"), Markup(body), order=60)


@hookimpl
def liaison_export_columns(export):
    if export != "contacts":
        return None
    from . import queries

    latest = queries.latest_by_contact(current_user)  # one load for the whole export

    def cell(attribute):
        def value(contact):
            application = latest.get(contact.id)
            return attribute(application) if application is not None else ""
        return value

    return [
        ExportColumn(f"{PLUGIN}_language", _l("Title application: language"),
                     cell(lambda a: str(language_label(a.language)))),
        ExportColumn(f"{PLUGIN}_level", _l("Title application: level"), cell(lambda a: str(Level.label_of(a.level)))),
        ExportColumn(f"{PLUGIN}_status", _l("Title application: status"),
                     cell(lambda a: str(Status.label_of(a.status)))),
    ]


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
