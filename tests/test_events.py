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
