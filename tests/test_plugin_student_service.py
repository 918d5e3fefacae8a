"""The bundled plugin student_service: students by stage, the home service team, service requests
referred to the alliance's departments, emergency roll calls, programmes, figures and privacy."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from liaison.models import Contact, Notification, User, db
from liaison.plugins import activation
from plugins.student_service import services
from plugins.student_service.choices import NAME, Mark, Stage
from plugins.student_service.models import (Application, Department, HomeTeam, Programme, ProgrammeField, RollCall,
                                            RollCallEntry, ServiceRequest, Student, StudentEvent, team_members)

BASE = f"/p/{NAME}"


# Helpers ------------------------------------------------------------------------------------

def switch(app, world, region="EUROPE", enabled=True):
    with app.app_context():
        activation.set_enabled(NAME, enabled, db.session.get(User, world.users["admin"]),
                               region_id=world.regions[region])
        db.session.commit()


@pytest.fixture
def on(app, world):
    switch(app, world)


_APP = {}


@pytest.fixture(autouse=True)
def _remember_app(app):
    _APP["app"] = app


def today():
    """The users' today (the app's default time zone)."""
    from liaison.i18n import local_today

    with _APP["app"].app_context():
        return local_today()


def department(app, code="health") -> int:
    with app.app_context():
        record = Department(code=code, name=f"{code} bureau", name_zh=f"{code}局")
        db.session.add(record)
        db.session.commit()
        return record.id


def team(app, world, *members) -> int:
    with app.app_context():
        record = HomeTeam(name="Jiashan County", name_zh="嘉善县")
        db.session.add(record)
        db.session.flush()
        for key in members:
            db.session.execute(team_members.insert().values(team_id=record.id, user_id=world.users[key]))
        db.session.commit()
        return record.id


def make_student(app, world, station="milan", *, stage=Stage.ABROAD, field="mechanical engineering", country="IT",
                 city="Milan", team_id=None, name=None) -> int:
    with app.test_request_context():
        contact_id = world.contacts[station]
        if name:
            contact = Contact(station_id=world.stations[station], kind="student", name=name)
            db.session.add(contact)
            db.session.commit()
            contact_id = contact.id
        contact = db.session.scalar(select(Contact).where(Contact.id == contact_id)
                                    .options(selectinload(Contact.station)))
        admin = db.session.get(User, world.users["admin"])
        student = services.create_student(contact, {
            "school": "Politecnico di Milano", "field": field, "level": "master", "country": country, "city": city,
            "home_team_id": team_id, "emergency_contact": "Li Lei +39 333 000"}, admin, stage=stage,
            since=today() - timedelta(days=30))
        return student.id


def student_form(**overrides):
    data = {"school": "Politecnico di Milano", "programme": "MSc", "field": "mechanical engineering",
            "level": "master", "country": "IT", "city": "Milan", "family_contact": "Mother 138 0000",
            "emergency_contact": "", "home_team_id": "", "stage": "prospective", "since": today().isoformat()}
    data.update(overrides)
    return data


def load(app, model, ident):
    with app.app_context():
        return db.session.get(model, ident)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# Students ------------------------------------------------------------------------------------

def test_a_volunteer_records_a_student_and_follows_the_stages(app, world, on, login):
    client = login("vol_milan")
    contact = world.contacts["milan"]
    assert "Record as a student" in client.get(f"/contacts/{contact}").get_data(as_text=True)
    response = client.post(f"{BASE}/students/new?contact_id={contact}", data=student_form())
    assert response.status_code == 302
    sid = int(re.search(r"/students/(\d+)", response.headers["Location"]).group(1))
    student = load(app, Student, sid)
    assert student.station_id == world.stations["milan"] and student.stage == Stage.PROSPECTIVE
    # The same contact again goes to the existing student.
    assert client.get(f"{BASE}/students/new?contact_id={contact}").headers["Location"].endswith(f"/students/{sid}")

    def move(name, version, **extra):
        return client.post(f"{BASE}/students/{sid}/move", data={"move": name, "version": version,
                                                                 "on": today().isoformat(), **extra})

    assert move("depart", 1).status_code == 302
    assert move("return", 2).status_code == 302
    assert load(app, Student, sid).returned_on == today()
    refused = move("found_company", 3)  # no company name
    assert refused.status_code == 400 and "Give the name of the company." in refused.get_data(as_text=True)
    assert move("found_company", 3, company="嘉善新材科技").status_code == 302
    student = load(app, Student, sid)
    assert student.stage == Stage.FOUNDED_COMPANY and student.company == "嘉善新材科技"
    assert move("depart", 4).status_code == 400  # not from this stage
    with app.app_context():
        stages = db.session.scalars(select(StudentEvent.to_stage).where(StudentEvent.student_id == sid)
                                    .order_by(StudentEvent.id)).all()
    assert stages == ["prospective", "abroad", "returned", "founded_company"]
    page = client.get(f"{BASE}/students/{sid}").get_data(as_text=True)
    assert "嘉善新材科技" in page and "Founded a company" in page


@pytest.mark.parametrize("overrides, field", [
    ({"school": ""}, "school"),
    ({"country": "XX"}, "country"),
    ({"level": "phd-ish"}, "level"),
    ({"since": "2999-01-01"}, "since"),
    ({"start_on": "2025-09-01", "expected_end_on": "2024-01-01"}, "expected_end_on"),
    ({"home_team_id": "999999"}, "home_team_id"),
    ({"field": "x" * 500}, "field"),
])
def test_bad_student_input_writes_nothing(app, world, on, login, overrides, field):
    client = login("vol_milan")
    response = client.post(f"{BASE}/students/new?contact_id={world.contacts['milan']}", data=student_form(**overrides))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in body
    assert 'value="Mother 138 0000"' in body  # the input is kept
    assert count(app, Student) == 0


def test_scope_station_region_and_activation(app, world, on, login):
    sid = make_student(app, world)
    for user in ("vol_milan", "europe_admin", "hq"):
        assert login(user).get(f"{BASE}/students/{sid}").status_code == 200, user
    for user in ("vol_hanoi", "asean_admin", "vol_bangkok"):
        assert login(user).get(f"{BASE}/students/{sid}").status_code == 404, user
    # Switched on in ASEAN too: the Bangkok volunteer has the pages, but not Milan's student.
    switch(app, world, "ASEAN")
    client = login("vol_bangkok")
    assert client.get(f"{BASE}/").status_code == 200
    assert client.get(f"{BASE}/students/{sid}").status_code == 404
    assert "Marco Rossi" not in client.get(f"{BASE}/").get_data(as_text=True)
    assert client.get(f"{BASE}/students/new?contact_id={world.contacts['milan']}").status_code == 404
    # Switched off for Europe: Milan's students are gone even for HQ.
    switch(app, world, "EUROPE", enabled=False)
    assert login("hq").get(f"{BASE}/students/{sid}").status_code == 404


def test_the_home_team_sees_and_serves_its_students_everywhere(app, world, on, login):
    switch(app, world, "ASEAN")
    team_id = team(app, world, "vol_bangkok")
    sid = make_student(app, world, team_id=team_id)
    other = make_student(app, world, name="Zhang Wei")  # no home team
    client = login("vol_bangkok")  # a member of the Jiashan team, volunteer at Bangkok
    assert client.get(f"{BASE}/students/{sid}").status_code == 200
    assert client.get(f"{BASE}/students/{other}").status_code == 404
    listing = client.get(f"{BASE}/").get_data(as_text=True)
    assert "Marco Rossi" in listing and "Zhang Wei" not in listing
    # The team is on the home side: it asks for and refers services for its students.
    dept = department(app)
    response = client.post(f"{BASE}/students/{sid}/requests/new", data={"kind": "counselling", "summary": "Stress"})
    assert response.status_code == 302
    rid = int(response.headers["Location"].rsplit("/", 1)[1])
    response = client.post(f"{BASE}/requests/{rid}/move", data={
        "move": "refer", "version": 1, "department_id": dept, "due_on": (today() + timedelta(days=5)).isoformat()})
    assert response.status_code == 302
    assert load(app, ServiceRequest, rid).status == "referred"
    # Without the team, nothing.
    with app.app_context():
        db.session.execute(team_members.delete())
        db.session.commit()
    assert login("vol_bangkok").get(f"{BASE}/students/{sid}").status_code == 404


def test_scope_also_widens_only_where_the_plugin_is_on(app, world, on):
    """The core's ``scoped(..., also=...)``: the grant adds records, activation still applies."""
    from liaison.scope import scoped

    team_id = team(app, world, "vol_hanoi")
    sid = make_student(app, world, team_id=team_id)
    with app.test_request_context():
        user = db.session.get(User, world.users["vol_hanoi"])
        base = select(Student.id)
        assert db.session.scalars(scoped(base, Student, user, plugin=NAME)).all() == []
        grant = Student.home_team_id == team_id
        assert db.session.scalars(scoped(base, Student, user, plugin=NAME, also=grant)).all() == [sid]
        activation.set_enabled(NAME, False, db.session.get(User, world.users["admin"]),
                               region_id=world.regions["EUROPE"])
        db.session.commit()
        activation.forget()
        assert db.session.scalars(scoped(base, Student, user, plugin=NAME, also=grant)).all() == []


