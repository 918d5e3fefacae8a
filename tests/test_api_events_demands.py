"""The API's events and demands (/api/v1/events, /api/v1/demands): scope, the attendee list's
right, masking as on the door's page, keyset pages, filters, idempotent check-in, read-only
tokens, problem+json in both languages. Who may call which route: tests/test_api_matrix.py."""
from __future__ import annotations

from datetime import datetime

from liaison.api.models import TokenAccess
from liaison.models import db

from .test_api import API, assert_problem, bearer, make_token


def _event(world, station="hanoi", status="registration_open", starts=datetime(2030, 1, 1), kind="symposium",
           title="Symposium"):
    from liaison.events.models import Event, EventStation

    event = Event(kind=kind, organiser="stations", title=title, title_zh="座谈会", starts_at=starts,
                  ends_at=starts.replace(hour=23), timezone="Asia/Bangkok", status=status,
                  organising=[EventStation(station_id=world.stations[station])])
    db.session.add(event)
    db.session.commit()
    return event.id


def _registration(event_id, name="Le Thi Hoa", **extra):
    from liaison.events.models import EventRegistration

    registration = EventRegistration(event_id=event_id, status="registered", source="public", name=name, **extra)
    db.session.add(registration)
    db.session.commit()
    return registration.id


def _demand(world, region="ASEAN", status="open", kind="hire", title="Battery engineers", match_with=None):
    from liaison.demands.models import Demand, DemandField, DemandMatch, DemandRegion

    demand = Demand(title=title, organisation="Wenzhou NEV Co.", source_kind="enterprise", kind=kind,
                    requirements="Five years.", status=status, contact_name="Mr Wang",
                    field_rows=[DemandField(field="battery", folded="battery")],
                    region_rows=[DemandRegion(region_id=world.regions[region])])
    db.session.add(demand)
    db.session.flush()
    for contact in match_with or ():
        db.session.add(DemandMatch(demand_id=demand.id, contact_id=world.contacts[contact],
                                   station_id=world.stations[contact]))
    db.session.commit()
    return demand.id


def _get(client, secret, url, **headers):
    return client.get(url, headers=bearer(secret, **headers))


# Events ---------------------------------------------------------------------------------------

def test_events_list_scope_filters_and_pages(app, client, world):
    with app.app_context():
        hanoi_old = _event(world, starts=datetime(2029, 5, 1), status="held", title="Old")
        hanoi_new = _event(world, starts=datetime(2030, 5, 1), )
        bangkok = _event(world, station="bangkok", starts=datetime(2030, 3, 1))
        milan = _event(world, station="milan", starts=datetime(2030, 4, 1))
    vol = make_token(app, world, "vol_hanoi")
    ids = [e["id"] for e in _get(client, vol, f"{API}/events/").get_json()["items"]]
    assert ids == [hanoi_new, hanoi_old]  # newest first, only the volunteer's station
    hq = make_token(app, world, "hq")
    first = _get(client, hq, f"{API}/events/?limit=2").get_json()
    assert [e["id"] for e in first["items"]] == [hanoi_new, milan] and first["page"]["next_cursor"]
    second = _get(client, hq, f"{API}/events/?limit=2&after={first['page']['next_cursor']}").get_json()
    assert [e["id"] for e in second["items"]] == [bangkok, hanoi_old] and second["page"]["next_cursor"] is None
    assert [e["id"] for e in _get(client, hq, f"{API}/events/?status=held").get_json()["items"]] == [hanoi_old]
    station = world.stations["bangkok"]
    assert [e["id"] for e in _get(client, hq, f"{API}/events/?station_id={station}").get_json()["items"]] == [bangkok]
    assert _get(client, hq, f"{API}/events/?kind=nothing-like-this").get_json()["items"] == []
    assert_problem(_get(client, hq, f"{API}/events/?status=bogus"), 422)
    restricted = make_token(app, world, "asean_admin", station="bangkok")
    assert [e["id"] for e in _get(client, restricted, f"{API}/events/").get_json()["items"]] == [bangkok]
    assert_problem(_get(client, restricted, f"{API}/events/{hanoi_new}"), 404)


def test_event_detail_scope_and_etag(app, client, world):
    with app.app_context():
        event_id = _event(world)
    response = _get(client, make_token(app, world, "vol_hanoi"), f"{API}/events/{event_id}")
    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    body = response.get_json()
    assert body["station_ids"] == [world.stations["hanoi"]] and body["may_manage"] is True
    assert body["starts_at"].endswith("Z") and "cancel_reason" not in body
    assert_problem(_get(client, make_token(app, world, "vol_milan"), f"{API}/events/{event_id}"), 404)
    assert_problem(_get(client, make_token(app, world, "vol_milan"), f"{API}/events/999999"), 404)


