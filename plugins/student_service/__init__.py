"""Whole-chain service for students abroad (留学人员全链条服务).

From the Jiashan county document: the county follows its students before, during and after
their study abroad. A **student** is a contact of the station where they study, with a stage
(prospective → abroad → returned → founded a company / employed at home); the home county's
**service team** sees its students wherever they are. **Service requests** (policy consultation,
exit-entry and first-aid training; health consultation, counselling, emergency help, family
care; internship, job, start-up support, policy benefits) are referred to a member department
of the county's service alliance, with a due date and an outcome. HQ opens an **emergency roll
call** for a country or city and the stations and the team mark every student there, with live
counts. **Programmes** (summer internships matched by field, summer camps, lectures) take
applications and attendance. Switched on per region or station on the admin's Plugins page.

Modules: ``choices`` (vocabularies), ``models``, ``access`` (who sees what: the core's scope plus
the home team), ``workflow`` (the two state machines, on ``liaison.workflow``), ``services``
(reads and writes), ``views``, ``reports``/``scorecard``/``search``/``privacy`` (the hooks).
"""
from __future__ import annotations

import os

import click
from flask import render_template, url_for
from flask.cli import with_appcontext
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

plugin_info = PluginInfo(
    name=NAME,
    title=_l("Services for students abroad"),
    version="1.0.0",
    description=_l("Whole-chain service for students abroad: students by stage, service requests referred to the "
                   "departments of the service alliance, emergency roll calls, internships, camps and lectures."),
    regions=("EUROPE", "ASEAN"),
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

    demo.load()


@hookimpl
def liaison_cli_commands():
    @click.group(NAME.replace("_", "-"), help="Services for students abroad.")
    def group():
        pass

    @group.command("remind", help="Notify HQ and the stations of overdue service requests (once a day).")
    @with_appcontext
    def remind():
        from . import services

        click.echo(f"{services.remind_overdue()} overdue request(s)")
        db.session.commit()

    return [group]


# Pages -------------------------------------------------------------------------------------

@hookimpl
def liaison_nav_items(user):
    return NavItem(_l("Students abroad"), f"{NAME}.index", order=55)


@hookimpl
def liaison_plugin_access(user):
    """The members of a home service team have the pages even without a station where the plugin
    is on (the county's own staff): every page scopes its data by the team grant (``access``)."""
    from . import access

    return True if access.team_ids(user) else None


@hookimpl
def liaison_panels(page, record, user):
    if page != "contact":
        return None
    from . import access, services
    from .models import Student

    student = services.student_of_contact(record.id)
    if student is not None:
        student = db.session.scalar(access.scoped(db.select(Student).where(Student.id == student.id), Student, user))
    may_add = student is None and (user.is_hq or _acts(user, record))
    if student is None and not may_add:
        return None
    body = render_template(f"{NAME}/_panel.html", student=student, contact=record,
                           new_url=url_for(f"{NAME}.student_new", contact_id=record.id) if may_add else None)
    return Panel(_l("Student abroad"), Markup(body), order=55)


def _acts(user, contact) -> bool:
    from sqlalchemy import inspect

    from liaison.models import Station
    from liaison.permissions import acts_for_station

    station = (db.session.get(Station, contact.station_id) if "station" in inspect(contact).unloaded
               else contact.station)
    return acts_for_station(user, station)


@hookimpl
def liaison_home_widgets(user):
    """Open roll calls and overdue service requests; a card only when there is something."""
    from . import services

    widgets = []
    calls, total = services.home_summary(user)  # one query for both cards
    if calls:
        body = render_template(f"{NAME}/_widget_roll_calls.html", calls=calls)
        widgets.append(Widget(_l("Open emergency roll calls"), Markup(body), order=5))
    if total:
        body = render_template(f"{NAME}/_widget_overdue.html", total=total)
        widgets.append(Widget(_l("Overdue student service requests"), Markup(body), order=42))
    return widgets


@hookimpl
def liaison_export_columns(export):
    if export != "contacts":
        return None
    from . import services
    from .choices import Stage

    stages = services.students_per_contact(current_user)  # one query for the whole export
    return [ExportColumn(f"{NAME}_stage", _l("Student abroad: stage"),
                         lambda contact: str(Stage.label_of(stages[contact.id])) if contact.id in stages else "")]


@hookimpl
def liaison_notification_kinds():
    from liaison.notifications.kinds import NotificationKind
    from liaison.models import Channel

    return [
        NotificationKind(f"{NAME}.request_referred", _l("A student's service request was referred"),
                         _l("Service request #%(request)s was referred to %(department)s, due %(due)s."),
                         Channel.APP, _l("The volunteers of the student's station.")),
        NotificationKind(f"{NAME}.request_overdue", _l("A student's service request is overdue"),
                         _l("Service request #%(request)s was due %(due)s and is still open."), Channel.DIGEST,
                         _l("HQ and the volunteers of the student's station, once a day.")),
        NotificationKind(f"{NAME}.roll_call_opened", _l("An emergency roll call was opened"),
                         _l("Emergency roll call “%(title)s”: please reach your students there."), Channel.EMAIL,
                         _l("The volunteers of every station with students in the roll call.")),
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
def liaison_merge_contacts(survivor, merged):
    from . import privacy

    return privacy.merge_contacts(survivor, merged)


# Figures and search ---------------------------------------------------------------------------

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
