"""The skills-talent alliance plugin: members and renewals, multi-party framework agreements through
their lifecycle and milestones, renewal reminders, the recognition catalogue (search in both
languages, spreadsheet import), figures, privacy, scope and bad input."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from liaison.models import Contact, JobRun, Notification, PluginScope, Station, User, db
from liaison.plugins import activation
from plugins.skills_alliance import services
from plugins.skills_alliance.choices import NAME, Status
from plugins.skills_alliance.lifecycle import IllegalMove, apply_move, available_moves
from plugins.skills_alliance.models import Agreement, AgreementEvent, Document, Member, Milestone, Party, Recognition, \
    Renewal

BASE = f"/p/{NAME}"
CHINESE = {"Accept-Language": "zh-CN"}
PLUGIN_DIR = Path(__file__).resolve().parent.parent / "plugins" / NAME


def switch(app, world, enabled=True, **scope):
    scope = scope or {"region_id": world.regions["ASEAN"]}
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        activation.set_enabled(NAME, enabled, admin, **scope)
        db.session.commit()


@pytest.fixture
def alliance_on(app, world):
    switch(app, world)


@pytest.fixture
def today(app) -> date:
    from liaison.i18n import local_today

    with app.app_context():
        return local_today()


def count_rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def make_member(app, world, station="hanoi", number="C-001", name="Chongqing Industry Technician College",
                country="CN", kind="technician_college", contacts=()) -> int:
    from liaison.i18n import local_today

    with app.test_request_context():
        actor = db.session.get(User, world.users["admin"])
        member = services.create_member(db.session.get(Station, world.stations[station]), {
            "name": name, "name_zh": None, "country": country, "kind": kind, "certificate_no": number,
            "joined_on": local_today() - timedelta(days=300), "status": "active", "notes": None,
            "contact_ids": list(contacts)}, actor)
        return member.id


def make_agreement(app, world, members, homes="", kind="school_school", areas=("visits",), station="hanoi",
                   proposed_days_ago=100) -> int:
    from liaison.i18n import local_today

    with app.test_request_context():
        actor = db.session.get(User, world.users["admin"])
        agreement = services.create_agreement(db.session.get(Station, world.stations[station]), {
            "title": "校际合作框架协议", "kind": kind, "areas": list(areas), "member_ids": list(members),
            "home_institutions": homes, "proposed_on": local_today() - timedelta(days=proposed_days_ago),
            "notes": None}, actor)
        return agreement.id


def load(agreement_id) -> Agreement:
    from sqlalchemy.orm import selectinload

    return db.session.scalar(select(Agreement).where(Agreement.id == agreement_id).options(
        selectinload(Agreement.station), selectinload(Agreement.parties)))


def version_of(app, agreement_id) -> int:
    with app.app_context():
        return db.session.get(Agreement, agreement_id).version


# Members -------------------------------------------------------------------------------------

def test_member_with_contact_persons_and_renewals(app, world, alliance_on, login, today):
    client = login("vol_hanoi")
    response = client.post(BASE + f"/members/new?station_id={world.stations['hanoi']}", data={
        "name": "St. Petersburg College of Radio Communications", "name_zh": "圣彼得堡无线电通讯学院", "country": "RU",
        "kind": "vocational_school", "joined_on": (today - timedelta(days=10)).isoformat(),
        "certificate_no": "LHXTD-001", "status": "active", "contact_ids": [str(world.contacts["hanoi"])]})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.certificate_no == "LHXTD-001"))
        linked = db.session.execute(select(func.count()).select_from(Member.__table__)).scalar()
        assert member.country == "RU" and linked == 1
        member_id = member.id
    page = client.get(BASE + f"/members/{member_id}").get_data(as_text=True)
    assert "圣彼得堡无线电通讯学院" in page and "LHXTD-001" in page
    response = client.post(BASE + f"/members/{member_id}/renewals", data={
        "renewed_on": today.isoformat(), "valid_until": (today + timedelta(days=365)).isoformat(), "note": "续期"})
    assert response.status_code == 302
    assert count_rows(app, Renewal) == 1
    # A renewal that ends before it starts is refused next to the field; nothing written.
    response = client.post(BASE + f"/members/{member_id}/renewals", data={
        "renewed_on": today.isoformat(), "valid_until": (today - timedelta(days=1)).isoformat()})
    assert response.status_code == 400 and "valid after the day it was renewed" in response.get_data(as_text=True)
    assert count_rows(app, Renewal) == 1


def test_certificate_numbers_are_unique(app, world, alliance_on, login, today):
    make_member(app, world, number="DUP-1")
    client = login("vol_hanoi")
    response = client.post(BASE + f"/members/new?station_id={world.stations['hanoi']}", data={
        "name": "Another", "country": "SG", "kind": "hr_agency", "joined_on": today.isoformat(),
        "certificate_no": "DUP-1", "status": "active", "name_zh": "保留的名字"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Another member has this certificate number." in text
    assert "保留的名字" in text  # typed values kept
    assert count_rows(app, Member) == 1


# Agreements: lifecycle through the core's workflow ------------------------------------------------

def test_agreement_through_its_lifecycle(app, world, alliance_on, today):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B", country="RU")
    agreement_id = make_agreement(app, world, [a, b])
    with app.test_request_context():
        volunteer = db.session.get(User, world.users["vol_hanoi"])
        agreement = load(agreement_id)
        assert [m.name for m in available_moves(agreement, volunteer)] == ["negotiate", "sign", "terminate"]
        apply_move(agreement, "negotiate", volunteer, on=today - timedelta(days=50))
        with pytest.raises(IllegalMove) as refused:
            apply_move(agreement, "sign", volunteer, on=today - timedelta(days=40), valid_until=None)
        assert refused.value.field == "valid_until"
        with pytest.raises(IllegalMove) as refused:
            apply_move(agreement, "sign", volunteer, on=today - timedelta(days=40),
                       valid_until=today - timedelta(days=41))
        assert refused.value.field == "valid_until"
        apply_move(agreement, "sign", volunteer, on=today - timedelta(days=40), valid_until=today + timedelta(days=30))
        assert agreement.signed_on == today - timedelta(days=40)
        apply_move(agreement, "start", volunteer, on=today - timedelta(days=30))
        with pytest.raises(IllegalMove):  # a renewal must extend it
            apply_move(agreement, "renew", volunteer, on=today, valid_until=today + timedelta(days=10))
        apply_move(agreement, "renew", volunteer, on=today, valid_until=today + timedelta(days=400))
        with pytest.raises(IllegalMove) as refused:
            apply_move(agreement, "terminate", volunteer, on=today, note=None, confirmed=True)
        assert refused.value.field == "note"
        with pytest.raises(IllegalMove) as refused:
            apply_move(agreement, "terminate", volunteer, on=today, note="Ended.", confirmed=False)
        assert refused.value.field == "confirm"
        apply_move(agreement, "terminate", volunteer, on=today, note="Ended.", confirmed=True)
        db.session.commit()
        statuses = db.session.scalars(select(AgreementEvent.to_status).where(
            AgreementEvent.agreement_id == agreement_id).order_by(AgreementEvent.id)).all()
        assert statuses == ["proposed", "negotiation", "signed", "in_force", "in_force", "terminated"]


def test_parties_are_rows_and_at_least_two(app, world, alliance_on, login, today):
    a = make_member(app, world, number="A")
    agreement_id = make_agreement(app, world, [a], homes="重庆市渝中职业教育中心")
    with app.app_context():
        parties = db.session.scalars(select(Party).where(Party.agreement_id == agreement_id).order_by(Party.id)).all()
        assert [(p.member_id, p.home_institution) for p in parties] == [(a, None), (None, "重庆市渝中职业教育中心")]
    client = login("vol_hanoi")
    response = client.post(BASE + f"/agreements/new?station_id={world.stations['hanoi']}", data={
        "title": "One party only", "kind": "school_school", "areas": ["visits"], "member_ids": [str(a)],
        "proposed_on": today.isoformat()})
    assert response.status_code == 200 and "at least two parties" in response.get_data(as_text=True)
    response = client.post(BASE + f"/agreements/new?station_id={world.stations['hanoi']}", data={
        "title": "Wrong areas", "kind": "school_enterprise", "areas": ["visits"], "member_ids": [str(a)],
        "home_institutions": "Home college", "proposed_on": today.isoformat()})
    assert "Choose areas of this kind of agreement." in response.get_data(as_text=True)
    assert count_rows(app, Agreement) == 1


def test_member_of_an_invisible_station_cannot_be_a_party(app, world, alliance_on, login, today):
    switch(app, world, region_id=world.regions["EUROPE"])
    foreign = make_member(app, world, station="milan", number="M-1")
    own = make_member(app, world, number="H-1")
    client = login("vol_hanoi")
    response = client.post(BASE + f"/agreements/new?station_id={world.stations['hanoi']}", data={
        "title": "Sneaky", "kind": "school_school", "areas": ["visits"], "member_ids": [str(own), str(foreign)],
        "proposed_on": today.isoformat()})
    assert response.status_code == 200  # the choice is not offered: refused next to the field
    assert count_rows(app, Agreement) == 0


def test_agreement_through_its_milestones_on_the_page(app, world, alliance_on, login, today):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b], kind="school_enterprise", areas=("internships", "majors"))
    client = login("vol_hanoi")
    url = BASE + f"/agreements/{agreement_id}"
    response = client.post(url + "/move", data={"move": "sign", "version": version_of(app, agreement_id),
                                                 "on": (today - timedelta(days=5)).isoformat(),
                                                 "valid_until": (today + timedelta(days=60)).isoformat()})
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(url + "/move", data={"move": "start", "version": version_of(app, agreement_id),
                                                 "on": today.isoformat()})
    assert response.status_code == 302
    response = client.post(url + "/milestones", data={"title": "首批学生实习", "due_on": today.isoformat()})
    assert response.status_code == 302
    response = client.post(url + "/milestones", data={"title": "Late", "due_on": (today - timedelta(days=3)).isoformat()})
    assert response.status_code == 400 and "overdue at once" in response.get_data(as_text=True)
    with app.app_context():
        milestone_id = db.session.scalar(select(Milestone.id).where(Milestone.agreement_id == agreement_id))
    response = client.post(url + f"/milestones/{milestone_id}/done", data={"done_on": today.isoformat()})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Milestone, milestone_id).done_on == today
    page = client.get(url).get_data(as_text=True)
    assert "首批学生实习" in page and "In force" in page
    response = client.post(url + "/documents", data={"kind": "agreement", "title": "协议文本",
                                                      "url": "https://files.example.org/a.pdf"})
    assert response.status_code == 302
    response = client.post(url + "/documents", data={"kind": "agreement", "title": "Bad link", "url": "not a link"})
    assert response.status_code == 400 and "Give a web address." in response.get_data(as_text=True)
    # A stale version is a conflict, not a silent overwrite.
    response = client.post(url + "/move", data={"move": "expire", "version": 1, "on": today.isoformat()})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Agreement, agreement_id).status == Status.IN_FORCE


def test_overdue_milestones_list_and_widget(app, world, alliance_on, login, today):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    with app.app_context():
        db.session.add(Milestone(agreement_id=agreement_id, title="Teachers' visit", due_on=today - timedelta(days=9)))
        db.session.commit()
    client = login("vol_hanoi")
    assert "Teachers&#39; visit" in client.get(BASE + "/milestones").get_data(as_text=True)
    assert "Overdue agreement milestones" in client.get("/").get_data(as_text=True)
    assert "Teachers&#39; visit" not in login("vol_bangkok").get(BASE + "/milestones").get_data(as_text=True)


def test_renewal_reminders_through_run_due(app, world, alliance_on, today):
    from liaison import jobs

    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    with app.test_request_context():
        agreement = load(agreement_id)
        volunteer = db.session.get(User, world.users["vol_hanoi"])
        apply_move(agreement, "sign", volunteer, on=today - timedelta(days=20), valid_until=today + timedelta(days=30))
        apply_move(agreement, "start", volunteer, on=today - timedelta(days=10))
        db.session.commit()
    with app.app_context():
        report = jobs.run_due(app)
        assert report["skills_alliance.renewals"] == 1
        jobs.run_due(app)  # the same end date: no second reminder
        keys = db.session.scalars(select(JobRun.key).where(JobRun.key.like("skills_alliance_renewal:%"))).all()
        assert len(keys) == 1
        notified = db.session.scalars(select(Notification.user_id).where(
            Notification.kind == "skills_alliance.agreement_expiring")).all()
        assert world.users["vol_hanoi"] in notified and world.users["vol_milan"] not in notified


def test_no_reminders_where_the_plugin_is_off(app, world, alliance_on, today):
    from liaison import jobs

    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    with app.test_request_context():
        agreement = load(agreement_id)
        volunteer = db.session.get(User, world.users["vol_hanoi"])
        apply_move(agreement, "sign", volunteer, on=today - timedelta(days=20), valid_until=today + timedelta(days=30))
        apply_move(agreement, "start", volunteer, on=today - timedelta(days=10))
        db.session.commit()
    switch(app, world, False)
    with app.app_context():
        assert jobs.run_due(app)["skills_alliance.renewals"] == 0


# Recognition catalogue ------------------------------------------------------------------------

RECOGNITION = {"issuing_country": "JP", "issuing_body": "厚生労働省", "name_original": "技能検定 機械加工 1級",
               "name_zh": "日本技能检定机械加工1级", "level": "1級", "domestic_kind": "qualification",
               "domestic_name": "车工", "domestic_level": "technician", "source_document": "认可清单（第二批）"}


def test_recognition_searchable_in_both_languages(app, world, alliance_on, login, today):
    client = login("vol_hanoi")
    response = client.post(BASE + f"/recognitions/new?station_id={world.stations['hanoi']}",
                           data={**RECOGNITION, "source_date": today.isoformat()})
    assert response.status_code == 302
    with app.test_request_context():
        db.session.add(Recognition(station_id=world.stations["hanoi"], issuing_country="SG",
                                   issuing_body="SkillsFuture Singapore", name_original="WSQ Certificate in Welding",
                                   name_zh="新加坡焊接证书", domestic_kind="qualification", domestic_name="焊工",
                                   domestic_level="senior", source_document="清单", source_date=today))
        db.session.commit()
    for query, expected, absent in [("機械加工", "车工", "焊工"), ("技能检定", "车工", "焊工"),
                                    ("ｗｓｑ", "焊工", "车工"), ("welding", "焊工", "车工"), ("焊工", "焊工", "车工")]:
        page = client.get(BASE + "/recognitions", query_string={"q": query}).get_data(as_text=True)
        assert expected in page and absent not in page, query
    found = client.get("/search", query_string={"q": "welding"}).get_data(as_text=True)
    assert "WSQ Certificate in Welding" in found and "Recognised qualifications" in found
    assert "WSQ Certificate in Welding" not in login("vol_bangkok").get(
        "/search", query_string={"q": "welding"}).get_data(as_text=True)


def test_recognition_import_from_a_spreadsheet(app, world, alliance_on, login):
    client = login("vol_hanoi")
    csv = ("Issuing country,Issuing body,Name in the original language,Chinese name,Level abroad,Recognised as,"
           "Domestic qualification or title,Domestic level,Source document,Date of the source document\n"
           "SG,SkillsFuture,WSQ Welding,焊接证书,Advanced,Vocational qualification,焊工,senior,清单,2024-05-01\n"
           "Russia,Минпросвещения,Техник,技术员,СПО,职称,工程师,intermediate,清单,2024-05-01\n").encode()
    from io import BytesIO

    response = client.post(BASE + f"/recognitions/import?station_id={world.stations['hanoi']}",
                           data={"file": (BytesIO(csv), "catalogue.csv")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        rows = db.session.execute(select(Recognition.issuing_country, Recognition.domestic_kind)
                                  .order_by(Recognition.id)).all()
        assert rows == [("SG", "qualification"), ("RU", "title")]
    bad = csv.replace(b"2024-05-01\n", b"someday\n", 1)
    response = client.post(BASE + f"/recognitions/import?station_id={world.stations['hanoi']}",
                           data={"file": (BytesIO(bad), "catalogue.csv")}, content_type="multipart/form-data")
    assert response.status_code == 400 and "YYYY-MM-DD" in response.get_data(as_text=True)
    assert count_rows(app, Recognition) == 2  # all rows or none


# Figures ----------------------------------------------------------------------------------------

def test_report_section_and_scorecard(app, world, alliance_on, today):
    from plugins.skills_alliance import figures
    from liaison.reports import periods

    a = make_member(app, world, number="A")
    b = make_member(app, world, number="B", country="RU", kind="enterprise")
    agreement_id = make_agreement(app, world, [a, b])
    with app.test_request_context():
        agreement = load(agreement_id)
        volunteer = db.session.get(User, world.users["vol_hanoi"])
        apply_move(agreement, "sign", volunteer, on=today - timedelta(days=2), valid_until=today + timedelta(days=300))
        db.session.add_all([
            Milestone(agreement_id=agreement_id, title="on time", due_on=today, done_on=today - timedelta(days=1)),
            Milestone(agreement_id=agreement_id, title="late", due_on=today - timedelta(days=1), done_on=today),
            Milestone(agreement_id=agreement_id, title="open", due_on=today)])
        db.session.commit()
        section = figures.sections(periods.named(str(today.year)), [world.stations["hanoi"]])
        tables = {t.key: t for t in section.tables}
        assert sum(row[-1] for row in tables["members"].rows) == 2
        assert tables["agreements"].rows == [[str(today.year), 0, 1, 1]]
        assert [row[1] for row in tables["milestones"].rows] == [3, 1, 1, 1]
        card = {f.key: f.values for f in figures.scorecard(today.year, [world.stations["hanoi"]])}
        assert card["agreements"] == {world.stations["hanoi"]: 1}


# Privacy --------------------------------------------------------------------------------------------

def test_personal_data_and_erasure(app, world, alliance_on):
    from liaison.privacy.erasure import ErasureOutcome
    from plugins.skills_alliance import privacy

    member_id = make_member(app, world, number="P-1", contacts=[world.contacts["hanoi"]])
    with app.app_context():
        contact = db.session.get(Contact, world.contacts["hanoi"])
        db.session.get(Member, member_id).notes = f"Ask {contact.name} first."
        db.session.commit()
        sections = privacy.personal_data(contact)
        assert sections[0].records and sections[0].records[0]["certificate_no"] == "P-1"
        outcome = privacy.erase_personal_data(contact, None)
        assert isinstance(outcome, ErasureOutcome)
        assert outcome.exceptions == [("alliance_member", member_id, "institutional_record")]
        db.session.commit()
        assert contact.name not in db.session.get(Member, member_id).notes
        assert not privacy.personal_data(contact)[0].records


def test_every_column_is_classified(app):
    from plugins.skills_alliance.classification import PERSONAL_FIELDS

    with app.app_context():
        columns = {f"{table.name}.{column.name}" for table in db.metadata.sorted_tables
                   if table.name.startswith("skills_alliance_") for column in table.columns}
    assert columns == set(PERSONAL_FIELDS)


# Scope and activation --------------------------------------------------------------------------------

def test_scope_and_activation(app, world, login):
    member_id = make_member(app, world, number="S-1")
    assert login("vol_hanoi").get(BASE + "/members").status_code == 404  # plugin off everywhere
    switch(app, world)
    assert login("vol_hanoi").get(BASE + f"/members/{member_id}").status_code == 200
    assert login("vol_bangkok").get(BASE + f"/members/{member_id}").status_code == 404
    assert login("vol_milan").get(BASE + "/members").status_code == 404
    assert login("hq").get(BASE + f"/members/{member_id}").status_code == 200
    assert login("vol_hanoi").get(BASE + "/members/99999999999999999999").status_code == 404
    switch(app, world, False, station_id=world.stations["hanoi"])
    assert login("hq").get(BASE + f"/members/{member_id}").status_code == 404


def test_suspended_station_is_read_only_for_its_side(app, world, alliance_on, login, today):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    with app.app_context():
        db.session.get(Station, world.stations["hanoi"]).status = "suspended"
        db.session.commit()
    client = login("vol_hanoi")
    assert client.post(BASE + f"/agreements/{agreement_id}/milestones",
                       data={"title": "x", "due_on": today.isoformat()}).status_code == 403
    response = client.post(BASE + f"/agreements/{agreement_id}/move", data={
        "move": "negotiate", "version": version_of(app, agreement_id), "on": today.isoformat()})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Agreement, agreement_id).status == Status.PROPOSED


@pytest.mark.parametrize("path", ["/agreements/0", "/agreements/-1", "/members/abc", "/agreements/99999999999999999999",
                                  "/?page=-5&status=nonsense", "/recognitions?q=%00&country=zz", "/members?kind=%27"])
def test_odd_input_is_no_server_error(app, world, alliance_on, login, path):
    assert login("vol_hanoi").get(BASE + path).status_code in (200, 404)


# Bad input: nothing written, message next to the field, values kept ----------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"title": ""}, "This field is required."),
    ({"areas": []}, "Choose at least one area of cooperation."),
    ({"kind": "nonsense"}, "Not a valid choice"),
    ({"proposed_on": "2999-01-01"}, "The date cannot be in the future."),
    ({"proposed_on": "31/02/2024"}, "Not a valid date value."),
    ({"member_ids": ["999999"]}, "not a valid choice"),
    ({"title": "x" * 301}, "Field cannot be longer than 300 characters."),
])
def test_bad_agreement_input_writes_nothing(app, world, alliance_on, login, today, overrides, message):
    a = make_member(app, world, number="A")
    data = {"title": "保留标题", "kind": "school_school", "areas": ["visits"], "member_ids": [str(a)],
            "home_institutions": "Home college", "proposed_on": today.isoformat(), **overrides}
    response = login("vol_hanoi").post(BASE + f"/agreements/new?station_id={world.stations['hanoi']}", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and message in text
    assert count_rows(app, Agreement) == 0


@pytest.mark.parametrize("overrides, message", [
    ({"issuing_country": "ZZ"}, ""),
    ({"name_zh": ""}, "This field is required."),
    ({"domestic_level": "grandmaster"}, "Not a valid choice"),
    ({"source_date": "2999-01-01"}, "The date cannot be in the future."),
])
def test_bad_recognition_input_writes_nothing(app, world, alliance_on, login, today, overrides, message):
    data = {**RECOGNITION, "source_date": today.isoformat(), **overrides}
    response = login("vol_hanoi").post(BASE + f"/recognitions/new?station_id={world.stations['hanoi']}", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert "厚生労働省" in response.get_data(as_text=True)
    assert count_rows(app, Recognition) == 0


# Demo, templates, catalog ------------------------------------------------------------------------------

def test_demo_data_is_idempotent_and_switches_asean_on(app):
    from liaison import demo

    with app.test_request_context():
        demo.load()
        members = count_rows(app, Member)
        assert members >= 7
        countries = set(db.session.scalars(select(Member.country)))
        assert {"CN", "RU", "JP", "SG"} <= countries
        assert db.session.scalar(select(func.count()).select_from(Agreement).where(Agreement.status == "in_force")) >= 2
        assert count_rows(app, Recognition) >= 4
        scope = db.session.scalar(select(PluginScope).where(PluginScope.plugin == NAME))
        assert scope.enabled is True
        demo.load()
        assert count_rows(app, Member) == members


def test_templates_have_no_inline_script_or_style():
    for template in (PLUGIN_DIR / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script" not in text and "style=" not in text and " on" + "click=" not in text, template.name


def test_chinese_catalog_is_complete():
    from babel.messages.pofile import read_po

    path = PLUGIN_DIR / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert not missing, missing
    assert catalog["Framework agreements"].string == "框架合作协议"


def test_pages_in_chinese(app, world, alliance_on, login):
    make_member(app, world, number="A")
    client = login("vol_hanoi")
    for path in ("/", "/members", "/recognitions", "/milestones"):
        text = client.get(BASE + path, headers=CHINESE).get_data(as_text=True)
        assert "技术技能人才国际发展联盟" in text or "框架合作协议" in text, path


def test_list_pages_do_not_grow_with_rows(app, world, alliance_on, login, count_queries):
    client = login("vol_hanoi")
    members = [make_member(app, world, number=f"N-{i}") for i in range(2)]
    make_agreement(app, world, members)
    counts = {}
    for size in (1, 2):
        with count_queries() as counter:
            for path in ("/", "/members", "/recognitions"):
                assert client.get(BASE + path).status_code == 200
        counts[size] = counter.count
        more = [make_member(app, world, number=f"M{size}-{i}") for i in range(3)]
        make_agreement(app, world, more)
    assert counts[1] == counts[2]


def test_core_guard_requires_date_after(app):
    """The generic guard this plugin added to ``liaison.workflow``."""
    from types import SimpleNamespace

    from liaison.workflow import requires_date_after

    guard = requires_date_after("valid_until", lambda record, data: record.valid_until, "missing", "after %(date)s")
    record = SimpleNamespace(valid_until=date(2026, 1, 1))
    with app.test_request_context():
        with pytest.raises(IllegalMove) as refused:
            guard(record, None, {})
        assert (refused.value.field, str(refused.value.message)) == ("valid_until", "missing")
        with pytest.raises(IllegalMove) as refused:
            guard(record, None, {"valid_until": date(2026, 1, 1)})
        assert str(refused.value.message) == "after 2026-01-01"
        guard(record, None, {"valid_until": date(2026, 1, 2)})
        guard(SimpleNamespace(valid_until=None), None, {"valid_until": date(2000, 1, 1)})  # no bound


def test_nav_item_and_station_panel(app, world, alliance_on, login):
    make_member(app, world, number="PANEL-1")
    client = login("vol_hanoi")
    home = client.get("/").get_data(as_text=True)
    assert f'href="{BASE}/"' in home and "Skills alliance" in home
    page = client.get(f"/stations/{world.stations['hanoi']}").get_data(as_text=True)
    assert "Members followed by this station: 1" in page
    assert "Skills alliance" not in login("vol_milan").get("/").get_data(as_text=True)  # off for Europe


# Corrections: agreements, milestones, documents, recognition entries ------------------------------------

def events_of(app, agreement_id) -> list[tuple[str, str | None]]:
    with app.app_context():
        return [(e.kind, e.text) for e in db.session.scalars(select(AgreementEvent).where(
            AgreementEvent.agreement_id == agreement_id).order_by(AgreementEvent.id))]


def test_agreement_details_and_parties_are_corrected_on_the_timeline(app, world, alliance_on, login, today):
    a, b, c = (make_member(app, world, number=n) for n in ("A", "B", "C"))
    agreement_id = make_agreement(app, world, [a, b], homes="Home college")
    with app.app_context():
        kept_party = db.session.scalar(select(Party.id).where(Party.agreement_id == agreement_id, Party.member_id == a))
    client = login("vol_hanoi")
    url = BASE + f"/agreements/{agreement_id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'name="version"' in form and "Home college" in form and "proposed_on" not in form
    response = client.post(url, data={
        "title": "School–enterprise framework agreement", "kind": "school_enterprise", "areas": ["internships"],
        "member_ids": [str(a), str(c)], "home_institutions": "", "notes": "Corrected.",
        "version": version_of(app, agreement_id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        agreement = db.session.get(Agreement, agreement_id)
        parties = db.session.scalars(select(Party).where(Party.agreement_id == agreement_id).order_by(Party.id)).all()
        assert (agreement.title, agreement.kind, agreement.notes) == \
            ("School–enterprise framework agreement", "school_enterprise", "Corrected.")
        assert agreement.status == "proposed"  # the status is the lifecycle's
        assert [(p.member_id, p.home_institution) for p in parties] == [(a, None), (c, None)]
        assert parties[0].id == kept_party  # a kept party keeps its row
    assert events_of(app, agreement_id)[-1] == ("edited", "title, kind, notes, areas, parties")
    page = client.get(BASE + f"/agreements/{agreement_id}", headers=CHINESE).get_data(as_text=True)
    assert "标题" in page and "签约方" in page  # the changed fields, named in the reader's language


@pytest.mark.parametrize("overrides, message", [
    ({"title": ""}, "This field is required."),
    ({"areas": ["visits"], "kind": "school_enterprise"}, "Choose areas of this kind of agreement."),
    ({"member_ids": [], "home_institutions": "One\nTwo"}, "At least one party is a member of the alliance."),
    ({"home_institutions": ""}, "An agreement has at least two parties"),
    ({"member_ids": ["999999"]}, "not a valid choice"),
])
def test_bad_agreement_edit_writes_nothing(app, world, alliance_on, login, overrides, message):
    a = make_member(app, world, number="A")
    agreement_id = make_agreement(app, world, [a], homes="Home college")
    before = version_of(app, agreement_id)
    data = {"title": "保留标题", "kind": "school_school", "areas": ["visits"], "member_ids": [str(a)],
            "home_institutions": "Home college", "version": before, **overrides}
    response = login("vol_hanoi").post(BASE + f"/agreements/{agreement_id}/edit", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and message in text
    if overrides.get("title") != "":
        assert "保留标题" in text  # what was typed is kept
    assert version_of(app, agreement_id) == before and len(events_of(app, agreement_id)) == 1


def test_a_stale_agreement_edit_saves_nothing(app, world, alliance_on, login):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    stale = version_of(app, agreement_id)
    client = login("vol_hanoi")
    data = {"title": "First", "kind": "school_school", "areas": ["visits"], "member_ids": [str(a), str(b)],
            "version": stale}
    assert client.post(BASE + f"/agreements/{agreement_id}/edit", data=data).status_code == 302
    response = client.post(BASE + f"/agreements/{agreement_id}/edit", data={**data, "title": "Second"},
                           follow_redirects=True)
    assert "Someone else changed this agreement" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Agreement, agreement_id).title == "First"
    # A change of a milestone or document bumps the agreement's version too: a stale page loses.
    response = client.post(BASE + f"/agreements/{agreement_id}/milestones", data={
        "title": "Visit", "due_on": "2999-01-01"})
    assert response.status_code == 302
    with app.app_context():
        milestone = db.session.scalar(select(Milestone.id).where(Milestone.agreement_id == agreement_id))
    current = version_of(app, agreement_id)
    assert client.post(BASE + f"/agreements/{agreement_id}/milestones/{milestone}/edit", data={
        "title": "Visit to Chongqing", "due_on": "2999-01-01", "version": current}).status_code == 302
    assert version_of(app, agreement_id) == current + 1
    response = client.post(BASE + f"/agreements/{agreement_id}/milestones/{milestone}/remove",
                           data={"version": current}, follow_redirects=True)
    assert "Someone else changed this agreement" in response.get_data(as_text=True)
    assert count_rows(app, Milestone) == 1


def test_the_sign_guard_points_to_the_edit_page(app, world, alliance_on, login):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    page = login("vol_hanoi").get(BASE + f"/agreements/{agreement_id}").get_data(as_text=True)
    assert f'href="{BASE}/agreements/{agreement_id}/edit"' in page
    with app.test_request_context():
        agreement = load(agreement_id)
        agreement.parties = agreement.parties[:1]
        db.session.flush()
        with pytest.raises(IllegalMove) as refused:
            apply_move(agreement, "sign", db.session.get(User, world.users["vol_hanoi"]),
                       on=agreement.status_since, valid_until=agreement.status_since + timedelta(days=10))
        assert "“Edit”" in str(refused.value.message)
        db.session.rollback()


def test_milestones_are_changed_or_removed_until_completed(app, world, alliance_on, login, today):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    with app.app_context():
        overdue = Milestone(agreement_id=agreement_id, title="Teacher training", due_on=today - timedelta(days=3))
        done = Milestone(agreement_id=agreement_id, title="Visit", due_on=today - timedelta(days=9),
                         done_on=today - timedelta(days=10))
        db.session.add_all([overdue, done])
        db.session.commit()
        overdue_id, done_id = overdue.id, done.id
    client = login("vol_hanoi")
    base = BASE + f"/agreements/{agreement_id}/milestones"
    # An overdue milestone is reworded without moving its date; a new date in the past is refused.
    response = client.post(f"{base}/{overdue_id}/edit", data={
        "title": "Teacher training week", "due_on": (today - timedelta(days=3)).isoformat(),
        "version": version_of(app, agreement_id)})
    assert response.status_code == 302
    response = client.post(f"{base}/{overdue_id}/edit", data={
        "title": "保留", "due_on": (today - timedelta(days=1)).isoformat(), "version": version_of(app, agreement_id)})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "a milestone due in the past" in text and "保留" in text
    # A completed milestone stays as it was.
    assert client.get(f"{base}/{done_id}/edit").status_code == 302
    response = client.post(f"{base}/{done_id}/remove", data={"version": version_of(app, agreement_id)},
                           follow_redirects=True)
    assert "A completed milestone cannot be removed." in response.get_data(as_text=True)
    response = client.post(f"{base}/{overdue_id}/remove", data={"version": version_of(app, agreement_id)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Milestone.id).where(Milestone.agreement_id == agreement_id)).all() == [done_id]
    kinds = [kind for kind, _text in events_of(app, agreement_id)]
    assert kinds[-2:] == ["milestone_edited", "milestone_removed"]
    assert events_of(app, agreement_id)[-1][1] == f"Teacher training week ({(today - timedelta(days=3)).isoformat()})"
    # Another agreement's milestone, or an unknown one: 404.
    other = make_agreement(app, world, [a, b])
    assert client.get(BASE + f"/agreements/{other}/milestones/{done_id}/edit").status_code == 404
    assert client.post(BASE + f"/agreements/{other}/milestones/{done_id}/remove",
                       data={"version": version_of(app, other)}).status_code == 404


def test_documents_are_changed_and_removed(app, world, alliance_on, login, today):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    client = login("vol_hanoi")
    assert client.post(BASE + f"/agreements/{agreement_id}/documents", data={
        "kind": "agreement", "title": "Signed text", "url": "https://files.example.org/a.pdf"}).status_code == 302
    with app.app_context():
        document_id = db.session.scalar(select(func.max(Document.id)))
    url = BASE + f"/agreements/{agreement_id}/documents/{document_id}"
    assert "https://files.example.org/a.pdf" in client.get(url + "/edit").get_data(as_text=True)
    response = client.post(url + "/edit", data={"kind": "annex", "title": "保留", "url": "not a link",
                                                "version": version_of(app, agreement_id)})
    assert response.status_code == 400 and "Give a web address." in response.get_data(as_text=True)
    response = client.post(url + "/edit", data={"kind": "annex", "title": "Annex 1", "url": "",
                                                "signed_on": (today - timedelta(days=1)).isoformat(),
                                                "version": version_of(app, agreement_id)})
    assert response.status_code == 302
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert (document.kind, document.title, document.url) == ("annex", "Annex 1", None)
    assert client.post(url + "/remove", data={}).status_code == 302  # no version: nothing removed
    assert count_rows(app, Document) == 1
    assert client.post(url + "/remove", data={"version": version_of(app, agreement_id)}).status_code == 302
    assert count_rows(app, Document) == 0
    assert events_of(app, agreement_id)[-2:] == [("document_edited", "Signed text → Annex 1"),
                                                 ("document_removed", "Annex 1")]


def test_a_terminated_agreement_is_not_corrected(app, world, alliance_on, login, today):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    with app.test_request_context():
        agreement = load(agreement_id)
        apply_move(agreement, "terminate", db.session.get(User, world.users["admin"]), on=today, note="Ended.",
                   confirmed=True)
        db.session.commit()
    client = login("vol_hanoi")
    assert client.get(BASE + f"/agreements/{agreement_id}/edit").status_code == 302
    response = client.post(BASE + f"/agreements/{agreement_id}/edit", data={
        "title": "Changed", "kind": "school_school", "areas": ["visits"], "member_ids": [str(a), str(b)]})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Agreement, agreement_id).title == "校际合作框架协议"


def test_corrections_are_scoped(app, world, alliance_on, login):
    a, b = make_member(app, world, number="A"), make_member(app, world, number="B")
    agreement_id = make_agreement(app, world, [a, b])
    assert login("vol_bangkok").get(BASE + f"/agreements/{agreement_id}/edit").status_code == 404
    assert login("vol_milan").get(BASE + f"/agreements/{agreement_id}/edit").status_code == 404
    assert login("hq").get(BASE + f"/agreements/{agreement_id}/edit").status_code == 200


def recognition_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(Recognition.id)))


def test_recognition_entries_are_edited_and_removed(app, world, alliance_on, login, today):
    client = login("vol_hanoi")
    assert client.post(BASE + f"/recognitions/new?station_id={world.stations['hanoi']}",
                       data={**RECOGNITION, "source_date": today.isoformat()}).status_code == 302
    entry = recognition_id(app)
    listing = client.get(BASE + "/recognitions").get_data(as_text=True)
    assert f'href="{BASE}/recognitions/{entry}/edit"' in listing
    url = BASE + f"/recognitions/{entry}"
    other = login("vol_bangkok")  # the same region, another station: no link, and 404
    assert f"/recognitions/{entry}/edit" not in other.get(BASE + "/recognitions").get_data(as_text=True)
    assert other.get(url + "/edit").status_code == 404
    assert other.post(url + "/remove", data={"confirm": "y"}).status_code == 404
    client = login("vol_hanoi")
    response = client.post(url + "/edit", data={**RECOGNITION, "name_zh": "", "source_date": today.isoformat()})
    assert response.status_code == 400 and "厚生労働省" in response.get_data(as_text=True)
    response = client.post(url + "/edit", data={**RECOGNITION, "name_zh": "焊接技能士（一级）",
                                                "source_date": today.isoformat()})
    assert response.status_code == 302
    # The search follows the new name.
    assert "焊接技能士（一级）" in client.get(BASE + "/recognitions?q=一级").get_data(as_text=True)
    response = client.post(url + "/remove", data={})
    assert response.status_code == 400 and "Tick the box to confirm." in response.get_data(as_text=True)
    assert count_rows(app, Recognition) == 1
    assert client.post(url + "/remove", data={"confirm": "y"}).status_code == 302
    assert count_rows(app, Recognition) == 0


# Memberships: valid until the latest renewal, lapsed after it, reminded before it ------------------------

def renew(app, world, member_id, renewed_on, valid_until):
    with app.test_request_context():
        member = db.session.scalar(select(Member).where(Member.id == member_id).options(
            selectinload(Member.station)))
        services.add_renewal(member, {"renewed_on": renewed_on, "valid_until": valid_until},
                             db.session.get(User, world.users["admin"]))


def test_memberships_lapse_after_their_latest_renewal_and_are_reminded_before(app, world, alliance_on, login,
                                                                              today):
    from liaison import jobs

    ended = make_member(app, world, number="ENDED")
    ending = make_member(app, world, number="ENDING")
    later = make_member(app, world, number="LATER")
    never = make_member(app, world, number="NEVER")
    renew(app, world, ended, today - timedelta(days=400), today - timedelta(days=35))
    renew(app, world, ending, today - timedelta(days=300), today - timedelta(days=1))  # an older renewal …
    renew(app, world, ending, today - timedelta(days=5), today + timedelta(days=20))  # … and the latest
    renew(app, world, later, today - timedelta(days=5), today + timedelta(days=300))
    with app.app_context():
        report = jobs.run_due(app)
        assert report["skills_alliance.memberships"] == {"lapsed": 1, "reminded": 1}
        statuses = dict(db.session.execute(select(Member.id, Member.status)).all())
        assert statuses == {ended: "lapsed", ending: "active", later: "active", never: "active"}
        assert jobs.run_due(app)["skills_alliance.memberships"] == {"lapsed": 0, "reminded": 1}
        keys = db.session.scalars(select(JobRun.key).where(JobRun.key.like("skills_alliance_membership:%"))).all()
        assert keys == [f"skills_alliance_membership:{ending}:{(today + timedelta(days=20)).isoformat()}"]
        notified = db.session.scalars(select(Notification.user_id).where(
            Notification.kind == "skills_alliance.membership_expiring")).all()
        assert world.users["vol_hanoi"] in notified and world.users["vol_milan"] not in notified
    client = login("vol_hanoi")
    page = client.get(BASE + f"/members/{ending}").get_data(as_text=True)
    assert "Membership valid until" in page and "ends soon" in page
    assert "ended" in client.get(BASE + f"/members/{ended}").get_data(as_text=True)
    assert "never renewed" in client.get(BASE + f"/members/{never}").get_data(as_text=True)
    # A new renewal makes a lapsed member active again, and the job leaves it so.
    renew(app, world, ended, today, today + timedelta(days=365))
    with app.app_context():
        jobs.run_due(app)
        assert db.session.get(Member, ended).status == "active"


def test_memberships_do_not_lapse_where_the_plugin_is_off(app, world, alliance_on, today):
    from liaison import jobs

    member = make_member(app, world, number="OFF")
    renew(app, world, member, today - timedelta(days=400), today - timedelta(days=35))
    switch(app, world, False)
    with app.app_context():
        assert jobs.run_due(app)["skills_alliance.memberships"] == {"lapsed": 0, "reminded": 0}
        assert db.session.get(Member, member).status == "active"


def test_an_edit_keeps_parties_the_editor_does_not_see(app, world, alliance_on, login):
    """A regional admin named a Bangkok member as a party of Hanoi's agreement; Hanoi's volunteer
    (who does not see it) corrects the title and the party stays — but cannot name another one."""
    own, foreign = make_member(app, world, number="H-1"), make_member(app, world, station="bangkok", number="B-1")
    other = make_member(app, world, station="bangkok", number="B-2")
    agreement_id = make_agreement(app, world, [own, foreign])
    client = login("vol_hanoi")
    form = client.get(BASE + f"/agreements/{agreement_id}/edit").get_data(as_text=True)
    assert f'<option selected value="{foreign}">' in form  # offered, and chosen
    data = {"title": "Corrected title", "kind": "school_school", "areas": ["visits"],
            "member_ids": [str(own), str(foreign)], "version": version_of(app, agreement_id)}
    assert client.post(BASE + f"/agreements/{agreement_id}/edit", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Agreement, agreement_id).title == "Corrected title"
        assert set(db.session.scalars(select(Party.member_id).where(Party.agreement_id == agreement_id))) == \
            {own, foreign}
    response = client.post(BASE + f"/agreements/{agreement_id}/edit", data={
        **data, "member_ids": [str(own), str(foreign), str(other)], "version": version_of(app, agreement_id)})
    assert response.status_code == 400
