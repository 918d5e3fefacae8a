"""The plugin system: activation per scope, one contract test per hook, isolation of failures."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from liaison.models import AuditEntry, Contact, LeadStatus, PluginError, Station, TalentLead, User, db
from liaison.plugins import activation, hookspecs
from liaison.plugins.manager import host


from .plugins import good_plugin

GOOD = "fixture_good"


@pytest.fixture
def app_config():
    return {"PLUGINS_EXTRA": ["tests.plugins.good_plugin"]}


@pytest.fixture(autouse=True)
def _reset_fixture_plugin():
    good_plugin.CALLS.clear()
    good_plugin.STORED.clear()
    good_plugin.GRANTED.clear()


@pytest.fixture
def switch(app, world):
    """``switch(True, region="ASEAN")``, ``switch(False, station="hanoi")``, ``switch(True)`` (global)."""

    def _switch(enabled, region=None, station=None, plugin=GOOD):
        with app.test_request_context():
            admin = db.session.get(User, world.users["admin"])
            activation.set_enabled(plugin, enabled, admin,
                                   region_id=world.regions[region] if region else None,
                                   station_id=world.stations[station] if station else None)
            db.session.commit()

    return _switch


def _page(client, path):
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


# Activation ----------------------------------------------------------------------------

def test_installed_plugin_is_off_until_switched_on(login, world):
    for role in ["admin", "hq", "vol_hanoi"]:
        client = login(role)
        status, home = _page(client, "/")
        assert "Fixture nav" not in home and "Fixture widget" not in home
        assert client.get("/p/fixture_good/").status_code == 404


def test_active_for_a_region_only(login, world, switch):
    switch(True, region="ASEAN")
    for role in ["vol_hanoi", "vol_bangkok", "asean_admin", "hq", "admin"]:
        client = login(role)
        assert client.get("/p/fixture_good/").status_code == 200, role
        assert "Fixture nav" in client.get("/").get_data(as_text=True), role
    for role in ["vol_milan", "europe_admin"]:
        client = login(role)
        assert client.get("/p/fixture_good/").status_code == 404, role
        home = client.get("/").get_data(as_text=True)
        assert "Fixture nav" not in home and "Fixture widget" not in home, role


def test_station_overrides_both_ways(login, world, switch):
    switch(True, region="ASEAN")
    switch(False, station="hanoi")
    assert login("vol_hanoi").get("/p/fixture_good/").status_code == 404
    assert login("vol_bangkok").get("/p/fixture_good/").status_code == 200
    assert "Fixture panel" not in login("hq").get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    switch(True, station="milan")
    assert login("vol_milan").get("/p/fixture_good/").status_code == 200
    assert "Fixture panel" in login("hq").get(f"/contacts/{world.contacts['milan']}").get_data(as_text=True)
    switch(None, station="hanoi")  # back to inherit: the region's switch applies again
    assert login("vol_hanoi").get("/p/fixture_good/").status_code == 200


def test_global_switch_and_region_override(login, world, switch):
    switch(True)
    switch(False, region="EUROPE")
    assert login("vol_hanoi").get("/p/fixture_good/").status_code == 200
    assert login("vol_milan").get("/p/fixture_good/").status_code == 404


def test_switching_needs_no_restart_and_reaches_every_worker(app, database_url, login, world):
    from liaison import create_app

    from .conftest import _test_config

    client = login("admin")
    other_worker = create_app(_test_config(database_url, PLUGINS_EXTRA=["tests.plugins.good_plugin"])).test_client()
    other_worker.post("/login", data={"email": world.emails["admin"], "password": "correct-horse-battery"})
    assert client.get("/p/fixture_good/").status_code == 404
    assert other_worker.get("/p/fixture_good/").status_code == 404
    response = client.post(f"/admin/plugins/{GOOD}/switch", data={"scope": f"region:{world.regions['ASEAN']}", "state": "on"})
    assert response.status_code == 302
    assert client.get("/p/fixture_good/").status_code == 200
    assert other_worker.get("/p/fixture_good/").status_code == 200
    client.post(f"/admin/plugins/{GOOD}/switch", data={"scope": f"region:{world.regions['ASEAN']}", "state": "off"})
    assert other_worker.get("/p/fixture_good/").status_code == 404


def test_switches_are_audited(app, login, world):
    client = login("asean_admin")
    client.post(f"/admin/plugins/{GOOD}/switch", data={"scope": f"region:{world.regions['ASEAN']}", "state": "on"})
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "plugin.switch"))
        assert entry.actor_id == world.users["asean_admin"]
        assert entry.details == {"plugin": GOOD, "scope": f"region:{world.regions['ASEAN']}", "before": None, "after": True}
        assert entry.region_id == world.regions["ASEAN"]
    with app.test_request_context():
        # Words for people (issue 8, item 7): the plugin's title and the region's name.
        assert entry.description == "switched the plugin Fixture plugin on (Asean)"


def test_who_may_switch_what(login, world):
    client = login("asean_admin")
    post = lambda scope: client.post(f"/admin/plugins/{GOOD}/switch", data={"scope": scope, "state": "on"}).status_code  # noqa: E731
    assert post(f"region:{world.regions['ASEAN']}") == 302
    assert post(f"station:{world.stations['hanoi']}") == 302
    assert post(f"region:{world.regions['EUROPE']}") == 404
    assert post(f"station:{world.stations['milan']}") == 404
    assert post("global") == 403
    assert post("region:abc") == 404
    assert client.post("/admin/plugins/no_such_plugin/switch", data={"scope": "global", "state": "on"}).status_code == 404
    assert client.post(f"/admin/plugins/{GOOD}/switch", data={"scope": f"region:{world.regions['ASEAN']}", "state": "maybe"}).status_code == 400
    client = login("vol_hanoi")
    assert client.post(f"/admin/plugins/{GOOD}/switch", data={"scope": "global", "state": "on"}).status_code == 403
    assert login("admin").post(f"/admin/plugins/{GOOD}/switch", data={"scope": "global", "state": "on"}).status_code == 302


def test_plugins_page_lists_plugin_and_where_active(login, world, switch):
    switch(True, region="ASEAN")
    page = login("admin").get("/admin/plugins/").get_data(as_text=True)
    assert "Fixture plugin" in page and "9.9" in page and "liaison_panels" in page
    page = login("europe_admin").get("/admin/plugins/").get_data(as_text=True)
    assert "Fixture plugin" in page and "Hanoi" not in page and "Milan" in page


def test_settings_resolve_station_region_global_default(app, login, world):
    client = login("admin")
    assert client.post(f"/admin/plugins/{GOOD}/settings", data={"scope": "global", "greeting": "global", "limit": ""}).status_code == 302
    client.post(f"/admin/plugins/{GOOD}/settings", data={"scope": f"region:{world.regions['ASEAN']}", "greeting": "asean"})
    client.post(f"/admin/plugins/{GOOD}/settings", data={"scope": f"station:{world.stations['hanoi']}", "greeting": "hanoi", "limit": "7"})
    with app.test_request_context():
        assert activation.settings(GOOD, station_id=world.stations["hanoi"]) == {"greeting": "hanoi", "limit": 7}
        assert activation.settings(GOOD, station_id=world.stations["bangkok"]) == {"greeting": "asean", "limit": 3}
        assert activation.settings(GOOD, station_id=world.stations["milan"]) == {"greeting": "global", "limit": 3}
        assert activation.settings(GOOD, region_id=world.regions["EUROPE"]) == {"greeting": "global", "limit": 3}


def test_invalid_setting_is_explained_and_not_saved(app, login, world):
    client = login("admin")
    response = client.post(f"/admin/plugins/{GOOD}/settings", data={"scope": "global", "greeting": "x", "limit": "99"})
    assert response.status_code == 200
    assert "This value is not valid for this setting." in response.get_data(as_text=True)
    with app.test_request_context():
        assert activation.settings(GOOD) == {"greeting": "hello", "limit": 3}


# One contract test per hook -----------------------------------------------------------

def test_every_hookspec_has_a_contract_test():
    names = sorted(name for name in dir(hookspecs) if name.startswith("liaison_"))
    missing = [name for name in names if f"test_hook_{name}" not in globals()]
    assert not missing, f"hooks without a contract test: {missing}"


def test_hook_liaison_blueprints(login, world, switch):
    switch(True, region="ASEAN")
    assert login("vol_hanoi").get("/p/fixture_good/").get_data(as_text=True) == "fixture page"


def test_hook_liaison_blueprints_requires_login(client, world, switch):
    switch(True)
    response = client.get("/p/fixture_good/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_hook_liaison_cli_commands(runner):
    assert "hello from fixture" in runner.invoke(args=["fixture-good-hello"]).output


def test_hook_liaison_migration_dirs(app):
    """Each bundled plugin hands over one directory that holds exactly its own branch."""
    import os

    from alembic.script import ScriptDirectory

    from liaison.plugins import migration_dirs

    directories = migration_dirs(app)
    core = os.path.join(os.path.dirname(__file__), "..", "migrations")
    script = ScriptDirectory(core, version_locations=[os.path.join(core, "versions"), *directories])
    for plugin in ("asean_language_title", "europe_school_partnership"):
        mine = [d for d in directories if os.path.basename(os.path.dirname(os.path.abspath(d))) == plugin]
        assert len(mine) == 1, (plugin, directories)
        files = {os.path.abspath(os.path.join(mine[0], name)) for name in os.listdir(mine[0]) if name.endswith(".py")}
        branch = {os.path.abspath(rev.path) for rev in script.iterate_revisions(f"{plugin}@head", "base")
                  if plugin in rev.branch_labels or os.path.dirname(os.path.abspath(rev.path)) == os.path.abspath(mine[0])}
        assert files and branch == files, (plugin, files, branch)


def test_hook_liaison_translation_dirs(app):
    directories = app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    assert directories[-1].endswith("liaison/translations")  # the core's catalog wins


def test_hook_liaison_demo_data(runner, world):
    runner.invoke(args=["demo", "load"])
    assert ("demo_data", "liaison") in good_plugin.CALLS


def test_hook_liaison_form_fields(app, login, world, switch):
    switch(True, region="ASEAN")
    client = login("vol_hanoi")
    assert "fixture_good__nickname" in client.get(f"/contacts/new?station_id={world.stations['hanoi']}").get_data(as_text=True)
    assert "fixture_good__nickname" not in login("vol_milan").get("/contacts/new").get_data(as_text=True)
    # The extra field validates with the core's fields; nothing is written on error.
    client = login("vol_hanoi")
    response = client.post(f"/contacts/new?station_id={world.stations['hanoi']}",
                           data={"kind": "scholar", "name": "Tran Van Binh", "fixture_good__nickname": "far too long"})
    assert response.status_code == 200 and "Nickname too long" in response.get_data(as_text=True)
    assert "far too long" in response.get_data(as_text=True)  # input kept
    with app.app_context():
        assert db.session.scalar(db.select(Contact).where(Contact.name == "Tran Van Binh")) is None
    # The core form class is untouched: no plugin field leaks into it.
    from liaison.contacts.forms import ContactForm

    assert not hasattr(ContactForm, "fixture_good__nickname")


def test_hook_liaison_form_saved(app, login, world, switch):
    switch(True, region="ASEAN")
    client = login("vol_hanoi")
    client.post(f"/contacts/new?station_id={world.stations['hanoi']}",
                data={"kind": "scholar", "name": "Tran Van Binh", "fixture_good__nickname": "Binh"})
    with app.app_context():
        contact = db.session.scalar(db.select(Contact).where(Contact.name == "Tran Van Binh"))
    assert good_plugin.STORED[("contact", contact.id)] == {"nickname": "Binh"}


def test_hook_liaison_form_data(login, world, switch):
    switch(True, region="ASEAN")
    good_plugin.STORED[("contact", world.contacts["hanoi"])] = {"nickname": "Anh"}
    page = login("vol_hanoi").get(f"/contacts/{world.contacts['hanoi']}/edit").get_data(as_text=True)
    assert 'value="Anh"' in page


def test_hook_liaison_validate_lead(app, login, world, switch):
    switch(True, region="ASEAN")
    client = login("vol_hanoi")
    url = f"/leads/new?contact_id={world.contacts['hanoi']}"
    data = {"category": "employment", "summary": "a forbidden lead", "priority": "2", "submission_token": "tok-1",
            "save_and_submit": "1"}
    response = client.post(url, data=data)
    assert response.status_code == 200
    assert "The fixture plugin refuses forbidden leads." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(TalentLead).where(TalentLead.summary == "a forbidden lead")) is None
    data.pop("save_and_submit")
    data["save"] = "1"
    assert client.post(url, data=data).status_code == 302  # a draft may be saved
    assert ("validate_lead", "a forbidden lead", "save") in good_plugin.CALLS


def test_hook_liaison_panels(login, world, switch):
    switch(True, region="ASEAN")
    client = login("hq")
    for path in [f"/contacts/{world.contacts['hanoi']}", f"/leads/{world.leads['hanoi_draft']}",
                 f"/stations/{world.stations['hanoi']}"]:
        page = client.get(path).get_data(as_text=True)
        assert "&lt;b&gt;escaped&lt;/b&gt;" in page, path  # plain strings are escaped
        assert "<b>trusted</b>" in page, path  # Markup is trusted
        assert page.index("Trusted panel") < page.index("Fixture panel"), path  # ordered
    assert "Fixture panel" not in client.get(f"/contacts/{world.contacts['milan']}").get_data(as_text=True)


def test_hook_liaison_report_sections(login, world, switch):
    """Called only for plugins active for some of the report's stations, with just those."""
    good_plugin.CALLS.clear()
    page = login("hq").get("/reports/?period=2025").get_data(as_text=True)
    assert "Fixture figures" not in page and not [c for c in good_plugin.CALLS if c[0] == "report_sections"]
    switch(True, station="hanoi")
    page = login("hq").get("/reports/?period=2025").get_data(as_text=True)
    assert "Fixture figures" in page and 'data-chart="fixture_good.stations"' in page
    assert ("report_sections", "2025", (world.stations["hanoi"],)) in good_plugin.CALLS
    assert "/reports/table/fixture_good.stations.csv" in page
    good_plugin.CALLS.clear()
    assert "Fixture figures" not in login("vol_milan").get("/reports/?period=2025").get_data(as_text=True)
    assert not [c for c in good_plugin.CALLS if c[0] == "report_sections"]


