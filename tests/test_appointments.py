"""Volunteer appointments: who manages them (regional admins their region's, admins all, HQ
reads), the printable letter, terms ending soon, reminders to the volunteer and the region's
admins, and the daily job ending access at the end of a term without renewal (history kept)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from liaison import jobs
from liaison.appointments import services
from liaison.models import Appointment, AuditEntry, Notification, db, station_membership, utcnow

from .helpers import snapshot


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


TODAY = utcnow().date()


def appoint(app, world, volunteer="vol_hanoi", station="hanoi", *, start, end, letter="侨联聘〔2026〕12号") -> int:
    with app.app_context():
        try:
            record = Appointment(user_id=world.users[volunteer], station_id=world.stations[station],
                                 appointed_on=start, term_start=start, term_end=end,
                                 appointing_body="County Overseas Chinese Federation", letter_number=letter)
            db.session.add(record)
            db.session.commit()
            return record.id
        finally:
            db.session.remove()


def is_member(app, world, volunteer="vol_hanoi", station="hanoi") -> bool:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(station_membership).where(
                station_membership.c.user_id == world.users[volunteer],
                station_membership.c.station_id == world.stations[station])) == 1
        finally:
            db.session.remove()


def run_due(app):
    with app.app_context():
        try:
            return jobs.run_due(app)
        finally:
            db.session.remove()


def form(world, **changes):
    data = {"user_id": str(world.users["vol_bangkok"]), "station_id": str(world.stations["hanoi"]),
            "appointed_on": TODAY.isoformat(), "term_start": TODAY.isoformat(),
            "term_end": (TODAY + timedelta(days=365)).isoformat(),
            "appointing_body": "County Overseas Chinese Federation", "letter_number": "侨联聘〔2026〕7号"}
    data.update(changes)
    return data


# The end of terms -----------------------------------------------------------------------------

def test_a_term_ended_without_renewal_removes_access_and_keeps_history(app, world, login):
    first = appoint(app, world, start=TODAY - timedelta(days=400), end=TODAY - timedelta(days=1))
    appoint(app, world, "vol_milan", "milan", start=TODAY - timedelta(days=30), end=TODAY + timedelta(days=200))
    assert login("vol_hanoi").get(f"/stations/{world.stations['hanoi']}").status_code == 200
    report = run_due(app)
    assert "appointments" in report
    assert not is_member(app, world)
    assert is_member(app, world, "vol_milan", "milan")  # a current term: untouched
    assert is_member(app, world, "vol_bangkok", "bangkok")  # no appointment recorded: untouched
    assert login("vol_hanoi").get(f"/stations/{world.stations['hanoi']}").status_code == 404
    with app.app_context():
        record = db.session.get(Appointment, first)
        assert record is not None and record.ended_at is not None
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "appointment.expired"))
        assert entry.station_id == world.stations["hanoi"] and entry.actor_id is None
        assert entry.details["email"] == world.emails["vol_hanoi"]
        db.session.remove()
    # Once a day: a second run removes nothing more and writes no second audit entry.
    run_due(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "appointment.expired")) == 1
        db.session.remove()
    # The admin still sees the history.
    page = login("asean_admin").get(f"/appointments/{first}/letter").get_data(as_text=True)
    assert "access ended on" in page


def test_a_renewal_keeps_access(app, world):
    appoint(app, world, start=TODAY - timedelta(days=400), end=TODAY - timedelta(days=1))
    appoint(app, world, start=TODAY, end=TODAY + timedelta(days=365), letter="侨联聘〔2026〕30号")
    run_due(app)
    assert is_member(app, world)


def test_the_job_counts_days_not_runs(app, world):
    appoint(app, world, start=TODAY - timedelta(days=400), end=TODAY)
    with app.app_context():
        assert services.expire_terms(TODAY) == 0  # the last day of the term still counts
        assert services.expire_terms(TODAY + timedelta(days=1)) == 1
        db.session.commit()
        db.session.remove()
    assert not is_member(app, world)


# Reminders -------------------------------------------------------------------------------------

def reminded(app, world) -> dict[str, int]:
    by_id = {v: k for k, v in world.users.items()}
    with app.app_context():
        try:
            return {by_id[u]: n for u, n in db.session.execute(
                select(Notification.user_id, func.count()).where(Notification.kind == "appointment_expiring")
                .group_by(Notification.user_id))}
        finally:
            db.session.remove()


def test_reminders_reach_the_volunteer_and_the_regions_admins_once(app, world):
    appoint(app, world, start=TODAY - timedelta(days=300), end=TODAY + timedelta(days=20))
    appoint(app, world, "vol_milan", "milan", start=TODAY - timedelta(days=300), end=TODAY + timedelta(days=90))
    run_due(app)
    assert reminded(app, world) == {"vol_hanoi": 1, "asean_admin": 1}
    run_due(app)
    assert reminded(app, world) == {"vol_hanoi": 1, "asean_admin": 1}


def test_a_renewed_term_is_not_reminded(app, world):
    appoint(app, world, start=TODAY - timedelta(days=300), end=TODAY + timedelta(days=20))
    appoint(app, world, start=TODAY + timedelta(days=21), end=TODAY + timedelta(days=400))
    run_due(app)
    assert reminded(app, world) == {}


# The pages ---------------------------------------------------------------------------------------

def test_a_regional_admin_appoints_and_the_volunteer_gets_the_station(app, world, login):
    assert not is_member(app, world, "vol_bangkok", "hanoi")
    response = login("asean_admin").post("/appointments/new", data=form(world))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert is_member(app, world, "vol_bangkok", "hanoi")
    letter = login("vol_bangkok").get(response.headers["Location"])
    page = letter.get_data(as_text=True)
    assert letter.status_code == 200
    assert "聘 书" in page and "Letter of Appointment" in page and "侨联聘〔2026〕7号" in page
    assert "/static/letter." in page and "Hanoi联络站" in page
    assert "Renew" not in page  # the volunteer reads their letter


@pytest.mark.parametrize("role,station,status", [
    ("asean_admin", "hanoi", 302), ("europe_admin", "hanoi", 200), ("admin", "milan", 302),
    ("hq", "hanoi", 403), ("vol_hanoi", "hanoi", 403),
])
def test_who_appoints_where(app, world, login, role, station, status):
    volunteer = "vol_milan" if station == "milan" else "vol_bangkok"
    client = login(role)
    before = snapshot(app)
    response = client.post("/appointments/new", data=form(world, station_id=str(world.stations[station]),
                                                          user_id=str(world.users[volunteer])))
    assert response.status_code == status
    if status != 302:
        assert snapshot(app) == before
    if status == 200:
        assert "is-invalid" in response.get_data(as_text=True)  # not a station of theirs: not a choice


def test_scope_of_the_lists_and_letters(app, world, login):
    hanoi = appoint(app, world, start=TODAY - timedelta(days=300), end=TODAY + timedelta(days=30))
    milan = appoint(app, world, "vol_milan", "milan", start=TODAY - timedelta(days=300), end=TODAY + timedelta(days=200))
    other = appoint(app, world, "vol_bangkok", "bangkok", start=TODAY, end=TODAY + timedelta(days=10))
    expected = {
        "vol_hanoi": {hanoi}, "vol_milan": {milan}, "asean_admin": {hanoi, other}, "europe_admin": {milan},
        "hq": {hanoi, milan, other}, "admin": {hanoi, milan, other},
    }
    for role, ids in expected.items():
        page = login(role).get("/appointments/").get_data(as_text=True)
        shown = {i for i in (hanoi, milan, other) if f"/appointments/{i}/letter" in page}
        assert shown == ids, role
        for i in (hanoi, milan, other):
            assert login(role).get(f"/appointments/{i}/letter").status_code == (200 if i in ids else 404), (role, i)
    # Terms ending in the next 60 days: the Milan term (200 days) is not one of them.
    page = login("hq").get("/appointments/expiring").get_data(as_text=True)
    assert f"/appointments/{hanoi}/letter" in page and f"/appointments/{other}/letter" in page
    assert f"/appointments/{milan}/letter" not in page
    assert login("vol_hanoi").get("/appointments/expiring").status_code == 403
    # HQ reads, never renews.
    assert "Renew" not in login("hq").get(f"/appointments/{hanoi}/letter").get_data(as_text=True)
    assert "Renew" in login("asean_admin").get(f"/appointments/{hanoi}/letter").get_data(as_text=True)
    renew = login("asean_admin").get(f"/appointments/new?renew={hanoi}").get_data(as_text=True)
    assert (TODAY + timedelta(days=31)).isoformat() in renew
    assert login("europe_admin").get(f"/appointments/new?renew={hanoi}").status_code == 404


@pytest.mark.parametrize("field,value,message", [
    ("user_id", "", "Choose a volunteer."),
    ("user_id", "abc", "Choose a volunteer."),
    ("station_id", "999999", "Not a valid choice"),
    ("term_end", "2000-01-01", "The end cannot be before the start."),
    ("term_start", "not a date", "Not a valid date value."),
    ("appointing_body", "", "This field is required."),
    ("letter_number", "x" * 81, "Field cannot be longer than 80 characters."),
])
def test_bad_appointment_input_writes_nothing(app, world, login, field, value, message):
    client = login("admin")
    before = snapshot(app)
    response = client.post("/appointments/new", data=form(world, **{field: value}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and "is-invalid" in page
    assert "County Overseas Chinese Federation" in page or field == "appointing_body"
    assert snapshot(app) == before
