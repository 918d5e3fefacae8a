"""Events: scope, status machine, invitations (consent first), public registration (capacity,
duplicates, honeypot, closed events), check-in, walk-ins, confirming as contacts, leads, figures."""
from __future__ import annotations

import re
import threading
from datetime import date, datetime

from sqlalchemy import func, select

from liaison.events import services
from liaison.events.models import Event, EventRegistration, EventStation
from liaison.models import Contact, ContactConsent, Purpose, TalentLead, db


def _event(world, *, station="hanoi", status="registration_open", capacity=None, **extra) -> int:
    event = Event(kind="symposium", organiser="stations", region_id=None, title="Talent symposium",
                  title_zh="人才座谈会", starts_at=datetime(2030, 5, 1, 8), ends_at=datetime(2030, 5, 1, 12),
                  timezone="Asia/Bangkok", city="Hanoi", capacity=capacity, status=status, seats_taken=0,
                  organising=[EventStation(station_id=world.stations[station])], **extra)
    db.session.add(event)
    db.session.commit()
    return event.id


def _consent(contact_id: int, purpose=Purpose.EVENT_INVITATIONS):
    db.session.add(ContactConsent(contact_id=contact_id, purpose=purpose.value, basis="consent", source="form",
                                  given_on=date(2024, 1, 1)))
    db.session.commit()


def _form(client, url):
    page = client.get(url)
    assert page.status_code == 200
    return page


def _register(client, slug, **data):
    body = {"name": "Le Thi Hoa", "name_original": "Lê Thị Hoa", "email": "hoa@example.org",
            "phone": "", "organisation": "VNU", "field": "AI", "country": "VN", "consent": "y"}
    body.update(data)
    return client.post(f"/e/{slug}", data=body)


def test_public_registration_duplicate_and_confirmation(app, client, world):
    with app.app_context():
        event_id = _event(world)
        slug = db.session.get(Event, event_id).slug
    response = _register(client, slug)
    assert response.status_code == 302 and "/r/" in response.headers["Location"]
    done = client.get(response.headers["Location"])
    assert done.status_code == 200 and "<svg" in done.get_data(as_text=True)
    again = _register(client, slug, name="Hoa Le", email="HOA@example.org")
    assert again.status_code == 302 and "again=1" in again.headers["Location"]
    assert "You had registered already" in client.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(select(EventRegistration).where(EventRegistration.event_id == event_id)).all()
        assert len(rows) == 1 and rows[0].contact_id is None and rows[0].consent_given_at is not None
        assert db.session.get(Event, event_id).seats_taken == 1
        # Nothing was written into the station's network.
        assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.email == "hoa@example.org")) == 0


def test_public_form_refuses_bad_input_and_writes_nothing(app, client, world):
    with app.app_context():
        slug = db.session.get(Event, _event(world)).slug
        cancelled = db.session.get(Event, _event(world, status="cancelled")).slug
        planned = db.session.get(Event, _event(world, status="planned")).slug
    cases = [
        dict(name="x" * 5000),
        dict(name="<script>alert(1)</script>", email="not-an-email"),
        dict(consent=""),
        dict(email="", phone=""),
        dict(phone="12"),
        dict(country="ZZZ"),
        dict(website="http://spam.example"),  # the honeypot
    ]
    for data in cases:
        response = _register(client, slug, **data)
        assert response.status_code == 200, data
    for other in (cancelled, planned):
        response = _register(client, other)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "cancelled" in text or "not open" in text
    assert client.get("/e/" + "x" * 60).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EventRegistration)) == 0


def test_capacity_full_message(app, client, world):
    with app.app_context():
        slug = db.session.get(Event, _event(world, capacity=1)).slug
    assert _register(client, slug).status_code == 302
    response = _register(client, slug, email="other@example.org")
    assert response.status_code == 200 and "full" in response.get_data(as_text=True)