def test_hook_liaison_scorecard_figures(login, world, switch):
    """Called only for plugins active for some of the scorecard's stations, with just those."""
    good_plugin.CALLS.clear()
    page = login("hq").get("/reports/scorecard/?year=2025").get_data(as_text=True)
    assert "Fixture scorecard figure" not in page
    assert not [c for c in good_plugin.CALLS if c[0] == "scorecard_figures"]
    switch(True, station="hanoi")
    page = login("hq").get("/reports/scorecard/?year=2025").get_data(as_text=True)
    assert "Fixture scorecard figure" in page
    assert ("scorecard_figures", 2025, (world.stations["hanoi"],)) in good_plugin.CALLS
    good_plugin.CALLS.clear()
    assert "Fixture scorecard figure" not in login("vol_milan").get("/reports/scorecard/?year=2025").get_data(as_text=True)
    assert not [c for c in good_plugin.CALLS if c[0] == "scorecard_figures"]


def test_hook_liaison_nav_items(login, world, switch):
    switch(True, region="ASEAN")
    assert 'href="/p/fixture_good/">Fixture nav' in login("vol_bangkok").get("/").get_data(as_text=True)


def test_hook_liaison_home_widgets(login, world, switch):
    switch(True, region="ASEAN")
    assert "widget for vol_hanoi@example.org" in login("vol_hanoi").get("/").get_data(as_text=True)