# Service requests ------------------------------------------------------------------------------

def test_a_request_is_referred_worked_and_closed_with_an_outcome(app, world, on, login):
    sid = make_student(app, world)
    dept = department(app)
    client = login("vol_milan")
    response = client.post(f"{BASE}/students/{sid}/requests/new", data={"kind": "health_consultation",
                                                                         "summary": "Cannot sleep for weeks"})
    rid = int(response.headers["Location"].rsplit("/", 1)[1])
    # The station does not refer: that is the home side's.
    refused = client.post(f"{BASE}/requests/{rid}/move", data={"move": "refer", "version": 1, "department_id": dept,
                                                               "due_on": (today() + timedelta(days=3)).isoformat()})
    assert refused.status_code == 400 and load(app, ServiceRequest, rid).status == "open"
    hq = login("hq")
    bad = hq.post(f"{BASE}/requests/{rid}/move", data={"move": "refer", "version": 1, "department_id": "",
                                                       "due_on": ""})
    assert bad.status_code == 400 and 'id="refer-department_id-errors"' in bad.get_data(as_text=True)
    past = hq.post(f"{BASE}/requests/{rid}/move", data={"move": "refer", "version": 1, "department_id": dept,
                                                        "due_on": "2000-01-01"})
    assert past.status_code == 400 and load(app, ServiceRequest, rid).status == "open"
    assert hq.post(f"{BASE}/requests/{rid}/move", data={
        "move": "refer", "version": 1, "department_id": dept,
        "due_on": (today() + timedelta(days=3)).isoformat()}).status_code == 302
    with app.app_context():  # the station's volunteers are told
        kinds = db.session.scalars(select(Notification.kind).where(
            Notification.user_id == world.users["vol_milan"])).all()
    assert f"{NAME}.request_referred" in kinds
    assert hq.post(f"{BASE}/requests/{rid}/move", data={"move": "start", "version": 2}).status_code == 302
    no_outcome = hq.post(f"{BASE}/requests/{rid}/move", data={"move": "complete", "version": 3, "outcome": " "})
    assert no_outcome.status_code == 400
    assert hq.post(f"{BASE}/requests/{rid}/move", data={"move": "complete", "version": 3,
                                                        "outcome": "Doctor's advice given"}).status_code == 302
    record = load(app, ServiceRequest, rid)
    assert record.status == "done" and record.outcome == "Doctor's advice given" and record.closed_on == today()
    stale = hq.post(f"{BASE}/requests/{rid}/move", data={"move": "decline", "version": 1, "outcome": "x"})
    assert stale.status_code == 302 and load(app, ServiceRequest, rid).status == "done"  # outdated form


def test_overdue_list_and_reminders(app, world, on, login):
    sid = make_student(app, world)
    dept = department(app)
    with app.app_context():
        late = ServiceRequest(student_id=sid, station_id=world.stations["milan"], kind="family_care", summary="Late",
                              status="referred", department_id=dept, due_on=today() - timedelta(days=4))
        fine = ServiceRequest(student_id=sid, station_id=world.stations["milan"], kind="job", summary="Fine",
                              status="referred", department_id=dept, due_on=today() + timedelta(days=4))
        done = ServiceRequest(student_id=sid, station_id=world.stations["milan"], kind="internship", summary="Done",
                              status="done", department_id=dept, due_on=today() - timedelta(days=9))
        db.session.add_all([late, fine, done])
        db.session.commit()
        late_id = late.id
    body = login("vol_milan").get(f"{BASE}/requests/overdue").get_data(as_text=True)
    assert f"#{late_id}" in body and body.count("overdue</span>") == 1
    assert "1 service request is past its due date." in login("vol_milan").get("/").get_data(as_text=True)
    assert login("vol_hanoi").get(f"{BASE}/requests/overdue").status_code == 404
    with app.test_request_context():
        assert services.remind_overdue() == 1
        db.session.commit()
        assert services.remind_overdue() == 1  # the same day: the same job key, no second notice
        db.session.commit()
        notices = db.session.scalars(select(Notification).where(Notification.kind == f"{NAME}.request_overdue")).all()
    assert {n.user_id for n in notices} >= {world.users["hq"], world.users["vol_milan"]}
    assert len([n for n in notices if n.user_id == world.users["vol_milan"]]) == 1