def test_last_seat_goes_to_one_of_two_concurrent_registrations(app, world):
    """Two threads, two connections, one seat: exactly one registration holds it."""
    with app.app_context():
        event_id = _event(world, capacity=1)
    barrier = threading.Barrier(2)
    outcomes = []

    def register(email):
        barrier.wait()
        with app.app_context():
            event = db.session.get(Event, event_id)
            try:
                services.register_public(event, {"name": email, "email": email})
                outcomes.append("seat")
            except services.Full:
                outcomes.append("full")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(f"p{n}@example.org",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["full", "seat"]
    with app.app_context():
        assert db.session.get(Event, event_id).seats_taken == 1
        assert db.session.scalar(select(func.count()).select_from(EventRegistration)
                                 .where(EventRegistration.event_id == event_id)) == 1


def test_scope_and_management(app, client, world, login):
    with app.app_context():
        event_id = _event(world)
    login("vol_milan")
    assert client.get(f"/events/{event_id}").status_code == 404
    assert client.get(f"/events/{event_id}/check-in").status_code == 404
    assert f"/events/{event_id}" not in client.get("/events/").get_data(as_text=True)
    login("vol_hanoi")
    assert client.get(f"/events/{event_id}").status_code == 200
    assert client.get(f"/events/{event_id}/check-in").status_code == 200
    login("hq")
    assert client.get(f"/events/{event_id}").status_code == 200


def test_create_event_and_status_machine(app, client, world, login):
    login("vol_hanoi")
    response = client.post("/events/new", data={
        "kind": "roadshow", "organiser": "stations", "station_ids": str(world.stations["hanoi"]), "region_id": "0",
        "title": "China–ASEAN Expo roadshow", "title_zh": "中国—东盟博览会路演", "timezone": "Asia/Bangkok",
        "starts_at": "2030-09-20T09:00", "ends_at": "2030-09-20T17:00", "capacity": "2",
        "target_fields": "new energy, AI", "partners": "CAEXPO"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    event_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.starts_at == datetime(2030, 9, 20, 2, 0)  # Bangkok is UTC+7
        assert event.status == "planned"
    assert client.post(f"/events/{event_id}/move", data={"move": "cancel"}).status_code == 302
    with app.app_context():
        assert db.session.get(Event, event_id).status == "planned"  # a reason is needed
    client.post(f"/events/{event_id}/move", data={"move": "open_registration"})
    client.post(f"/events/{event_id}/move", data={"move": "record_figures"})  # not from "open"
    with app.app_context():
        assert db.session.get(Event, event_id).status == "registration_open"
    client.post(f"/events/{event_id}/move", data={"move": "cancel", "comment": "Typhoon"})
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert (event.status, event.cancel_reason) == ("cancelled", "Typhoon")


def test_invitations_respect_consent(app, client, world, login):
    with app.app_context():
        event_id = _event(world)
        hanoi = world.contacts["hanoi"]
        other = Contact(station_id=world.stations["hanoi"], kind="scholar", name="Tran Minh")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        _consent(other_id)
        db.session.execute(ContactConsent.__table__.delete().where(ContactConsent.contact_id == hanoi,
                                                                   ContactConsent.purpose == "event_invitations"))
        db.session.commit()
    login("vol_hanoi")
    assert client.get(f"/events/{event_id}/invite?q=Tran").status_code == 200
    response = client.post(f"/events/{event_id}/invite", data={"contact_ids": [str(hanoi), str(other_id)]})
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(EventRegistration).where(EventRegistration.event_id == event_id)).all()
        assert [r.contact_id for r in rows] == [other_id]
        assert rows[0].status == "invited"
    # A contact of another station cannot be invited by vol_hanoi.
    client.post(f"/events/{event_id}/invite", data={"contact_ids": [str(world.contacts["milan"])]})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EventRegistration)
                                 .where(EventRegistration.event_id == event_id)) == 1


