"""The access log page: scope per role, filters, keyset pages, CSV and Excel exports, bad input."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from liaison.models import AccessAction, AccessLogEntry, ExportRecord, AccessLogField, RevealReason, db, utcnow

from .helpers import snapshot


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _entry(world, *, user: str, contact: str | None, station: str | None = None, action=AccessAction.VIEW,
           reason=None, note=None, count=1, fields=(), when: datetime | None = None, commit: bool = True) -> int | None:
    entry = AccessLogEntry(
        user_id=world.users[user], contact_id=world.contacts[contact] if contact else None,
        station_id=world.stations[station or contact] if (station or contact) else None,
        action=action, reason=reason, note=note, record_count=count, created_at=when or utcnow(),
    )
    entry.fields = [AccessLogField(field=f) for f in fields]
    db.session.add(entry)
    if not commit:
        return None
    db.session.commit()
    return entry.id


@pytest.fixture
def entries(app, world):
    with app.app_context():
        ids = {
            "hanoi_view": _entry(world, user="vol_hanoi", contact="hanoi", fields=("contacts.email", "contacts.phone"),
                                 when=utcnow() - timedelta(days=10)),
            "hanoi_reveal": _entry(world, user="hq", contact="hanoi", action=AccessAction.REVEAL,
                                   reason=RevealReason.REVIEW_LEAD, note="checking the CV", fields=("contacts.email",),
                                   when=utcnow() - timedelta(days=2)),
            "bangkok_reveal": _entry(world, user="hq", contact="bangkok", action=AccessAction.REVEAL,
                                     reason=RevealReason.CONTACT_PERSON, note="=HYPERLINK(\"http://evil\")",
                                     fields=("contacts.phone",)),
            "milan_view": _entry(world, user="vol_milan", contact="milan", fields=("contacts.notes",)),
            "milan_export": _entry(world, user="europe_admin", contact=None, station="milan",
                                   action=AccessAction.EXPORT, count=12, fields=("contacts.email",)),
            "all_export": _entry(world, user="admin", contact=None, action=AccessAction.EXPORT, count=300),
        }
    return ids


def _rows(client, query: str = "") -> str:
    response = client.get("/privacy/log" + query)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_admin_sees_every_entry(login, world, entries):
    page = _rows(login("admin"))
    for text in ("Nguyen Van An", "Somchai Jaidee", "Marco Rossi", "checking the CV", "Reviewing a lead",
                 "Revealed masked fields", "Viewed the full record", "Exported", "300", "E-mail, Phone"):
        assert text in page, text
    assert "6 results" in page


def test_regional_admin_sees_the_stations_of_their_regions(login, world, entries):
    page = _rows(login("asean_admin"))
    assert "Nguyen Van An" in page and "Somchai Jaidee" in page
    assert "Marco Rossi" not in page and "300" not in page  # Milan, and the export without a station
    assert "3 results" in page
    page = _rows(login("europe_admin"))
    assert "Marco Rossi" in page and "Nguyen Van An" not in page and "2 results" in page


@pytest.mark.parametrize("role", ["vol_hanoi", "hq"])
def test_others_may_not_see_the_log(login, world, entries, role):
    client = login(role)
    for path in ("/privacy/log", "/privacy/log.csv", "/privacy/log.xlsx"):
        assert client.get(path).status_code == 403


def test_the_nav_links_the_log_for_admins_only(login, world):
    assert 'href="/privacy/log"' in login("admin").get("/").get_data(as_text=True)
    assert 'href="/privacy/log"' in login("europe_admin").get("/").get_data(as_text=True)
    assert 'href="/privacy/log"' not in login("hq").get("/").get_data(as_text=True)
    assert 'href="/privacy/log"' not in login("vol_hanoi").get("/").get_data(as_text=True)


def test_whom_links_the_contact(login, world, entries):
    page = _rows(login("admin"))
    assert f'href="/contacts/{world.contacts["hanoi"]}"' in page


@pytest.mark.parametrize("query,present,absent", [
    ("?user={hq}", ["Nguyen Van An", "Somchai Jaidee"], ["Marco Rossi"]),
    ("?action=reveal", ["checking the CV"], ["Marco Rossi"]),
    ("?action=export", ["300", "12"], ["Nguyen Van An"]),
    ("?contact={hanoi}", ["Nguyen Van An"], ["Somchai Jaidee", "Marco Rossi"]),
    ("?contact=%23{hanoi}", ["Nguyen Van An"], ["Somchai Jaidee"]),
    ("?contact=Somchai", ["Somchai Jaidee"], ["Nguyen Van An", "Marco Rossi"]),
    ("?contact=马可", ["Marco Rossi"], ["Nguyen Van An"]),
    ("?station={milan}", ["Marco Rossi", ">12<"], ["Nguyen Van An", "Somchai Jaidee"]),
])
def test_filters(login, world, entries, query, present, absent):
    page = _rows(login("admin"), query.format(hq=world.users["hq"], hanoi=world.contacts["hanoi"],
                                               milan=world.stations["milan"]))
    for text in present:
        assert text in page, (query, text)
    for text in absent:
        assert text not in page, (query, text)


def test_date_filters_are_inclusive_days(login, world, entries):
    client = login("admin")
    today = utcnow().date()
    page = _rows(client, f"?date_from={today - timedelta(days=3)}&date_to={today + timedelta(days=1)}")
    assert "checking the CV" in page and "5 results" in page  # all but the view of ten days ago
    page = _rows(client, f"?date_to={today - timedelta(days=5)}")
    assert "1 result" in page and "Nguyen Van An" in page


def test_keyset_pages(app, login, world):
    with app.app_context():
        base = utcnow() - timedelta(hours=1)
        for minute in range(60):
            _entry(world, user="hq", contact="hanoi", note=f"note-{minute:02d}", when=base + timedelta(minutes=minute),
                   commit=False)
        db.session.commit()
    client = login("admin")
    first = _rows(client)
    assert "note-59" in first and "note-10" in first and "note-09" not in first
    assert "60 results" in first
    import re

    next_link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_link).get_data(as_text=True)
    assert "note-09" in second and "note-00" in second and "note-10" not in second


# Exports --------------------------------------------------------------------------------------

def test_csv_export(login, world, entries):
    client = login("admin")
    response = client.get("/privacy/log.csv?action=reveal")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["When", "Who", "Contact no.", "Whom"]
    assert len(rows) == 3  # the header and the two reveals
    notes = {row[8] for row in rows[1:]}
    assert "'=HYPERLINK(\"http://evil\")" in notes  # formula injection neutralised
    assert "checking the CV" in notes
    assert {row[7] for row in rows[1:]} == {"Reviewing a lead", "Contacting the person"}


def test_csv_headers_follow_the_viewers_language(login, world, entries):
    client = login("admin")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    raw = client.get("/privacy/log.csv").get_data()
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert header[0] == "时间" and "操作" in header


def test_csv_export_is_scoped(login, world, entries):
    raw = login("asean_admin").get("/privacy/log.csv").get_data().decode("utf-8-sig")
    assert "Nguyen Van An" in raw and "Marco Rossi" not in raw


def test_xlsx_export(login, world, entries):
    client = login("admin")
    response = client.get(f"/privacy/log.xlsx?user={world.users['hq']}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "When" and len(rows) == 3
    assert isinstance(rows[1][0], datetime)
    assert "'=HYPERLINK(\"http://evil\")" in {row[8] for row in rows[1:]}


# Bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize("query,field,message", [
    ("?date_from=2024-13-45", "date_from", "Not a valid date value"),
    ("?date_to=abc", "date_to", "Not a valid date value"),
    ("?date_from=2025-12-31&date_to=2020-01-01", "date_to", "The end date is before the start date."),
    ("?user=abc", "user", "Not a valid choice"),
    ("?user=99999999999999999999", "user", "Not a valid choice"),
    ("?action=fly", "action", "Not a valid choice"),
    ("?station=abc", "station", "Not a valid choice"),
    ("?contact=" + "x" * 101, "contact", "cannot be longer than"),
])
def test_bad_filters_say_what_is_wrong(app, login, world, entries, query, field, message):
    client = login("admin")
    before = snapshot(app)
    response = client.get("/privacy/log" + query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in page and message in page
    assert "Correct the filters marked above" in page
    assert "checking the CV" not in page  # no unfiltered list in its place
    for path in ("/privacy/log.csv", "/privacy/log.xlsx"):
        response = client.get(path + query)
        assert response.status_code == 302 and "/privacy/log" in response.headers["Location"]
    assert snapshot(app) == before


def test_bad_filter_input_keeps_what_was_typed(login, world, entries):
    page = _rows(login("admin"), "?date_from=2024-13-45&contact=Somchai")
    assert 'value="2024-13-45"' in page and 'value="Somchai"' in page


@pytest.mark.parametrize("query", ["?after=garbage", "?before=%00", "?last=1&after=x", "?contact=%25",
                                   "?contact=%00", "?contact=%23-1", "?page=-1", "?count=exact"])
def test_garbage_is_no_server_error(login, world, entries, query):
    assert login("admin").get("/privacy/log" + query).status_code == 200


def test_regional_admins_cannot_pick_users_of_other_regions(login, world, entries):
    page = _rows(login("asean_admin"))
    assert "vol_milan@example.org" not in page and "vol_hanoi@example.org" in page
    response = login("asean_admin").get(f"/privacy/log?user={world.users['vol_milan']}")
    assert "Not a valid choice" in response.get_data(as_text=True)
    # Nor a station of another region (its existence does not leak: the same message).
    response = login("asean_admin").get(f"/privacy/log?station={world.stations['milan']}")
    assert "Not a valid choice" in response.get_data(as_text=True) and "Marco Rossi" not in response.get_data(as_text=True)


def test_reading_the_log_writes_nothing(app, login, world, entries):
    client = login("admin")
    before = snapshot(app)
    client.get("/privacy/log")
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AccessLogEntry)) == 6
    # Downloading it is an export like any other: one record of it (and its access entries), nothing else.
    client.get("/privacy/log.csv").get_data()
    with app.app_context():
        records = db.session.scalars(select(ExportRecord)).all()
        assert [(record.what, record.format) for record in records] == [("access_log", "csv")]


def test_contact_page_links_its_access_log_for_those_who_may_read_it(app, login, world):
    url = f"/contacts/{world.contacts['hanoi']}"
    link = f'/privacy/log?contact={world.contacts["hanoi"]}'
    for role in ("admin", "asean_admin"):
        page = login(role).get(url).get_data(as_text=True)
        assert link in page, role
        assert login(role).get(link).status_code == 200
    for role in ("vol_hanoi", "hq"):
        assert link not in login(role).get(url).get_data(as_text=True), role