def test_hook_liaison_plugin_access(login, world, switch):
    """A plugin opens its pages (and its navigation) to a user with no station where it is on."""
    good_plugin.GRANTED[world.emails["vol_milan"]] = True
    client = login("vol_milan")
    assert client.get("/p/fixture_good/").status_code == 404  # switched on nowhere: not even asked
    assert not [c for c in good_plugin.CALLS if c[0] == "plugin_access"]
    switch(True, region="ASEAN")
    assert client.get("/p/fixture_good/").get_data(as_text=True) == "fixture page"
    assert 'href="/p/fixture_good/">Fixture nav' in client.get("/").get_data(as_text=True)
    assert ("plugin_access", world.emails["vol_milan"]) in good_plugin.CALLS
    # Without the grant, the core's rule stands: 404 and no navigation.
    good_plugin.GRANTED.clear()
    assert client.get("/p/fixture_good/").status_code == 404
    assert "Fixture nav" not in client.get("/").get_data(as_text=True)
    # Users who have the plugin at their own stations are not asked.
    good_plugin.CALLS.clear()
    assert login("vol_hanoi").get("/p/fixture_good/").status_code == 200
    assert not [c for c in good_plugin.CALLS if c[0] == "plugin_access"]


def test_hook_liaison_plugin_access_other_answers_are_the_plugins_error(app, login, world, switch):
    switch(True, region="ASEAN")
    good_plugin.GRANTED[world.emails["vol_milan"]] = "yes"
    assert login("vol_milan").get("/p/fixture_good/").status_code == 404
    with app.app_context():
        errors = db.session.scalars(db.select(PluginError).where(PluginError.hook == "liaison_plugin_access")).all()
    assert errors and "expected True or None" in errors[0].error