def test_check_in_walk_in_confirm_lead_and_figures(app, client, world, login):
    with app.app_context():
        event_id = _event(world)
        slug = db.session.get(Event, event_id).slug
        _consent(world.contacts["hanoi"])
    assert _register(client, slug).status_code == 302
    login("vol_hanoi")
    client.post(f"/events/{event_id}/invite", data={"contact_ids": [str(world.contacts["hanoi"])]})
    with app.app_context():
        public = db.session.scalar(select(EventRegistration).where(EventRegistration.email_normalized == "hoa@example.org"))
        public_id, token = public.id, public.token
    # Search by name in another script, then check in twice: idempotent.
    page = client.get(f"/events/{event_id}/check-in?q=lê thị").get_data(as_text=True)
    assert "Le Thi Hoa" in page
    assert client.post(f"/events/{event_id}/registrations/{public_id}/check-in").status_code == 302
    assert client.post(f"/events/{event_id}/registrations/{public_id}/check-in").status_code == 302
    with app.app_context():
        row = db.session.get(EventRegistration, public_id)
        assert row.status == "attended" and row.checked_in_at is not None
        first = row.checked_in_at
    # The QR code's page.
    assert client.get(f"/events/r/{token}").status_code == 200
    # A walk-in.
    assert client.post(f"/events/{event_id}/walk-in", data={"name": "王敏", "organisation": "Hanoi Univ"}).status_code == 302
    counts = client.get(f"/events/{event_id}/counts.json").get_json()
    assert (counts["invited"], counts["registered"], counts["attended"], counts["walk_ins"]) == (1, 1, 2, 1)
    # Confirm the public registration as a new contact: the consent is recorded for it.
    assert client.post(f"/events/{event_id}/registrations/{public_id}/contact",
                       data={"station_id": str(world.stations["hanoi"])}).status_code == 302
    with app.app_context():
        row = db.session.get(EventRegistration, public_id)
        assert row.contact_id is not None and row.checked_in_at == first
        assert db.session.scalar(select(ContactConsent).where(ContactConsent.contact_id == row.contact_id,
                                                              ContactConsent.purpose == "event_invitations"))
        contact_id = row.contact_id
    # A lead in two taps: the prefilled form, then Save.
    form = client.get(f"/events/{event_id}/registrations/{public_id}/lead").get_data(as_text=True)
    token_value = re.search(r'name="submission_token"[^>]*value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="submission_token"', form)
    summary = re.search(r'<textarea[^>]*name="summary"[^>]*>\s*([^<]*)</textarea>', form).group(1)
    assert "人才座谈会" in summary
    response = client.post(f"/events/{event_id}/registrations/{public_id}/lead", data={
        "category": "expert_pool", "field": "AI", "summary": summary, "submission_token": token_value.group(1)})
    assert response.status_code == 302, re.findall(r'invalid-feedback[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    with app.app_context():
        lead = db.session.scalar(select(TalentLead).where(TalentLead.source_event_id == event_id))
        assert lead.contact_id == contact_id and lead.status == "draft"
        event = db.session.get(Event, event_id)
        assert services.figures(event)["leads"] == 1
    detail = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert f"/leads/{lead.id}" in detail
    # Figures after the event.
    client.post(f"/events/{event_id}/move", data={"move": "mark_held"})
    response = client.post(f"/events/{event_id}/figures", data={"participants": "45", "notes": "Good",
                                                               "photo_links": "https://photos.example/1"})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert (event.status, event.participants) == ("figures_recorded", 45)


def test_export_is_recorded(app, client, world, login):
    from liaison.models import ExportRecord

    with app.app_context():
        event_id = _event(world)
        slug = db.session.get(Event, event_id).slug
    _register(client, slug)
    login("asean_admin")
    response = client.get(f"/events/{event_id}/attendees.csv")
    assert response.status_code == 200 and "Le Thi Hoa" in response.get_data(as_text=True)
    with app.app_context():
        record = db.session.scalar(select(ExportRecord).where(ExportRecord.what == "event_attendees"))
        assert record.rows == 1


def test_hq_sees_registrations_masked(app, client, world, login):
    with app.app_context():
        event_id = _event(world)
        slug = db.session.get(Event, event_id).slug
    _register(client, slug)
    login("hq")
    text = client.get(f"/events/{event_id}/check-in").get_data(as_text=True)
    assert "Le Thi Hoa" in text and "Lê Thị Hoa" not in text
    login("vol_hanoi")
    assert "Lê Thị Hoa" in client.get(f"/events/{event_id}/check-in").get_data(as_text=True)


def test_pages_in_chinese(app, client, world):
    with app.app_context():
        slug = db.session.get(Event, _event(world)).slug
    text = client.get(f"/e/{slug}", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "人才座谈会" in text and "隐私声明" in text and "请输入" not in text
    english = client.get(f"/e/{slug}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Privacy notice" in english


def test_public_registration_is_rate_limited_per_address(database_url, world):
    from liaison import create_app

    from .conftest import _test_config

    app = create_app(_test_config(database_url, RATELIMIT_ENABLED=True, EVENT_REGISTRATION_RATE_LIMIT="2 per minute"))
    with app.app_context():
        slug = db.session.get(Event, _event(world)).slug
    client = app.test_client()
    answers = [_register(client, slug, email=f"flood{n}@example.org").status_code for n in range(4)]
    assert answers[:2] == [302, 302] and answers[2:] == [429, 429]
    assert client.get(f"/e/{slug}").status_code == 200  # reading the form is not limited
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EventRegistration)) == 2


def test_figures_and_report_section_against_a_hand_count(app, client, world, login):
    """Two held events of Hanoi in 2030, one cancelled, one of Milan: counted by hand."""
    from liaison.events import reports
    from liaison.reports.periods import named

    with app.app_context():
        a = _event(world, status="figures_recorded", participants=40)
        b = _event(world, status="held", participants=None)
        _event(world, status="cancelled")
        _event(world, station="milan", status="figures_recorded", participants=7)
        db.session.get(Event, b).kind = "roadshow"
        contact = db.session.get(Contact, world.contacts["hanoi"])
        for status in ("draft", "landed"):
            db.session.add(TalentLead(contact_id=contact.id, station_id=contact.station_id, category="expert_pool",
                                      summary="From the event", status=status, source_event_id=a))
        # Two demand matches made at the roadshow, one elsewhere (not counted).
        from liaison.demands.models import Demand, DemandMatch

        demands = [Demand(title=f"D{n}", organisation="Org", source_kind="enterprise", kind="hire",
                          requirements="R", status="open") for n in range(3)]
        db.session.add_all(demands)
        db.session.flush()
        for demand, event_id in zip(demands, (b, b, None)):
            db.session.add(DemandMatch(demand_id=demand.id, contact_id=contact.id, station_id=contact.station_id,
                                       event_id=event_id))
        db.session.commit()
        period = named("2030")
        section = reports.section(period, [world.stations["hanoi"]])
        by_kind = {row[0]: row[1:] for row in section.tables[0].rows}
        assert by_kind == {"Symposium": [1, 40, 2, 1, 0], "Roadshow": [1, 0, 0, 0, 2]}
        assert section.tables[1].rows == [["Hanoi station", 2, 40, 2, 1, 2]]
        everyone = reports.section(period, None)
        assert sum(row[1] for row in everyone.tables[0].rows) == 3
        numbers = services.figures(db.session.get(Event, a))
        assert (numbers["leads"], numbers["landed"], numbers["participants"], numbers["matches"]) == (2, 1, 40, 0)
        # The event page counts the leads it lists instead of querying them again: the same figures.
        event_a = db.session.get(Event, a)
        assert services.figures(event_a, leads=services.leads_of(event_a)) == numbers
        assert services.figures(db.session.get(Event, b))["matches"] == 2
    login("hq")
    page = client.get("/reports/?period=2030").get_data(as_text=True)
    assert "Events by kind" in page


def test_subject_report_and_erasure_cover_registrations(app, client, world):
    from liaison.privacy import subject
    from liaison.privacy.erasure import ErasureOutcome

    from liaison.core_hooks import liaison_erase_personal_data

    with app.app_context():
        slug = db.session.get(Event, _event(world)).slug
    _register(client, slug, email="an@example.org")  # the Hanoi contact's address
    with app.test_request_context():
        contact = db.session.get(Contact, world.contacts["hanoi"])
        sections = subject.plugin_sections(contact)
        records = [r for s in sections if "Event" in str(s.title) for r in s.records]
        assert records and records[0]["email"] == "an@example.org"
        assert isinstance(liaison_erase_personal_data(contact=contact, erasure=None), ErasureOutcome)
        db.session.commit()
        row = db.session.scalar(select(EventRegistration))
        assert (row.name, row.email, row.phone) == ("—", None, None)


def test_plain_select_renders_as_wtforms_select(app):
    """``PlainSelect`` (the event page's list of demands, the demands' filters) writes the same
    HTML as WTForms' ``Select``: escaping, the chosen option, attributes, the required flag."""
    from wtforms.validators import InputRequired
    from wtforms.widgets import Select

    from liaison.forms import PlainSelect
    from liaison.forms import BaseForm, SelectField

    choices = [(1, 'A & B <"quoted">'), (2, "二"), (3, "")]

    class Plain(BaseForm):
        class Meta:
            csrf = False
        pick = SelectField("Pick", coerce=int, choices=choices, widget=PlainSelect(),
                           validators=[InputRequired()])

    class Stock(BaseForm):
        class Meta:
            csrf = False
        pick = SelectField("Pick", coerce=int, choices=choices, widget=Select(), validators=[InputRequired()])

    with app.test_request_context("/?pick=2"):
        from flask import request

        plain, stock = Plain(request.args), Stock(request.args)
        assert str(plain.pick(class_="form-select", aria_describedby="x")) == str(
            stock.pick(class_="form-select", aria_describedby="x"))
        assert "<option selected value=\"2\">二</option>" in str(plain.pick())
        plain, stock = Plain(formdata=None), Stock(formdata=None)
        assert str(plain.pick()) == str(stock.pick())


# HQ- and region-organised events ---------------------------------------------------------------

def _organised(world, organiser, *, region=None, creator=None, status="registration_open", stations=()) -> int:
    event = Event(kind="summer_camp", organiser=organiser,
                  region_id=world.regions[region] if region else None, title="Summer camp", title_zh="夏令营",
                  starts_at=datetime(2030, 7, 1, 8), ends_at=datetime(2030, 7, 10, 12), timezone="Asia/Shanghai",
                  status=status, seats_taken=0, created_by_id=world.users[creator] if creator else None,
                  organising=[EventStation(station_id=world.stations[s]) for s in stations])
    db.session.add(event)
    db.session.commit()
    return event.id


def _new_event_form(**changes):
    data = {"kind": "summer_camp", "organiser": "hq", "region_id": "0", "title": "Summer camp",
            "title_zh": "夏令营", "timezone": "Asia/Shanghai", "starts_at": "2030-07-01T09:00",
            "ends_at": "2030-07-10T17:00"}
    data.update(changes)
    return data


def _count_events() -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def test_only_hq_organises_in_its_name_and_regions_theirs(app, client, world, login):
    from liaison.models import User
    from liaison.workflow import IllegalMove

    asean, europe = str(world.regions["ASEAN"]), str(world.regions["EUROPE"])
    refused = [("vol_hanoi", _new_event_form()), ("asean_admin", _new_event_form()),
               ("vol_hanoi", _new_event_form(organiser="region", region_id=asean)),
               ("asean_admin", _new_event_form(organiser="region", region_id=europe))]
    for user, data in refused:
        login(user)
        response = client.post("/events/new", data=data)
        assert response.status_code == 200, (user, data)  # the form again, with the message
    login("asean_admin")
    assert "Only HQ organises events in its own name." in client.post(
        "/events/new", data=_new_event_form()).get_data(as_text=True)
    with app.app_context():
        assert _count_events() == 0
        # The service holds the rule too, whatever the form offered.
        volunteer = db.session.get(User, world.users["asean_admin"])
        for organiser, region in (("hq", None), ("region", world.regions["EUROPE"])):
            try:
                services.create_event(volunteer, {"kind": "salon", "title": "T", "title_zh": "T",
                                                  "starts_at": datetime(2030, 1, 1), "ends_at": datetime(2030, 1, 1)},
                                      organiser=organiser, region_id=region, stations=[])
            except IllegalMove:
                db.session.rollback()
            else:
                raise AssertionError(f"{organiser} event created by a regional admin")
        assert _count_events() == 0
    login("asean_admin")
    assert client.post("/events/new", data=_new_event_form(organiser="region", region_id=asean)).status_code == 302
    login("hq")
    assert client.post("/events/new", data=_new_event_form()).status_code == 302
    with app.app_context():
        rows = db.session.execute(select(Event.organiser, Event.region_id).order_by(Event.id)).all()
        assert rows == [("region", world.regions["ASEAN"]), ("hq", None)]


def test_who_sees_and_runs_hq_and_region_events(app, client, world, login):
    with app.app_context():
        hq_event = _organised(world, "hq", creator="hq")
        asean_event = _organised(world, "region", region="ASEAN", creator="asean_admin")
        event = db.session.get(Event, asean_event)
        from liaison.models import User

        def manages(key, event_id):
            event = services.get_event_or_404(event_id, db.session.get(User, world.users[key]))
            return services.may_manage(db.session.get(User, world.users[key]), event)

        with app.test_request_context():
            assert manages("asean_admin", asean_event) and manages("hq", asean_event)
            assert not manages("vol_hanoi", asean_event)
            assert manages("hq", hq_event) and not manages("asean_admin", hq_event)
            assert event.organiser == "region"
    # An HQ event: seen by everyone, run by HQ only.
    for key in ("vol_milan", "vol_hanoi", "europe_admin", "asean_admin"):
        login(key)
        assert client.get(f"/events/{hq_event}").status_code == 200, key
        assert f"/events/{hq_event}" in client.get("/events/").get_data(as_text=True), key
        assert client.get(f"/events/{hq_event}/check-in").status_code == 403, key
        assert "Attendee list" not in client.get(f"/events/{hq_event}").get_data(as_text=True)
    # A region's event: seen by the region (its admins and its stations' volunteers), run by its admins.
    for key, seen, runs in (("asean_admin", 200, 200), ("vol_hanoi", 200, 403), ("vol_bangkok", 200, 403),
                            ("europe_admin", 404, 404), ("vol_milan", 404, 404), ("hq", 200, 200)):
        login(key)
        assert client.get(f"/events/{asean_event}").status_code == seen, key
        assert client.get(f"/events/{asean_event}/check-in").status_code == runs, key
        assert (f"/events/{asean_event}" in client.get("/events/").get_data(as_text=True)) == (seen == 200), key


def _registration_of(event_id, email="hoa@example.org") -> EventRegistration:
    return db.session.scalar(select(EventRegistration).where(EventRegistration.event_id == event_id,
                                                             EventRegistration.email_normalized == email))


def test_hq_event_attendee_filed_under_a_chosen_station_and_lead(app, client, world, login):
    with app.app_context():
        event_id = _organised(world, "hq", creator="hq")
        slug = db.session.get(Event, event_id).slug
    assert _register(client, slug).status_code == 302
    with app.app_context():
        registration_id = _registration_of(event_id).id
    login("hq")  # an HQ reviewer: acts for no station, runs the HQ event
    door = client.get(f"/events/{event_id}/check-in").get_data(as_text=True)
    assert f"/registrations/{registration_id}/contact" in door
    page = client.get(f"/events/{event_id}/registrations/{registration_id}/contact").get_data(as_text=True)
    assert "You record contacts for no organising station" not in page
    for station in ("hanoi", "bangkok", "milan"):
        assert f'value="{world.stations[station]}"' in page
    response = client.post(f"/events/{event_id}/registrations/{registration_id}/contact",
                           data={"station_id": str(world.stations["milan"])})
    assert response.status_code == 302
    with app.app_context():
        contact = db.session.get(Contact, _registration_of(event_id).contact_id)
        assert contact.station_id == world.stations["milan"] and contact.created_by_id == world.users["hq"]
    door = client.get(f"/events/{event_id}/check-in").get_data(as_text=True)
    assert f"/registrations/{registration_id}/lead" in door
    form = client.get(f"/events/{event_id}/registrations/{registration_id}/lead")
    assert form.status_code == 200
    response = client.post(f"/events/{event_id}/registrations/{registration_id}/lead", data={
        "category": "expert_pool", "field": "AI", "summary": "Met at the summer camp", "submission_token": "tok-hq-1"})
    assert response.status_code == 302
    with app.app_context():
        lead = db.session.scalar(select(TalentLead).where(TalentLead.source_event_id == event_id))
        assert (lead.station_id, lead.status, lead.contact_id) == (world.stations["milan"], "draft", contact.id)
        lead_id, version = lead.id, lead.version
    # The station's volunteers own it: Milan sees it on the event page, Hanoi does not.
    login("vol_milan")
    assert f"/leads/{lead_id}" in client.get(f"/events/{event_id}").get_data(as_text=True)
    login("vol_hanoi")
    assert f"/leads/{lead_id}" not in client.get(f"/events/{event_id}").get_data(as_text=True)
    # Submitting still needs the consent rules: no agreement to pass the person to HQ yet.
    login("vol_milan")
    client.post(f"/leads/{lead_id}/move", data={"move": "submit", "version": version})
    with app.app_context():
        assert db.session.get(TalentLead, lead_id).status == "draft"


def test_region_event_files_contacts_under_the_regions_stations_only(app, client, world, login):
    with app.app_context():
        event_id = _organised(world, "region", region="ASEAN", creator="asean_admin")
        slug = db.session.get(Event, event_id).slug
    assert _register(client, slug).status_code == 302
    with app.app_context():
        registration_id = _registration_of(event_id).id
    url = f"/events/{event_id}/registrations/{registration_id}/contact"
    login("asean_admin")
    page = client.get(url).get_data(as_text=True)
    assert f'value="{world.stations["hanoi"]}"' in page and f'value="{world.stations["milan"]}"' not in page
    assert client.post(url, data={"station_id": str(world.stations["milan"])}).status_code == 404
    with app.app_context():
        assert _registration_of(event_id).contact_id is None
    assert client.post(url, data={"station_id": str(world.stations["bangkok"])}).status_code == 302
    with app.app_context():
        contact_id = _registration_of(event_id).contact_id
        assert db.session.get(Contact, contact_id).station_id == world.stations["bangkok"]
    response = client.post(f"/events/{event_id}/registrations/{registration_id}/lead", data={
        "category": "expert_pool", "summary": "Met at the region's camp", "submission_token": "tok-region-1"})
    assert response.status_code == 302
    with app.app_context():
        lead = db.session.scalar(select(TalentLead).where(TalentLead.source_event_id == event_id))
        assert lead.station_id == world.stations["bangkok"]
    login("vol_hanoi")  # sees the region's event, does not run it
    assert client.get(url).status_code == 403


def test_buttons_hidden_and_lead_refused_for_who_cannot_file(app, client, world, login):
    """An HQ reviewer runs a station's event but does not speak for the station: no confirm or
    lead button, and the lead form answers 403."""
    with app.app_context():
        event_id = _event(world)
        registration = EventRegistration(event_id=event_id, contact_id=world.contacts["hanoi"], status="registered",
                                         source="invitation", name="Nguyen Van An")
        pending = EventRegistration(event_id=event_id, status="registered", source="public", name="Le Thi Hoa",
                                    email="hoa@example.org", email_normalized="hoa@example.org")
        db.session.add_all([registration, pending])
        db.session.commit()
        linked_id, pending_id = registration.id, pending.id
    login("hq")
    door = client.get(f"/events/{event_id}/check-in").get_data(as_text=True)
    assert f"/registrations/{linked_id}/lead" not in door and f"/registrations/{pending_id}/contact" not in door
    assert client.get(f"/events/{event_id}/registrations/{linked_id}/lead").status_code == 403
    assert client.post(f"/events/{event_id}/registrations/{linked_id}/lead", data={
        "category": "expert_pool", "summary": "x", "submission_token": "t-hq"}).status_code == 403
    login("vol_hanoi")
    door = client.get(f"/events/{event_id}/check-in").get_data(as_text=True)
    assert f"/registrations/{linked_id}/lead" in door and f"/registrations/{pending_id}/contact" in door


# The attendee list's export right ----------------------------------------------------------------

def test_export_refused_unless_every_organising_station_lets_the_volunteer_export(app, client, world, login):
    from liaison.models import ExportRecord, Station, station_membership

    with app.app_context():
        hanoi_only = _event(world)
        both = _event(world)
        db.session.add(EventStation(event_id=both, station_id=world.stations["bangkok"]))
        # vol_hanoi is also a Bangkok volunteer; Bangkok lets its volunteers export, Hanoi does not.
        db.session.execute(station_membership.insert().values(user_id=world.users["vol_hanoi"],
                                                              station_id=world.stations["bangkok"]))
        db.session.get(Station, world.stations["hanoi"]).volunteers_may_export = False
        db.session.commit()
    login("vol_hanoi")
    assert "Attendee list" not in client.get(f"/events/{hanoi_only}").get_data(as_text=True)
    assert client.get(f"/events/{hanoi_only}/attendees.csv").status_code == 403
    assert client.get(f"/events/{both}/attendees.csv").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExportRecord)) == 0
    login("vol_bangkok")  # Bangkok's own volunteer: Hanoi co-organises, and does not allow it
    assert client.get(f"/events/{both}/attendees.csv").status_code == 403