def test_registrations_masked_as_on_the_door_page(app, client, world):
    with app.app_context():
        event_id = _event(world)
        _registration(event_id, name_original="Lê Thị Hoa", email="hoa@example.org",
                      email_normalized="hoa@example.org", phone="+84912345678", phone_e164="+84912345678")
        _registration(event_id, name="An Nguyen")
    url = f"{API}/events/{event_id}/registrations"
    hq = _get(client, make_token(app, world, "hq"), url).get_json()["items"]
    assert [r["name"] for r in hq] == ["An Nguyen", "Le Thi Hoa"]  # by name
    hoa = hq[1]
    assert hoa["name_original"] != "Lê Thị Hoa" and hoa["email"] != "hoa@example.org"
    assert {"name_original", "email"} <= set(hoa["masked"])
    vol = _get(client, make_token(app, world, "vol_hanoi"), url).get_json()["items"][1]
    assert vol["name_original"] == "Lê Thị Hoa" and vol["email"] == "hoa@example.org" and vol["masked"] == []
    page = _get(client, make_token(app, world, "vol_hanoi"), f"{url}?limit=1").get_json()
    assert len(page["items"]) == 1 and page["page"]["next_cursor"]
    assert _get(client, make_token(app, world, "vol_hanoi"), f"{url}?status=attended").get_json()["items"] == []
    assert_problem(_get(client, make_token(app, world, "vol_milan"), url), 404)


def test_registrations_need_the_right_to_run_the_event(app, client, world):
    """The door's right (``services.may_manage``): a volunteer of a suspended station still sees
    its events but no longer runs them (403); HQ runs every event it sees."""
    from liaison.models import Station

    with app.app_context():
        event_id = _event(world)
        _registration(event_id)
        db.session.get(Station, world.stations["hanoi"]).status = "suspended"
        db.session.commit()
    url = f"{API}/events/{event_id}/registrations"
    vol = make_token(app, world, "vol_hanoi")
    assert _get(client, vol, f"{API}/events/{event_id}").get_json()["may_manage"] is False
    assert_problem(_get(client, vol, url), 403)
    with app.app_context():
        from liaison.events.models import EventRegistration

        registration_id = db.session.scalar(db.select(EventRegistration.id)
                                            .where(EventRegistration.event_id == event_id))
    assert_problem(client.post(f"{url}/{registration_id}/check-in", headers=bearer(vol)), 403)
    assert len(_get(client, make_token(app, world, "hq"), url).get_json()["items"]) == 1
    # Someone outside the scope never learns the event exists.
    assert_problem(_get(client, make_token(app, world, "europe_admin"), url), 404)


def test_check_in_is_idempotent_and_needs_a_read_write_token(app, client, world):
    with app.app_context():
        event_id = _event(world)
        registration_id = _registration(event_id, email="hoa@example.org", email_normalized="hoa@example.org")
    url = f"{API}/events/{event_id}/registrations/{registration_id}/check-in"
    reader = make_token(app, world, "vol_hanoi", access=TokenAccess.READ)
    assert "read-only" in assert_problem(client.post(url, headers=bearer(reader)), 403)["detail"]
    writer = make_token(app, world, "vol_hanoi")
    first = client.post(url, headers=bearer(writer))
    assert first.status_code == 200, first.data
    assert first.get_json()["checked_in"] is True and first.get_json()["registration"]["status"] == "attended"
    again = client.post(url, headers=bearer(writer)).get_json()
    assert again["checked_in"] is False and again["registration"]["checked_in_at"]
    by_hq = client.post(url, headers=bearer(make_token(app, world, "hq"))).get_json()["registration"]
    assert by_hq["email"] != "hoa@example.org" and "email" in by_hq["masked"]  # masked as on the door's page
    with app.app_context():
        from liaison.events.models import Event, EventRegistration

        assert db.session.get(EventRegistration, registration_id).checked_in_by_id == world.users["vol_hanoi"]
        assert db.session.get(Event, event_id).seats_taken == 0  # a registered person's seat was counted already
    assert_problem(client.post(f"{API}/events/{event_id}/registrations/999999/check-in", headers=bearer(writer)), 404)
    assert_problem(client.post(url, headers=bearer(make_token(app, world, "vol_milan"))), 404)