def test_hook_liaison_export_columns(login, world, switch):
    switch(True, region="ASEAN")
    rows = list(load_workbook(io.BytesIO(login("admin").get("/exports/leads.xlsx").data)).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    column = header.index("Fixture column")
    by_station = {row[header.index("Station")]: row[column] for row in body}
    assert by_station["Hanoi station"].startswith("fx-")
    assert by_station["Milan station"] is None  # plugin off for Milan: blank cell


def test_hook_liaison_personal_fields(app, monkeypatch):
    """Called for every installed plugin, active or not; merged with the core's declaration;
    a stale name, a plugin reclassifying a core column and a wrong result are all reported."""
    from liaison.models import Sensitivity
    from liaison.privacy import classification

    monkeypatch.setattr(good_plugin, "PERSONAL_FIELDS", {
        "fixture_good_things.secret": Sensitivity.SENSITIVE, "fixture_good_things.id": "none",
        "contacts.email": Sensitivity.NONE,  # a plugin may not declassify a core column
    })
    with app.test_request_context():  # the plugin is switched on nowhere: still called
        fields = classification.fields()
        assert fields["fixture_good_things.secret"] == Sensitivity.SENSITIVE
        assert fields["fixture_good_things.id"] == Sensitivity.NONE
        assert fields["contacts.email"] == Sensitivity.NORMAL
        assert classification.personal_columns("fixture_good_things") == {"secret": Sensitivity.SENSITIVE}
        # The bundled plugins classify their tables through the same hook.
        assert fields["asean_language_title_applications.certificate_number"] == Sensitivity.SENSITIVE
        problems = classification.problems()
        assert "classified but no such column: fixture_good_things.secret (plugin fixture_good)" in problems
        assert "plugin fixture_good may not reclassify the core's column contacts.email" in problems
    monkeypatch.setattr(good_plugin, "PERSONAL_FIELDS", ["not", "a", "dict"])
    monkeypatch.setitem(app.extensions, classification._EXTENSION_KEY, None)
    with app.test_request_context():
        assert "fixture_good_things.secret" not in classification.fields()
        assert any(e.plugin == GOOD and e.hook == "liaison_personal_fields" for e in host().recent_errors)


def _create_lead(client, world, station, submit):
    data = {"category": "employment", "summary": f"new lead {station}", "priority": "2",
            "submission_token": f"tok-{station}-{submit}", ("save_and_submit" if submit else "save"): "1"}
    return client.post(f"/leads/new?contact_id={world.contacts[station]}", data=data)


def test_hook_liaison_event_lead_created(app, login, world, switch):
    switch(True, region="ASEAN")
    _create_lead(login("vol_hanoi"), world, "hanoi", submit=False)
    _create_lead(login("vol_milan"), world, "milan", submit=False)
    created = [call for call in good_plugin.CALLS if call[0] == "lead_created"]
    with app.app_context():
        hanoi = db.session.scalar(db.select(TalentLead.id).where(TalentLead.summary == "new lead hanoi"))
    assert created == [("lead_created", hanoi)]  # not called for Milan, where the plugin is off


def test_hook_liaison_event_lead_submitted(app, login, world, switch):
    switch(True, region="ASEAN")
    _create_lead(login("vol_hanoi"), world, "hanoi", submit=True)
    with app.app_context():
        hanoi = db.session.scalar(db.select(TalentLead.id).where(TalentLead.summary == "new lead hanoi"))
    assert ("lead_submitted", hanoi) in good_plugin.CALLS


def test_hook_liaison_event_lead_status_changed(app, login, world, switch):
    switch(True, region="ASEAN")
    client = login("hq")
    lead = world.leads["hanoi_submitted"]
    assert client.post(f"/leads/{lead}/move", data={"move": "start_review", "version": "3"}).status_code in (302, 409)
    with app.app_context():
        version = db.session.get(TalentLead, lead).version
    client.post(f"/leads/{lead}/move", data={"move": "start_review", "version": str(version)})
    assert ("lead_status_changed", lead, "submitted", "under_review") in good_plugin.CALLS
    milan = world.leads["milan_submitted"]
    with app.app_context():
        version = db.session.get(TalentLead, milan).version
    client.post(f"/leads/{milan}/move", data={"move": "start_review", "version": str(version)})
    assert not [c for c in good_plugin.CALLS if c[0] == "lead_status_changed" and c[1] == milan]


def test_hook_liaison_event_contact_created(app, login, world, switch):
    switch(True, region="ASEAN")
    login("vol_hanoi").post(f"/contacts/new?station_id={world.stations['hanoi']}", data={"kind": "student", "name": "Le Thi Hoa"})
    with app.app_context():
        contact = db.session.scalar(db.select(Contact).where(Contact.name == "Le Thi Hoa"))
    assert ("contact_created", contact.id) in good_plugin.CALLS


def test_hook_liaison_event_station_created(app, login, world, switch):
    switch(True, region="ASEAN")
    client = login("asean_admin")
    response = client.post("/stations/new", data={
        "name": "Jakarta station", "region_id": str(world.regions["ASEAN"]), "country": "ID", "city": "Jakarta",
        "host_organisation": "Indonesia Chinese Association", "host_kind": "chinese_association"})
    assert response.status_code == 302
    with app.app_context():
        station = db.session.scalar(db.select(Station).where(Station.name == "Jakarta station"))
    assert ("station_created", station.id) in good_plugin.CALLS


def test_hook_liaison_merge_contacts(app, login, world):
    """Called for every installed plugin (switched on nowhere here) with both contacts still
    present, inside the merge; a failure refuses the whole merge (tests/test_merge.py)."""
    with app.app_context():
        survivor, merged = world.contacts["hanoi"], world.contacts["milan"]
    response = login("hq").post(f"/duplicates/merge/{survivor}/{merged}", data={"confirm": "y"})
    assert response.status_code == 302
    assert ("merge_contacts", survivor, merged) in good_plugin.CALLS
    with app.app_context():
        assert db.session.get(Contact, merged) is None
        assert db.session.scalar(db.select(TalentLead.contact_id).where(
            TalentLead.id == world.leads["milan_draft"])) == survivor


def test_hook_liaison_event_kinds(app, login, world):
    """A plugin's kinds of event (``<plugin>.<kind>``) join the core's; others are refused."""
    from .test_events_kinds import check_event_kinds

    check_event_kinds(app, login, world)


def test_hook_liaison_notification_kinds(app, login, world):
    """A plugin's kinds (named ``<plugin>.<kind>``) are on everyone's settings page; the plugin
    notifies through ``notify`` and only users in scope of the station are told, in their language."""
    from liaison.models import Notification
    from liaison.notifications import notify

    client = login("vol_milan")
    assert "A fixture event" in client.get("/notifications/preferences").get_data(as_text=True)
    assert ("notification_kinds",) in good_plugin.CALLS
    with app.test_request_context():
        notify("fixture_good.event", [world.users["vol_hanoi"], world.users["vol_milan"]],
               station_id=world.stations["milan"], params={"what": "a partnership signed"}, path="/")
        db.session.commit()
        assert db.session.scalars(db.select(Notification.user_id)).all() == [world.users["vol_milan"]]
    assert "Fixture event: a partnership signed" in client.get("/notifications/").get_data(as_text=True)


def test_hook_liaison_search_results(app, login, world, switch):
    """Called with the query and the user, for plugins on somewhere in the user's scope; a few
    ``SearchResult`` items per kind shown in their own group (five at most); anything else returned
    is recorded as the plugin's error, not shown."""
    from liaison.models import PluginError

    switch(True, region="ASEAN")
    page = login("vol_hanoi").get("/search?q=Fixture").get_data(as_text=True)
    assert ("search_results", "Fixture", world.users["vol_hanoi"]) in good_plugin.CALLS
    assert 'id="find-fixture_good"' in page and "Fixture records" in page
    assert page.count("Fixture record ") == 5 and "not a SearchResult" not in page
    with app.app_context():
        assert db.session.scalar(db.select(PluginError).where(PluginError.hook == "liaison_search_results"))
    good_plugin.CALLS.clear()
    page = login("vol_milan").get("/search?q=Fixture").get_data(as_text=True)  # off in Europe
    assert "Fixture record" not in page and not any(c[0] == "search_results" for c in good_plugin.CALLS)


def test_hook_liaison_import_types(app, world, runner, tmp_path):
    """A plugin's record type (switched on nowhere) is importable with ``flask import records``:
    all rows through its ``create`` in one transaction (a refused row: nothing written), recorded
    as an import of ``<plugin>.<type>`` and reverted through its ``remove``."""
    from liaison.imports import services as imports
    from liaison.models import ImportBatch

    with app.test_request_context():
        assert "fixture_good.partners" in imports.types()
    station = str(world.stations["milan"])
    bad = tmp_path / "partners-bad.csv"
    bad.write_text("Partner name,City\nTurin Polytechnic,Turin\n!Nope,Milan\n", encoding="utf-8")
    result = runner.invoke(args=["import", "records", "fixture_good.partners", str(bad), "--station", station])
    assert result.exit_code != 0 and "nothing was written" in result.output
    with app.app_context():
        assert not db.session.scalars(db.select(Contact).where(Contact.name.like("Fixture import%"))).all()
        assert not db.session.scalars(db.select(ImportBatch)).all()
    good = tmp_path / "partners.csv"
    good.write_text("Partner name,City\nTurin Polytechnic,Turin\nBocconi,Milan\n", encoding="utf-8")
    result = runner.invoke(args=["import", "records", "fixture_good.partners", str(good), "--station", station])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        names = db.session.scalars(db.select(Contact.name).where(Contact.name.like("Fixture import%"))
                                   .order_by(Contact.name)).all()
        assert names == ["Fixture import Bocconi", "Fixture import Turin Polytechnic"]
        batch = db.session.scalar(db.select(ImportBatch))
        assert (batch.record_type, batch.created_count, batch.status) == ("fixture_good.partners", 2, "committed")
        imports.revert(batch, db.session.get(User, world.users["admin"]))
        assert not db.session.scalars(db.select(Contact).where(Contact.name.like("Fixture import%"))).all()
        assert db.session.get(ImportBatch, batch.id).status == "reverted"
    assert [c[0] for c in good_plugin.CALLS if c[0].startswith("import_")].count("import_remove") == 1


def test_hook_liaison_retention_rules(app, login, world):
    """Every installed plugin's rules run with the core's — the plugin is switched on nowhere —
    counted in dry runs and applied in runs, stored as ``<plugin>.<code>``."""
    from liaison.models import RetentionRunCount
    from liaison.privacy import retention

    with app.test_request_context():
        contact = Contact(station_id=world.stations["milan"], kind="scholar", name="Fixture retention one")
        db.session.add(contact)
        db.session.commit()
        contact_id = contact.id
        rule = next(r for r in retention.rules() if r.plugin == GOOD)
        assert rule.key == "fixture_good.stale_fixture"
        dry = retention.run(dry_run=True)
        assert {r.rule.key: r.matched for r in dry.results}["fixture_good.stale_fixture"] == 1
        assert dry.dry_run and db.session.scalar(db.select(RetentionRunCount.count).where(
            RetentionRunCount.run_id == dry.id, RetentionRunCount.rule == "fixture_good.stale_fixture")) == 1
        assert not [call for call in good_plugin.CALLS if call[0] == "retention_apply"]
        done = retention.run(dry_run=False)
        assert {r.rule.key: r.handled for r in done.results}["fixture_good.stale_fixture"] == 1
        assert ("retention_apply", (contact_id,), False) in good_plugin.CALLS
    page = login("admin").get("/privacy/retention").get_data(as_text=True)
    assert "Fixture rule" in page and "FIXTURE_RETENTION_DAYS" in page


# Isolation ------------------------------------------------------------------------------

BROKEN = ["tests.plugins.broken_plugin", "tests.plugins.import_error_plugin", "tests.plugins.misspelled_plugin"]


@pytest.fixture
def broken_app(database_url):
    from liaison import create_app

    from .conftest import _empty_database, _test_config

    app = create_app(_test_config(database_url, PLUGINS_EXTRA=BROKEN))
    yield app
    with app.app_context():
        _empty_database()


def test_broken_plugins_do_not_stop_the_app(broken_app):
    plugin_host = host(broken_app)
    failures = {failure.name: failure.error for failure in plugin_host.failures}
    assert "cannot be imported, on purpose" in failures["tests.plugins.import_error_plugin"]
    assert "unknown hook(s) liaison_nav_item" in failures["tests.plugins.misspelled_plugin"]
    assert "fixture_broken" in plugin_host.plugins
    assert "fixture_misspelled" not in plugin_host.plugins
    # Its start-up hooks failed too, and were recorded.
    assert {e.hook for e in plugin_host.recent_errors} >= {"liaison_blueprints", "liaison_cli_commands",
                                                           "liaison_translation_dirs"}


def test_broken_plugin_leaves_core_pages_working_and_data_stored(broken_app):
    from .conftest import PASSWORD
    from .factories import build_world

    with broken_app.app_context():
        world = build_world(PASSWORD)
        admin = db.session.get(User, world.users["admin"])
        with broken_app.test_request_context():
            activation.set_enabled("fixture_broken", True, admin)
        db.session.commit()
    client = broken_app.test_client()
    client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD})
    for path in ["/", "/contacts/", "/leads/", "/stations/", f"/contacts/{world.contacts['hanoi']}",
                 f"/leads/{world.leads['hanoi_draft']}", f"/stations/{world.stations['hanoi']}",
                 f"/contacts/new?station_id={world.stations['hanoi']}", f"/leads/new?contact_id={world.contacts['hanoi']}",
                 "/exports/leads.xlsx", "/exports/contacts.xlsx", f"/contacts/{world.contacts['hanoi']}/edit"]:
        assert client.get(path).status_code == 200, path
    # Everything submitted is stored despite the plugin failing in every hook.
    assert client.post(f"/contacts/new?station_id={world.stations['hanoi']}",
                       data={"kind": "scholar", "name": "Do Van Kien"}).status_code == 302
    response = client.post(f"/leads/new?contact_id={world.contacts['hanoi']}",
                           data={"category": "employment", "summary": "survives a broken plugin", "priority": "2",
                                 "submission_token": "broken-1", "save_and_submit": "1"})
    assert response.status_code == 302
    with broken_app.app_context():
        assert db.session.scalar(db.select(Contact).where(Contact.name == "Do Van Kien")) is not None
        lead = db.session.scalar(db.select(TalentLead).where(TalentLead.summary == "survives a broken plugin"))
        assert lead.status == LeadStatus.SUBMITTED
        stored = {e.hook for e in db.session.scalars(db.select(PluginError).where(PluginError.plugin == "fixture_broken"))}
    assert {"liaison_panels", "liaison_nav_items", "liaison_home_widgets", "liaison_form_fields",
            "liaison_validate_lead", "liaison_event_lead_created", "liaison_event_lead_submitted",
            "liaison_event_contact_created", "liaison_export_columns"} <= stored
    client.post("/logout")
    client.post("/login", data={"email": world.emails["admin"], "password": PASSWORD})
    page = client.get("/admin/plugins/").get_data(as_text=True)
    assert "liaison_panels failed on purpose" in page
    assert "unknown hook(s) liaison_nav_item" in page
    assert client.get("/review/").status_code == 200