def test_export_counts_rows_per_actual_station_and_streams(app, client, world, login):
    from liaison.models import AccessLogEntry, ExportRecord, ExportStation

    with app.app_context():
        event_id = _event(world)
        db.session.add(EventStation(event_id=event_id, station_id=world.stations["bangkok"]))
        db.session.add_all([
            EventRegistration(event_id=event_id, contact_id=world.contacts["bangkok"], status="registered",
                              source="invitation", name="Somchai Jaidee"),
            EventRegistration(event_id=event_id, contact_id=world.contacts["hanoi"], status="registered",
                              source="invitation", name="Nguyen Van An"),
            EventRegistration(event_id=event_id, status="registered", source="public", name="Le Thi Hoa",
                              email="hoa@example.org", email_normalized="hoa@example.org")])
        hq_event = _organised(world, "hq")
        db.session.add(EventRegistration(event_id=hq_event, status="registered", source="public", name="Wang Min",
                                         email="wm@example.org", email_normalized="wm@example.org"))
        db.session.commit()
    login("asean_admin")
    response = client.get(f"/events/{event_id}/attendees.csv")
    assert response.status_code == 200 and response.is_streamed
    text = response.get_data(as_text=True)
    assert "Somchai Jaidee" in text and "Le Thi Hoa" in text
    with app.app_context():
        record = db.session.scalar(select(ExportRecord).where(ExportRecord.what == "event_attendees"))
        per_station = dict(db.session.execute(select(ExportStation.station_id, ExportStation.rows)
                                              .where(ExportStation.export_id == record.id)).all())
        # Hanoi (the first organising station) holds its contact and the unconfirmed registration.
        assert record.rows == 3 and per_station == {world.stations["hanoi"]: 2, world.stations["bangkok"]: 1}
    login("hq")
    response = client.get(f"/events/{hq_event}/attendees.csv")
    assert "Wang Min" in response.get_data(as_text=True)
    with app.app_context():
        record = db.session.scalar(select(ExportRecord).where(ExportRecord.what == "event_attendees")
                                   .order_by(ExportRecord.id.desc()).limit(1))
        assert record.rows == 1 and record.finished_at is not None
        logged = db.session.scalar(select(func.sum(AccessLogEntry.record_count)).where(
            AccessLogEntry.user_id == world.users["hq"], AccessLogEntry.action == "export"))
        assert logged == 1


