"""The global search (liaison.find): every script, pinyin, scope of every result, masking, speed path."""
from __future__ import annotations

import pytest
from liaison.find import services
from liaison.models import Contact, ContactTag, User, db
from liaison.search import pinyin_keys

from .factories import make_lead


def _add(world, station: str, **fields) -> int:
    contact = Contact(station_id=world.stations[station], kind="scholar", **fields)
    db.session.add(contact)
    db.session.commit()
    return contact.id


def _found(world, user: str, q: str) -> dict[str, set[int]]:
    user_obj = db.session.get(User, world.users[user])
    contacts, _ = services.find_contacts(q, user_obj, 50)
    leads, _ = services.find_leads(q, user_obj, 50)
    stations, _ = services.find_stations(q, user_obj, 50)
    return {"contacts": {c.id for c in contacts}, "leads": {lead.id for lead in leads},
            "stations": {s.id for s in stations}}


def test_pinyin_keys():
    assert {"wangxiaoming", "xiaoming", "wxm"} <= set(pinyin_keys("王小明"))
    assert {"wangxiaoming", "wxm"} <= set(pinyin_keys("WANG Xiao Ming"))
    assert pinyin_keys("王") == [] and pinyin_keys(None) == [] and pinyin_keys("Marco") == []


@pytest.fixture
def people(world, ctx):
    ids = {
        "wang": _add(world, "milan", name="Wang Xiaoming", name_zh="王小明", organisation="Politecnico di Milano"),
        "wang_zh_only": _add(world, "hanoi", name="W. X.", name_zh="王小明"),
        "tran": _add(world, "hanoi", name="Trần Thị Hương", organisation="Đại học Bách khoa"),
        "thai": _add(world, "bangkok", name="Anong", name_original="อนงค์ ศรีสุข", organisation="จุฬาลงกรณ์มหาวิทยาลัย"),
        "lao": _add(world, "bangkok", name="Souksavanh", name_original="ສຸກສະຫວັນ ພົມມະຈັນ"),
    }
    db.session.add(ContactTag(contact_id=ids["tran"], tag="quantum-2026", position=0))
    db.session.commit()
    return ids


@pytest.mark.parametrize("q, who", [
    ("王小明", "wang"), ("小明", "wang"), ("wangxiaoming", "wang"), ("wxm", "wang"), ("WXM", "wang"),
    ("Wang Xiaoming", "wang"), ("xiaoming", "wang"), ("politecnico", "wang"),
    ("Trần Thị Hương", "tran"), ("tran thi huong", "tran"), ("huong", "tran"), ("Bách khoa", "tran"),
    ("bach khoa", "tran"), ("quantum-2026", "tran"),
    ("อนงค์", "thai"), ("จุฬาลงกรณ์", "thai"), ("ສຸກສະຫວັນ", "lao"), ("souksavanh", "lao"),
    ("Marco Rossi", None), ("marco", None),
])
def test_finds_in_every_script(world, people, q, who):
    found = _found(world, "admin", q)["contacts"]
    expected = people[who] if who else world.contacts["milan"]
    assert expected in found, (q, found)


def test_pinyin_finds_across_stations_only_in_scope(world, people):
    assert {people["wang"], people["wang_zh_only"]} <= _found(world, "admin", "wxm")["contacts"]
    assert _found(world, "vol_milan", "wangxiaoming")["contacts"] == {people["wang"]}
    assert _found(world, "vol_hanoi", "wxm")["contacts"] == {people["wang_zh_only"]}
    assert _found(world, "vol_bangkok", "王小明")["contacts"] == set()
    assert _found(world, "europe_admin", "wxm")["contacts"] == {people["wang"]}


def test_leads_by_summary_field_contact_and_pinyin(world, people, ctx):
    lead = make_lead(world, "milan", "submitted", summary="Battery chemistry for cars", field="electrochemistry")
    assert lead in _found(world, "hq", "battery chemistry")["leads"]
    assert lead in _found(world, "hq", "electrochem")["leads"]
    assert lead in _found(world, "hq", "Marco Rossi")["leads"]
    assert lead in _found(world, "hq", f"#{lead}")["leads"]
    assert lead not in _found(world, "vol_hanoi", "battery chemistry")["leads"]
    assert lead not in _found(world, "asean_admin", f"#{lead}")["leads"]


@pytest.mark.parametrize("user", ["admin", "hq", "asean_admin", "europe_admin", "vol_hanoi", "vol_bangkok", "vol_milan"])
def test_every_result_in_scope(world, people, user):
    user_obj = db.session.get(User, world.users[user])
    from liaison.scope import visible_station_ids

    ids = visible_station_ids(user_obj)
    visible = set(db.session.scalars(ids)) if ids is not None else set(world.stations.values())
    for q in ("station", "university", "wxm", "王小明", "lead of", "an", "Hanoi", "a"):
        contacts, _ = services.find_contacts(q, user_obj, 50)
        leads, _ = services.find_leads(q, user_obj, 50)
        stations, _ = services.find_stations(q, user_obj, 50)
        assert {c.station_id for c in contacts} <= visible
        assert {lead.station_id for lead in leads} <= visible
        assert {s.id for s in stations} <= visible
    assert _found(world, user, "station")["stations"] == visible


