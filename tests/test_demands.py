"""Demands and matchmaking (liaison.demands): suggestions ranked and explained on a hand-checked
fixture, scope per role, recording demands, consent before an introduction, the match's stages and
timeline, the lead an intent creates (through the leads service) or links, the notification to the
contact's station, the contact page's panel, the report section and both languages."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from liaison.demands import matching
from liaison.demands.models import Demand, DemandMatch, DemandMatchEvent
from liaison.models import Contact, LeadStatus, Notification, TalentLead, User, db
from liaison.search import fold

from .factories import give_basis
from .helpers import snapshot


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _contact(world, station, name, *, field=None, tags=None, organisation=None, consent=True) -> Contact:
    contact = Contact(station_id=world.stations[station], kind="scholar", name=name, field=field,
                      organisation=organisation, created_by_id=world.users["admin"])
    contact.tags = tags
    db.session.add(contact)
    db.session.flush()
    if consent:
        give_basis([contact], world.users["admin"])
    return contact


@pytest.fixture
def fixture(app, world):
    """A demand for the ASEAN region (fields "new-energy vehicles", "battery") and six contacts.

    Hand-checked scores (field 4, tag 3, lead 2, organisation/name 1):

    * A (Hanoi): field "new-energy vehicles" (4) + tag "battery" (3)                  = 7
    * B (Hanoi): field "battery chemistry" contains "battery" (4)                     = 4
    * C (Bangkok): tag "Battery" (3, another spelling) + organisation "… Battery Co." (1) = 4
    * D (Bangkok): field "design", an open lead "… battery recycling …" (2)            = 2
    * E (Milan, Europe): field "new-energy vehicles" — not in the demand's region: never
    * F (Hanoi): field "fine arts": nothing

    B and C tie at 4: the older contact (B) first.
    """
    from liaison.leads import services as leads

    with app.test_request_context():
        ids = {}
        ids["A"] = _contact(world, "hanoi", "Chen Zhiming", field="New-energy vehicles", tags="battery, investment").id
        ids["B"] = _contact(world, "hanoi", "Bui Van Binh", field="battery chemistry").id
        ids["C"] = _contact(world, "bangkok", "Somchai Jaidee", field="solar energy", tags="Battery",
                            organisation="Siam Battery Co.").id
        d = _contact(world, "bangkok", "Dao Thi Dung", field="design")
        ids["D"] = d.id
        ids["E"] = _contact(world, "milan", "Luca Ferrari", field="new-energy vehicles", tags="battery").id
        ids["F"] = _contact(world, "hanoi", "Pham Fine", field="fine arts", consent=False).id
        db.session.commit()
        volunteer = db.session.get(User, world.users["vol_bangkok"])
        from sqlalchemy.orm import selectinload

        contact = db.session.scalar(select(Contact).where(Contact.id == d.id).options(selectinload(Contact.station)))
        lead = leads.create_lead(contact, {
            "category": "project", "field": "materials", "summary": "Works on battery recycling in Thailand",
            "priority": 2}, volunteer)
        ids["D_lead"] = lead.id
        db.session.remove()
    return ids


def create_demand(login, world, **changes) -> int:
    data = {"title": "Battery engineers for the Wenzhou plant", "organisation": "Wenzhou NEV Co.",
            "source_kind": "enterprise", "city": "Wenzhou", "contact_name": "Li Hua", "contact_phone": "0577 8888 1234",
            "contact_email": "lihua@nev.example", "kind": "hire", "fields": "new-energy vehicles, battery",
            "requirements": "Five years in battery systems.", "salary_range": "400,000–600,000 CNY",
            "funding": "", "policy_support": "Talent apartment", "deadline": "2030-12-31",
            "regions": [str(world.regions["ASEAN"])]}
    data.update(changes)
    response = login("hq").post("/demands/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def suggestion_names(app, world, demand_id, user_key):
    from sqlalchemy.orm import selectinload

    with app.test_request_context():
        try:
            demand = db.session.scalar(select(Demand).where(Demand.id == demand_id).options(
                selectinload(Demand.field_rows), selectinload(Demand.region_rows)))
            user = db.session.get(User, world.users[user_key])
            return [(s.record.name, s.score, s.explanation) for s in matching.for_demand(demand, user)]
        finally:
            db.session.remove()


# Matching ----------------------------------------------------------------------------------

def test_suggestions_are_ranked_and_explained_as_counted_by_hand(app, world, login, fixture):
    demand_id = create_demand(login, world)
    assert suggestion_names(app, world, demand_id, "hq") == [
        ("Chen Zhiming", 7, "field: new-energy vehicles; tag: battery"),
        ("Bui Van Binh", 4, "field: battery"),
        ("Somchai Jaidee", 4, "tag: battery; organisation or name: battery"),
        ("Dao Thi Dung", 2, f"lead #{fixture['D_lead']}: battery"),
    ]


def test_suggestions_stay_in_the_users_scope(app, world, login, fixture):
    demand_id = create_demand(login, world)
    assert [n for n, _s, _e in suggestion_names(app, world, demand_id, "vol_hanoi")] == ["Chen Zhiming", "Bui Van Binh"]
    assert [n for n, _s, _e in suggestion_names(app, world, demand_id, "vol_bangkok")] == ["Somchai Jaidee",
                                                                                          "Dao Thi Dung"]
    assert len(suggestion_names(app, world, demand_id, "asean_admin")) == 4
    assert suggestion_names(app, world, demand_id, "europe_admin") == []


def test_a_chinese_field_matches_a_chinese_field(app, world, login, fixture):
    with app.app_context():
        _contact(world, "hanoi", "Wang Xin", field="新能源汽车研发")
        db.session.commit()
    demand_id = create_demand(login, world, fields="新能源汽车")
    assert suggestion_names(app, world, demand_id, "hq") == [("Wang Xin", 4, "field: 新能源汽车")]


def test_an_accented_field_matches_both_ways(app, world, login, fixture):
    """The field is folded alike in both directions: a contact's field "Énergie nouvelle" fits a
    demand for "énergie" (and full-width "ＥＮＥＲＧＩＥ"), and the contact page finds that demand."""
    with app.app_context():
        contact_id = _contact(world, "hanoi", "Élodie Nguyễn", field="Énergie nouvelle").id
        db.session.commit()
    demand_id = create_demand(login, world, title="Énergie", fields="énergie")
    assert suggestion_names(app, world, demand_id, "hq") == [("Élodie Nguyễn", 4, "field: énergie")]
    wide = create_demand(login, world, title="Wide", fields="ＥＮＥＲＧＩＥ")
    assert suggestion_names(app, world, wide, "hq") == [("Élodie Nguyễn", 4, "field: ＥＮＥＲＧＩＥ")]
    with app.test_request_context():
        from sqlalchemy.orm import selectinload

        contact = db.session.scalar(select(Contact).where(Contact.id == contact_id)
                                    .options(selectinload(Contact.station)))
        found = matching.for_contact(contact, db.session.get(User, world.users["hq"]))
        assert {(s.record.id, s.explanation) for s in found} == {(demand_id, "field: énergie"),
                                                                 (wide, "field: ＥＮＥＲＧＩＥ")}
        db.session.remove()


def test_suggestions_are_bounded_and_take_a_fixed_number_of_queries(app, world, login, fixture):
    demand_id = create_demand(login, world)
    with app.test_request_context():
        from sqlalchemy import event
        from sqlalchemy.orm import selectinload

        demand = db.session.scalar(select(Demand).where(Demand.id == demand_id).options(
            selectinload(Demand.field_rows), selectinload(Demand.region_rows)))
        user = db.session.get(User, world.users["hq"])
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            found = matching.for_demand(demand, user, limit=2)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert [s.record.name for s in found] == ["Chen Zhiming", "Bui Van Binh"]
        assert len(statements) <= 7  # fields, rank, explain, contacts (+ station, tags), matches
        db.session.remove()


def test_the_contact_page_shows_the_demands_that_fit(app, world, login, fixture):
    demand_id = create_demand(login, world)
    other = create_demand(login, world, title="Designers", fields="fashion design", kind="project_cooperation")
    page = login("vol_hanoi").get(f"/contacts/{fixture['A']}").get_data(as_text=True)
    assert "Demands from home" in page and f"/demands/{demand_id}" in page and f"/demands/{other}" not in page
    assert "field: new-energy vehicles; tag: battery" in page
    page = login("vol_hanoi").get(f"/contacts/{fixture['F']}").get_data(as_text=True)
    assert "Demands from home" not in page


# Scope and rights --------------------------------------------------------------------------

@pytest.mark.parametrize("role,status", [
    ("hq", 200), ("admin", 200), ("asean_admin", 200), ("europe_admin", 404), ("vol_hanoi", 200),
    ("vol_bangkok", 200), ("vol_milan", 404),
])
def test_who_sees_a_demand_for_asean(app, world, login, fixture, role, status):
    demand_id = create_demand(login, world)
    assert login(role).get(f"/demands/{demand_id}").status_code == status
    listed = f"/demands/{demand_id}" in login(role).get("/demands/").get_data(as_text=True)
    assert listed == (status == 200)


def test_volunteers_see_only_active_demands_and_never_the_contact_person(app, world, login, fixture):
    demand_id = create_demand(login, world)
    page = login("vol_hanoi").get(f"/demands/{demand_id}").get_data(as_text=True)
    assert "Li Hua" not in page and "lihua@nev.example" not in page and "Introduce" not in page
    assert "Li Hua" in login("asean_admin").get(f"/demands/{demand_id}").get_data(as_text=True)
    client = login("hq")
    assert client.post(f"/demands/{demand_id}/move", data={"move": "close", "version": "1"}).status_code == 400
    response = client.post(f"/demands/{demand_id}/move", data={"move": "close", "version": "1",
                                                                "comment": "Filled locally."})
    assert response.status_code == 302
    assert login("vol_hanoi").get(f"/demands/{demand_id}").status_code == 404
    assert login("asean_admin").get(f"/demands/{demand_id}").status_code == 200


@pytest.mark.parametrize("role,status", [("vol_hanoi", 403), ("europe_admin", 404), ("asean_admin", 200),
                                         ("hq", 200)])
def test_who_edits_a_demand(app, world, login, fixture, role, status):
    demand_id = create_demand(login, world)
    assert login(role).get(f"/demands/{demand_id}/edit").status_code == status


def test_a_regional_admin_records_demands_for_their_regions_only(app, world, login, fixture):
    client = login("asean_admin")
    data = {"title": "Rail engineers", "organisation": "Nanning Rail", "source_kind": "enterprise", "kind": "hire",
            "fields": "railway operations", "requirements": "Operations experience.",
            "regions": [str(world.regions["EUROPE"])]}
    response = client.post("/demands/new", data=data)
    assert response.status_code == 200 and "not a valid choice" in response.get_data(as_text=True)
    data["regions"] = [str(world.regions["ASEAN"])]
    assert client.post("/demands/new", data=data).status_code == 302
    assert login("vol_hanoi").get("/demands/new").status_code == 403


def test_only_hq_records_and_moves_matches(app, world, login, fixture):
    demand_id = create_demand(login, world)
    assert login("asean_admin").post(f"/demands/{demand_id}/matches",
                                     data={"contact_id": fixture["A"]}).status_code == 403
    assert login("vol_hanoi").post(f"/demands/{demand_id}/matches",
                                   data={"contact_id": fixture["A"]}).status_code == 403
    response = login("hq").post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["A"]})
    assert response.status_code == 302
    with app.app_context():
        match_id = db.session.scalar(select(DemandMatch.id))
    assert login("asean_admin").post(f"/demands/matches/{match_id}/move",
                                     data={"move": "hold_meeting", "version": "1"}).status_code == 403
    assert login("vol_milan").post(f"/demands/matches/{match_id}/move",
                                   data={"move": "hold_meeting", "version": "1"}).status_code == 404


# Demands presented at events --------------------------------------------------------------

def _hanoi_event(app, world, title="Matchmaking evening") -> int:
    from datetime import datetime

    from liaison.events.models import Event, EventStation

    with app.app_context():
        event = Event(kind="symposium", organiser="stations", title=title, title_zh="对接会",
                      starts_at=datetime(2030, 5, 1, 8), ends_at=datetime(2030, 5, 1, 12), timezone="Asia/Bangkok",
                      status="registration_open", seats_taken=0,
                      organising=[EventStation(station_id=world.stations["hanoi"])])
        db.session.add(event)
        db.session.commit()
        return event.id


def _presented(app) -> set[tuple[int, int]]:
    from liaison.demands.models import event_demands

    with app.app_context():
        return {tuple(row) for row in db.session.execute(select(event_demands.c.event_id, event_demands.c.demand_id))}


def test_a_demand_is_presented_at_an_event_and_its_match_made_there(app, world, login, fixture):
    """The ASEAN admin presents the region's demand at a Hanoi event; a Europe demand is not
    theirs to present; volunteers see the demand on the event page but cannot present; HQ records a
    match at the event (chosen from the demand's events), which the event's figures count."""
    from liaison.models import AuditEntry

    demand_id = create_demand(login, world)
    europe_id = create_demand(login, world, title="Wine makers", regions=[str(world.regions["EUROPE"])])
    event_id = _hanoi_event(app, world)
    admin = login("asean_admin")
    page = admin.get(f"/events/{event_id}").get_data(as_text=True)
    assert "Demands presented" in page and f'value="{demand_id}"' in page and f'value="{europe_id}"' not in page
    before = snapshot(app)
    response = admin.post(f"/events/{event_id}/demands", data={"demand_id": str(europe_id)})
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    assert "could not coerce" in admin.post(f"/events/{event_id}/demands", data={"demand_id": "abc"}).get_data(
        as_text=True)
    assert snapshot(app) == before
    assert login("vol_hanoi").post(f"/events/{event_id}/demands", data={"demand_id": str(demand_id)}).status_code == 403
    assert login("europe_admin").post(f"/events/{event_id}/demands",
                                      data={"demand_id": str(demand_id)}).status_code == 404
    assert _presented(app) == set()
    response = login("asean_admin").post(f"/events/{event_id}/demands", data={"demand_id": str(demand_id)})
    assert response.status_code == 302
    assert _presented(app) == {(event_id, demand_id)}
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "demand.present"))
        assert (entry.object_id, entry.details["event"], entry.actor_id) == (demand_id, event_id,
                                                                            world.users["asean_admin"])
    # Presented twice: nothing more written.
    response = login("hq").post(f"/events/{event_id}/demands", data={"demand_id": str(demand_id)})
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    assert _presented(app) == {(event_id, demand_id)}
    volunteer_page = login("vol_hanoi").get(f"/events/{event_id}").get_data(as_text=True)
    assert "Battery engineers for the Wenzhou plant" in volunteer_page and "Take off this event" not in volunteer_page
    assert 'id="present-demand"' not in volunteer_page
    demand_page = login("vol_hanoi").get(f"/demands/{demand_id}").get_data(as_text=True)
    assert "Matchmaking evening" in demand_page
    # HQ's match form offers the demand's events only; another event is refused.
    other_id = _hanoi_event(app, world, title="Another evening")
    client = login("hq")
    page = client.get(f"/demands/{demand_id}").get_data(as_text=True)
    assert f'<option value="{event_id}">' in page and f'value="{other_id}"' not in page
    before = snapshot(app)
    response = client.post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["A"], "event_id": other_id})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert snapshot(app) == before
    response = client.post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["A"], "event_id": event_id})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(DemandMatch.event_id)) == event_id
    figures = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert re.search(r"Matches made</th><td>1<", figures)
    # A Chinese page.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh"
    assert "推介的需求" in client.get(f"/events/{event_id}").get_data(as_text=True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    # Taken off by the ASEAN admin; the match keeps its event; again: nothing to take off.
    admin = login("asean_admin")
    assert admin.post(f"/events/{event_id}/demands/{demand_id}/withdraw").status_code == 302
    assert _presented(app) == set()
    assert admin.post(f"/events/{event_id}/demands/{demand_id}/withdraw").status_code == 302
    assert login("vol_hanoi").post(f"/events/{event_id}/demands/{demand_id}/withdraw").status_code == 403
    assert login("asean_admin").post(f"/events/{event_id}/demands/{europe_id}/withdraw").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(DemandMatch.event_id)) == event_id
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "demand.withdraw")) == 1


# Matches: consent, stages, the lead --------------------------------------------------------

def test_introducing_needs_consent_to_pass_the_profile_on(app, world, login, fixture):
    demand_id = create_demand(login, world)
    client = login("hq")
    before = snapshot(app)
    response = client.post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["F"]})
    assert response.status_code == 400
    assert "has not agreed to their profile being passed on" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_match_moves_through_its_stages_and_an_intent_creates_the_lead(app, world, login, fixture):
    demand_id = create_demand(login, world)
    client = login("hq")
    assert client.post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["A"],
                                                              "note": "Met at the expo"}).status_code == 302
    with app.app_context():
        match = db.session.scalar(select(DemandMatch))
        match_id = match.id
        assert match.stage == "introduced" and match.station_id == world.stations["hanoi"]
        assert db.session.get(Demand, demand_id).status == "matching"
    assert client.post(f"/demands/matches/{match_id}/move",
                       data={"move": "land", "version": "1"}).status_code == 400  # not yet
    assert client.post(f"/demands/matches/{match_id}/move",
                       data={"move": "hold_meeting", "version": "1"}).status_code == 302
    assert client.post(f"/demands/matches/{match_id}/move",
                       data={"move": "hold_meeting", "version": "1"}).status_code == 409  # stale page
    assert client.post(f"/demands/matches/{match_id}/move",
                       data={"move": "sign_intent", "version": "2", "comment": "Signed in Wenzhou"}).status_code == 302
    with app.app_context():
        match = db.session.get(DemandMatch, match_id)
        lead = db.session.get(TalentLead, match.lead_id)
        assert lead.source_demand_id == demand_id and lead.contact_id == fixture["A"]
        assert lead.status == LeadStatus.DRAFT and lead.category == "employment" and lead.field == "new-energy vehicles"
        assert lead.station_id == world.stations["hanoi"]
    assert client.post(f"/demands/matches/{match_id}/move", data={"move": "land", "version": "3"}).status_code == 302
    with app.app_context():
        events = db.session.scalars(select(DemandMatchEvent).where(DemandMatchEvent.match_id == match_id)
                                    .order_by(DemandMatchEvent.id)).all()
        assert [(e.from_stage, e.to_stage) for e in events] == [
            (None, "introduced"), ("introduced", "meeting_held"), ("meeting_held", "intent_signed"),
            ("intent_signed", "landed")]
        assert events[0].note == "Met at the expo" and events[2].note == "Signed in Wenzhou"
        assert all(e.actor_id == world.users["hq"] for e in events)
        assert db.session.scalar(select(func.count()).select_from(TalentLead)
                                 .where(TalentLead.source_demand_id == demand_id)) == 1
        # The station's volunteer was told of every stage; nobody else.
        told = db.session.execute(select(Notification.user_id, Notification.params["match_stage"].as_string())
                                  .where(Notification.kind == "demand_match_stage")).all()
        assert {u for u, _s in told} == {world.users["vol_hanoi"]}
        assert len(told) == 4
    page = login("vol_hanoi").get(f"/contacts/{fixture['A']}").get_data(as_text=True)
    assert "Landed" in page and f"/leads/{match.lead_id}" in page


def test_an_intent_links_the_matchs_own_lead(app, world, login, fixture):
    demand_id = create_demand(login, world)
    client = login("hq")
    assert client.post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["D"],
                                                              "lead_id": fixture["D_lead"]}).status_code == 302
    with app.app_context():
        match_id = db.session.scalar(select(DemandMatch.id))
    assert client.post(f"/demands/matches/{match_id}/move",
                       data={"move": "sign_intent", "version": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(TalentLead, fixture["D_lead"]).source_demand_id == demand_id
        assert db.session.scalar(select(func.count()).select_from(TalentLead)
                                 .where(TalentLead.source_demand_id == demand_id)) == 1


def test_dropping_needs_a_note_and_a_lead_of_another_contact_is_refused(app, world, login, fixture):
    demand_id = create_demand(login, world)
    client = login("hq")
    response = client.post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["A"],
                                                                  "lead_id": fixture["D_lead"]})
    assert response.status_code == 400 and "not about the chosen contact" in response.get_data(as_text=True)
    assert client.post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["A"]}).status_code == 302
    with app.app_context():
        match_id = db.session.scalar(select(DemandMatch.id))
    response = client.post(f"/demands/matches/{match_id}/move", data={"move": "drop", "version": "1"})
    assert response.status_code == 400 and "Please add a comment" in response.get_data(as_text=True)
    assert client.post(f"/demands/matches/{match_id}/move",
                       data={"move": "drop", "version": "1", "comment": "Took another offer"}).status_code == 302


# Lists, report, languages ------------------------------------------------------------------

def test_list_filters_and_search(app, world, login, fixture):
    first = create_demand(login, world)
    second = create_demand(login, world, title="Fashion designers", organisation="Ouhai Design Park",
                           source_kind="park", kind="project_cooperation", fields="fashion design",
                           regions=[str(world.regions["EUROPE"])])
    client = login("hq")

    def listed(query):
        page = client.get(f"/demands/?{query}").get_data(as_text=True)
        return {i for i in (first, second) if f'href="/demands/{i}"' in page}

    assert listed("") == {first, second}
    assert listed("kind=hire") == {first}
    assert listed("field=Fashion+Design") == {second}
    assert listed(f"region={world.regions['ASEAN']}") == {first}
    assert listed("q=ouhai") == {second}
    assert listed("status=closed") == set()
    assert listed("status=bogus&kind=%00&region=abc&after=garbage") == {first, second}


def test_report_section_counts_demands_and_matches(app, world, login, fixture):
    demand_id = create_demand(login, world)
    create_demand(login, world, title="Trainers", kind="training", fields="vocational education")
    client = login("hq")
    client.post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["A"]})
    client.post(f"/demands/{demand_id}/matches", data={"contact_id": fixture["C"]})
    from datetime import date

    from liaison.demands import reports
    from liaison.reports.periods import between

    with app.test_request_context():
        period = between(date(2020, 1, 1), date(2099, 12, 31))
        counts = reports.demand_counts(period, None)
        assert counts == {"hire": {"matching": [1, 1]}, "training": {"open": [1, 1]}}
        matches = reports.match_counts(period, None)
        assert matches == {world.regions["ASEAN"]: {"introduced": 2, "landed_in_period": 0}}
        assert reports.match_counts(period, [world.stations["milan"]]) == {}
        # Per station: A is Hanoi's contact, C Bangkok's.
        assert reports.match_counts_by_station(period, None) == {
            world.stations["hanoi"]: {"introduced": 1, "landed_in_period": 0},
            world.stations["bangkok"]: {"introduced": 1, "landed_in_period": 0}}
        section = reports.section(period, [world.stations["bangkok"]])
        (table,) = [t for t in section.tables if t.key == "demands.match_station"]
        assert table.rows == [["Bangkok station", "Asean", 1, 0, 0, 0, 0, 1, 0, 0]]
        # Both demands target ASEAN: open 1, matching 1.
        (table,) = [t for t in section.tables if t.key == "demands.region_status"]
        assert table.rows == [["Asean", 1, 1, 0, 0, 2, 2]]
        assert reports.demand_counts_by_region(period, [world.stations["milan"]]) == {}
        db.session.remove()
    page = client.get("/reports/").get_data(as_text=True)
    assert "Demands and matchmaking" in page and "Matches by stage and region" in page
    assert "Matches by stage and station" in page


def test_pages_in_chinese(app, world, login, fixture):
    demand_id = create_demand(login, world)
    client = login("hq")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh"
    page = client.get(f"/demands/{demand_id}").get_data(as_text=True)
    assert "推荐人才" in page and "对接" in page
    assert "需求" in client.get("/demands/").get_data(as_text=True)


def test_fold_is_what_fields_are_matched_by():
    assert fold("New-Energy  Vehicles") == "new-energy vehicles"


def test_demo_demands_are_matched_to_demo_contacts(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        stages = dict(db.session.execute(select(Contact.name, DemandMatch.stage)
                                         .join(Contact, Contact.id == DemandMatch.contact_id)).all())
        assert stages == {"Luca Ferrari": "landed", "Lin Jiayi": "intent_signed", "Chen Zhiming": "meeting_held",
                          "Zheng Xiaodong": "intent_signed", "Giulia Bianchi": "introduced"}
        assert db.session.scalar(select(func.count()).select_from(TalentLead)
                                 .where(TalentLead.source_demand_id.is_not(None))) == 3
        counts = (db.session.scalar(select(func.count()).select_from(Demand)),
                  db.session.scalar(select(func.count()).select_from(DemandMatch)))
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        assert (db.session.scalar(select(func.count()).select_from(Demand)),
                db.session.scalar(select(func.count()).select_from(DemandMatch))) == counts == (2, 5)


def test_the_notification_names_the_stage_in_the_readers_language(app):
    from flask_babel import force_locale

    from liaison.notifications.kinds import render_message

    params = {"contact": "Chen Zhiming", "demand": "Battery engineers", "match_stage": "intent_signed"}
    with app.test_request_context():
        assert render_message("demand_match_stage", params) == (
            "The match of Chen Zhiming with the demand “Battery engineers” is now “Intent signed”.")
        with force_locale("zh_Hans_CN"):
            assert render_message("demand_match_stage", params) == "Chen Zhiming与需求“Battery engineers”的对接现为“已签意向”。"


def test_bench_demands_fill_the_list(app, client, login, world):
    """The benchmark's bulk-inserted demands (bench/data.py) are found by the list, its filters and search."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import data  # noqa: E402

    with app.app_context():
        data.populate_demands(2)
        assert db.session.scalar(select(func.count()).select_from(Demand)) == 10
    client = login("hq")
    page = client.get("/demands/").get_data(as_text=True)
    import re

    assert len(set(re.findall(r'href="/demands/(\d+)"', page))) == 10
    with app.app_context():
        third = db.session.scalar(select(Demand.id).where(Demand.title.like("Demand 3:%")))
    assert f'href="/demands/{third}"' in client.get("/demands/?q=demand+3").get_data(as_text=True)
    listed = client.get("/demands/?field=battery").get_data(as_text=True)
    with app.app_context():
        expected = set(db.session.scalars(select(Demand.id).where(Demand.search_text.like("%battery%"))))
    assert expected and all(f'href="/demands/{i}"' in listed for i in expected)