# Walk-ins, notifications, the check-in rule ------------------------------------------------------

def test_walk_in_stores_field_and_country(app, client, world, login):
    with app.app_context():
        event_id = _event(world)
    login("vol_hanoi")
    assert 'name="field"' in client.get(f"/events/{event_id}/walk-in").get_data(as_text=True)
    response = client.post(f"/events/{event_id}/walk-in", data={"name": "Pham Thu", "organisation": "HUST",
                                                                "field": "Battery chemistry", "country": "vn"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(EventRegistration).where(EventRegistration.event_id == event_id))
        assert (row.source, row.field, row.country) == ("walk_in", "Battery chemistry", "VN")


def _notified(kind="event_registration"):
    from liaison.models import Notification

    return db.session.execute(select(Notification.user_id, Notification.params).where(Notification.kind == kind)
                              .order_by(Notification.user_id)).all()


def test_every_organiser_of_a_two_station_event_is_notified_without_personal_data(app, client, world):
    from liaison.notifications.kinds import render_message

    with app.app_context():
        event_id = _event(world, created_by_id=world.users["vol_hanoi"])
        db.session.add(EventStation(event_id=event_id, station_id=world.stations["bangkok"]))
        db.session.commit()
        slug = db.session.get(Event, event_id).slug
    assert _register(client, slug).status_code == 302
    with app.app_context():
        rows = _notified()
        assert {user for user, _params in rows} == {world.users["vol_hanoi"], world.users["vol_bangkok"]}
        assert len(rows) == 2
        for _user, params in rows:
            assert "Le Thi Hoa" not in str(params) and "hoa@example.org" not in str(params)
        with app.test_request_context():
            text = render_message("event_registration", rows[0][1])
        assert "人才座谈会" in text and "Le Thi Hoa" not in text


def test_hq_and_region_events_notify_their_organisers_only(app, client, world):
    with app.app_context():
        hq_slug = db.session.get(Event, _organised(world, "hq", creator="hq")).slug
        region_slug = db.session.get(Event, _organised(world, "region", region="ASEAN", creator="asean_admin")).slug
    assert _register(client, hq_slug).status_code == 302
    with app.app_context():
        assert {user for user, _ in _notified()} == {world.users[k] for k in ("hq", "hq2", "admin")}
    assert _register(client, region_slug).status_code == 302
    with app.app_context():
        assert {user for user, _ in _notified()} == {world.users[k] for k in ("hq", "hq2", "admin", "asean_admin")}
        assert sum(1 for user, _ in _notified() if user == world.users["asean_admin"]) == 1


def test_check_in_opens_with_registration_in_the_pages_and_the_api(app, client, world, login):
    with app.app_context():
        planned = _event(world, status="planned")
        registration = EventRegistration(event_id=planned, status="invited", source="invitation", name="An",
                                         contact_id=world.contacts["hanoi"])
        db.session.add(registration)
        db.session.commit()
        registration_id = registration.id
        for status, opened in (("planned", False), ("cancelled", False), ("registration_open", True),
                               ("registration_closed", True), ("held", True)):
            assert services.check_in_open(Event(status=status)) is opened
    login("vol_hanoi")
    door = client.get(f"/events/{planned}/check-in").get_data(as_text=True)
    assert f"/registrations/{registration_id}/check-in" not in door
    response = client.post(f"/events/{planned}/registrations/{registration_id}/check-in", follow_redirects=True)
    assert "Check-in opens when registration opens." in response.get_data(as_text=True)
    from .test_api import bearer, make_token

    assert client.post(f"/api/v1/events/{planned}/registrations/{registration_id}/check-in",
                       headers=bearer(make_token(app, world, "vol_hanoi"))).status_code == 409
    with app.app_context():
        assert db.session.get(EventRegistration, registration_id).status == "invited"


# The registration window, statuses and seats, matching contacts, duplicates --------------------------

def test_registration_window(app, client, world):
    from datetime import timedelta

    from liaison.models import utcnow

    now = utcnow()
    with app.app_context():
        early = _event(world, registration_opens_at=now + timedelta(days=1))
        late = _event(world, registration_closes_at=now - timedelta(minutes=1))
        within = _event(world, registration_opens_at=now - timedelta(days=1),
                        registration_closes_at=now + timedelta(days=1))
        for event_id, is_open in ((early, False), (late, False), (within, True)):
            event = db.session.get(Event, event_id)
            assert services.registration_open(event) is is_open
        assert services.registration_open(db.session.get(Event, early), now + timedelta(days=2))
        assert not services.registration_open(db.session.get(Event, within), now + timedelta(days=1))
        slugs = {key: db.session.get(Event, e).slug for key, e in (("early", early), ("late", late), ("within", within))}
    for key in ("early", "late"):
        response = _register(client, slugs[key])
        assert response.status_code == 200 and "not open" in response.get_data(as_text=True)
    assert _register(client, slugs["within"]).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EventRegistration)) == 1
        event = db.session.get(Event, early)
        try:
            services.register_public(event, {"name": "X", "email": "x@example.org"})
        except services.Closed:
            db.session.rollback()
        else:
            raise AssertionError("registered before the window opened")


