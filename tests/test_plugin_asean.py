"""The bundled plugin ``asean_language_title``: translator titles in ASEAN minor languages.

Messages are checked in English (``Accept-Language: en``): the default locale is Chinese and
``make test`` compiles the catalogs first.
"""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from liaison.models import Contact, PluginScope, Station, StationStatus, User, db, utcnow
from liaison.plugins import activation
from plugins.asean_language_title import queries, services
from plugins.asean_language_title.choices import Document, Route, Status
from plugins.asean_language_title.models import TitleApplication, TitleEvent
from plugins.asean_language_title.rules import Candidate, Rules, eligibility_problems, route_for
from plugins.asean_language_title.workflow import IllegalMove, NotReady

from .conftest import PASSWORD

PLUGIN = "asean_language_title"
BASE = f"/p/{PLUGIN}"
ALL_DOCUMENTS = [document.value for document in Document]
TODAY = utcnow().date()

# An applicant for Translator who meets the default rules (4 years, 2 as Assistant Translator).
ELIGIBLE = dict(language="vi", level="translator", practice_years=6, current_title="assistant",
                current_title_since=date(2018, 3, 1), education="BA in Vietnamese", documents=ALL_DOCUMENTS)

# The moves that bring a draft to each state, and who makes them.
PATHS = {
    Status.DRAFT: [],
    Status.SUBMITTED: ["submit"],
    Status.MATERIALS_CHECK: ["submit", "start_check"],
    Status.RETURNED: ["submit", "start_check", "return_for_corrections"],
    Status.IN_EVALUATION: ["submit", "start_check", "send_to_evaluation"],
    Status.PASSED: ["submit", "start_check", "send_to_evaluation", "record_pass"],
    Status.NOT_PASSED: ["submit", "start_check", "send_to_evaluation", "record_fail"],
}
STATION_MOVES = {"submit", "resubmit"}


# Fixtures and helpers ----------------------------------------------------------------------------