# Roll calls -------------------------------------------------------------------------------------

def test_roll_call_lists_everyone_there_counts_live_and_keeps_the_record(app, world, on, login):
    first = make_student(app, world)
    second = make_student(app, world, name="Zhang Wei")
    make_student(app, world, name="Back Home", stage=Stage.RETURNED)  # not abroad any more
    make_student(app, world, name="In Turin", city="Turin")
    assert login("vol_milan").get(f"{BASE}/roll-calls/new").status_code == 403
    hq = login("hq")
    response = hq.post(f"{BASE}/roll-calls/new", data={"title": "Floods", "country": "IT", "city": "milan",
                                                       "reason": "Heavy rain"})
    assert response.status_code == 302
    cid = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        entries = {e.student_id: e.id for e in db.session.scalars(select(RollCallEntry))}
    assert set(entries) == {first, second}
    volunteer = login("vol_milan")
    page = volunteer.get(f"{BASE}/roll-calls/{cid}").get_data(as_text=True)
    assert re.search(r'<script src="/p/student_service/static/roll_call(\.\w+)?\.js" defer>', page)
    assert "<script>" not in page and 'data-poll="10"' in page
    assert json.loads(volunteer.get(f"{BASE}/roll-calls/{cid}/counts.json").data)["counts"]["pending"] == 2
    # Reached needs a channel; one tap with the preset channel marks.
    bad = volunteer.post(f"{BASE}/roll-calls/{cid}/entries/{entries[first]}", data={"mark": "safe", "channel": ""})
    assert bad.status_code == 400 and "Say how the student was reached." in bad.get_data(as_text=True)
    assert volunteer.post(f"{BASE}/roll-calls/{cid}/entries/{entries[first]}",
                          data={"mark": "safe", "channel": "wechat"}).status_code == 302
    assert volunteer.post(f"{BASE}/roll-calls/{cid}/entries/{entries[second]}",
                          data={"mark": "not_reached", "channel": ""}).status_code == 302
    counts = json.loads(volunteer.get(f"{BASE}/roll-calls/{cid}/counts.json").data)
    assert counts["counts"]["safe"] == 1 and counts["counts"]["not_reached"] == 1 and counts["reached"] == 1
    assert counts["minutes_to_reach_everyone"] is None
    assert volunteer.post(f"{BASE}/roll-calls/{cid}/entries/{entries[second]}",
                          data={"mark": "needs_help", "channel": "phone", "note": "Lost passport"}).status_code == 302
    counts = json.loads(volunteer.get(f"{BASE}/roll-calls/{cid}/counts.json").data)
    assert counts["left"] == 0 and counts["minutes_to_reach_everyone"] == 0
    entry = load(app, RollCallEntry, entries[second])
    assert entry.channel == "phone" and entry.marked_by_id == world.users["vol_milan"] and entry.marked_at
    # Out of scope: nothing of it.
    assert login("vol_hanoi").get(f"{BASE}/roll-calls/{cid}").status_code == 404
    # Closing keeps every answer and refuses new ones.
    assert login("vol_milan").post(f"{BASE}/roll-calls/{cid}/close").status_code == 403
    assert login("hq").post(f"{BASE}/roll-calls/{cid}/close").status_code == 302
    closed = login("vol_milan")
    closed.post(f"{BASE}/roll-calls/{cid}/entries/{entries[first]}", data={"mark": "not_reached"})
    assert load(app, RollCallEntry, entries[first]).mark == Mark.SAFE
    assert load(app, RollCall, cid).closed_at is not None
    assert json.loads(closed.get(f"{BASE}/roll-calls/{cid}/counts.json").data)["open"] is False