def test_set_status_frees_and_takes_seats(app, client, world, login):
    with app.app_context():
        event_id = _event(world, capacity=1)
        slug = db.session.get(Event, event_id).slug
    assert _register(client, slug).status_code == 302
    with app.app_context():
        first = _registration_of(event_id)
        first_id = first.id
        assert db.session.get(Event, event_id).seats_taken == 1
    login("vol_hanoi")
    url = f"/events/{event_id}/registrations/{first_id}/status"
    client.post(url, data={"status": "declined"})
    with app.app_context():
        assert db.session.get(EventRegistration, first_id).status == "declined"
        assert db.session.get(Event, event_id).seats_taken == 0
    # The freed seat goes to someone else; then the declined person cannot come back: full.
    assert _register(client, slug, email="other@example.org").status_code == 302
    response = client.post(url, data={"status": "registered"}, follow_redirects=True)
    assert "the event is full" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(EventRegistration, first_id).status == "declined"
        assert db.session.get(Event, event_id).seats_taken == 1
        other_id = _registration_of(event_id, "other@example.org").id
    # A no-show keeps the seat they registered for (the figures count them as registered) …
    client.post(f"/events/{event_id}/registrations/{other_id}/status", data={"status": "no_show"})
    with app.app_context():
        assert db.session.get(EventRegistration, other_id).status == "no_show"
        assert db.session.get(Event, event_id).seats_taken == 1
    # … and a no-show who declines frees it, so the first person may come back.
    client.post(f"/events/{event_id}/registrations/{other_id}/status", data={"status": "registered"})
    client.post(f"/events/{event_id}/registrations/{other_id}/status", data={"status": "declined"})
    client.post(url, data={"status": "registered"})
    with app.app_context():
        assert db.session.get(EventRegistration, first_id).status == "registered"
        assert db.session.get(EventRegistration, other_id).status == "declined"
        assert db.session.get(Event, event_id).seats_taken == 1
    # An impossible change is refused with a message.
    response = client.post(f"/events/{event_id}/registrations/{other_id}/status", data={"status": "no_show"},
                           follow_redirects=True)
    assert "cannot be marked" in response.get_data(as_text=True)