def test_old_plugin_errors_are_pruned_when_new_ones_arrive(broken_app):
    from datetime import timedelta

    from liaison.models import utcnow

    from .conftest import PASSWORD
    from .factories import build_world

    with broken_app.app_context():
        world = build_world(PASSWORD)
        db.session.add(PluginError(plugin="fixture_broken", hook="liaison_panels", error="old",
                                   created_at=utcnow() - timedelta(days=45)))
        admin = db.session.get(User, world.users["admin"])
        with broken_app.test_request_context():
            activation.set_enabled("fixture_broken", True, admin)
        db.session.commit()
    client = broken_app.test_client()
    client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD})
    assert client.get("/").status_code == 200
    with broken_app.app_context():
        errors = db.session.scalars(db.select(PluginError.error)).all()
    assert "old" not in errors and errors  # the new ones are stored, the old one is gone


# Hooks are called through pluggy (issue 8, item 13) ------------------------------------------

class _Specs:
    @staticmethod
    @hookspecs.hookspec(firstresult=True)
    def liaison_fixture_pick(value):
        """firstresult: the first plugin's answer wins."""

    @staticmethod
    @hookspecs.hookspec
    def liaison_fixture_collect(value):
        """Every plugin's contribution."""


def _plugin(name, **hooks):
    from types import ModuleType

    from liaison.plugins import PluginInfo

    module = ModuleType(name)
    module.plugin_info = PluginInfo(name=name, title=name, version="1", description="")
    for hook, function in hooks.items():
        setattr(module, hook, function)
    return module