def test_roll_call_page_in_chinese(app, world, on, login):
    make_student(app, world)
    with app.test_request_context():
        call = services.open_roll_call("洪水", "IT", None, None, db.session.get(User, world.users["hq"])).id
    body = login("vol_milan").get(f"{BASE}/roll-calls/{call}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True)
    assert "需要帮助" in body and "留学" in login("vol_milan").get(f"{BASE}/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


# Programmes -------------------------------------------------------------------------------------

def test_internship_matches_students_by_field_within_its_places(app, world, on, login):
    engineer = make_student(app, world)
    artist = make_student(app, world, name="Art Student", field="fine arts")
    hq = login("hq")
    assert login("vol_milan").get(f"{BASE}/programmes/new").status_code == 403
    hq = login("hq")
    bad = hq.post(f"{BASE}/programmes/new", data={"kind": "internship", "title": "", "year": "abc"})
    assert bad.status_code == 200 and 'id="title-errors"' in bad.get_data(as_text=True)
    response = hq.post(f"{BASE}/programmes/new", data={
        "kind": "internship", "title": "Haiyan cloud gathering", "title_zh": "海燕云集结", "year": "2026",
        "places": "1", "host": "Jiashan Auto Parts", "fields": "Mechanical engineering，automotive"})
    assert response.status_code == 302
    pid = int(response.headers["Location"].rsplit("/", 1)[1])
    volunteer = login("vol_milan")
    page = volunteer.get(f"{BASE}/programmes/{pid}").get_data(as_text=True)
    assert "Marco Rossi" in page.split("Students whose field matches")[1].split("</section>")[0]
    assert "Art Student" not in page.split("Students whose field matches")[1].split("</section>")[0]
    assert volunteer.post(f"{BASE}/programmes/{pid}/apply", data={"student_id": engineer}).status_code == 302
    again = volunteer.post(f"{BASE}/programmes/{pid}/apply", data={"student_id": engineer})
    assert again.status_code == 400 and "already applied" in again.get_data(as_text=True)
    assert volunteer.post(f"{BASE}/programmes/{pid}/apply", data={"student_id": artist}).status_code == 302
    assert login("vol_hanoi").get(f"{BASE}/programmes/{pid}").status_code == 404
    with app.app_context():
        first, second = db.session.scalars(select(Application.id).order_by(Application.id)).all()
    hq = login("hq")
    assert login("vol_milan").post(f"{BASE}/applications/{first}/decide", data={"decision": "match"}).status_code == 403
    hq = login("hq")
    hq.post(f"{BASE}/applications/{first}/decide", data={"decision": "match"})
    hq.post(f"{BASE}/applications/{second}/decide", data={"decision": "match"})  # no place left
    hq.post(f"{BASE}/applications/{first}/decide", data={"decision": "attended"})
    assert load(app, Application, first).status == "matched" and load(app, Application, first).attended is True
    assert load(app, Application, second).status == "applied"


# Figures, search, privacy -------------------------------------------------------------------------

def test_report_section_and_scorecard(app, world, on, login):
    from liaison.reports import periods
    from plugins.student_service import reports, scorecard

    make_student(app, world)
    make_student(app, world, name="Returnee", stage=Stage.RETURNED)
    make_student(app, world, name="Founder", stage=Stage.FOUNDED_COMPANY, country="GB", city="London")
    with app.test_request_context():
        period = periods.named(str(today().year))
        section = reports.sections(period, [world.stations["milan"]])
        tables = {t.key: t for t in section.tables}
        assert set(tables) == {"stage_country", "fields", "returns", "services", "programmes", "roll_calls"}
        italy = tables["stage_country"].rows[tables["stage_country"].keys.index("IT")]
        assert italy[-1] == 2
        assert tables["returns"].rows[1][1] == 1  # one company founded
        assert reports.sections(period, [world.stations["hanoi"]]).tables[0].rows == []
        figures = {f.key: f.values for f in scorecard.figures(today().year, [world.stations["milan"]])}
        assert figures["students"] == {world.stations["milan"]: 3}
    # Through the core's report page: the section, its figures and its CSV.
    year = today().year
    page = login("hq").get(f"/reports/?period={year}").get_data(as_text=True)
    assert "Services for students abroad" in page and "Students by stage and country of study" in page
    assert 'data-chart="student_service.stage_country"' in page
    assert f"/reports/table/student_service.stage_country.csv?period={year}" in page
    csv_text = login("hq").get(f"/reports/table/student_service.stage_country.csv?period={year}").data.decode("utf-8-sig")
    rows = [line.split(",") for line in csv_text.strip().splitlines()]
    assert rows[0][0] == "Country" and rows[0][-1] == "Total"
    by_country = {row[0]: row[1:] for row in rows[1:]}
    assert set(by_country) == {"Italy", "United Kingdom"}
    stages = [str(s.label) for s in Stage]
    italy = dict(zip(rows[0][1:], by_country["Italy"]))
    assert italy[stages[list(Stage).index(Stage.ABROAD)]] == "1" and italy[str(Stage.RETURNED.label)] == "1"
    assert italy["Total"] == "2" and by_country["United Kingdom"][-1] == "1"
    returns = login("hq").get(f"/reports/table/student_service.returns.csv?period={year}").data.decode("utf-8-sig")
    assert returns.splitlines()[2].split(",")[1] == "1"  # one company founded
    # Region scoping: Europe's admin sees the section; ASEAN's (the plugin off there) neither it nor its CSV.
    assert "Students by stage and country of study" in login("europe_admin").get(
        f"/reports/?period={year}").get_data(as_text=True)
    client = login("asean_admin")
    page = client.get(f"/reports/?period={year}").get_data(as_text=True)
    assert "Services for students abroad" not in page and "student_service.stage_country" not in page
    response = client.get(f"/reports/table/student_service.stage_country.csv?period={year}")
    assert response.status_code == 404 and b"Italy" not in response.data


def test_hooks_contract(app, world, on):
    """Every hook the plugin implements answers with the core's types."""
    from liaison.find import SearchResult
    from liaison.notifications.kinds import NotificationKind
    from liaison.plugins import ExportColumn, NavItem, host
    from liaison.privacy.classification import fields as classification

    sid = make_student(app, world)
    with app.test_request_context():
        plugin = host().plugins[NAME].obj
        hq = db.session.get(User, world.users["hq"])
        assert isinstance(plugin.liaison_nav_items(hq), NavItem)
        kinds = plugin.liaison_notification_kinds()
        assert all(isinstance(k, NotificationKind) and k.name.startswith(NAME + ".") for k in kinds)
        results = plugin.liaison_search_results("Politecnico", hq)
        assert results and isinstance(results[0], SearchResult) and results[0].url.endswith(f"/students/{sid}")
        assert plugin.liaison_search_results("Politecnico", db.session.get(User, world.users["vol_hanoi"])) == []
        fields = plugin.liaison_personal_fields()
        assert fields[f"{NAME}_students.emergency_contact"].value == "sensitive"
        assert all(key in classification() for key in fields)
        from flask_login import login_user

        login_user(hq)
        columns = plugin.liaison_export_columns("contacts")
        assert isinstance(columns[0], ExportColumn)
        contact = db.session.get(Contact, world.contacts["milan"])
        assert columns[0].value(contact) == "Studying abroad"


def test_personal_data_erasure_and_merge(app, world, on):
    from plugins.student_service import privacy

    sid = make_student(app, world)
    dept = department(app)
    with app.test_request_context():
        db.session.add(ServiceRequest(student_id=sid, station_id=world.stations["milan"], kind="counselling",
                                      summary="Stress", department_id=dept))
        db.session.commit()
        contact = db.session.get(Contact, world.contacts["milan"])
        sections = privacy.personal_data(contact)
        record = sections[0].records[0] if hasattr(sections[0], "records") else sections[0].rows[0]
        assert record["school"] == "Politecnico di Milano" and record["service_requests"][0]["summary"] == "Stress"
        outcome = privacy.erase_personal_data(contact, None)
        assert outcome.exceptions == []
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Student)) == 0
        assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == 0
        privacy.erase_personal_data(contact, None)  # idempotent
    # Merge: both students -> the survivor keeps one, with the other's requests.
    keep = make_student(app, world, name="Keep Me")
    gone = make_student(app, world, name="Merge Me")
    with app.test_request_context():
        # A duplicate student with nothing linked is left to the core, which can undo the merge.
        survivor = db.session.get(Contact, load(app, Student, keep).contact_id)
        db.session.execute(StudentEvent.__table__.delete().where(StudentEvent.student_id == gone))
        assert privacy.merge_contacts(survivor, db.session.get(Contact, load(app, Student, gone).contact_id)) is None
        db.session.rollback()
        db.session.add(ServiceRequest(student_id=gone, station_id=world.stations["milan"], kind="job", summary="Job"))
        db.session.commit()
        survivor = db.session.get(Contact, load(app, Student, keep).contact_id)
        merged = db.session.get(Contact, load(app, Student, gone).contact_id)
        assert privacy.merge_contacts(survivor, merged) is not None
        db.session.commit()
        assert db.session.scalars(select(ServiceRequest.student_id)).all() == [keep]
        assert db.session.get(Student, gone) is None