def test_registration_linked_to_the_contact_with_the_same_email_or_phone(app, client, world, login):
    from liaison.models import User

    with app.app_context():
        event_id = _event(world)
        slug = db.session.get(Event, event_id).slug
    # The Hanoi contact's phone (another e-mail), and a registration with the Milan contact's e-mail.
    assert _register(client, slug, email="an.nguyen@example.org", phone="+84 24 3825 1234").status_code == 302
    assert _register(client, slug, email="marco@example.org", phone="").status_code == 302
    with app.app_context():
        by_phone = _registration_of(event_id, "an.nguyen@example.org")
        by_mail = _registration_of(event_id, "marco@example.org")
        event = services.get_event_or_404(event_id, db.session.get(User, world.users["vol_hanoi"]))
        volunteer = db.session.get(User, world.users["vol_hanoi"])
        with app.test_request_context():
            assert [c.id for c in services.matching_contacts(event, by_phone, volunteer)] == [world.contacts["hanoi"]]
            # Milan's contact is no contact of the organising station: not offered.
            assert services.matching_contacts(event, by_mail, volunteer) == []
        phone_id, mail_id = by_phone.id, by_mail.id
    login("vol_hanoi")
    page = client.get(f"/events/{event_id}/registrations/{phone_id}/contact").get_data(as_text=True)
    assert "Nguyen Van An" in page
    assert client.post(f"/events/{event_id}/registrations/{mail_id}/contact",
                       data={"contact_id": str(world.contacts["milan"])}).status_code == 404
    assert client.post(f"/events/{event_id}/registrations/{phone_id}/contact",
                       data={"contact_id": str(world.contacts["hanoi"])}).status_code == 302
    with app.app_context():
        assert db.session.get(EventRegistration, phone_id).contact_id == world.contacts["hanoi"]
        assert db.session.get(EventRegistration, mail_id).contact_id is None
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 3  # nothing new
    # The same contact cannot be linked twice to the event's list.
    with app.app_context():
        event = services.get_event_or_404(event_id, db.session.get(User, world.users["vol_hanoi"]))
        with app.test_request_context():
            from flask_login import login_user

            from liaison.workflow import IllegalMove

            volunteer = db.session.get(User, world.users["vol_hanoi"])
            login_user(volunteer)
            try:
                services.link_contact(event, db.session.get(EventRegistration, mail_id),
                                      db.session.get(Contact, world.contacts["hanoi"]), volunteer)
            except IllegalMove as exc:
                assert "already on the event's list" in str(exc.message)
            else:
                raise AssertionError("linked the same contact twice")