@pytest.fixture
def en_ctx(app):
    """A request context in English, for calling services and checking their messages."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def plugin_on(app, world):
    """The plugin switched on for region ASEAN (Hanoi and Bangkok), off elsewhere."""
    with app.app_context():
        activation.set_enabled(PLUGIN, True, db.session.get(User, world.users["admin"]),
                               region_id=world.regions["ASEAN"])
        db.session.commit()
    return world


@pytest.fixture
def as_user(app, world):
    """``as_user("hq")`` returns a fresh test client logged in as that account, in English."""

    def _as(key: str):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        response = client.post("/login", data={"email": world.emails[key], "password": PASSWORD})
        assert response.status_code == 302, f"login as {key} failed"
        return client

    return _as


def user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def contact_of(world, station: str) -> Contact:
    return db.session.scalar(select(Contact).where(Contact.id == world.contacts[station])
                             .options(selectinload(Contact.station)))


def load(application_id: int) -> TitleApplication:
    db.session.expire_all()
    return db.session.scalar(select(TitleApplication).where(TitleApplication.id == application_id)
                             .options(selectinload(TitleApplication.station)))


def new_application(world, station: str = "hanoi", actor: str | None = None, **fields) -> int:
    data = {**ELIGIBLE, **fields}
    application = services.create_application(contact_of(world, station), data, user(world, actor or f"vol_{station}"))
    return application.id


def move(world, application_id: int, name: str, actor: str, **data) -> TitleEvent:
    data.setdefault("certificate_number", "GX-2022-001" if name == "record_pass" else None)
    data.setdefault("decision_date", TODAY if name in ("record_pass", "record_fail") else None)
    data.setdefault("comment", "Please add the employer's letter." if name == "return_for_corrections" else None)
    return services.make_move(load(application_id), name, user(world, actor), expected_version=None, **data)


def bring_to(world, application_id: int, status: Status, station: str = "hanoi", **data) -> None:
    for name in PATHS[status]:
        move(world, application_id, name, f"vol_{station}" if name in STATION_MOVES else "hq", **data)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# Workflow ----------------------------------------------------------------------------------------

def test_every_allowed_move_is_made_by_its_side_and_recorded(plugin_on, en_ctx):
    world = plugin_on
    app_id = new_application(world)
    steps = [("submit", "vol_hanoi", Status.SUBMITTED), ("start_check", "hq", Status.MATERIALS_CHECK),
             ("return_for_corrections", "hq2", Status.RETURNED), ("resubmit", "asean_admin", Status.SUBMITTED),
             ("start_check", "admin", Status.MATERIALS_CHECK), ("send_to_evaluation", "hq", Status.IN_EVALUATION),
             ("record_pass", "hq", Status.PASSED)]
    for name, actor, target in steps:
        move(world, app_id, name, actor, decision_date=date(2022, 12, 15), certificate_number="CICG-2022-7")
        assert load(app_id).status == target
    application = load(app_id)
    assert (application.certificate_number, application.decision_date) == ("CICG-2022-7", date(2022, 12, 15))
    events = db.session.scalars(select(TitleEvent).where(TitleEvent.application_id == app_id, TitleEvent.kind == "status")
                                .order_by(TitleEvent.id)).all()
    assert [(e.from_value, e.to_value) for e in events] == [
        ("draft", "submitted"), ("submitted", "materials_check"), ("materials_check", "returned"),
        ("returned", "submitted"), ("submitted", "materials_check"), ("materials_check", "in_evaluation"),
        ("in_evaluation", "passed")]
    assert [e.actor_id for e in events] == [world.users[actor] for _name, actor, _target in steps]
    assert events[2].text == "Please add the employer's letter."
    assert events[5].details == {"route": "local"}


def test_not_passed_records_the_decision_date(plugin_on, en_ctx):
    world = plugin_on
    app_id = new_application(world)
    bring_to(world, app_id, Status.NOT_PASSED, decision_date=date(2023, 6, 30))
    application = load(app_id)
    assert application.status == Status.NOT_PASSED and application.decision_date == date(2023, 6, 30)
    assert application.certificate_number is None


@pytest.mark.parametrize("status, name, actor, message", [
    (Status.DRAFT, "submit", "hq", "not allowed"),  # HQ does not speak for the station
    (Status.DRAFT, "submit", "vol_bangkok", "not allowed"),  # another station's volunteer
    (Status.SUBMITTED, "start_check", "vol_hanoi", "not allowed"),  # a station cannot check itself
    (Status.SUBMITTED, "start_check", "asean_admin", "not allowed"),  # regional admins are station side
    (Status.MATERIALS_CHECK, "record_pass", "hq", "cannot be changed"),  # not in evaluation yet
    (Status.RETURNED, "resubmit", "hq", "not allowed"),
    (Status.IN_EVALUATION, "return_for_corrections", "hq", "cannot be changed"),
    (Status.PASSED, "record_fail", "admin", "cannot be changed"),  # decided is final
    (Status.DRAFT, "fly_away", "admin", "Unknown action"),
])
def test_forbidden_moves_change_nothing(plugin_on, en_ctx, status, name, actor, message):
    world = plugin_on
    app_id = new_application(world)
    bring_to(world, app_id, status)
    events_before = count(TitleEvent)
    with pytest.raises(IllegalMove) as error:
        move(world, app_id, name, actor)
    assert message in str(error.value.message)
    assert load(app_id).status == status
    assert count(TitleEvent) == events_before


@pytest.mark.parametrize("name, data, field", [
    ("record_pass", {"certificate_number": ""}, "certificate_number"),
    ("record_pass", {"decision_date": None}, "decision_date"),
    # Two days: "today" is the user's (the app's zone), which may be a day ahead of UTC's.
    ("record_fail", {"decision_date": TODAY + timedelta(days=2)}, "decision_date"),
])
def test_decisions_need_their_data(plugin_on, en_ctx, name, data, field):
    world = plugin_on
    app_id = new_application(world)
    bring_to(world, app_id, Status.IN_EVALUATION)
    with pytest.raises(IllegalMove) as error:
        move(world, app_id, name, "hq", **data)
    assert error.value.field == field
    assert load(app_id).status == Status.IN_EVALUATION


def test_returning_needs_a_comment(plugin_on, en_ctx):
    world = plugin_on
    app_id = new_application(world)
    bring_to(world, app_id, Status.MATERIALS_CHECK)
    with pytest.raises(IllegalMove) as error:
        move(world, app_id, "return_for_corrections", "hq", comment="  ")
    assert error.value.field == "comment"


def test_a_suspended_station_cannot_submit(plugin_on, en_ctx):
    world = plugin_on
    app_id = new_application(world)
    db.session.get(Station, world.stations["hanoi"]).status = StationStatus.SUSPENDED
    db.session.commit()
    with pytest.raises(IllegalMove):
        move(world, app_id, "submit", "vol_hanoi")
    assert load(app_id).status == Status.DRAFT


def test_at_a_suspended_station_hq_still_checks_and_decides(plugin_on, en_ctx):
    """The core's one rule (liaison.workflow): the station side is read-only, HQ's moves remain."""
    world = plugin_on
    app_id = new_application(world)
    move(world, app_id, "submit", "vol_hanoi")
    db.session.get(Station, world.stations["hanoi"]).status = StationStatus.SUSPENDED
    db.session.commit()
    move(world, app_id, "start_check", "hq")
    assert load(app_id).status == Status.MATERIALS_CHECK
    move(world, app_id, "return_for_corrections", "hq")
    with pytest.raises(IllegalMove):
        move(world, app_id, "resubmit", "vol_hanoi")
    assert load(app_id).status == Status.RETURNED


def test_moves_over_http(plugin_on, as_user):
    world = plugin_on
    with as_user("vol_hanoi").application.test_request_context():
        app_id = new_application(world)
    volunteer, reviewer = as_user("vol_hanoi"), as_user("hq")
    page = text_of(volunteer.get(f"{BASE}/{app_id}"))
    assert "Submit" in page and "Start materials check" not in page
    response = volunteer.post(f"{BASE}/{app_id}/move", data={"move": "submit", "version": 1})
    assert response.status_code == 302
    # The volunteer cannot make HQ's move: clear message, nothing changes.
    response = volunteer.post(f"{BASE}/{app_id}/move", data={"move": "start_check", "version": 2})
    assert response.status_code == 400
    assert "You are not allowed to do “Start materials check” on this application." in text_of(response)
    assert "Start materials check" in text_of(reviewer.get(f"{BASE}/{app_id}"))
    assert reviewer.post(f"{BASE}/{app_id}/move", data={"move": "start_check", "version": 2}).status_code == 302
    response = reviewer.post(f"{BASE}/{app_id}/move", data={"move": "return_for_corrections", "version": 3})
    assert response.status_code == 400 and "Please add a comment" in text_of(response)
    # A stale form (someone moved the application meanwhile) is refused.
    response = reviewer.post(f"{BASE}/{app_id}/move", data={"move": "send_to_evaluation", "version": 1})
    assert response.status_code == 409
    with volunteer.application.app_context():
        assert load(app_id).status == Status.MATERIALS_CHECK
        assert db.session.scalar(select(func.count()).select_from(TitleEvent)
                                 .where(TitleEvent.application_id == app_id)) == 3


# Who may open each page: own station (vol_hanoi, asean_admin), foreign (vol_milan, europe_admin:
# the plugin is off in Europe, so everything is 404), HQ (sees, does not write), admin.
OK, LOGIN = "ok", "login"
ROLES = ["anonymous", "vol_hanoi", "vol_milan", "asean_admin", "europe_admin", "hq", "admin"]
SEE = dict(anonymous=LOGIN, vol_hanoi=OK, vol_milan=404, asean_admin=OK, europe_admin=404, hq=OK, admin=OK)
ACT = {**SEE, "hq": 403}
MANAGE = {**SEE, "vol_hanoi": 403, "hq": 403}
MATRIX = [
    ("GET", "/", SEE), ("GET", "/statistics", SEE), ("GET", "/{application}", SEE),
    ("GET", "/new?contact_id={contact}", ACT), ("POST", "/new?contact_id={contact}", ACT),
    ("GET", "/{application}/edit", ACT), ("POST", "/{application}/edit", ACT),
    ("POST", "/{application}/move", SEE),  # which moves each side makes: the workflow tests above
    ("POST", "/{application}/route", MANAGE),
]


@pytest.mark.parametrize("method, path, expected", MATRIX, ids=[f"{m} {p}" for m, p, _e in MATRIX])
def test_authorization_matrix(plugin_on, app, method, path, expected):
    world = plugin_on
    with app.test_request_context():
        app_id = new_application(world)
    url = BASE + path.format(application=app_id, contact=world.contacts["hanoi"])
    outcomes = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            assert client.post("/login", data={"email": world.emails[role], "password": PASSWORD}).status_code == 302
        response = client.get(url) if method == "GET" else client.post(url, data={"version": "0"})
        if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
            outcomes[role] = LOGIN
        else:
            assert response.status_code < 500, (role, response.status_code)
            outcomes[role] = response.status_code if response.status_code in (403, 404) else OK
    assert outcomes == expected


# Eligibility -------------------------------------------------------------------------------------

def problems_of(rules=None, **fields):
    candidate = Candidate(**{"level": "translator", "practice_years": 6, "current_title": "assistant",
                             "current_title_since": date(2018, 3, 1), **fields})
    return [(p.field, p.message) for p in eligibility_problems(candidate, rules or Rules.from_settings({}), TODAY)]


def test_each_unmet_rule_is_explained(en_ctx):
    assert problems_of() == []
    assert problems_of(practice_years=3) == [
        ("practice_years", "Translator requires at least 4 years of translation practice; 3 given.")]
    assert problems_of(level="assistant", practice_years=0, current_title=None, current_title_since=None) == [
        ("practice_years", "Assistant Translator requires at least 1 year of translation practice; 0 given.")]
    assert problems_of(current_title=None, current_title_since=None) == [
        ("current_title", "Translator is open to holders of the title Assistant Translator; "
                          "the applicant has no title yet.")]
    assert problems_of(level="senior", practice_years=20) == [
        ("current_title", "Senior Translator is open to holders of the title Associate Senior Translator; "
                          "the applicant holds Assistant Translator.")]
    assert problems_of(current_title_since=None) == [
        ("current_title_since", "Give the date the current title was obtained.")]
    since = TODAY.replace(year=TODAY.year - 1) - timedelta(days=1)
    assert problems_of(current_title_since=since) == [
        ("current_title_since", "Translator requires at least 2 years as Assistant Translator; 1 so far.")]
    assert problems_of(current_title="translator") == [
        ("level", "The applicant already holds the title Translator: apply for a higher level.")]


def test_rules_follow_the_settings(plugin_on, en_ctx):
    world = plugin_on
    strict = Rules.for_station(world.stations["hanoi"])
    assert problems_of(strict, practice_years=3)
    activation.save_settings(PLUGIN, {"min_practice_years_translator": 3, "min_title_years_translator": 0},
                             user(world, "asean_admin"), region_id=world.regions["ASEAN"])
    db.session.commit()
    relaxed = Rules.for_station(world.stations["hanoi"])
    assert problems_of(relaxed, practice_years=3, current_title_since=TODAY) == []
    assert Rules.for_station(world.stations["milan"]).min_practice_years == strict.min_practice_years


def test_unmet_rules_block_submission_but_not_drafts(plugin_on, en_ctx):
    world = plugin_on
    app_id = new_application(world, practice_years=2, documents=["id_document"])
    assert load(app_id).status == Status.DRAFT
    with pytest.raises(NotReady) as error:
        move(world, app_id, "submit", "vol_hanoi")
    assert {p.field for p in error.value.problems} == {"practice_years", "documents"}
    missing = next(p.message for p in error.value.problems if p.field == "documents")
    assert missing == ("Missing before submission: Degree certificate, Certificate of the current title, "
                       "Work samples, and Employer's recommendation.")
    assert load(app_id).status == Status.DRAFT


def test_form_explains_rules_saves_drafts_and_blocks_submission(plugin_on, as_user):
    world = plugin_on
    client = as_user("vol_hanoi")
    form = {"language": "vi", "level": "translator", "practice_years": "2", "current_title": "assistant",
            "current_title_since": "2024-01-01", "documents": ALL_DOCUMENTS, "save_and_submit": "1"}
    url = f"{BASE}/new?contact_id={world.contacts['hanoi']}"
    response = client.post(url, data=form)
    page = text_of(response)
    assert response.status_code == 200
    assert "Translator requires at least 4 years of translation practice; 2 given." in page
    assert 'name="practice_years" type="number" value="2"' in page or 'value="2"' in page
    with client.application.app_context():
        assert count(TitleApplication) == 0
    del form["save_and_submit"]
    form["save"] = "1"
    response = client.post(url, data=form)
    assert response.status_code == 302
    with client.application.app_context():
        application = db.session.scalars(select(TitleApplication)).one()
        assert application.status == Status.DRAFT
    page = text_of(client.get(f"{BASE}/{application.id}/edit"))
    assert "Translator requires at least 4 years of translation practice; 2 given." in page
    assert "You can save a draft, but it cannot be submitted" in page
    assert "Not ready to submit" in text_of(client.get(f"{BASE}/{application.id}"))


def test_returned_application_is_corrected_and_resubmitted(plugin_on, as_user, app):
    world = plugin_on
    with app.test_request_context(headers={"Accept-Language": "en"}):
        app_id = new_application(world, documents=[d for d in ALL_DOCUMENTS if d != "employer_recommendation"],
                                 **{"practice_years": 6})
    client = as_user("vol_hanoi")
    response = client.post(f"{BASE}/{app_id}/move", data={"move": "submit", "version": 1})
    assert "Missing before submission: Employer&#39;s recommendation." in text_of(response) or \
        "Missing before submission: Employer's recommendation." in text_of(response)
    form = {**{k: v for k, v in ELIGIBLE.items() if k != "current_title_since"},
            "current_title_since": "2018-03-01", "version": "1", "save_and_submit": "1"}
    response = client.post(f"{BASE}/{app_id}/edit", data=form)
    assert response.status_code == 302
    with app.app_context():
        application = load(app_id)
        assert application.status == Status.SUBMITTED and application.document_set == set(ALL_DOCUMENTS)


# Routing -----------------------------------------------------------------------------------------

def test_panel_competence_is_per_language_and_level(plugin_on, en_ctx):
    world = plugin_on
    defaults = Rules.from_settings({})
    # The seed: the panel evaluates Thai (among 7 languages), yet senior Thai, Lao and Khmer titles
    # were entrusted in 2022.
    assert route_for("vi", "senior", defaults) == Route.LOCAL
    for language in ("lo", "th", "km"):
        assert route_for(language, "assistant", defaults) == Route.LOCAL
        assert route_for(language, "translator", defaults) == Route.LOCAL
        assert route_for(language, "associate_senior", defaults) == Route.ENTRUSTED
        assert route_for(language, "senior", defaults) == Route.ENTRUSTED
    assert route_for("fil", "assistant", defaults) == Route.ENTRUSTED
    assert route_for("xx", "assistant", defaults) == Route.ENTRUSTED  # a language added later: no panel
    assert load(new_application(world, language="vi")).route == Route.LOCAL
    assert load(new_application(world, language="lo")).route == Route.LOCAL  # a Translator application
    activation.save_settings(PLUGIN, {"panel_level_th": "senior", "panel_level_vi": "translator", "panel_level_lo": "none"},
                             user(world, "admin"), region_id=world.regions["ASEAN"])
    db.session.commit()
    assert load(new_application(world, station="bangkok", language="th")).route == Route.LOCAL
    assert load(new_application(world, language="lo")).route == Route.ENTRUSTED  # not evaluated any more
    senior = new_application(world, language="vi", level="associate_senior", practice_years=20,
                             current_title="translator", current_title_since=date(2010, 1, 1))
    assert load(senior).route == Route.ENTRUSTED  # above the panel's highest level in Vietnamese


def test_panel_level_settings_page_validates_the_choice(plugin_on, as_user, app):
    world = plugin_on
    client = as_user("asean_admin")
    scope = f"region:{world.regions['ASEAN']}"
    page = client.get(f"/admin/plugins/{PLUGIN}/settings?scope={scope}", headers={"Accept-Language": "en"})
    assert "Thai: highest level the region" in page.get_data(as_text=True)
    response = client.post(f"/admin/plugins/{PLUGIN}/settings", data={"scope": scope, "panel_level_th": "emperor"})
    assert response.status_code == 200 and "This value is not valid for this setting." in response.get_data(as_text=True)
    response = client.post(f"/admin/plugins/{PLUGIN}/settings", data={"scope": scope, "panel_level_th": "senior"})
    assert response.status_code == 302
    with app.app_context():
        rules = Rules.for_station(world.stations["bangkok"])
        assert route_for("th", "senior", rules) == Route.LOCAL


def test_optional_catti_certificate_is_not_marked_missing(plugin_on, as_user, app):
    world = plugin_on
    with app.test_request_context(headers={"Accept-Language": "en"}):
        app_id = new_application(world, documents=["id_document"])
    items = re.findall(r"<li>(.*?)</li>", text_of(as_user("vol_hanoi").get(f"/p/{PLUGIN}/{app_id}")))
    catti = next(item for item in items if "(e.g. CATTI)" in item)
    assert "missing" not in catti and "optional, not provided" in catti
    degree = next(item for item in items if item.strip().endswith("Degree certificate <span class=\"visually-hidden\">(missing)</span></span>"))
    assert "text-danger" in degree


def test_route_follows_edits_and_is_fixed_in_evaluation(plugin_on, en_ctx):
    world = plugin_on
    app_id = new_application(world, language="vi")
    services.update_application(load(app_id), {**ELIGIBLE, "language": "fil"}, user(world, "vol_hanoi"),
                                expected_version=None)
    application = load(app_id)
    assert application.route == Route.ENTRUSTED
    route_event = db.session.scalar(select(TitleEvent).where(TitleEvent.application_id == app_id,
                                                             TitleEvent.kind == "route"))
    assert (route_event.from_value, route_event.to_value) == ("local", "entrusted")
    bring_to(world, app_id, Status.IN_EVALUATION)
    with pytest.raises(IllegalMove):
        services.change_route(load(app_id), "local", "Panel found a Khmer expert", user(world, "admin"),
                              expected_version=None)
    assert load(app_id).route == Route.ENTRUSTED


@pytest.mark.parametrize("actor", ["admin", "asean_admin"])
def test_admins_override_the_route_with_a_reason(plugin_on, as_user, app, actor):
    world = plugin_on
    with app.test_request_context():
        app_id = new_application(world, language="fil")  # entrusted at every level
    client = as_user(actor)
    response = client.post(f"{BASE}/{app_id}/route", data={"route": "local", "reason": "", "version": 1})
    assert response.status_code == 400
    assert "Give the reason for changing the route" in text_of(response)
    response = client.post(f"{BASE}/{app_id}/route",
                           data={"route": "local", "reason": "本区评委会已聘请老挝语专家", "version": 1})
    assert response.status_code == 302
    page = text_of(client.get(f"{BASE}/{app_id}"))
    assert "Route changed: Entrusted evaluation → Regional panel" in page and "本区评委会已聘请老挝语专家" in page
    with app.app_context():
        application = load(app_id)
        assert (application.route, application.route_overridden) == (Route.LOCAL, True)
        event = db.session.scalar(select(TitleEvent).where(TitleEvent.kind == "route"))
        assert (event.actor_id, event.text) == (world.users[actor], "本区评委会已聘请老挝语专家")
    # Back to the automatic route, also with a reason.
    response = client.post(f"{BASE}/{app_id}/route", data={"route": "automatic", "reason": "Expert left", "version": 2})
    assert response.status_code == 302
    with app.app_context():
        application = load(app_id)
        assert (application.route, application.route_overridden) == (Route.ENTRUSTED, False)


@pytest.mark.parametrize("actor", ["vol_hanoi", "hq"])
def test_others_cannot_override_the_route(plugin_on, as_user, app, actor):
    world = plugin_on
    with app.test_request_context():
        app_id = new_application(world, language="fil")  # entrusted at every level
    client = as_user(actor)
    assert "Change the route" not in text_of(client.get(f"{BASE}/{app_id}"))
    response = client.post(f"{BASE}/{app_id}/route", data={"route": "local", "reason": "why not", "version": 1})
    assert response.status_code == 403
    with app.app_context():
        assert load(app_id).route == Route.ENTRUSTED
        assert count(TitleEvent) == 1


# Statistics --------------------------------------------------------------------------------------

def granted(world, station, language, level, decided, **fields) -> int:
    previous = {"associate_senior": "translator", "senior": "associate_senior", "translator": "assistant"}.get(level)
    app_id = new_application(world, station=station, language=language, level=level, practice_years=20,
                             current_title=previous, current_title_since=date(2005, 1, 1) if previous else None,
                             **fields)
    bring_to(world, app_id, Status.PASSED, station=station, decision_date=decided)
    return app_id


def test_statistics_by_year_language_level_and_route(plugin_on, en_ctx, as_user):
    world = plugin_on
    granted(world, "hanoi", "lo", "senior", date(2022, 12, 15))
    granted(world, "bangkok", "th", "senior", date(2022, 6, 1))
    granted(world, "bangkok", "th", "associate_senior", date(2022, 3, 1))
    granted(world, "hanoi", "km", "translator", date(2022, 3, 1))  # below associate senior
    granted(world, "hanoi", "vi", "senior", date(2022, 5, 1))  # by the regional panel
    granted(world, "hanoi", "lo", "associate_senior", date(2021, 11, 20))  # another year
    not_passed = new_application(world, language="lo", level="assistant", current_title=None, current_title_since=None)
    bring_to(world, not_passed, Status.NOT_PASSED, decision_date=date(2022, 8, 8))
    new_application(world, language="lo")  # a draft counts nowhere
    hq = user(world, "hq")

    answer = queries.statistics(hq, queries.StatisticsFilters(year=2022, route="entrusted", level="associate_senior+"))
    assert answer.granted == 3
    assert {(r.language, r.level) for r in answer.rows if r.granted} == {
        ("lo", "senior"), ("th", "senior"), ("th", "associate_senior")}
    everything = queries.statistics(hq, queries.StatisticsFilters())
    assert everything.applications == 7  # every submitted application, whatever its outcome
    assert everything.granted == 6
    assert everything.by_year[2022]["granted"] == 5 and everything.by_year[2021]["granted"] == 1
    lao = queries.statistics(hq, queries.StatisticsFilters(language="lo", level="senior"))
    assert lao.granted == 1
    # A Bangkok volunteer counts their own station's applications only.
    assert queries.statistics(user(world, "vol_bangkok"), queries.StatisticsFilters()).granted == 2

    page = as_user("hq").get(f"{BASE}/statistics?year=2022&route=entrusted&level=associate_senior%2B")
    assert page.status_code == 200
    assert re.search(r'id="total-granted">\s*3<', page.get_data(as_text=True))
    bad = as_user("hq").get(f"{BASE}/statistics?year=abc")
    assert bad.status_code == 200 and "invalid-feedback" in bad.get_data(as_text=True)


# Scope and activation ----------------------------------------------------------------------------

def test_other_regions_get_404_everywhere(plugin_on, as_user, app):
    world = plugin_on
    with app.test_request_context():
        app_id = new_application(world)
    for key in ("vol_milan", "europe_admin"):
        client = as_user(key)
        for path in (f"{BASE}/", f"{BASE}/statistics", f"{BASE}/{app_id}", f"{BASE}/{app_id}/edit",
                     f"{BASE}/new?contact_id={world.contacts['hanoi']}"):
            assert client.get(path).status_code == 404, (key, path)
        assert client.post(f"{BASE}/{app_id}/move", data={"move": "submit", "version": 1}).status_code == 404
    with app.app_context():
        assert load(app_id).status == Status.DRAFT


def test_volunteers_see_their_own_station_only(plugin_on, as_user, app):
    world = plugin_on
    with app.test_request_context():
        hanoi = new_application(world, language="vi")
        bangkok = new_application(world, station="bangkok", language="th")
    client = as_user("vol_bangkok")
    page = text_of(client.get(f"{BASE}/"))
    assert f'/{bangkok}"' in page and f'/{hanoi}"' not in page
    assert client.get(f"{BASE}/{hanoi}").status_code == 404
    assert client.get(f"{BASE}/new?contact_id={world.contacts['hanoi']}").status_code == 404
    assert client.get(f"{BASE}/new?contact_id={world.contacts['bangkok']}").status_code == 200
    # HQ sees both, but may not write a station's application.
    hq = as_user("hq")
    page = text_of(hq.get(f"{BASE}/"))
    assert f'/{bangkok}"' in page and f'/{hanoi}"' in page
    assert hq.get(f"{BASE}/new?contact_id={world.contacts['hanoi']}").status_code == 403
    assert hq.get(f"{BASE}/{hanoi}/edit").status_code == 403


def test_list_filters(plugin_on, as_user, app):
    world = plugin_on
    with app.test_request_context():
        vi = new_application(world, language="vi")
        lo = new_application(world, language="fil", level="assistant", current_title=None, current_title_since=None)
        bring_to(world, lo, Status.SUBMITTED)
    client = as_user("asean_admin")

    def listed(query):
        page = client.get(f"{BASE}/?{query}").get_data(as_text=True)
        return {int(i) for i in re.findall(rf'{BASE}/(\d+)"', page)}

    assert listed("") == {vi, lo}
    assert listed("language=fil") == {lo}
    assert listed("route=local") == {vi}
    assert listed("status=draft") == {vi}
    assert listed("status=open") == {vi, lo}
    assert listed("level=assistant") == {lo}
    assert listed("level=translator%2B") == {vi}
    assert listed(f"year={TODAY.year}") == {vi, lo}
    assert listed(f"year={TODAY.year - 1}") == set()
    assert listed("year=abc") == {vi, lo}  # a bad year is reported and ignored


def test_inactive_plugin_leaves_no_trace(app, world, as_user):
    client = as_user("vol_hanoi")
    assert client.get(f"{BASE}/").status_code == 404
    contact_page = text_of(client.get(f"/contacts/{world.contacts['hanoi']}"))
    assert "Translator title applications" not in contact_page
    assert "Translator titles" not in text_of(client.get("/"))


def test_station_switched_off_inside_an_active_region(plugin_on, as_user, app):
    world = plugin_on
    with app.test_request_context():
        hanoi = new_application(world)
        bangkok = new_application(world, station="bangkok", language="th")
        activation.set_enabled(PLUGIN, False, user(world, "admin"), station_id=world.stations["hanoi"])
        db.session.commit()
    client = as_user("asean_admin")
    assert client.get(f"{BASE}/{hanoi}").status_code == 404
    page = text_of(client.get(f"{BASE}/"))
    assert f'/{bangkok}"' in page and f'/{hanoi}"' not in page
    assert "Translator title applications" not in text_of(client.get(f"/contacts/{world.contacts['hanoi']}"))
    assert "Translator title applications" in text_of(client.get(f"/contacts/{world.contacts['bangkok']}"))


def test_contact_panel_home_widget_and_navigation(plugin_on, as_user, app):
    world = plugin_on
    with app.test_request_context():
        app_id = new_application(world)
    client = as_user("vol_hanoi")
    page = text_of(client.get(f"/contacts/{world.contacts['hanoi']}"))
    assert "Translator title applications" in page
    assert f"{BASE}/{app_id}" in page and f"{BASE}/new?contact_id={world.contacts['hanoi']}" in page
    home = text_of(client.get("/"))
    assert "Open translator title applications" in home and "1 open application" in home
    assert f'href="{BASE}/"' in home
    # HQ sees the panel without the link to create an application.
    page = text_of(as_user("hq").get(f"/contacts/{world.contacts['hanoi']}"))
    assert f"{BASE}/{app_id}" in page and f"{BASE}/new" not in page


# Bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, field, message", [
    ({"practice_years": "-1"}, "practice_years", "Number must be between 0 and 60."),
    ({"practice_years": "many"}, "practice_years", "Not a valid integer value."),
    ({"language": "xx"}, "language", "Not a valid choice."),
    ({"current_title_since": ""}, "current_title_since", "Give the date the current title was obtained."),
    ({"current_title_since": (TODAY + timedelta(days=3)).isoformat()}, "current_title_since",
     "This date cannot be in the future."),
    ({"education": "x" * 301}, "education", "Field cannot be longer than 300 characters."),
])
def test_bad_input_writes_nothing_and_keeps_the_input(plugin_on, as_user, app, change, field, message):
    world = plugin_on
    client = as_user("vol_hanoi")
    form = {"language": "vi", "level": "translator", "practice_years": "6", "current_title": "assistant",
            "current_title_since": "2018-03-01", "education": "BA in Vietnamese, 2012", "save": "1", **change}
    response = client.post(f"{BASE}/new?contact_id={world.contacts['hanoi']}", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    errors = re.search(rf'id="{field}-errors">(.*?)</div>\s*</div>', page, re.S)
    assert errors and message in errors.group(1)
    if field != "education":
        assert "BA in Vietnamese, 2012" in page  # what was typed is still there
    with app.app_context():
        assert count(TitleApplication) == 0 and count(TitleEvent) == 0


def test_bad_route_and_move_input(plugin_on, as_user, app):
    world = plugin_on
    with app.test_request_context():
        app_id = new_application(world, language="lo")
        bring_to(world, app_id, Status.IN_EVALUATION)
    client = as_user("admin")
    response = client.post(f"{BASE}/{app_id}/move", data={"move": "record_pass", "version": 4,
                                                           "decision_date": "2022-13-40"})
    assert response.status_code == 400 and "Not a valid date value." in text_of(response)
    response = client.post(f"{BASE}/{app_id}/move", data={"move": "record_pass", "version": 4,
                                                           "decision_date": "2022-12-01"})
    assert response.status_code == 400 and "Give the number of the title certificate." in text_of(response)
    with app.app_context():
        assert load(app_id).status == Status.IN_EVALUATION and load(app_id).certificate_number is None


@pytest.mark.parametrize("path", [
    "/?page=99999999999999999999", "/?year=99999999999999999999", "/99999999999999999999",
    "/99999999999999999999/edit", "/new?contact_id=99999999999999999999", "/statistics?year=-5", "/abc",
])
def test_huge_or_malformed_numbers_are_no_server_error(plugin_on, as_user, path):
    assert as_user("hq").get(BASE + path).status_code in (200, 404)


def test_the_same_form_sent_twice_creates_one_application(plugin_on, as_user, app):
    world = plugin_on
    client = as_user("vol_hanoi")
    form = {"language": "vi", "level": "assistant", "practice_years": "1", "submission_token": "abc123", "save": "1"}
    url = f"{BASE}/new?contact_id={world.contacts['hanoi']}"
    first, second = client.post(url, data=form), client.post(url, data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert count(TitleApplication) == 1


def test_a_language_added_in_the_settings_is_accepted_and_entrusted(plugin_on, as_user, app):
    world = plugin_on
    with app.app_context():
        activation.save_settings(PLUGIN, {"languages": ["vi", "lo", "tet"]}, db.session.get(User, world.users["asean_admin"]),
                                 region_id=world.regions["ASEAN"])
        db.session.commit()
    client = as_user("vol_hanoi")
    url = f"{BASE}/new?contact_id={world.contacts['hanoi']}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="tet"' in page and 'value="th"' not in page  # Thai is no longer offered here
    response = client.post(url, data={**ELIGIBLE, "language": "tet", "current_title_since": "2018-03-01", "save": "1"})
    assert response.status_code == 302
    with app.app_context():
        application = db.session.scalars(select(TitleApplication)).one()
        assert (application.language, application.route) == ("tet", Route.ENTRUSTED)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_forms_carry_csrf_tokens_and_posts_without_them_are_refused(app, plugin_on, client):
    world = plugin_on
    with app.test_request_context():
        app_id = new_application(world, language="fil")  # entrusted at every level
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"email": world.emails["admin"], "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    page = client.get(f"{BASE}/{app_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post(f"{BASE}/{app_id}/route", data={"route": "local", "reason": "x", "version": 1}).status_code == 400
    assert client.post(f"{BASE}/{app_id}/move", data={"move": "submit", "version": 1}).status_code == 400
    with app.app_context():
        assert load(app_id).status == Status.DRAFT and load(app_id).route == Route.ENTRUSTED
    response = client.post(f"{BASE}/{app_id}/route", data={"route": "local", "reason": "Expert found", "version": 1,
                                                           "csrf_token": token})
    assert response.status_code == 302
    response = client.post(f"{BASE}/{app_id}/move", data={"move": "submit", "version": 2, "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert (load(app_id).status, load(app_id).route) == (Status.SUBMITTED, Route.LOCAL)


# Performance -------------------------------------------------------------------------------------

def test_list_page_query_count_does_not_grow_with_rows(plugin_on, as_user, app, count_queries):
    world = plugin_on
    client = as_user("hq")

    def queries_for_list():
        with count_queries() as counter:
            assert client.get(f"{BASE}/").status_code == 200
        return counter.count

    with app.test_request_context():
        new_application(world)
    few = queries_for_list()
    with app.test_request_context():
        for station in ("hanoi", "bangkok") * 6:
            app_id = new_application(world, station=station)
            bring_to(world, app_id, Status.SUBMITTED, station=station)
    assert queries_for_list() == few


def test_contacts_export_has_the_latest_application(plugin_on, as_user, app, count_queries):
    world = plugin_on
    with app.test_request_context(headers={"Accept-Language": "en"}):
        new_application(world, level="assistant", current_title=None, current_title_since=None)
        new_application(world, level="translator")  # the latest
    client = as_user("hq")
    with count_queries() as counter:
        response = client.get("/exports/contacts.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    level = header.index("Title application: level")
    by_name = {row[header.index("Name")]: row for row in rows[1:]}
    assert by_name["Nguyen Van An"][level] == "Translator"
    assert by_name["Somchai Jaidee"][level] in ("", None)
    assert by_name["Marco Rossi"][level] in ("", None)  # plugin off in Europe
    # Not one query per row: the plugin's column is loaded in bulk. The export also records itself
    # (the export record, its rows per station, one access-log entry per station): ~10 statements.
    assert counter.count < 30


# Demo data and catalog ---------------------------------------------------------------------------

def test_demo_data_is_idempotent_and_respects_an_existing_switch(app):
    from liaison import demo

    with app.app_context():
        demo.load()
        first = count(TitleApplication)
        assert first >= len(Status)  # at least one application per state
        assert {s for s in db.session.scalars(select(TitleApplication.status).distinct())} == {s.value for s in Status}
        events = count(TitleEvent)
        demo.load()
        assert count(TitleApplication) == first and count(TitleEvent) == events
        switches = db.session.scalars(select(PluginScope).where(PluginScope.plugin == PLUGIN)).all()
        assert [(row.scope_key, row.enabled) for row in switches] == [(switches[0].scope_key, True)]
        # 2022: senior titles by entrustment, as in the seed.
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        stats = queries.statistics(admin, queries.StatisticsFilters(year=2022, route="entrusted",
                                                                    level="associate_senior+"))
        assert stats.granted >= 1


def test_demo_data_keeps_a_switch_set_off(app):
    from liaison import demo

    with app.app_context():
        demo.load()
        row = db.session.scalars(select(PluginScope).where(PluginScope.plugin == PLUGIN)).one()
        row.enabled = False
        db.session.commit()
        demo.load()
        db.session.expire_all()
        assert db.session.get(PluginScope, row.id).enabled is False


def test_chinese_catalog_is_complete():
    root = Path(__file__).resolve().parent.parent / "plugins" / PLUGIN / "translations"
    with open(root / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    missing = [message.id for message in catalog if message.id and (
        not message.string or (isinstance(message.string, tuple) and not all(message.string)))]
    assert missing == []
    assert catalog.get("Entrusted evaluation").string == "委托评审"
    assert catalog.get("Associate Senior Translator").string == "副译审"
