"""The bundled plugin europe_school_partnership: stage machine, lists, scope and activation."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from liaison.models import Contact, PluginScope, Station, User, db
from liaison.plugins import activation
from plugins.europe_school_partnership import services
from plugins.europe_school_partnership.choices import NAME, Stage
from plugins.europe_school_partnership.dates import local_today, month_end
from plugins.europe_school_partnership.models import Partnership, PartnershipDocument, PartnershipEvent
from plugins.europe_school_partnership.stages import IllegalMove, apply_move, available_moves

BASE = f"/p/{NAME}"
ENGLISH = {"Accept-Language": "en"}
CHINESE = {"Accept-Language": "zh-CN"}
PLUGIN_DIR = Path(__file__).resolve().parent.parent / "plugins" / NAME


# Helpers ------------------------------------------------------------------------------------

def switch(app, world, enabled=True, **scope):
    """Switch the plugin at a scope (default: the EUROPE region) and commit."""
    scope = scope or {"region_id": world.regions["EUROPE"]}
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        activation.set_enabled(NAME, enabled, admin, **scope)
        db.session.commit()


@pytest.fixture
def europe_on(app, world):
    switch(app, world)


@pytest.fixture
def today(app) -> date:
    """The users' today (the app's default time zone: test users have none of their own)."""
    with app.app_context():
        return local_today()


def add_station(app, world, key="london", country="GB", city="London") -> int:
    """A second EUROPE station (the world has only Milan), with a volunteer of its own."""
    with app.app_context():
        station = Station(name=f"{city} station", region_id=world.regions["EUROPE"], country=country, city=city,
                          host_organisation=f"{city} alumni", host_kind="alumni_association")
        db.session.add(station)
        db.session.commit()
        world.stations[key] = station.id
        return station.id


def make_partnership(app, world, station="milan", *, moves=(), country="IT", programme="joint_3_2",
                     partner="Istituto Europeo di Design", home="Wenzhou Technician College",
                     started_days_ago=60, next_step=None, due=None, contacts=()) -> int:
    """A partnership created and moved through the real services, dated in the past."""
    with app.test_request_context():
        admin = db.session.get(User, world.users["admin"])
        station_obj = db.session.get(Station, world.stations[station])
        today = local_today()
        partnership = services.create_partnership(station_obj, {
            "home_name": home, "home_kind": "technician_college", "home_city": "Wenzhou",
            "partner_name": partner, "partner_country": country, "partner_kind": "university",
            "programme_kind": programme, "majors": "智能制造，新能源汽车",
            "first_contact_on": today - timedelta(days=started_days_ago),
            "contact_ids": [world.contacts[c] for c in contacts],
        }, admin)
        partnership = load(partnership.id)
        for number, move in enumerate(moves, 1):
            on = today - timedelta(days=max(started_days_ago - number * 5, 0))
            register_document_for(partnership, move)
            apply_move(partnership, move, admin, on=on, note=f"note {move}", today=today, confirmed=True)
        if next_step:
            partnership.next_step, partnership.next_step_due = next_step, due
        db.session.commit()
        return partnership.id


SIGNED_DOCUMENT = {"sign_mou": "mou", "sign_agreement": "agreement"}


def register_document_for(partnership, move) -> None:
    """A signing needs its document registered first."""
    if move in SIGNED_DOCUMENT:
        db.session.add(PartnershipDocument(partnership_id=partnership.id, kind=SIGNED_DOCUMENT[move],
                                           title=f"The signed {SIGNED_DOCUMENT[move]}"))
        db.session.flush()


def load(partnership_id) -> Partnership:
    from sqlalchemy.orm import selectinload

    db.session.expire_all()
    return db.session.scalar(select(Partnership).where(Partnership.id == partnership_id).options(
        selectinload(Partnership.station), selectinload(Partnership.events), selectinload(Partnership.contacts)))


def count_rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def new_form(today: date, **overrides) -> dict:
    data = {
        "home_name": "Wenzhou Polytechnic", "home_name_zh": "温州职业技术学院", "home_kind": "vocational_college",
        "home_city": "Wenzhou", "partner_name": "Istituto Marangoni", "partner_name_original": "",
        "partner_kind": "art_design_school", "partner_country": "IT", "partner_city": "Milan",
        "programme_kind": "joint_2_1_1", "majors": "fashion and accessory design、服装与服饰设计", "notes": "",
        "first_contact_on": today.isoformat(), "next_step": "", "next_step_due": "",
    }
    data.update(overrides)
    return data


# The stage machine ---------------------------------------------------------------------------

def test_full_path_is_dated_and_recorded(app, world, europe_on):
    pid = make_partnership(app, world, started_days_ago=40)
    with app.test_request_context():
        volunteer = db.session.get(User, world.users["vol_milan"])
        today = local_today()
        path = [("declare_intent", 30, "Intent at the signing ceremony"), ("negotiate", 25, None),
                ("sign_mou", 20, "MoU signed in Wenzhou"), ("sign_agreement", 10, None), ("start", 5, None),
                ("conclude", 0, "First cohort graduated")]
        for move, days_ago, note in path:
            partnership = load(pid)
            register_document_for(partnership, move)
            apply_move(partnership, move, volunteer, on=today - timedelta(days=days_ago), note=note, today=today,
                       confirmed=True)
            db.session.commit()
        partnership = load(pid)
        assert partnership.stage == Stage.CONCLUDED
        assert partnership.stage_since == today
        stage_events = [e for e in partnership.events if e.kind == "stage"]
        assert [(e.from_stage, e.to_stage) for e in stage_events] == [
            ("first_contact", "intent"), ("intent", "negotiation"), ("negotiation", "mou_signed"),
            ("mou_signed", "agreement_signed"), ("agreement_signed", "active"), ("active", "concluded")]
        assert stage_events[0].happened_on == today - timedelta(days=30)
        assert stage_events[0].text == "Intent at the signing ceremony"
        assert stage_events[0].actor_id == volunteer.id
        assert all(e.created_at is not None for e in stage_events)


def test_allowed_skips(app, world, europe_on):
    """Talks may open without a formal intent; an agreement may come without an MoU."""
    pid = make_partnership(app, world, moves=("negotiate", "sign_agreement"))
    with app.app_context():
        assert load(pid).stage == Stage.AGREEMENT_SIGNED


@pytest.mark.parametrize("moves, move, user, on_days_ago, note, field", [
    ((), "sign_mou", "vol_milan", 0, None, None),                 # not from first contact
    ((), "conclude", "vol_milan", 0, None, None),                 # only an active programme concludes
    (("negotiate", "drop"), "negotiate", "vol_milan", 0, None, None),  # dropped: only reopen
    (("negotiate", "drop"), "reopen", "vol_milan", 0, "back", None),   # reopen is HQ's alone
    ((), "negotiate", "hq", 0, None, None),                        # day-to-day moves are the station's
    ((), "declare_intent", "vol_bangkok", 0, None, None),          # not this station's volunteer
    ((), "declare_intent", "vol_milan", -1, None, "on"),           # in the future
    ((), "declare_intent", "vol_milan", 90, None, "on"),           # before the current stage began
    ((), "declare_intent", "vol_milan", None, None, "on"),         # no date
    ((), "drop", "vol_milan", 0, "  ", "note"),                    # dropping needs a note
    ((), "teleport", "vol_milan", 0, None, None),                  # no such move
])
def test_illegal_moves_change_nothing(app, world, europe_on, moves, move, user, on_days_ago, note, field):
    pid = make_partnership(app, world, moves=moves, started_days_ago=60)
    with app.test_request_context():
        before = load(pid)
        stage, since, events = before.stage, before.stage_since, len(before.events)
        actor = db.session.get(User, world.users[user])
        on = None if on_days_ago is None else local_today() - timedelta(days=on_days_ago)
        with pytest.raises(IllegalMove) as raised:
            apply_move(before, move, actor, on=on, note=note, today=local_today())
        assert str(raised.value.message)
        assert raised.value.field == field
        db.session.rollback()
        after = load(pid)
        assert (after.stage, after.stage_since, len(after.events)) == (stage, since, events)


def test_hq_reopens_and_signs(app, world, europe_on):
    pid = make_partnership(app, world, moves=("negotiate", "drop"))
    with app.test_request_context():
        hq = db.session.get(User, world.users["hq"])
        partnership = load(pid)
        assert [m.name for m in available_moves(partnership, hq)] == ["reopen"]
        apply_move(partnership, "reopen", hq, on=local_today(), note="The partner wrote again", today=local_today())
        db.session.commit()
        partnership = load(pid)
        assert partnership.stage == Stage.NEGOTIATION
        assert {m.name for m in available_moves(partnership, hq)} == {"sign_mou", "sign_agreement", "drop"}


def test_moves_offered_by_side(app, world, europe_on):
    pid = make_partnership(app, world)
    with app.test_request_context():
        partnership = load(pid)
        names = lambda key: [m.name for m in available_moves(partnership, db.session.get(User, world.users[key]))]  # noqa: E731
        assert names("vol_milan") == ["declare_intent", "negotiate", "drop"]
        assert names("europe_admin") == ["declare_intent", "negotiate", "drop"]
        assert names("hq") == ["declare_intent", "drop"]
        assert names("vol_bangkok") == []


def test_move_through_the_page(app, world, europe_on, login, today):
    pid = make_partnership(app, world, started_days_ago=10)
    client = login("vol_milan")
    with app.app_context():
        version = load(pid).version
    day = (today - timedelta(days=2)).isoformat()
    response = client.post(f"{BASE}/{pid}/move", data={"move": "declare_intent", "version": version, "on": day,
                                                      "note": "Letter of intent signed"})
    assert response.status_code == 302
    page = client.get(f"{BASE}/{pid}").get_data(as_text=True)
    assert "Letter of intent signed" in page
    with app.app_context():
        partnership = load(pid)
        assert partnership.stage == Stage.INTENT
        assert partnership.stage_since.isoformat() == day
        version = partnership.version

    # A date in the future: the message is next to the date, nothing changes.
    future = (today + timedelta(days=3)).isoformat()
    response = client.post(f"{BASE}/{pid}/move", data={"move": "negotiate", "version": version, "on": future})
    assert response.status_code == 400
    assert "is-invalid" in response.get_data(as_text=True)
    # A move not possible from "intent": a clear message, nothing changes.
    response = client.post(f"{BASE}/{pid}/move", data={"move": "conclude", "version": version,
                                                      "on": today.isoformat()}, headers=CHINESE)
    assert response.status_code == 400
    assert "不能执行" in response.get_data(as_text=True)  # the default locale, from the plugin's catalog
    # Someone else moved it meanwhile: the stale form is refused.
    response = client.post(f"{BASE}/{pid}/move", data={"move": "negotiate", "version": version - 1,
                                                      "on": today.isoformat()})
    assert response.status_code == 302
    with app.app_context():
        assert load(pid).stage == Stage.INTENT


# Next steps, overdue, widgets -----------------------------------------------------------------

def test_overdue_list_and_home_widgets(app, world, europe_on, login, today):
    overdue = make_partnership(app, world, partner="University of South Wales", country="GB",
                               next_step="Send the draft MoU", due=today - timedelta(days=3))
    due_soon = make_partnership(app, world, partner="Istituto Europeo di Design",
                                next_step="Confirm the language requirement", due=month_end(today))
    later = make_partnership(app, world, partner="Middlesex University", country="GB",
                             next_step="Visit in spring", due=month_end(today) + timedelta(days=1))
    dropped = make_partnership(app, world, partner="Dropped Academy", moves=("drop",),
                               next_step="Old step", due=today - timedelta(days=30))
    with app.test_request_context():
        user = db.session.get(User, world.users["vol_milan"])
        assert [p.id for p in db.session.scalars(services.overdue(user))] == [overdue]
        assert [p.id for p in db.session.scalars(services.due_this_month(user))] == [due_soon]

    client = login("vol_milan")
    page = client.get(f"{BASE}/overdue").get_data(as_text=True)
    assert "Send the draft MoU" in page and "Old step" not in page and "Visit in spring" not in page
    home = client.get("/", headers=ENGLISH).get_data(as_text=True)
    assert "Overdue partnership steps" in home and "Send the draft MoU" in home
    assert "Partnership steps due this month" in home and "Confirm the language requirement" in home
    assert "Visit in spring" not in home
    listed = client.get(f"{BASE}/?due=month").get_data(as_text=True)
    assert "Confirm the language requirement" in listed and "Send the draft MoU" not in listed
    assert later and dropped


def test_next_step_set_done_and_refused(app, world, europe_on, login, today):
    pid = make_partnership(app, world)
    client = login("vol_milan")
    with app.app_context():
        version = load(pid).version
    past = (today - timedelta(days=1)).isoformat()
    response = client.post(f"{BASE}/{pid}/next-step", data={"version": version, "next_step": "Call IED",
                                                           "next_step_due": past})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Call IED" in body and "is-invalid" in body  # input kept, message next to the field
    with app.app_context():
        assert load(pid).next_step is None
    due = (today + timedelta(days=7)).isoformat()
    assert client.post(f"{BASE}/{pid}/next-step", data={"version": version, "next_step": "Call IED",
                                                       "next_step_due": due}).status_code == 302
    with app.app_context():
        partnership = load(pid)
        assert (partnership.next_step, partnership.next_step_due.isoformat()) == ("Call IED", due)
        version = partnership.version
    assert client.post(f"{BASE}/{pid}/next-step/done", data={"version": version}).status_code == 302
    with app.app_context():
        partnership = load(pid)
        assert partnership.next_step is None and partnership.next_step_due is None
        assert [e.kind for e in partnership.events][-2:] == ["next_step", "next_step_done"]


def test_documents(app, world, europe_on, login, today):
    pid = make_partnership(app, world, moves=("negotiate",))
    client = login("vol_milan")
    future = (today + timedelta(days=2)).isoformat()
    response = client.post(f"{BASE}/{pid}/documents", data={"kind": "mou", "title": "MoU on 3+2",
                                                           "signed_on": future})
    assert response.status_code == 400
    with app.app_context():
        assert count_rows(PartnershipDocument) == 0
    signed = (today - timedelta(days=1)).isoformat()
    assert client.post(f"{BASE}/{pid}/documents", data={"kind": "mou", "title": "MoU on 3+2", "signed_on": signed,
                                                       "note": "Two originals"}).status_code == 302
    page = client.get(f"{BASE}/{pid}").get_data(as_text=True)
    assert "MoU on 3+2" in page and "Two originals" in page
    with app.app_context():
        document = db.session.scalar(select(PartnershipDocument))
        document_id = document.id
    other = make_partnership(app, world, partner="Other school")
    assert client.post(f"{BASE}/{other}/documents/{document_id}/remove").status_code == 404
    assert client.post(f"{BASE}/{pid}/documents/{document_id}/remove").status_code == 302
    with app.app_context():
        assert count_rows(PartnershipDocument) == 0
        assert [e.kind for e in load(pid).events][-2:] == ["document_added", "document_removed"]


# Lists, board, counts -------------------------------------------------------------------------

def test_counts_by_stage_and_country(app, world, europe_on, login):
    make_partnership(app, world, country="IT")
    make_partnership(app, world, country="IT", moves=("declare_intent",))
    make_partnership(app, world, country="IT", moves=("declare_intent",))
    make_partnership(app, world, country="GB", moves=("negotiate",))
    with app.test_request_context():
        user = db.session.get(User, world.users["europe_admin"])
        table = services.counts_by_stage_and_country(user, services.Filters())
        assert table == {"IT": {"first_contact": 1, "intent": 2}, "GB": {"negotiation": 1}}
        assert services.counts_by_stage_and_country(user, services.Filters(programme="teacher_exchange")) == {}
    page = login("europe_admin").get(f"{BASE}/counts", headers=ENGLISH).get_data(as_text=True)
    assert "Italy" in page and "United Kingdom" in page
    assert f"{BASE}/?country=IT&amp;stage=intent" in page


def test_board_columns(app, world, europe_on, login):
    intent = make_partnership(app, world, partner="Board Intent School", moves=("declare_intent",))
    active = make_partnership(app, world, partner="Board Active School",
                              moves=("negotiate", "sign_agreement", "start"))
    page = login("vol_milan").get(f"{BASE}/board").get_data(as_text=True)
    assert 'class="board' in page and "board-column" in page
    columns = {match.group(1): match.group(2) for match in
               re.finditer(r'aria-labelledby="stage-(\w+)">(.*?)</section>', page, re.S)}
    assert set(columns) == {s.value for s in Stage}
    assert f"{BASE}/{intent}" in columns["intent"] and f"{BASE}/{active}" in columns["active"]
    assert "Board Intent School" not in columns["active"]
    with app.test_request_context():
        user = db.session.get(User, world.users["vol_milan"])
        columns, counts = services.board(user, services.Filters(), per_column=1)
        assert counts == {"intent": 1, "active": 1}


def test_list_filters_and_pagination(app, world, europe_on, login):
    add_station(app, world)
    make_partnership(app, world, partner="Alpha Italia", country="IT", programme="teacher_exchange")
    make_partnership(app, world, station="london", partner="Beta Britain", country="GB",
                     moves=("negotiate",))
    client = login("europe_admin")
    page = lambda query: client.get(f"{BASE}/?{query}").get_data(as_text=True)  # noqa: E731
    assert "Alpha Italia" in page("country=IT") and "Beta Britain" not in page("country=IT")
    assert "Beta Britain" in page("stage=negotiation") and "Alpha Italia" not in page("stage=negotiation")
    assert "Alpha Italia" in page("programme=teacher_exchange")
    assert "Alpha Italia" not in page(f"station={world.stations['london']}")
    assert "Beta Britain" in page("q=beta")
    for number in range(30):
        make_partnership(app, world, partner=f"Filler {number:02d}", started_days_ago=5)
    assert "page=2" in page("") and client.get(f"{BASE}/?page=2").status_code == 200


@pytest.mark.parametrize("path", ["/", "/board"])
def test_list_and_board_queries_do_not_grow_with_rows(app, world, europe_on, login, count_queries, path, today):
    for number in range(3):
        make_partnership(app, world, partner=f"School {number}", moves=("declare_intent",),
                         next_step="Call", due=today + timedelta(days=3), contacts=("milan",))
    client = login("europe_admin")
    client.get(BASE + path)
    with count_queries() as few:
        assert client.get(BASE + path).status_code == 200
    for number in range(12):
        make_partnership(app, world, partner=f"More {number}", moves=("negotiate",), contacts=("milan",))
    with count_queries() as many:
        assert client.get(BASE + path).status_code == 200
    assert many.count == few.count


def test_detail_loads_in_a_fixed_number_of_queries(app, world, europe_on, login, count_queries):
    pid = make_partnership(app, world, moves=("negotiate",), contacts=("milan",))
    client = login("vol_milan")
    with count_queries() as counter:
        assert client.get(f"{BASE}/{pid}").status_code == 200
    assert counter.count < 25


# Create and edit ----------------------------------------------------------------------------

def test_create_and_edit(app, world, europe_on, login, today):
    client = login("vol_milan")
    form = new_form(today, contact_ids=[str(world.contacts["milan"])], next_step="Send the brochure",
                    next_step_due=(today + timedelta(days=10)).isoformat())
    response = client.post(f"{BASE}/new", data=form)
    assert response.status_code == 302
    with app.app_context():
        partnership = db.session.scalar(select(Partnership).where(Partnership.partner_name == "Istituto Marangoni"))
        pid = partnership.id
        partnership = load(pid)
        assert partnership.station_id == world.stations["milan"]
        assert partnership.stage == Stage.FIRST_CONTACT
        assert partnership.majors == "fashion and accessory design, 服装与服饰设计"
        assert [c.id for c in partnership.contacts] == [world.contacts["milan"]]
        assert partnership.next_step == "Send the brochure"
        version = partnership.version
    edit = new_form(today, partner_name="Istituto Marangoni Milano", contact_ids=[], version=version)
    assert client.post(f"{BASE}/{pid}/edit", data=edit).status_code == 302
    with app.app_context():
        partnership = load(pid)
        assert partnership.partner_name == "Istituto Marangoni Milano" and partnership.contacts == []
        assert partnership.events[-1].kind == "edited"
    # An outdated form (someone saved in between) is refused.
    response = client.post(f"{BASE}/{pid}/edit", data=new_form(today, partner_name="Stale", version=version))
    assert response.status_code == 302
    with app.app_context():
        assert load(pid).partner_name == "Istituto Marangoni Milano"


@pytest.mark.parametrize("overrides, field", [
    ({"partner_name": ""}, "partner_name"),
    ({"partner_country": "XX"}, "partner_country"),
    ({"programme_kind": "5+5"}, "programme_kind"),
    ({"first_contact_on": "2999-01-01"}, "first_contact_on"),
    ({"next_step": "Call", "next_step_due": ""}, "next_step_due"),
    ({"contact_ids": ["999999"]}, "contact_ids"),
])
def test_bad_input_writes_nothing(app, world, europe_on, login, overrides, field, today):
    client = login("vol_milan")
    response = client.post(f"{BASE}/new", data=new_form(today, **overrides))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in body  # the message is next to the field
    assert 'value="Wenzhou Polytechnic"' in body  # the input is kept
    with app.app_context():
        assert count_rows(Partnership) == 0 and count_rows(PartnershipEvent) == 0


def test_contact_of_another_station_is_refused(app, world, europe_on):
    with app.test_request_context():
        admin = db.session.get(User, world.users["admin"])
        milan = db.session.get(Station, world.stations["milan"])
        data = {"home_name": "X", "home_kind": "vocational_college", "home_city": "Wenzhou", "partner_name": "Y",
                "partner_country": "IT", "partner_kind": "university", "programme_kind": "other",
                "contact_ids": [world.contacts["hanoi"]]}
        with pytest.raises(IllegalMove) as raised:
            services.create_partnership(milan, data, admin)
        assert raised.value.field == "contact_ids"
        db.session.rollback()
        assert count_rows(Partnership) == 0


# Scope and activation ------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["vol_hanoi", "asean_admin"])
def test_asean_users_get_404(app, world, europe_on, login, user):
    pid = make_partnership(app, world)
    client = login(user)
    for path in ["/", "/board", "/counts", "/overdue", "/new", f"/{pid}", f"/{pid}/edit"]:
        assert client.get(BASE + path).status_code == 404, path
    assert client.post(f"{BASE}/{pid}/move", data={"move": "drop", "version": 1, "on": "2020-01-01",
                                                  "note": "x"}).status_code == 404


def test_out_of_scope_and_unknown_ids_are_404(app, world, europe_on, login):
    switch(app, world, region_id=world.regions["ASEAN"])
    hanoi = make_partnership(app, world, station="hanoi", partner="Hanoi partner")
    client = login("vol_milan")
    assert client.get(f"{BASE}/{hanoi}").status_code == 404
    assert client.get(f"{BASE}/999999").status_code == 404
    assert "Hanoi partner" not in client.get(f"{BASE}/").get_data(as_text=True)
    assert login("vol_hanoi").get(f"{BASE}/{hanoi}").status_code == 200


@pytest.mark.parametrize("path", [
    "/99999999999999999999", "/?station=99999999999999999999", "/?page=99999999999999999999",
    "/overdue?page=99999999999999999999", "/board?station=99999999999999999999",
    "/counts?station=99999999999999999999", "/new?station_id=99999999999999999999", "/?station=²",
])
def test_huge_or_odd_numbers_are_no_server_error(app, world, europe_on, login, path):
    make_partnership(app, world)
    assert login("europe_admin").get(BASE + path).status_code in (200, 404)


# Every route of the plugin × every role, for a Milan partnership with the plugin on for EUROPE.
# A new route without a line here fails test_every_plugin_route_is_in_the_matrix.
LOGIN, OK = "login", "ok"
ROLES = ("anonymous", "vol_hanoi", "asean_admin", "vol_milan", "europe_admin", "hq", "admin")
ON = dict(anonymous=LOGIN, vol_hanoi=404, asean_admin=404, vol_milan=OK, europe_admin=OK, hq=OK, admin=OK)
MATRIX = {
    "index": ("/", "GET"), "board": ("/board", "GET"), "counts": ("/counts", "GET"),
    "overdue": ("/overdue", "GET"), "create": ("/new", "GET POST"), "detail": ("/{pid}", "GET"),
    "edit": ("/{pid}/edit", "GET POST"), "move": ("/{pid}/move", "POST"), "next_step": ("/{pid}/next-step", "POST"),
    "complete_step": ("/{pid}/next-step/done", "POST"), "add_document": ("/{pid}/documents", "POST"),
    "remove_document": ("/{pid}/documents/{doc}/remove", "POST"),
}


def test_every_plugin_route_is_in_the_matrix(app):
    routes = {rule.endpoint.split(".", 1)[1]: rule.methods - {"HEAD", "OPTIONS"}
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith(NAME + ".")}
    assert routes == {name: set(methods.split()) for name, (_url, methods) in MATRIX.items()}


@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_authorization_matrix(app, world, europe_on, endpoint):
    from tests.conftest import PASSWORD

    pid = make_partnership(app, world, moves=("negotiate",))
    path, methods = MATRIX[endpoint]
    for method in methods.split():
        outcomes = {}
        for role in ROLES:
            with app.app_context():  # a document of its own for every role that may remove one
                document = PartnershipDocument(partnership_id=pid, kind="mou", title=f"MoU for {role}")
                db.session.add(document)
                db.session.commit()
                url = BASE + path.format(pid=pid, doc=document.id)
            client = app.test_client()
            if role != "anonymous":
                client.post("/login", data={"email": world.emails[role], "password": PASSWORD})
            # Empty forms: enough to reach the authorization decision, never valid enough to write.
            response = client.get(url) if method == "GET" else client.post(url, data={})
            assert response.status_code < 500, (role, url)
            if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
                outcomes[role] = LOGIN
            else:
                outcomes[role] = response.status_code if response.status_code in (403, 404) else OK
        assert outcomes == ON, (endpoint, method)


def test_suspended_station_is_read_only(app, world, europe_on, login):
    pid = make_partnership(app, world)
    with app.app_context():
        db.session.get(Station, world.stations["milan"]).status = "suspended"
        db.session.commit()
    client = login("vol_milan")
    page = client.get(f"{BASE}/{pid}").get_data(as_text=True)
    assert f"{BASE}/{pid}/move" not in page and f"{BASE}/{pid}/edit" not in page
    assert client.get(f"{BASE}/{pid}/edit").status_code == 403
    assert client.post(f"{BASE}/{pid}/documents", data={"kind": "mou", "title": "x"}).status_code == 403
    assert client.get(f"{BASE}/new").status_code == 403
    with app.test_request_context():
        hq = db.session.get(User, world.users["hq"])
        assert services.can_manage(hq, db.session.get(Station, world.stations["milan"])) is False
        # The core's one rule (liaison.workflow): the station side is read-only, HQ's moves remain.
        assert [m.name for m in available_moves(load(pid), hq)] == ["declare_intent", "drop"]
        volunteer = db.session.get(User, world.users["vol_milan"])
        assert available_moves(load(pid), volunteer) == []


def test_volunteer_of_the_station_and_hq_see_it(app, world, europe_on, login):
    pid = make_partnership(app, world)
    for user in ("vol_milan", "europe_admin", "hq", "admin"):
        assert login(user).get(f"{BASE}/{pid}").status_code == 200, user


def test_station_override_switches_one_station_off(app, world, europe_on, login):
    add_station(app, world)
    milan = make_partnership(app, world, partner="Milan partner")
    london = make_partnership(app, world, station="london", partner="London partner", country="GB")
    switch(app, world, False, station_id=world.stations["milan"])
    client = login("europe_admin")
    assert client.get(f"{BASE}/{milan}").status_code == 404
    assert client.post(f"{BASE}/{milan}/documents", data={"kind": "mou", "title": "x"}).status_code == 404
    assert client.get(f"{BASE}/{london}").status_code == 200
    listed = client.get(f"{BASE}/").get_data(as_text=True)
    assert "London partner" in listed and "Milan partner" not in listed
    assert "Milan partner" not in client.get(f"{BASE}/board").get_data(as_text=True)
    station_page = client.get(f"/stations/{world.stations['milan']}").get_data(as_text=True)
    assert "Milan partner" not in station_page and "plugin-panel" not in station_page
    # Only Milan's volunteer: the plugin is off for every station they see.
    assert login("vol_milan").get(f"{BASE}/").status_code == 404


def test_inactive_plugin_leaves_no_trace(app, world, login, today):
    with app.app_context():
        assert db.session.scalar(select(PluginScope).where(PluginScope.plugin == NAME)) is None
    pid = make_partnership(app, world, partner="Hidden partner", next_step="Hidden step",
                           due=today - timedelta(days=1), contacts=("milan",))
    client = login("admin")
    for path in ["/", "/board", "/counts", "/overdue", "/new", f"/{pid}"]:
        assert client.get(BASE + path).status_code == 404, path
    assert "School partnerships" not in client.get(f"/stations/{world.stations['milan']}").get_data(as_text=True)
    assert "Hidden partner" not in client.get(f"/contacts/{world.contacts['milan']}").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "Hidden step" not in home and f"{BASE}/" not in home


def test_panels_on_station_and_contact_pages(app, world, europe_on, login):
    make_partnership(app, world, partner="Panel partner", contacts=("milan",))
    client = login("vol_milan")
    station_page = client.get(f"/stations/{world.stations['milan']}", headers=CHINESE).get_data(as_text=True)
    assert "院校合作" in station_page and "Panel partner" in station_page
    assert f"{BASE}/new?station_id={world.stations['milan']}" in station_page
    contact_page = client.get(f"/contacts/{world.contacts['milan']}").get_data(as_text=True)
    assert "Panel partner" in contact_page
    assert f'href="{BASE}/"' in client.get("/").get_data(as_text=True)  # navigation item


def test_contacts_export_counts_partnerships(app, world, europe_on, login):
    from io import BytesIO

    from openpyxl import load_workbook

    make_partnership(app, world, partner="One", contacts=("milan",))
    make_partnership(app, world, partner="Two", contacts=("milan",))
    response = login("europe_admin").get("/exports/contacts.xlsx", headers=ENGLISH)
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.data)).active.values)
    column = rows[0].index("School partnerships")
    name = rows[0].index("Name")
    by_name = {row[name]: row[column] for row in rows[1:]}
    assert by_name == {"Marco Rossi": 2}, rows


# Demo data ------------------------------------------------------------------------------------

def test_demo_data_is_idempotent_and_switches_europe_on(app):
    from liaison import demo

    with app.test_request_context():
        demo.load()
        first = count_rows(Partnership)
        assert first >= 5
        stages = dict(db.session.execute(select(Partnership.partner_name, Partnership.stage)).all())
        assert stages["University of South Wales"] == "negotiation"
        assert stages["Istituto Europeo di Design"] == "intent"
        assert stages["Middlesex University"] in ("agreement_signed", "active")
        assert stages["Accademia Albertina di Belle Arti"] == "first_contact"
        today = local_today()
        assert db.session.scalar(select(func.count()).select_from(Partnership).where(
            Partnership.next_step_due < today)) >= 1
        europe = db.session.scalar(select(PluginScope).where(PluginScope.plugin == NAME))
        assert europe.enabled is True and europe.scope_key.startswith("region:")
        events = count_rows(PartnershipEvent)
        europe.enabled = False  # an admin switched it off: loading again must not override that
        db.session.commit()
        demo.load()
        assert count_rows(Partnership) == first and count_rows(PartnershipEvent) == events
        assert db.session.scalar(select(PluginScope.enabled).where(PluginScope.plugin == NAME)) is False
        assert db.session.scalar(select(func.count()).select_from(Contact)) > 0


# Templates and catalogs -----------------------------------------------------------------------

def test_templates_have_no_inline_script_or_style():
    for template in (PLUGIN_DIR / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script" not in text and "style=" not in text and " on" + "click=" not in text, template.name


def test_chinese_catalog_is_complete():
    from babel.messages.pofile import read_po

    path = PLUGIN_DIR / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    missing = [message.id for message in catalog if message.id and not (
        all(message.string) if isinstance(message.string, tuple) else message.string)]
    assert not missing, missing
    assert catalog["Memorandum of understanding"].string == "谅解备忘录"


def test_dates_month_end():
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_end(date(2025, 12, 31)) == date(2025, 12, 31)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_posts_without_csrf_token_are_refused(app, world, europe_on, client, today):
    from tests.conftest import PASSWORD

    pid = make_partnership(app, world)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"email": world.emails["vol_milan"], "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    response = client.post(f"{BASE}/{pid}/move", data={"move": "declare_intent", "version": 1,
                                                      "on": today.isoformat()})
    assert response.status_code == 400
    assert client.post(f"{BASE}/new", data=new_form(today)).status_code == 400
    with app.app_context():
        assert load(pid).stage == Stage.FIRST_CONTACT and count_rows(Partnership) == 1


# Issue 8, item 4: the "new" page never switches station ---------------------------------------

def test_new_page_keeps_the_named_station(app, world, europe_on, login):
    london = add_station(app, world)
    milan, hanoi = world.stations["milan"], world.stations["hanoi"]
    volunteer = login("vol_milan")
    page = volunteer.get(f"{BASE}/new?station_id={milan}")
    assert page.status_code == 200 and "Milan" in page.get_data(as_text=True)
    # Another station of the region: in scope for the regional admin, not the volunteer's.
    assert volunteer.get(f"{BASE}/new?station_id={london}").status_code == 404
    assert volunteer.get(f"{BASE}/new?station_id={hanoi}").status_code == 404  # out of scope
    assert volunteer.get(f"{BASE}/new?station_id=99999").status_code == 404
    assert volunteer.get(f"{BASE}/new?station_id=abc").status_code == 404
    before = count_rows_in(app, Partnership)
    assert volunteer.post(f"{BASE}/new?station_id={london}", data=new_form(date.today())).status_code == 404
    assert count_rows_in(app, Partnership) == before
    admin = login("europe_admin")
    page = admin.get(f"{BASE}/new?station_id={london}").get_data(as_text=True)
    assert "London station" in page
    assert admin.get(f"{BASE}/new").status_code == 200  # two stations: the chooser
    # The plugin off for London: 404 there, as for a station out of scope.
    switch(app, world, False, station_id=london)
    assert admin.get(f"{BASE}/new?station_id={london}").status_code == 404


def test_new_page_for_a_suspended_station_is_403(app, world, europe_on, login):
    london = add_station(app, world)
    with app.app_context():
        db.session.get(Station, london).status = "suspended"
        db.session.commit()
    assert login("europe_admin").get(f"{BASE}/new?station_id={london}").status_code == 403


def count_rows_in(app, model) -> int:
    with app.app_context():
        return count_rows(model)


# Issue 8, item 10: ending is confirmed, closes the next step; signings need their document ----

def _version(app, pid) -> int:
    with app.app_context():
        return load(pid).version


def test_ending_the_programme_must_be_confirmed(app, world, europe_on, login, today):
    pid = make_partnership(app, world, moves=("negotiate", "sign_agreement", "start"),
                           next_step="Visit the first cohort", due=today + timedelta(days=10))
    client = login("vol_milan")
    page = client.get(f"{BASE}/{pid}").get_data(as_text=True)
    assert 'name="confirm"' in page and "Mark as done" in page
    data = {"move": "conclude", "version": _version(app, pid), "on": today.isoformat()}
    response = client.post(f"{BASE}/{pid}/move", data=data)
    assert response.status_code == 400
    assert "Please confirm" in response.get_data(as_text=True)
    with app.app_context():
        assert load(pid).stage == Stage.ACTIVE
    # Confirmed: ended, and the open next step is closed with it (in the timeline).
    assert client.post(f"{BASE}/{pid}/move", data={**data, "confirm": "y"}).status_code == 302
    with app.app_context():
        partnership = load(pid)
        assert partnership.stage == Stage.CONCLUDED
        assert partnership.next_step is None and partnership.next_step_due is None
        closed = [e for e in partnership.events if e.kind == "next_step_closed"]
        assert [e.text for e in closed] == ["Visit the first cohort"]
        version = partnership.version
    page = client.get(f"{BASE}/{pid}").get_data(as_text=True)
    assert "Mark as done" not in page and "Next step closed with the partnership" in page
    response = client.post(f"{BASE}/{pid}/next-step/done", data={"version": version}, follow_redirects=True)
    assert "no next step" in response.get_data(as_text=True)


def test_dropping_must_be_confirmed(app, world, europe_on):
    pid = make_partnership(app, world, next_step="Call the partner", due=date.today() + timedelta(days=3))
    with app.test_request_context():
        volunteer = db.session.get(User, world.users["vol_milan"])
        with pytest.raises(IllegalMove) as error:
            apply_move(load(pid), "drop", volunteer, on=local_today(), note="No budget", today=local_today())
        assert error.value.field == "confirm"
        apply_move(load(pid), "drop", volunteer, on=local_today(), note="No budget", today=local_today(),
                   confirmed=True)
        db.session.commit()
        partnership = load(pid)
        assert partnership.stage == Stage.DROPPED and partnership.next_step is None


@pytest.mark.parametrize("moves, move, kind", [(("negotiate",), "sign_mou", "mou"),
                                               (("negotiate",), "sign_agreement", "agreement")])
def test_signing_needs_its_document_or_a_reason(app, world, europe_on, login, today, moves, move, kind):
    pid = make_partnership(app, world, moves=moves)
    client = login("vol_milan")
    page = client.get(f"{BASE}/{pid}").get_data(as_text=True)
    assert 'name="override_reason"' in page
    data = {"move": move, "version": _version(app, pid), "on": today.isoformat()}
    response = client.post(f"{BASE}/{pid}/move", data=data)
    assert response.status_code == 400 and "Register the" in response.get_data(as_text=True)
    with app.app_context():
        assert load(pid).stage == Stage.NEGOTIATION
    # An explicit override with a reason: allowed, and the reason is in the timeline.
    assert client.post(f"{BASE}/{pid}/move", data={**data, "override_reason": "Original held by the partner"}
                       ).status_code == 302
    with app.app_context():
        partnership = load(pid)
        assert partnership.stage != Stage.NEGOTIATION
        assert [e.text for e in partnership.events if e.kind == "document_waived"] == ["Original held by the partner"]
    # With the document registered, no reason is needed.
    other = make_partnership(app, world, moves=moves, partner="Another school")
    with app.app_context():
        register_document_for(load(other), move)
        db.session.commit()
    assert client.post(f"{BASE}/{other}/move", data={**data, "version": _version(app, other)}).status_code == 302
    with app.app_context():
        assert not [e for e in load(other).events if e.kind == "document_waived"]


def test_overlong_override_reason_is_refused(app, world, europe_on, login, today):
    pid = make_partnership(app, world, moves=("negotiate",))
    client = login("vol_milan")
    response = client.post(f"{BASE}/{pid}/move", data={"move": "sign_mou", "version": _version(app, pid),
                                                      "on": today.isoformat(), "override_reason": "x" * 2001,
                                                      "confirm": "maybe"})
    assert response.status_code == 400
    with app.app_context():
        assert load(pid).stage == Stage.NEGOTIATION