def _host_with_fixture_hooks(**kwargs):
    from liaison.plugins.manager import PluginHost

    plugin_host = PluginHost(**kwargs)
    plugin_host.add_hookspecs(_Specs)
    calls = []

    @hookspecs.hookimpl
    def pick_first(value):
        calls.append("first")
        return f"first:{value}"

    @hookspecs.hookimpl
    def pick_second(value):
        calls.append("second")
        return f"second:{value}"

    @hookspecs.hookimpl
    def collect_a(value):
        return f"a{value}"

    @hookspecs.hookimpl
    def collect_broken(value):
        raise RuntimeError("broken collector")

    @hookspecs.hookimpl(wrapper=True)
    def wrap_collect(value):
        results = yield
        return [*results, f"wrapped{value}"]

    plugin_host.register(_plugin("p_second", liaison_fixture_pick=pick_second, liaison_fixture_collect=collect_a), "t")
    plugin_host.register(_plugin("p_first", liaison_fixture_pick=pick_first,
                                 liaison_fixture_collect=collect_broken), "t")
    plugin_host.register(_plugin("p_wrapper", liaison_fixture_collect=wrap_collect), "t")
    return plugin_host, calls


def test_firstresult_hooks_stop_at_the_first_answer():
    plugin_host, calls = _host_with_fixture_hooks()
    assert plugin_host.call("liaison_fixture_pick", None, value=1) == [("p_first", "first:1")]
    assert calls == ["first"]  # pluggy stopped: the second implementation never ran
    # An inactive plugin is left out by pluggy's subset caller: the next one answers.
    assert plugin_host.call("liaison_fixture_pick", {"p_second"}, value=2) == [("p_second", "second:2")]