def test_list_pages_do_not_query_per_row(app, world, on, login, count_queries):
    for n in range(3):
        make_student(app, world, name=f"Student {n}")
    client = login("hq")

    def queries(path):
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        return counter.count

    few = {path: queries(path) for path in (f"{BASE}/", f"{BASE}/requests", f"{BASE}/roll-calls")}
    for n in range(3, 9):
        make_student(app, world, name=f"Student {n}")
    assert {path: queries(path) for path in few} == few


def test_roll_call_page_does_not_query_per_row(app, world, on, login, count_queries):
    """Entries come with their students, contacts, stations and markers in one statement; the rows
    share one blank form, and a refused one keeps what was typed in its own row only."""
    make_student(app, world, name="Few 0", city="Turin")
    many = [make_student(app, world, name=f"Many {n}") for n in range(6)]
    with app.test_request_context():
        hq_user = db.session.get(User, world.users["hq"])
        few_call = services.open_roll_call("Few", "IT", "Turin", None, hq_user).id
        many_call = services.open_roll_call("Many", "IT", "Milan", None, hq_user).id
        entries = dict(db.session.execute(select(RollCallEntry.student_id, RollCallEntry.id)
                                          .where(RollCallEntry.roll_call_id == many_call)).all())
    client = login("hq")
    for student_id, mark in zip(many[:3], ("safe", "needs_help", "not_reached")):
        assert client.post(f"{BASE}/roll-calls/{many_call}/entries/{entries[student_id]}",
                           data={"mark": mark, "channel": "wechat"}).status_code == 302

    def queries(call, query=""):
        with count_queries() as counter:
            assert client.get(f"{BASE}/roll-calls/{call}{query}").status_code == 200
        return counter.count

    home = client.get("/").get_data(as_text=True)  # the card: open roll calls newest first, no overdue card
    assert home.index(f"roll-calls/{many_call}\"") < home.index(f"roll-calls/{few_call}\"")
    assert "Overdue student service requests" not in home
    assert queries(many_call) == queries(few_call)
    assert queries(many_call, "?mark=safe") == queries(few_call, "?mark=safe")
    refused = client.post(f"{BASE}/roll-calls/{many_call}/entries/{entries[many[4]]}",
                          data={"mark": "reached", "channel": "", "note": "Typed <note>"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and body.count("Say how the student was reached.") == 1
    assert body.count('value="Typed &lt;note&gt;"') == 1 and body.count('<option value="" selected>') == 1
    assert body.count('<option value="phone" selected>') == len(entries)  # the preset (the refused row: "—" after it)
    assert f'id="channel-{entries[many[4]]}" aria-describedby="channel-{entries[many[4]]}-errors"' in body


def test_demo_data_loads_twice(app, world):
    from plugins.student_service import demo

    with app.test_request_context():
        hq = User(email="hq@liaison.example", name="HQ", role="hq_reviewer")
        hq.set_password("x" * 12)
        db.session.add(hq)
        db.session.commit()
        demo.load()
        counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m))
                  for m in (Department, HomeTeam, Student, ServiceRequest, Programme, RollCall)}
        demo.load()
        again = {m.__name__: db.session.scalar(select(func.count()).select_from(m))
                 for m in (Department, HomeTeam, Student, ServiceRequest, Programme, RollCall)}
    assert counts == again and counts["Department"] == 7 and counts["Programme"] == 4


