"""A fixture plugin implementing every hook, recording what it was called with."""
from __future__ import annotations

import click
from flask import Blueprint
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import Length, Optional

from liaison import hookimpl
from liaison.plugins import ExportColumn, NavItem, Panel, PluginInfo, Setting, Widget

plugin_info = PluginInfo(
    name="fixture_good",
    title="Fixture plugin",
    version="9.9",
    description="Implements every hook for the tests.",
    regions=("ASEAN",),
    settings=(Setting("greeting", "str", "hello", "Greeting"), Setting("limit", "int", 3, "Limit", min=1, max=10)),
)

CALLS: list[tuple] = []
STORED: dict[tuple[str, int], dict] = {}

bp = Blueprint("fixture_good", __name__, url_prefix="/p/fixture_good")


@bp.route("/")
def index():
    return "fixture page"


@hookimpl
def liaison_blueprints():
    return [bp]


@click.command("fixture-good-hello")
def hello():
    click.echo("hello from fixture")


@hookimpl
def liaison_cli_commands():
    return [hello]


@hookimpl
def liaison_migration_dirs():
    return []


@hookimpl
def liaison_translation_dirs():
    return []


@hookimpl
def liaison_demo_data(app):
    CALLS.append(("demo_data", app.name))


@hookimpl
def liaison_form_fields(form, station):
    CALLS.append(("form_fields", form, station.id))
    return {"nickname": StringField("Nickname", validators=[Optional(), Length(max=5, message="Nickname too long")])}


@hookimpl
def liaison_form_data(form, record):
    return STORED.get((form, record.id), {})


@hookimpl
def liaison_form_saved(form, record, data, user):
    CALLS.append(("form_saved", form, record.id, dict(data)))
    STORED[(form, record.id)] = dict(data)


@hookimpl
def liaison_validate_lead(lead, action):
    CALLS.append(("validate_lead", lead.summary, action))
    if "forbidden" in (lead.summary or "") and action == "submit":
        return ["The fixture plugin refuses forbidden leads."]
    return []


@hookimpl
def liaison_panels(page, record, user):
    return [Panel("Fixture panel", "<b>escaped</b>"), Panel("Trusted panel", Markup("<b>trusted</b>"), order=1)]


@hookimpl
def liaison_nav_items(user):
    return [NavItem("Fixture nav", "fixture_good.index")]


@hookimpl
def liaison_home_widgets(user):
    return [Widget("Fixture widget", f"widget for {user.email}")]


@hookimpl
def liaison_export_columns(export):
    return [ExportColumn("fixture", "Fixture column", lambda record: f"fx-{record.id}")]


@hookimpl
def liaison_event_lead_created(lead, user):
    CALLS.append(("lead_created", lead.id))


@hookimpl
def liaison_event_lead_submitted(lead, user):
    CALLS.append(("lead_submitted", lead.id))


@hookimpl
def liaison_event_lead_status_changed(lead, event, user):
    CALLS.append(("lead_status_changed", lead.id, event.from_status, event.to_status))


@hookimpl
def liaison_event_contact_created(contact, user):
    CALLS.append(("contact_created", contact.id))


@hookimpl
def liaison_event_station_created(station, user):
    CALLS.append(("station_created", station.id))