def test_page_groups_and_more_links(world, people, login, ctx):
    for i in range(7):
        _add(world, "milan", name=f"Zeta Person {i}")
    client = login("admin")
    page = client.get("/search?q=zeta").get_data(as_text=True)
    assert 'id="find-contacts"' in page and page.count("Zeta Person") == services.PER_KIND
    assert "/contacts/?q=zeta" in page  # "more"
    assert 'id="find-leads"' not in page
    page = client.get("/search?q=Lead+of+milan").get_data(as_text=True)
    assert 'id="find-leads"' in page and "/leads/?q=Lead" not in page  # two leads: no "more"


def test_masked_fields_masked_for_hq(world, login):
    client = login("hq")
    page = client.get("/search?q=阮文安").get_data(as_text=True)
    assert "Nguyen Van An" in page
    assert "Nguyễn Văn An" not in page  # original-script name: masked for HQ
    assert "an@example.org" not in page and "3825" not in page
    page = login("vol_hanoi").get("/search?q=阮文安").get_data(as_text=True)
    assert "Nguyễn Văn An" in page


def test_volunteer_sees_nothing_of_other_stations(world, login):
    page = login("vol_hanoi").get("/search?q=Marco").get_data(as_text=True)
    assert "Marco Rossi" not in page and 'id="find-nothing"' in page
    page = login("vol_hanoi").get("/search?q=station").get_data(as_text=True)
    assert "Hanoi station" in page and "Milan station" not in page and "Bangkok station" not in page


@pytest.mark.parametrize("q", ["", "   ", "%", "_", '"', "'; DROP TABLE contacts; --", "NEAR(a b)", "\x00", "a\x00b",
                               "#", "#99999999999999999999", "x" * 500, "王" * 300, "\u200b", "*", "\\"])
def test_bad_input_never_fails(world, login, q):
    response = login("vol_hanoi").get("/search", query_string={"q": q})
    assert response.status_code == 200
    if len(q.strip()) > services.MAX_Q:
        assert "Only the first 100 characters were searched." in response.get_data(as_text=True)


def test_login_required(client, world):
    assert client.get("/search?q=a").status_code == 302


def test_search_box_in_top_bar(world, login):
    page = login("vol_hanoi").get("/").get_data(as_text=True)
    assert 'action="/search"' in page and 'for="top-search"' in page and 'id="top-search"' in page


def test_pinyin_uses_the_key_index(world, people, app):
    """The pinyin path is a range on contact_search_keys' index, not a scan."""
    from sqlalchemy import text

    with app.app_context():
        stmt = services.pinyin_contact_ids("wxm")
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert "ix_contact_search_keys_key" in plan and "SCAN" not in plan
        else:
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(r[0] for r in db.session.execute(text(f"EXPLAIN {compiled}")))
            assert "ix_contact_search_keys_key" in plan


def test_bundled_plugins_records_in_scope(world, app, login):
    """The bundled plugins answer ``liaison_search_results``: title applications by their
    translator's name (also in pinyin), partnerships by institution; only where the plugin is on
    and the station in scope."""
    with app.test_request_context():
        records = _plugin_records(world)
    page = login("vol_hanoi").get("/search?q=Nguyen").get_data(as_text=True)
    assert 'id="find-asean_language_title"' in page
    assert f"/p/asean_language_title/{records['title_app']}" in page
    page = login("vol_hanoi").get("/search?q=ruanwenan").get_data(as_text=True)  # 阮文安 in pinyin
    assert f"/p/asean_language_title/{records['title_app']}" in page
    assert 'id="find-asean_language_title"' not in login("vol_bangkok").get("/search?q=Nguyen").get_data(as_text=True)
    assert 'id="find-asean_language_title"' not in login("vol_milan").get("/search?q=Nguyen").get_data(as_text=True)
    page = login("vol_milan").get("/search?q=Wenzhou").get_data(as_text=True)
    assert f"/p/europe_school_partnership/{records['partnership']}" in page
    for user in ("vol_hanoi", "asean_admin"):
        assert "Wenzhou Technician" not in login(user).get("/search?q=Wenzhou").get_data(as_text=True)
    assert "Wenzhou Technician" in login("hq").get("/search?q=Wenzhou").get_data(as_text=True)


def _plugin_records(world) -> dict[str, int]:
    from datetime import date

    from plugins.asean_language_title import services as asean
    from plugins.europe_school_partnership import services as europe
    from sqlalchemy.orm import selectinload

    from liaison.models import Station
    from liaison.plugins import activation

    admin = db.session.get(User, world.users["admin"])
    activation.set_enabled("asean_language_title", True, admin, region_id=world.regions["ASEAN"])
    activation.set_enabled("europe_school_partnership", True, admin, region_id=world.regions["EUROPE"])
    db.session.commit()
    contact = db.session.scalar(db.select(Contact).where(Contact.id == world.contacts["hanoi"])
                                .options(selectinload(Contact.station)))
    application = asean.create_application(contact, {
        "language": "vi", "level": "translator", "practice_years": 6, "current_title": "assistant",
        "current_title_since": date(2018, 3, 1), "education": "BA in Vietnamese"},
        db.session.get(User, world.users["vol_hanoi"]))
    partnership = europe.create_partnership(db.session.get(Station, world.stations["milan"]), {
        "home_name": "Wenzhou Technician College", "home_kind": "technician_college", "home_city": "Wenzhou",
        "partner_name": "University of South Wales", "partner_country": "GB", "partner_kind": "university",
        "programme_kind": "joint_3_2", "majors": "x", "first_contact_on": date(2025, 1, 10),
        "contact_ids": []}, admin)
    return {"title_app": application.id, "partnership": partnership.id}
