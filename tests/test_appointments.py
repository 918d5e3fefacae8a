"""Volunteer appointments: who manages them (regional admins their region's, admins all, HQ
reads), the printable letter, terms ending soon, reminders to the volunteer and the region's
admins, and the daily job ending access at the end of a term without renewal (history kept)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import re

import pytest
from sqlalchemy import func, select

from liaison import jobs
from liaison.appointments import services
from liaison.models import Appointment, AuditEntry, JobRun, Notification, db, station_membership, utcnow

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


def test_a_term_recorded_ahead_gives_access_on_its_start_date(app, world, login, monkeypatch):
    start = TODAY + timedelta(days=31)
    response = login("asean_admin").post("/appointments/new", data=form(
        world, term_start=start.isoformat(), term_end=(start + timedelta(days=365)).isoformat()))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    run_due(app)  # today: the term has not started
    assert not is_member(app, world, "vol_bangkok", "hanoi")
    assert login("vol_bangkok").get(f"/stations/{world.stations['hanoi']}").status_code == 404
    # The day before its start nothing changes; on the start date the daily job gives the station.
    monkeypatch.setattr(services, "utcnow", lambda: datetime.combine(start - timedelta(days=1), time(9)))
    run_due(app)
    assert not is_member(app, world, "vol_bangkok", "hanoi")
    monkeypatch.setattr(services, "utcnow", lambda: datetime.combine(start, time(9)))
    report = run_due(app)
    assert "appointments" in report
    assert is_member(app, world, "vol_bangkok", "hanoi")
    assert login("vol_bangkok").get(f"/stations/{world.stations['hanoi']}").status_code == 200
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "appointment.start"))
        assert entry.station_id == world.stations["hanoi"] and entry.actor_id is None
        assert entry.details["email"] == world.emails["vol_bangkok"] and entry.details["added"] is True
        assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1  # the history stays
        run = db.session.scalar(select(JobRun).where(JobRun.key == f"appointments_start:{start.isoformat()}"))
        assert run is not None and run.status == "done"
        db.session.remove()
    # Idempotent: the same day again, or an admin taking the volunteer off later, starts nothing again.
    with app.app_context():
        db.session.execute(station_membership.delete().where(
            station_membership.c.user_id == world.users["vol_bangkok"],
            station_membership.c.station_id == world.stations["hanoi"]))
        db.session.commit()
        assert services.start_terms(start + timedelta(days=1)) == 0
        db.session.remove()
    run_due(app)
    assert not is_member(app, world, "vol_bangkok", "hanoi")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "appointment.start")) == 1
        db.session.remove()


def test_a_term_recorded_running_is_not_started_again(app, world, login):
    response = login("asean_admin").post("/appointments/new", data=form(world))
    assert response.status_code == 302
    with app.app_context():
        assert services.start_terms(TODAY) == 0
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "appointment.start")) == 0
        db.session.remove()
    assert is_member(app, world, "vol_bangkok", "hanoi")


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


def _pdf_parts(data: bytes) -> list[bytes]:
    """The PDF's bytes and each of its streams decompressed (objects are in compressed streams)."""
    import zlib

    parts = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", match.end())
        try:
            parts.append(zlib.decompress(data[match.end():end]))
        except zlib.error:
            continue
    return parts


def _pdf_text_map(parts: list[bytes]) -> dict[str, int]:
    """{character: glyph id} of every font the PDF embeds, from their ToUnicode maps."""
    found: dict[str, int] = {}
    for text in parts:
        if b"beginbfchar" in text:
            for glyph, code in re.findall(rb"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]{4,8})>", text):
                found[chr(int(code, 16))] = int(glyph, 16)
    return found


def test_the_letter_as_a_pdf_with_its_chinese_text(app, world, login):
    record = appoint(app, world, start=TODAY - timedelta(days=10), end=TODAY + timedelta(days=355))
    page = login("vol_hanoi").get(f"/appointments/{record}/letter").get_data(as_text=True)
    assert f"/appointments/{record}/letter.pdf" in page
    response = login("vol_hanoi").get(f"/appointments/{record}/letter.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"%PDF-")
    parts = _pdf_parts(data)
    everything = b"\n".join(parts)
    assert re.search(rb"/FontFile[23]?\s", everything)  # the fonts are embedded
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+Noto-Serif-CJK-SC", everything)  # a subset of the Chinese font
    assert len(re.findall(rb"/Type\s*/Page\b", everything)) == 1  # one page
    assert re.search(rb"/MediaBox\s*\[\s*0\s+0\s+595\.\d+\s+841\.\d+", everything)  # A4
    glyphs = _pdf_text_map(parts)
    # Every character of the Chinese text has a real glyph (not .notdef, 0): it renders.
    chinese = "聘书兹聘请同志为Hanoi联络站联络员聘期自年月日至特发此证侨联聘〔〕号"
    missing = [c for c in chinese if not glyphs.get(c)]
    assert not missing, missing
    assert login("vol_milan").get(f"/appointments/{record}/letter.pdf").status_code == 404
    assert login("hq").get("/appointments/999999/letter.pdf").status_code == 404


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