def test_hook_wrappers_wrap_the_guarded_call():
    plugin_host, _calls = _host_with_fixture_hooks()
    results = plugin_host.call("liaison_fixture_collect", None, value=7)
    # The broken plugin is recorded and contributes nothing; the wrapper sees the others' results.
    assert results == [("p_second", "a7"), ("core", "wrapped7")]
    assert [(f.plugin, f.hook) for f in plugin_host.recent_errors] == [("p_first", "liaison_fixture_collect")]
    # Switched off, the wrapper is left out too.
    assert plugin_host.call("liaison_fixture_collect", {"p_second"}, value=8) == [("p_second", "a8")]


def test_tracing_logs_every_hook_call(monkeypatch, caplog):
    import logging

    monkeypatch.setenv("LIAISON_TRACE_PLUGINS", "1")
    plugin_host, _calls = _host_with_fixture_hooks()
    with caplog.at_level(logging.INFO, logger="liaison.plugins.trace"):
        plugin_host.call("liaison_fixture_pick", None, value=1)
    [line] = [r.getMessage() for r in caplog.records if r.name == "liaison.plugins.trace"]
    assert line.startswith("hook liaison_fixture_pick plugins=") and "p_first" in line and " ms" in line
    monkeypatch.delenv("LIAISON_TRACE_PLUGINS")
    quiet, _calls = _host_with_fixture_hooks()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="liaison.plugins.trace"):
        quiet.call("liaison_fixture_pick", None, value=1)
    assert not [r for r in caplog.records if r.name == "liaison.plugins.trace"]


def test_hook_call_monitoring_sees_the_app_hooks(app, login, world, switch):
    """The app's own calls go through pluggy: pluggy's call monitoring sees them."""
    seen = []
    undo = host(app).pm.add_hookcall_monitoring(lambda name, impls, kwargs: seen.append(name),
                                                lambda outcome, name, impls, kwargs: None)
    try:
        switch(True)
        assert login("vol_hanoi").get("/").status_code == 200
    finally:
        undo()
    assert "liaison_nav_items" in seen and "liaison_home_widgets" in seen


# The activation snapshot does not read every station (issue 9) -------------------------------

class _Work:
    """Statements, bound parameters and (on SQLite) virtual-machine steps of what runs inside."""

    def __init__(self, engine):
        self.engine, self.statements, self.parameters, self.steps = engine, 0, 0, 0

    def _step(self):
        self.steps += 1
        return 0

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self.statements += 1
        self.parameters += len(parameters or ())
        dbapi = conn.connection.dbapi_connection
        if hasattr(dbapi, "set_progress_handler"):
            dbapi.set_progress_handler(self._step, 1)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._before)
        with self.engine.connect() as conn:  # leave no handler behind on the pooled connections
            dbapi = conn.connection.dbapi_connection
            if hasattr(dbapi, "set_progress_handler"):
                dbapi.set_progress_handler(None, 1)


def _many_stations(app, world, number):
    with app.app_context():
        for index in range(number):
            region = world.regions["ASEAN" if index % 2 else "EUROPE"]
            db.session.add(Station(name=f"Extra station {index}", region_id=region, country="VN", city=f"City {index}",
                                   host_organisation="Alumni", host_kind="alumni_association"))
        db.session.commit()


