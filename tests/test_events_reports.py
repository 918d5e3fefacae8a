"""Events on the report page (issue 14's figures): events organised by a region count in that
region's report, HQ's in the bureau's; events by region; participants by the event page's rule;
and a table per event whose figures are ``liaison.events.services.figures``' — counted in SQL with
a fixed number of statements however many events the period has."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from liaison.events import reports, services
from liaison.events.models import Event, EventRegistration, EventStation
from liaison.models import Contact, TalentLead, db
from liaison.reports.periods import named

pytestmark = pytest.mark.usefixtures("world")


def _event(world, title, *, kind="symposium", organiser="stations", stations=(), region=None,
           status="figures_recorded", participants=None, day=1) -> int:
    event = Event(kind=kind, organiser=organiser, region_id=world.regions[region] if region else None,
                  title=title, title_zh=f"{title}（中文）", starts_at=datetime(2030, 5, day, 8),
                  ends_at=datetime(2030, 5, day, 12), timezone="Asia/Shanghai", status=status, seats_taken=0,
                  participants=participants,
                  organising=[EventStation(station_id=world.stations[s]) for s in stations])
    db.session.add(event)
    db.session.flush()
    return event.id


def _people(event_id, *rows):
    for n, (status, source) in enumerate(rows):
        db.session.add(EventRegistration(event_id=event_id, status=status, source=source, name=f"Person {n}"))


@pytest.fixture
def events(app, world):
    """2030, by hand:

    * E1 Hanoi's symposium, participants recorded (40): invited 3 (one registered, one attended),
      a public registration, a public attendee, a walk-in — registered 4 (seats held, walk-ins
      apart), attended 3; two leads, one landed.
    * E2 the ASEAN region's roadshow, held, no figure recorded yet: one invitee and one walk-in
      checked in, so 2 participants, and an invitee who declined; a demand match made there.
    * E3 HQ's talent fair (100 participants).  E4 Milan's salon, registration open.
    * E5 Hanoi's cancelled event: never counted.
    """
    from liaison.demands.models import Demand, DemandMatch

    with app.app_context():
        ids = {
            "E1": _event(world, "Symposium Hanoi", stations=["hanoi"], participants=40, day=2),
            "E2": _event(world, "ASEAN roadshow", kind="roadshow", organiser="region", region="ASEAN",
                         status="held", day=3),
            "E3": _event(world, "HQ talent fair", kind="talent_fair", organiser="hq", participants=100, day=4),
            "E4": _event(world, "Milan salon", kind="salon", stations=["milan"], region="EUROPE",
                         status="registration_open", day=5),
            "E5": _event(world, "Cancelled", stations=["hanoi"], status="cancelled", participants=9, day=6),
        }
        _people(ids["E1"], ("invited", "invitation"), ("registered", "invitation"), ("attended", "invitation"),
                ("registered", "public"), ("attended", "public"), ("attended", "walk_in"))
        _people(ids["E2"], ("attended", "invitation"), ("attended", "walk_in"), ("declined", "invitation"))
        contact = db.session.get(Contact, world.contacts["hanoi"])
        for status in ("submitted", "landed"):
            db.session.add(TalentLead(contact_id=contact.id, station_id=contact.station_id, category="expert_pool",
                                      summary="From the symposium", status=status, source_event_id=ids["E1"]))
        demand = Demand(title="D", organisation="Org", source_kind="enterprise", kind="hire", requirements="R",
                        status="open")
        db.session.add(demand)
        db.session.flush()
        db.session.add(DemandMatch(demand_id=demand.id, contact_id=contact.id, station_id=contact.station_id,
                                   event_id=ids["E2"]))
        db.session.commit()
    return ids


def _table(section, key):
    return next(t for t in section.tables if t.key == key)


def test_region_and_hq_events_count_where_they_belong(app, world, events):
    with app.test_request_context():
        period = named("2030")
        asean = [world.stations["hanoi"], world.stations["bangkok"]]
        # The region's report: its stations' events and the region's own (E2); not HQ's, not Milan's.
        by_kind = {row[0]: row[1:] for row in _table(reports.section(period, asean), "events.by_kind").rows}
        assert by_kind == {"Symposium": [1, 40, 2, 1, 0], "Roadshow": [1, 2, 0, 0, 1]}
        # One station is not the region: the region's event is not Hanoi's.
        hanoi = {row[0]: row[1:] for row in _table(reports.section(period, [world.stations["hanoi"]]),
                                                   "events.by_kind").rows}
        assert hanoi == {"Symposium": [1, 40, 2, 1, 0]}
        # The bureau: every event but the cancelled one; by region, HQ's apart.
        everyone = reports.section(period, None)
        assert sum(row[1] for row in _table(everyone, "events.by_kind").rows) == 4
        assert _table(everyone, "events.by_region").rows == [
            ["Asean", 2, 42, 2, 1, 1], ["Europe", 1, 0, 0, 0, 0], ["HQ", 1, 100, 0, 0, 0]]
        assert _table(everyone, "events.by_station").rows == [
            ["Hanoi station", 1, 40, 2, 1, 0], ["Milan station", 1, 0, 0, 0, 0]]
        assert reports.covered_regions(asean) == [world.regions["ASEAN"]]
        assert reports.covered_regions([world.stations["hanoi"]]) == []


def test_per_event_figures_are_the_event_pages(app, world, events, count_queries):
    with app.test_request_context():
        period = named("2030")
        with count_queries() as counter:
            section = reports.section(period, None)
        per_event = _table(section, "events.per_event")
        assert per_event.keys == [str(events[k]) for k in ("E1", "E2", "E3", "E4")]  # by date
        assert per_event.rows[1][:3] == ["ASEAN roadshow", "Roadshow", "2030-05-03"]
        columns = ("invited", "registered", "attended", "walk_ins", "participants", "leads", "landed", "matches")
        for key, row in zip(per_event.keys, per_event.rows):
            numbers = services.figures(db.session.get(Event, int(key)))
            assert row[3:] == [numbers[c] for c in columns], key
        assert per_event.rows[0][3:] == [3, 4, 3, 1, 40, 2, 1, 0]
        assert per_event.rows[1][3:] == [2, 1, 2, 1, 2, 0, 0, 1]  # participants: the people checked in
        statements = len(counter.statements)
    # Ten times the events: the same number of statements (no query per event).
    with app.app_context():
        for n in range(36):
            _event(world, f"Extra {n}", stations=["bangkok"], day=7 + n % 20)
        db.session.commit()
    with app.test_request_context():
        with count_queries() as counter:
            section = reports.section(named("2030"), None)
        assert len(counter.statements) == statements
        assert len(_table(section, "events.per_event").rows) == 40


def test_per_event_table_is_capped_and_says_so(app, world, events, monkeypatch):
    monkeypatch.setattr(reports, "PER_EVENT_LIMIT", 2)
    with app.test_request_context():
        table = _table(reports.section(named("2030"), None), "events.per_event")
        assert len(table.rows) == 2 and "The first 2 of the period's 4 events" in str(table.note)


def test_regional_admin_sees_the_regions_events_on_the_report(app, login, world, events):
    page = login("asean_admin").get("/reports/?period=2030").get_data(as_text=True)
    assert "Figures per event" in page and "Events by region" in page
    assert "ASEAN roadshow" in page and "HQ talent fair" not in page and "Milan salon" not in page
    assert "ASEAN roadshow" not in login("vol_hanoi").get("/reports/?period=2030").get_data(as_text=True)
    csv = login("hq").get("/reports/table/events.per_event.csv?period=2030")
    assert csv.status_code == 200 and "HQ talent fair" in csv.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Event.id).where(Event.title == "HQ talent fair")) == events["E3"]