def test_check_in_before_registration_opens_is_409_in_chinese(app, client, world):
    with app.app_context():
        event_id = _event(world, status="planned")
        registration_id = _registration(event_id)
    url = f"{API}/events/{event_id}/registrations/{registration_id}/check-in"
    body = assert_problem(client.post(url, headers=bearer(make_token(app, world, "vol_hanoi"),
                                                          **{"Accept-Language": "zh"})), 409)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])
    with app.app_context():
        from liaison.events.models import EventRegistration

        assert db.session.get(EventRegistration, registration_id).status == "registered"


# Demands --------------------------------------------------------------------------------------

def test_demands_list_scope_filters_and_pages(app, client, world):
    with app.app_context():
        open_asean = _demand(world, title="A")
        closed_asean = _demand(world, status="closed", title="B")
        training_asean = _demand(world, kind="training", title="C")
        europe = _demand(world, region="EUROPE", title="D")
    vol = make_token(app, world, "vol_hanoi")
    ids = {d["id"] for d in _get(client, vol, f"{API}/demands/").get_json()["items"]}
    assert ids == {open_asean, training_asean}  # volunteers: the open ones for their region
    hq = make_token(app, world, "hq")
    assert {d["id"] for d in _get(client, hq, f"{API}/demands/").get_json()["items"]} == {
        open_asean, closed_asean, training_asean, europe}
    assert [d["id"] for d in _get(client, hq, f"{API}/demands/?status=closed").get_json()["items"]] == [closed_asean]
    assert [d["id"] for d in _get(client, hq, f"{API}/demands/?kind=training").get_json()["items"]] == [training_asean]
    first = _get(client, hq, f"{API}/demands/?limit=3").get_json()
    rest = _get(client, hq, f"{API}/demands/?limit=3&after={first['page']['next_cursor']}").get_json()
    assert len(first["items"]) == 3 and len(rest["items"]) == 1 and rest["page"]["next_cursor"] is None
    assert_problem(_get(client, hq, f"{API}/demands/?kind=bogus"), 422)
    admin = make_token(app, world, "asean_admin")
    assert {d["id"] for d in _get(client, admin, f"{API}/demands/").get_json()["items"]} == {
        open_asean, closed_asean, training_asean}


def test_demand_detail_and_matches(app, client, world):
    with app.app_context():
        demand_id = _demand(world, match_with=["hanoi", "bangkok"])
        closed = _demand(world, status="closed")
    response = _get(client, make_token(app, world, "vol_hanoi"), f"{API}/demands/{demand_id}")
    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    body = response.get_json()
    assert body["fields"] == ["battery"] and body["region_ids"] == [world.regions["ASEAN"]]
    assert body["manages"] is False and body["moves"] == []
    assert body["contact_name"] is None  # the contact person, as on the page, only for those who manage it
    listed = _get(client, make_token(app, world, "vol_hanoi"), f"{API}/demands/").get_json()["items"]
    assert [d["contact_name"] for d in listed if d["id"] == demand_id] == [None]
    hq_body = _get(client, make_token(app, world, "hq"), f"{API}/demands/{demand_id}").get_json()
    assert hq_body["manages"] is True and "start_matching" in hq_body["moves"]
    assert hq_body["contact_name"] == "Mr Wang"
    assert_problem(_get(client, make_token(app, world, "vol_hanoi"), f"{API}/demands/{closed}"), 404)
    assert_problem(_get(client, make_token(app, world, "vol_milan"), f"{API}/demands/{demand_id}"), 404)
    url = f"{API}/demands/{demand_id}/matches"
    hq = _get(client, make_token(app, world, "hq"), url).get_json()["items"]
    assert [m["station_id"] for m in hq] == [world.stations["hanoi"], world.stations["bangkok"]]
    assert hq[0]["contact"]["id"] == world.contacts["hanoi"] and "hold_meeting" in hq[0]["moves"]
    vol = _get(client, make_token(app, world, "vol_hanoi"), url).get_json()["items"]
    assert [m["contact"]["id"] for m in vol] == [world.contacts["hanoi"]] and vol[0]["moves"] == []
    restricted = make_token(app, world, "asean_admin", station="bangkok")
    assert [m["station_id"] for m in _get(client, restricted, url).get_json()["items"]] == [world.stations["bangkok"]]
    assert_problem(_get(client, make_token(app, world, "europe_admin"), url), 404)


def test_new_routes_are_in_the_openapi_document(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    for path in ("/events/", "/events/{event_id}", "/events/{event_id}/registrations",
                 "/events/{event_id}/registrations/{registration_id}/check-in", "/demands/",
                 "/demands/{demand_id}", "/demands/{demand_id}/matches"):
        assert f"{API}{path}" in paths, path