@pytest.mark.parametrize("role, path", [
    ("hq", "/leads/{lead}"), ("hq", "/p/fixture_good/"), ("vol_hanoi", "/leads/{lead}"),
    ("vol_hanoi", "/p/fixture_good/"), ("asean_admin", "/p/fixture_good/"), ("hq", "/contacts/{contact}"),
])
def test_activation_work_does_not_grow_with_the_stations(app, login, world, switch, role, path):
    switch(True, region="ASEAN")
    switch(False, station="bangkok")
    switch(True, station="milan")
    path = path.format(lead=world.leads["hanoi_draft"], contact=world.contacts["hanoi"])
    client = login(role)
    with app.app_context():
        engine = db.engine
    client.get(path)  # warm caches (templates, translations)
    with _Work(engine) as few:
        assert client.get(path).status_code == 200
    _many_stations(app, world, 120)
    with _Work(engine) as many:
        assert client.get(path).status_code == 200
    assert many.statements == few.statements, (few.statements, many.statements)
    assert many.parameters == few.parameters, (few.parameters, many.parameters)
    if engine.dialect.name == "sqlite":
        # Index lookups cost the same at any size; reading 120 more stations would cost hundreds of steps.
        assert many.steps - few.steps < 120, (few.steps, many.steps)


# The data subject's rights (liaison.privacy.subject / erasure) -----------------------------

def _erasure_request(app, world, requester="vol_hanoi"):
    from liaison.models import ErasureRequest

    with app.app_context():
        erasure = ErasureRequest(contact_id=world.contacts["hanoi"], station_id=world.stations["hanoi"],
                                 reason="The person asked.", requested_by_id=world.users[requester])
        db.session.add(erasure)
        db.session.commit()
        return erasure.id


def test_hook_liaison_personal_data(login, world):
    # Called for every installed plugin, switched on or not: the data is held either way.
    client = login("vol_hanoi")
    report = client.get(f"/privacy/rights/contacts/{world.contacts['hanoi']}/report.json").get_json()
    section = next(s for s in report["sections"] if s["plugin"] == GOOD)
    assert section["title"] == {"en": "Fixture records", "zh": "Fixture records"}
    assert section["records"] == [{"contact_id": world.contacts["hanoi"], "fixture_note": f"fixture-{world.contacts['hanoi']}"}]
    assert f"fixture-{world.contacts['hanoi']}" in client.get(f"/privacy/rights/contacts/{world.contacts['hanoi']}").get_data(as_text=True)


def test_hook_liaison_erase_personal_data(app, login, world, monkeypatch):
    from liaison.models import ErasureFlag, ErasureRequest, RetentionException

    erasure_id = _erasure_request(app, world)
    monkeypatch.setattr(good_plugin, "FAIL_ERASE", True)
    client = login("admin")
    html = client.post(f"/privacy/rights/erasures/{erasure_id}/approve", data={"confirm": "y"},
                       follow_redirects=True).get_data(as_text=True)
    assert "could not erase its records, so nothing was erased" in html
    assert "the fixture plugin cannot erase its records" in html
    with app.app_context():  # strict: the whole erasure rolled back
        assert db.session.get(ErasureRequest, erasure_id).status == "requested"
        assert db.session.get(Contact, world.contacts["hanoi"]).name == "Nguyen Van An"
    monkeypatch.setattr(good_plugin, "FAIL_ERASE", False)
    good_plugin.CALLS.clear()
    client.post(f"/privacy/rights/erasures/{erasure_id}/approve", data={"confirm": "y"})
    # Called before the core anonymises the contact: the values to remove are still there.
    assert ("erase_personal_data", world.contacts["hanoi"], erasure_id, "Nguyen Van An") in good_plugin.CALLS
    with app.app_context():
        assert db.session.get(ErasureRequest, erasure_id).status == "done"
        kept = db.session.execute(db.select(RetentionException.plugin, RetentionException.record_type,
                                            RetentionException.reason)).all()
        assert (GOOD, "fixture_record", "fixture_kept") in kept
        flags = db.session.execute(db.select(ErasureFlag.table_name, ErasureFlag.column_name)).all()
        assert ("fixture_things", "note") in flags


def test_hook_liaison_retention_reasons(app, login, world):
    erasure_id = _erasure_request(app, world)
    client = login("admin")
    client.post(f"/privacy/rights/erasures/{erasure_id}/approve", data={"confirm": "y"})
    page = client.get(f"/privacy/rights/erasures/{erasure_id}").get_data(as_text=True)
    assert "Kept by the fixture for its figures" in page


def test_hook_liaison_api_resources(app, world):
    """Each bundled plugin's main records at /api/v1/p/<plugin>/<name>/, scoped like the pages (the
    token user's stations, only where the plugin is on); anything but an ``ApiResource`` is recorded
    as the plugin's error and served nowhere."""
    from liaison.api import plugin_resources
    from liaison.plugins import host

    from .test_api import make_token
    from .test_authorization_matrix import _plugin_records

    with app.test_request_context():
        records = _plugin_records(world)
        hanoi, milan = make_token(app, world, "vol_hanoi"), make_token(app, world, "vol_milan")
    client = app.test_client()
    asean = "/api/v1/p/asean_language_title/applications/"
    items = client.get(asean, headers={"Authorization": f"Bearer {hanoi}"}).get_json()["items"]
    assert [item["id"] for item in items] == [records["title_app"]] and "credentials" not in items[0]
    assert client.get(asean, headers={"Authorization": f"Bearer {milan}"}).get_json()["items"] == []
    europe = f"/api/v1/p/europe_school_partnership/partnerships/{records['partnership']}"
    assert client.get(europe, headers={"Authorization": f"Bearer {milan}"}).status_code == 200
    assert client.get(europe, headers={"Authorization": f"Bearer {hanoi}"}).status_code == 404
    errors = []
    plugin_host = host(app)
    original = plugin_host.startup_results
    plugin_host.startup_results = lambda name: [("fixture_good", ["not a resource"])]
    plugin_host.record_error, record_error = (lambda plugin, hook, exc: errors.append((plugin, hook))), \
        plugin_host.record_error
    try:
        assert plugin_resources.plugin_blueprints(app) == []
    finally:
        plugin_host.startup_results, plugin_host.record_error = original, record_error
    assert errors == [("fixture_good", "liaison_api_resources")]