@pytest.mark.parametrize("path, data, field, kept", [
    ("/roll-calls/new", {"title": "", "country": "IT", "city": "Milan"}, "title", 'value="Milan"'),
    ("/roll-calls/new", {"title": "Floods", "country": "XX", "city": "Milan"}, "country", 'value="Floods"'),
    ("/roll-calls/new", {"title": "F" * 201, "country": "IT", "city": "Milan"}, "title", 'value="Milan"'),
    ("/programmes/new", {"kind": "internship", "title": "Haiyan", "year": "20x6"}, "year", 'value="Haiyan"'),
    ("/programmes/new", {"kind": "party", "title": "Haiyan", "year": "2026"}, "kind", 'value="Haiyan"'),
    ("/programmes/new", {"kind": "internship", "title": "Haiyan", "year": "2026", "places": "-3"}, "places",
     'value="Haiyan"'),
    ("/programmes/new", {"kind": "internship", "title": "Haiyan", "year": "2026", "starts_on": "2026-07-10",
                         "ends_on": "2026-07-01"}, "ends_on", 'value="Haiyan"'),
    ("/programmes/new", {"kind": "lecture", "title": "Haiyan", "year": "2026", "event_id": "999999"}, "event_id",
     'value="Haiyan"'),
    ("/programmes/new", {"kind": "internship", "title": "Haiyan", "year": "2026", "fields": "AI, " + "x" * 121},
     "fields", 'value="Haiyan"'),
])
def test_bad_hq_form_input_writes_nothing(app, world, on, login, path, data, field, kept):
    response = login("hq").post(BASE + path, data=data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in body and kept in body
    assert count(app, RollCall) == 0 and count(app, Programme) == 0


@pytest.mark.parametrize("data, field", [
    ({"kind": "astrology", "summary": "Help"}, "kind"),
    ({"kind": "counselling", "summary": "   "}, "summary"),
    ({"kind": "counselling", "summary": "x" * 4001}, "summary"),
])
def test_bad_request_input_writes_nothing(app, world, on, login, data, field):
    sid = make_student(app, world)
    response = login("vol_milan").post(f"{BASE}/students/{sid}/requests/new", data=data)
    assert response.status_code == 200 and f'id="{field}-errors"' in response.get_data(as_text=True)
    assert count(app, ServiceRequest) == 0


@pytest.mark.parametrize("data", [
    {"mark": "pending", "channel": "phone"}, {"mark": "dead", "channel": "phone"}, {"mark": "safe", "channel": "fax"},
    {"mark": "", "channel": ""}, {"mark": "safe", "channel": "phone", "note": "x" * 501},
])
def test_bad_marks_change_nothing(app, world, on, login, data):
    make_student(app, world)
    with app.test_request_context():
        call = services.open_roll_call("Floods", "IT", None, None, db.session.get(User, world.users["hq"])).id
        entry = db.session.scalar(select(RollCallEntry.id))
    response = login("vol_milan").post(f"{BASE}/roll-calls/{call}/entries/{entry}", data=data)
    assert response.status_code == 400
    assert load(app, RollCallEntry, entry).mark == Mark.PENDING
    for bad in ("abc", "999999", "-1"):
        assert login("vol_milan").post(f"{BASE}/roll-calls/{call}/entries/{bad}", data=data).status_code == 404


# Departments, teams and programmes kept without the demo -------------------------------------------

def test_a_fresh_install_adds_a_department_and_refers_a_request_to_it(app, world, on, login):
    """No demo data: Europe's admin adds the alliance's department and the home team; a request is
    referred to that department; a department in use is deactivated, never deleted."""
    assert count(app, Department) == 0 and count(app, HomeTeam) == 0
    assert login("vol_milan").get(f"{BASE}/departments").status_code == 403
    assert login("asean_admin").get(f"{BASE}/departments").status_code == 404  # the plugin is off for ASEAN
    client = login("europe_admin")
    assert "No departments yet" in client.get(f"{BASE}/departments").get_data(as_text=True)
    response = client.post(f"{BASE}/departments", data={"name_zh": "县人力社保局", "name": "HR bureau",
                                                        "position": "2", "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        dept = db.session.scalar(select(Department))
        dept_id, code = dept.id, dept.code
    assert code == "hr-bureau" and dept.position == 2 and dept.active
    # A second one, edited: renamed and put first.
    client.post(f"{BASE}/departments", data={"name_zh": "县教育局", "name": "Education", "active": "y"})
    with app.app_context():
        other = db.session.scalar(select(Department.id).where(Department.name_zh == "县教育局"))
    assert client.post(f"{BASE}/departments/{other}/edit", data={
        "name_zh": "县教育局", "name": "Education bureau", "position": "1", "active": "y"}).status_code == 302
    page = client.get(f"{BASE}/departments").get_data(as_text=True)
    assert page.index("Education bureau") < page.index("HR bureau")
    # The home team, created and renamed on the teams page.
    assert client.post(f"{BASE}/teams/new", data={"name_zh": "嘉善", "name": "Jiashan"}).status_code == 302
    with app.app_context():
        team_id = db.session.scalar(select(HomeTeam.id))
    assert client.post(f"{BASE}/teams/{team_id}/edit", data={"name_zh": "嘉善县", "name": "Jiashan County"}
                       ).status_code == 302
    assert load(app, HomeTeam, team_id).name == "Jiashan County"
    # The station records a student and a request; HQ refers it to the new department.
    sid = make_student(app, world, team_id=team_id)
    response = login("vol_milan").post(f"{BASE}/students/{sid}/requests/new",
                                       data={"kind": "job", "summary": "A job at home"})
    rid = int(response.headers["Location"].rsplit("/", 1)[1])
    hq = login("hq")
    assert "县人力社保局 — HR bureau" in hq.get(f"{BASE}/requests/{rid}").get_data(as_text=True)
    due = (today() + timedelta(days=7)).isoformat()
    assert hq.post(f"{BASE}/requests/{rid}/move", data={"move": "refer", "version": 1, "department_id": dept_id,
                                                        "due_on": due}).status_code == 302
    referred = load(app, ServiceRequest, rid)
    assert referred.status == "referred" and referred.department_id == dept_id
    # In use: it cannot be deleted, only deactivated; then it is no longer offered.
    client = login("europe_admin")
    assert "cannot be deleted" in client.get(f"{BASE}/departments/{dept_id}/edit").get_data(as_text=True)
    assert client.post(f"{BASE}/departments/{dept_id}/delete").status_code == 302
    assert load(app, Department, dept_id) is not None
    assert client.post(f"{BASE}/departments/{dept_id}/edit", data={
        "name_zh": "县人力社保局", "name": "HR bureau", "position": "2"}).status_code == 302  # unchecked: inactive
    assert load(app, Department, dept_id).active is False
    sid2 = make_student(app, world, name="Zhang Wei")
    response = login("vol_milan").post(f"{BASE}/students/{sid2}/requests/new", data={"kind": "job", "summary": "Job"})
    rid2 = int(response.headers["Location"].rsplit("/", 1)[1])
    hq = login("hq")
    assert "HR bureau" not in hq.get(f"{BASE}/requests/{rid2}").get_data(as_text=True)
    refused = hq.post(f"{BASE}/requests/{rid2}/move", data={"move": "refer", "version": 1, "department_id": dept_id,
                                                            "due_on": due})
    assert refused.status_code == 400 and load(app, ServiceRequest, rid2).status == "open"
    assert "HR bureau" in hq.get(f"{BASE}/requests/{rid}").get_data(as_text=True)  # the referral keeps it
    # In Chinese.
    zh = {"Accept-Language": "zh-CN"}
    client = login("europe_admin")
    assert "服务联盟成员部门" in client.get(f"{BASE}/departments", headers=zh).get_data(as_text=True)
    assert "新建家乡服务团队" in client.get(f"{BASE}/teams", headers=zh).get_data(as_text=True)
    assert "只能停用" in client.get(f"{BASE}/departments/{dept_id}/edit", headers=zh).get_data(as_text=True)
    # An unused department is deleted.
    assert client.post(f"{BASE}/departments/{other}/delete").status_code == 302
    assert load(app, Department, other) is None


def test_regional_admins_manage_teams_of_their_own_accounts(app, world, on, login):
    team_id = team(app, world)
    client = login("europe_admin")
    assert client.get(f"{BASE}/teams").status_code == 200
    added = client.post(f"{BASE}/teams/{team_id}/members", data={"email": world.emails["vol_milan"]})
    assert added.status_code == 302
    # An account of another region is not theirs to add or take off (as if unknown).
    refused = client.post(f"{BASE}/teams/{team_id}/members", data={"email": world.emails["vol_hanoi"]})
    assert refused.status_code == 400 and "No account has this e-mail address." in refused.get_data(as_text=True)
    with app.app_context():
        db.session.execute(team_members.insert().values(team_id=team_id, user_id=world.users["vol_hanoi"]))
        db.session.commit()
    assert client.post(f"{BASE}/teams/{team_id}/members/{world.users['vol_hanoi']}/remove").status_code == 404
    page = client.get(f"{BASE}/teams").get_data(as_text=True)  # named, but neither e-mail nor button
    assert "Vol Hanoi" in page and world.emails["vol_hanoi"] not in page and world.emails["vol_milan"] in page
    assert f"/members/{world.users['vol_hanoi']}/remove" not in page
    assert client.post(f"{BASE}/teams/{team_id}/members/{world.users['vol_milan']}/remove").status_code == 302
    with app.app_context():
        members = set(db.session.scalars(select(team_members.c.user_id)))
    assert members == {world.users["vol_hanoi"]}
    for user, status in (("vol_milan", 403), ("asean_admin", 404)):
        assert login(user).get(f"{BASE}/teams").status_code == status
        assert login(user).post(f"{BASE}/teams/new", data={"name_zh": "X", "name": "X"}).status_code == status
    assert count(app, HomeTeam) == 1
    # HQ adds any account.
    assert login("hq").post(f"{BASE}/teams/{team_id}/members", data={"email": world.emails["vol_bangkok"]}
                            ).status_code == 302


@pytest.mark.parametrize("path, data, field, kept", [
    ("/departments", {"name_zh": "", "name": "HR bureau"}, "name_zh", 'value="HR bureau"'),
    ("/departments", {"name_zh": "人社局", "name": "  "}, "name", 'value="人社局"'),
    ("/departments", {"name_zh": "人社局", "name": "HR", "position": "-1"}, "position", 'value="人社局"'),
    ("/departments", {"name_zh": "人社局", "name": "HR", "position": "first"}, "position", 'value="人社局"'),
    ("/departments", {"name_zh": "人社局", "name": "H" * 201}, "name", 'value="人社局"'),
    ("/departments", {"name_zh": "health局", "name": "Another"}, "name_zh", 'value="Another"'),  # taken
    ("/teams/new", {"name_zh": "", "name": "Jiashan"}, "name_zh", 'value="Jiashan"'),
    ("/teams/new", {"name_zh": "嘉善县", "name": "Other"}, "name_zh", 'value="Other"'),  # taken
])
def test_bad_department_and_team_input_writes_nothing(app, world, on, login, path, data, field, kept):
    department(app)
    team(app, world)
    response = login("europe_admin").post(BASE + path, data=data)
    assert response.status_code in (200, 400)
    body = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in body and kept in body
    assert count(app, Department) == 1 and count(app, HomeTeam) == 1


def test_bad_department_edit_keeps_the_department(app, world, on, login):
    dept = department(app)
    other = department(app, "talent")
    client = login("europe_admin")
    for data, field in (({"name_zh": "", "name": "X"}, "name_zh"), ({"name_zh": "talent局", "name": "X"}, "name_zh")):
        response = client.post(f"{BASE}/departments/{dept}/edit", data=data)
        assert response.status_code == 200 and f'id="{field}-errors"' in response.get_data(as_text=True)
    assert load(app, Department, dept).name_zh == "health局"
    assert client.get(f"{BASE}/departments/999999/edit").status_code == 404
    assert client.post(f"{BASE}/teams/999999/edit", data={"name_zh": "X", "name": "X"}).status_code == 404
    assert load(app, Department, other).name == "talent bureau"


def test_hq_edits_a_programme_with_the_same_rules(app, world, on, login):
    students = [make_student(app, world), make_student(app, world, name="Zhang Wei")]
    with app.test_request_context():
        hq = db.session.get(User, world.users["hq"])
        programme = services.create_programme({"kind": "internship", "title": "Haiyan", "year": 2026, "places": 2,
                                               "fields": "engineering"}, hq)
        for sid in students:
            services.apply(programme, db.session.get(Student, sid), hq)
        pid = programme.id
    form = {"kind": "internship", "title": "Haiyan 2026", "title_zh": "海燕云集结", "year": "2026", "places": "3",
            "host": "Jiashan Robotics", "fields": "engineering, design", "location": "Jiashan"}
    assert login("vol_milan").get(f"{BASE}/programmes/{pid}/edit").status_code == 403
    assert login("europe_admin").post(f"{BASE}/programmes/{pid}/edit", data=form).status_code == 403
    client = login("hq")
    page = client.get(f"{BASE}/programmes/{pid}/edit").get_data(as_text=True)
    assert 'value="Haiyan"' in page and "Edit programme" in page
    assert f"/programmes/{pid}/edit" in client.get(f"{BASE}/programmes/{pid}").get_data(as_text=True)
    assert client.post(f"{BASE}/programmes/{pid}/edit", data=form).status_code == 302
    with app.app_context():
        record = db.session.get(Programme, pid, options=[selectinload(Programme.field_rows)])
        assert (record.title, record.places, record.host, record.field_list) == (
            "Haiyan 2026", 3, "Jiashan Robotics", ["engineering", "design"])
    # Bad input: the message next to the field, what was typed kept, nothing written.
    for data, field in (({"places": "0"}, "places"), ({"year": "20x6"}, "year"), ({"kind": "party"}, "kind"),
                        ({"starts_on": "2026-07-10", "ends_on": "2026-07-01"}, "ends_on"),
                        ({"event_id": "999999"}, "event_id"), ({"title": " "}, "title")):
        response = client.post(f"{BASE}/programmes/{pid}/edit", data={**form, "title": "Changed", **data})
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and f'id="{field}-errors"' in body, data
        assert 'value="Jiashan Robotics"' in body
    # Fewer places than already given: refused.
    with app.app_context():
        db.session.execute(Application.__table__.update().values(status="matched"))
        db.session.commit()
    response = client.post(f"{BASE}/programmes/{pid}/edit", data={**form, "title": "Changed", "places": "1"})
    assert response.status_code == 200 and 'id="places-errors"' in response.get_data(as_text=True)
    assert load(app, Programme, pid).title == "Haiyan 2026"
    assert client.get(f"{BASE}/programmes/999999/edit").status_code == 404


def field_rows(app, pid) -> list[tuple[str, int]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(ProgrammeField.field, ProgrammeField.position).where(ProgrammeField.programme_id == pid)
            .order_by(ProgrammeField.position))]


def test_a_programmes_fields_are_rows_and_matching_reads_them(app, world, on, login, count_queries):
    robotics = make_student(app, world, field="Robotics engineering")
    design = make_student(app, world, name="Zhang Wei", field="industrial design")
    percent = make_student(app, world, name="Li Na", field="100% cotton")
    client = login("hq")
    response = client.post(f"{BASE}/programmes/new", data={
        "kind": "internship", "title": "Haiyan", "year": "2026", "fields": " robotics，AI、ai; Design ；, "})
    assert response.status_code == 302
    pid = int(response.headers["Location"].rsplit("/", 1)[1])
    # Every separator of Chinese and Western typing; repeats (ignoring case) and blanks dropped.
    assert field_rows(app, pid) == [("robotics", 0), ("AI", 1), ("Design", 2)]
    assert 'value="robotics, AI, Design"' in client.get(f"{BASE}/programmes/{pid}/edit").get_data(as_text=True)
    with app.app_context():
        hq = db.session.get(User, world.users["hq"])
        programme = db.session.get(Programme, pid)
        with count_queries() as queries:
            matched = services.matching_students(hq, programme)
        # The fields are matched in the students' statement itself, whatever their number.
        reading = [q for q in queries.statements if "student_service_programme_fields" in q]
        assert len(reading) == 1 and "FROM student_service_students" in reading[0]
        assert {s.id for s in matched} == {robotics, design}
        # The rows are what matching reads: change them behind the model's back.
        db.session.execute(ProgrammeField.__table__.delete().where(ProgrammeField.programme_id == pid))
        db.session.execute(ProgrammeField.__table__.insert().values(programme_id=pid, field="% cotton", position=0))
        db.session.commit()
        assert [s.id for s in services.matching_students(hq, db.session.get(Programme, pid))] == [percent]
        # A wildcard in a field matches itself, not every student.
        db.session.execute(ProgrammeField.__table__.update().values(field="_"))
        db.session.commit()
        assert services.matching_students(hq, db.session.get(Programme, pid)) == []
    page = client.get(f"{BASE}/programmes/{pid}").get_data(as_text=True)
    assert "Students whose field matches" not in page and '<dd class="col-sm-8">_</dd>' in page
    # An edit replaces the rows (same text re-spaced: nothing changes); no field: no rows.
    form = {"kind": "internship", "title": "Haiyan", "year": "2026", "fields": "robotics ,  design"}
    assert client.post(f"{BASE}/programmes/{pid}/edit", data=form).status_code == 302
    assert field_rows(app, pid) == [("robotics", 0), ("design", 1)]
    with app.test_request_context():
        changed = services.update_programme(db.session.get(Programme, pid),
                                            {**form, "year": 2026, "fields": "robotics，design"},
                                            db.session.get(User, world.users["hq"]))
        assert "fields" not in changed
    assert client.post(f"{BASE}/programmes/{pid}/edit", data={**form, "fields": ""}).status_code == 302
    assert field_rows(app, pid) == []
    with app.app_context():
        assert services.matching_students(db.session.get(User, world.users["hq"]), db.session.get(Programme, pid)) == []
        db.session.delete(db.session.get(Programme, pid))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ProgrammeField)) == 0