def test_duplicate_registration_recognised_by_phone(app, client, world):
    with app.app_context():
        event_id = _event(world)
        slug = db.session.get(Event, event_id).slug
    assert _register(client, slug, email="", phone="+84 912 345 678").status_code == 302
    again = _register(client, slug, name="Hoa L.", email="hoa.le@example.org", phone="+84912345678")
    assert again.status_code == 302 and "again=1" in again.headers["Location"]
    with app.app_context():
        rows = db.session.scalars(select(EventRegistration).where(EventRegistration.event_id == event_id)).all()
        assert len(rows) == 1 and rows[0].name == "Le Thi Hoa" and rows[0].phone_e164 == "+84912345678"
        assert db.session.get(Event, event_id).seats_taken == 1


def test_the_door_list_pages_through_every_registration(app, client, world, login, monkeypatch):
    """No registration is cut off at the door: the list comes in keyset pages (liaison.pagination)."""
    from liaison.events import views

    monkeypatch.setattr(views, "CHECKIN_PAGE", 2)
    with app.app_context():
        event_id = _event(world)
        slug = db.session.get(Event, event_id).slug
    names = ["Anh Tran", "Binh Le", "Chau Pham", "Dung Vo", "Em Ngo"]
    for index, name in enumerate(names):
        assert _register(client, slug, name=name, name_original="", email=f"p{index}@example.org").status_code == 302
    login("vol_hanoi")
    seen, url = [], f"/events/{event_id}/check-in"
    for _ in range(len(names)):
        page = client.get(url).get_data(as_text=True)
        seen += [name for name in names if name in page]
        found = re.search(r'href="([^"]*after=[^"]*)"', page)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    assert seen == names
