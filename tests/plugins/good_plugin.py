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


GRANTED: dict[str, object] = {}  # e-mail -> what liaison_plugin_access answers for the account


@hookimpl
def liaison_plugin_access(user):
    CALLS.append(("plugin_access", user.email))
    return GRANTED.get(user.email)


@hookimpl
def liaison_export_columns(export):
    return [ExportColumn("fixture", "Fixture column", lambda record: f"fx-{record.id}")]


# What liaison_personal_fields returns (the fixture has no tables: tests set it).
PERSONAL_FIELDS: object = {}


@hookimpl
def liaison_personal_fields():
    return PERSONAL_FIELDS


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


@hookimpl
def liaison_report_sections(period, stations):
    from liaison.reports.sections import ReportSection, ReportTable

    CALLS.append(("report_sections", period.key, tuple(stations)))
    return ReportSection("Fixture figures", [
        ReportTable("stations", "Fixture stations counted", ["Station id", "Counted"],
                    [[str(station), 1] for station in stations], chart="bar"),
    ])


@hookimpl
def liaison_scorecard_figures(year, station_ids):
    from liaison.scorecard.services import ScorecardFigure

    CALLS.append(("scorecard_figures", year, tuple(station_ids)))
    return ScorecardFigure("stations", "Fixture scorecard figure", {sid: 7 for sid in station_ids})


@hookimpl
def liaison_retention_rules():
    from sqlalchemy import select

    from liaison.models import Contact
    from liaison.privacy.retention import RetentionRule

    def find(now):  # the fixture's "records": contacts named for it
        return select(Contact.id).where(Contact.name.like("Fixture retention%"))

    def apply(ids, run):
        CALLS.append(("retention_apply", tuple(ids), run.dry_run))
        return len(ids)

    return [RetentionRule("stale_fixture", "Fixture rule", "Fixture records", "Handles the fixture's contacts.",
                          find, apply, settings=(("FIXTURE_RETENTION_DAYS", 30),))]


@hookimpl
def liaison_event_kinds():
    from liaison.events.kinds import EventKind

    CALLS.append(("event_kinds",))
    return [EventKind("fixture_good.fair", "A fixture fair"), EventKind("unprefixed", "Not this one")]


@hookimpl
def liaison_notification_kinds():
    from liaison.models import Channel
    from liaison.notifications import NotificationKind

    CALLS.append(("notification_kinds",))
    return [NotificationKind("fixture_good.event", "A fixture event", "Fixture event: %(what)s", Channel.APP)]


FAIL_MERGE = False  # tests switch these to make the merge hook fail or return data
MERGE_RESULT = None


@hookimpl
def liaison_merge_contacts(survivor, merged):
    CALLS.append(("merge_contacts", survivor.id, merged.id))
    if FAIL_MERGE:
        raise RuntimeError("the fixture plugin cannot move its records")
    return MERGE_RESULT


@hookimpl
def liaison_import_types():
    from liaison.imports.types import ImportType, Target
    from liaison.models import Contact, db

    def create(station, values, actor):
        if values.get("name", "").startswith("!"):
            raise ValueError("the fixture refuses names starting with “!”")
        contact = Contact(station_id=station.id, kind="organisation", name=f"Fixture import {values['name']}",
                          city=values.get("city"), created_by_id=actor.id)
        db.session.add(contact)
        db.session.flush()
        CALLS.append(("import_create", station.id, values["name"]))
        return contact.id

    def remove(ids):
        CALLS.append(("import_remove", tuple(ids)))
        for contact in db.session.scalars(db.select(Contact).where(Contact.id.in_(ids))):
            db.session.delete(contact)

    return [ImportType("fixture_good.partners", "Fixture partners",
                       (Target("name", "Partner name", 100), Target("city", "City", 60)),
                       create, required=("name",), remove=remove)]


FAIL_ERASE = False  # tests switch it to make the erase hook fail


@hookimpl
def liaison_personal_data(contact):
    from liaison.privacy.subject import SubjectSection

    CALLS.append(("personal_data", contact.id))
    return [SubjectSection("Fixture records", [{"contact_id": contact.id, "fixture_note": f"fixture-{contact.id}"}])]


@hookimpl
def liaison_erase_personal_data(contact, erasure):
    from liaison.privacy.erasure import ErasureOutcome

    CALLS.append(("erase_personal_data", contact.id, erasure.id, contact.name))
    if FAIL_ERASE:
        raise RuntimeError("the fixture plugin cannot erase its records")
    return ErasureOutcome(exceptions=[("fixture_record", contact.id, "fixture_kept")],
                          flags=[("fixture_things", contact.id, "note")])


@hookimpl
def liaison_retention_reasons():
    return {"fixture_kept": "Kept by the fixture for its figures"}


@hookimpl
def liaison_search_results(q, user):
    from liaison.find import SearchResult

    CALLS.append(("search_results", q, user.id))
    if "fixture" not in q.lower():
        return None
    results = [SearchResult(kind="fixture_good", group="Fixture records", title=f"Fixture record {i}",
                            url=f"/p/fixture_good/?record={i}", detail="found by the fixture") for i in range(7)]
    return results + ["not a SearchResult"]