# A home county's staff without a station ----------------------------------------------------------

def county_staff(app, team_id=None) -> int:
    """A county official: a volunteer account in no station (optionally in a home team)."""
    from liaison.models import Role

    from .conftest import PASSWORD

    with app.app_context():
        user = User(email="county@example.org", name="County Official", role=Role.VOLUNTEER)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        if team_id is not None:
            db.session.execute(team_members.insert().values(team_id=team_id, user_id=user.id))
        db.session.commit()
        return user.id


def login_as(client, email):
    from .conftest import PASSWORD

    client.post("/logout")
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def test_county_staff_in_a_home_team_see_their_students_and_only_those(app, world, on, client, login):
    team_id = team(app, world)
    county_staff(app, team_id)
    ours = make_student(app, world, team_id=team_id)  # Milan: the plugin is on for EUROPE
    theirs = make_student(app, world, name="Zhang Wei")  # Milan, no home team
    hanoi = make_student(app, world, station="hanoi", team_id=team_id, country="VN", city="Hanoi")  # plugin off there
    with app.test_request_context():
        hq = db.session.get(User, world.users["hq"])
        for sid in (ours, theirs):
            services.create_request(db.session.get(Student, sid), "counselling", f"Request of {sid}", hq)
        call = services.open_roll_call("Floods", "IT", None, None, hq).id
        programme = services.create_programme({"kind": "internship", "title": "Haiyan", "year": 2026,
                                               "fields": "engineering"}, hq).id
    client = login_as(client, "county@example.org")
    home = client.get("/").get_data(as_text=True)
    assert f'href="{BASE}/"' in home  # the plugin's navigation
    listing = client.get(f"{BASE}/").get_data(as_text=True)
    assert "Marco Rossi" in listing and "Zhang Wei" not in listing and "Nguyen Van An" not in listing
    page = client.get(f"{BASE}/students/{ours}")
    assert page.status_code == 200 and f"/contacts/{world.contacts['milan']}" not in page.get_data(as_text=True)
    assert client.get(f"{BASE}/students/{theirs}").status_code == 404
    assert client.get(f"{BASE}/students/{hanoi}").status_code == 404  # the team's, but the plugin is off there
    requests_page = client.get(f"{BASE}/requests").get_data(as_text=True)
    assert "Marco Rossi" in requests_page and "Zhang Wei" not in requests_page
    counts = client.get(f"{BASE}/roll-calls/{call}/counts.json").get_json()
    assert counts["total"] == 1  # their student only, of the two in Italy
    roll_call = client.get(f"{BASE}/roll-calls/{call}").get_data(as_text=True)
    assert "Marco Rossi" in roll_call and "Zhang Wei" not in roll_call
    candidates = client.get(f"{BASE}/programmes/{programme}").get_data(as_text=True)
    assert "Marco Rossi" in candidates and "Zhang Wei" not in candidates
    # They serve their students (the home side) …
    response = client.post(f"{BASE}/students/{ours}/requests/new", data={"kind": "job", "summary": "Job at home"})
    assert response.status_code == 302
    assert client.post(f"{BASE}/students/{theirs}/requests/new", data={"kind": "job", "summary": "x"}).status_code == 404
    # … but nothing of the stations themselves, nor the management pages.
    assert client.get(f"{BASE}/students/new?contact_id={world.contacts['milan']}").status_code == 404
    assert client.get(f"/contacts/{world.contacts['milan']}").status_code == 404
    for path in ("/teams", "/departments", "/roll-calls/new", "/programmes/new"):
        assert client.get(BASE + path).status_code == 403, path
    # Taken off the team: the pages are gone.
    with app.app_context():
        db.session.execute(team_members.delete())
        db.session.commit()
    assert client.get(f"{BASE}/").status_code == 404
    assert f'href="{BASE}/"' not in client.get("/").get_data(as_text=True)


def test_county_staff_in_no_team_get_404(app, world, on, client):
    team(app, world)
    county_staff(app)
    sid = make_student(app, world)
    client = login_as(client, "county@example.org")
    for path in ("/", f"/students/{sid}", "/requests", "/roll-calls", "/programmes"):
        assert client.get(BASE + path).status_code == 404, path
    # A team member with the plugin switched off everywhere: 404 too.
    switch(app, world, "EUROPE", enabled=False)
    with app.app_context():
        user = db.session.scalar(select(User.id).where(User.email == "county@example.org"))
        db.session.execute(team_members.insert().values(team_id=db.session.scalar(select(HomeTeam.id)), user_id=user))
        db.session.commit()
    assert client.get(f"{BASE}/").status_code == 404
