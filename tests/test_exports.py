"""Exports HQ can trust: CSV with a BOM (streamed) and XLSX (no row cut), formula neutralisation,
the export right per role and station setting, the export records and their list, masking, the
list pages' links carrying their filters; large exports made by a background job (inline and on
a real Redis), downloaded by their requester only, expired and cleaned up."""
from __future__ import annotations

import csv
import io
import os
import re
import time
import uuid
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from liaison import jobs
from liaison.exports import services
from liaison.models import Contact, ExportRecord, ExportStation, JobRun, JobStatus, Notification, Station, db, utcnow

EVIL = ["=1+1", "+41 SUM(A1)", "-2+3", "@cmd", "\tTab", "\rCR"]


def _csv(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _dicts(table):
    return [dict(zip(table[0], row)) for row in table[1:]]


def _set_export(app, station_id: int, allowed: bool) -> None:
    with app.app_context():
        db.session.get(Station, station_id).volunteers_may_export = allowed
        db.session.commit()


def _records(app) -> list[dict]:
    with app.app_context():
        records = db.session.scalars(select(ExportRecord).order_by(ExportRecord.id)).all()
        stations = {}
        for row in db.session.scalars(select(ExportStation)):
            stations.setdefault(row.export_id, {})[row.station_id] = row.rows
        return [dict(id=r.id, user=r.user_id, what=r.what, format=r.format, filters=r.filters, rows=r.rows,
                     finished=r.finished_at is not None, stations=stations.get(r.id, {})) for r in records]


# Formats ---------------------------------------------------------------------------------------

def test_csv_is_utf8_with_a_bom_streamed_and_recorded(app, login, world):
    client = login("vol_hanoi")
    response = client.get("/exports/contacts.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    assert response.get_data()[:3] == b"\xef\xbb\xbf"
    rows = _dicts(_csv(response))
    assert [(row["Name"], row["Chinese name"]) for row in rows] == [("Nguyen Van An", "阮文安")]
    assert rows[0]["E-mail"] == "an@example.org"  # the station's volunteer sees it in clear
    record, = _records(app)
    assert record | {"id": 0} == dict(id=0, user=world.users["vol_hanoi"], what="contacts", format="csv", filters={},
                                       rows=1, finished=True, stations={world.stations["hanoi"]: 1})


def test_xlsx_is_sent_in_chunks_and_recorded(app, login, world):
    response = login("admin").get("/exports/leads.xlsx?status=open&station=" + str(world.stations["milan"]))
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    table = _xlsx(response)
    assert table[0][:2] == ["Lead no.", "Status"]
    record, = _records(app)
    assert record["what"] == "leads" and record["format"] == "xlsx" and record["user"] == world.users["admin"]
    assert record["filters"] == {"status": "open", "station": str(world.stations["milan"])}
    assert record["rows"] == len(table) - 1 and record["finished"]
    assert sum(record["stations"].values()) == record["rows"]
    assert set(record["stations"]) <= {world.stations["milan"]}


def test_xlsx_has_no_row_cut_past_a_sheet(app, login, world, monkeypatch):
    monkeypatch.setattr(services, "SHEET_ROWS", 2)
    response = login("admin").get("/exports/contacts.xlsx")
    book = load_workbook(io.BytesIO(response.get_data()))
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    assert [len(rows) for rows in sheets] == [3, 2]  # header + 2, header + 1: all three contacts
    assert all(rows[0][0] == "Contact no." for rows in sheets)
    assert sorted(row[0] for rows in sheets for row in rows[1:]) == sorted(world.contacts.values())


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_like_cells_are_neutralised(app, login, world, fmt):
    with app.app_context():
        for index, text in enumerate(EVIL):
            db.session.add(Contact(station_id=world.stations["hanoi"], kind="scholar", name=f"Evil {index}",
                                   organisation=text, position="-", city="@"))
        db.session.commit()
    response = login("vol_hanoi").get(f"/exports/contacts.{fmt}?q=Evil")
    table = _csv(response) if fmt == "csv" else _xlsx(response)
    rows = _dicts(table)
    expected = ["'" + text for text in EVIL]
    if fmt == "xlsx":  # XML reads a CR as a line feed
        expected = [text.replace("\r", "\n") for text in expected]
    assert sorted(row["Organisation"] for row in rows) == sorted(expected)
    assert {row["Position"] for row in rows} == {"'-"} and {row["City"] for row in rows} == {"'@"}
    assert all(not str(cell).startswith(tuple("=+-@\t\r")) for row in table for cell in row if cell is not None)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hq_gets_masked_email_and_phone(app, login, world, fmt):
    response = login("hq").get(f"/exports/contacts.{fmt}")
    rows = {str(row["Contact no."]): row for row in _dicts(_csv(response) if fmt == "csv" else _xlsx(response))}
    hanoi = rows[str(world.contacts["hanoi"])]
    assert hanoi["E-mail"] == "a***@example.org"
    assert hanoi["Phone"] == "'+84 *** *** 1234"  # masked, and escaped against formulas
    assert "an@example.org" not in response.get_data().decode("utf-8", "replace")


def test_plugin_columns_come_through_the_hook(app, login, world):
    header = _csv(login("admin").get("/exports/contacts.csv"))[0]
    assert header[:2] == ["Contact no.", "Name"]
    assert header == [str(column.header) for _plugin, column in _columns(app, world, "contacts")]


def _columns(app, world, export):
    from flask_login import login_user

    from liaison import plugins
    from liaison.models import User

    with app.test_request_context():
        login_user(db.session.get(User, world.users["admin"]))
        return plugins.export_columns(export)


# The export right -------------------------------------------------------------------------------

OK, FORBIDDEN = 200, 403
# role -> status with the Hanoi station's setting (allowed, not allowed)
RIGHTS = {
    "vol_hanoi": (OK, FORBIDDEN),
    "vol_milan": (OK, OK),  # Milan's setting is untouched
    "asean_admin": (OK, OK),
    "europe_admin": (OK, OK),
    "hq": (OK, OK),
    "admin": (OK, OK),
}


@pytest.mark.parametrize("allowed", [True, False])
@pytest.mark.parametrize("role", list(RIGHTS))
@pytest.mark.parametrize("path", ["/exports/leads.xlsx", "/exports/leads.csv", "/exports/contacts.xlsx",
                                  "/exports/contacts.csv"])
def test_export_right_per_role_and_station_setting(app, login, world, role, allowed, path):
    _set_export(app, world.stations["hanoi"], allowed)
    client = login(role)
    response = client.get(path)
    expected = RIGHTS[role][0 if allowed else 1]
    assert response.status_code == expected
    response.get_data()
    records = _records(app)
    assert len(records) == (1 if expected == OK else 0)  # a refused export writes nothing
    page = client.get("/contacts/").get_data(as_text=True)
    assert ("/exports/contacts.csv" in page) == (expected == OK)  # no link to a refused export


def test_anonymous_is_sent_to_log_in(client, world):
    for path in ["/exports/leads.csv", "/exports/contacts.csv", "/exports/"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_volunteer_gets_only_the_stations_that_allow_it(app, login, world):
    with app.app_context():
        from liaison.models import User

        volunteer = db.session.get(User, world.users["vol_hanoi"])
        db.session.refresh(volunteer, ["stations"])
        volunteer.stations.append(db.session.get(Station, world.stations["bangkok"]))
        db.session.get(Station, world.stations["bangkok"]).volunteers_may_export = False
        db.session.commit()
    client = login("vol_hanoi")
    rows = _dicts(_csv(client.get("/exports/contacts.csv")))
    assert [row["Name"] for row in rows] == ["Nguyen Van An"]  # Bangkok's contact is not exported
    assert client.get(f"/exports/contacts.csv?station={world.stations['bangkok']}").status_code == 403
    assert client.get(f"/exports/leads.xlsx?station={world.stations['bangkok']}").status_code == 403


def test_regional_admin_sets_the_station_setting(app, login, world):
    client = login("asean_admin")
    station_id = world.stations["hanoi"]
    page = client.get(f"/stations/{station_id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="volunteers_may_export"|<input[^>]*name="volunteers_may_export"[^>]*checked', page)
    with app.app_context():
        station = db.session.get(Station, station_id)
        data = {"name": station.name, "name_zh": station.name_zh, "region_id": station.region_id,
                "country": station.country, "city": station.city, "host_organisation": station.host_organisation,
                "host_kind": station.host_kind}
    response = client.post(f"/stations/{station_id}/edit", data=data)  # the box left unticked
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Station, station_id).volunteers_may_export is False
    assert login("vol_hanoi").get("/exports/contacts.csv").status_code == 403
    client = login("asean_admin")
    response = client.post(f"/stations/{station_id}/edit", data={**data, "volunteers_may_export": "y"})
    assert response.status_code == 302
    assert login("vol_hanoi").get("/exports/contacts.csv").status_code == 200


# Records and their list ------------------------------------------------------------------------

def _export_as(login, role, path):
    response = login(role).get(path)
    assert response.status_code == 200
    response.get_data()


def test_the_list_of_exports_per_role(app, login, world):
    _export_as(login, "vol_hanoi", "/exports/contacts.csv?q=Nguyen")
    _export_as(login, "vol_milan", "/exports/leads.xlsx")
    _export_as(login, "hq", "/exports/contacts.xlsx?station=" + str(world.stations["milan"]))
    _export_as(login, "asean_admin", "/exports/contacts.csv?q=nobody")  # empty: no station rows, but their own
    records = _records(app)
    assert [r["rows"] for r in records] == [1, records[1]["rows"], 1, 0]
    assert records[0]["filters"] == {"q": "Nguyen"}

    def listed(role):
        page = login(role).get("/exports/").get_data(as_text=True)
        return {name for name in ("Vol Hanoi", "Vol Milan", "Hq", "Asean Admin") if f"<td>{name}</td>" in page}

    assert listed("admin") == {"Vol Hanoi", "Vol Milan", "Hq", "Asean Admin"}
    assert listed("asean_admin") == {"Vol Hanoi", "Asean Admin"}
    assert listed("europe_admin") == {"Vol Milan", "Hq"} if records[1]["rows"] else {"Hq"}
    for role in ("vol_hanoi", "vol_milan", "hq"):
        assert login(role).get("/exports/").status_code == 403


def test_the_list_of_exports_is_keyset_paginated(app, login, world, monkeypatch):
    from liaison.exports import views

    client = login("admin")
    for query in ("q=a", "q=b", "q=c"):
        client.get("/exports/contacts.csv?" + query).get_data()
    monkeypatch.setattr(views, "PER_PAGE", 2)
    first = client.get("/exports/").get_data(as_text=True)
    assert "Search: c" in first and "Search: b" in first and "Search: a" not in first  # newest first
    after = re.search(r'href="(/exports/\?after=[^"]+)"', first)[1].replace("&amp;", "&")
    second = client.get(after).get_data(as_text=True)
    assert "Search: a" in second and "Search: b" not in second
    for garbage in ("/exports/?after=garbage", "/exports/?before=%00&last=x", "/exports/?last=1"):
        assert client.get(garbage).status_code == 200


def test_an_unfinished_download_stays_unfinished(app, login, world):
    response = login("admin").get("/exports/contacts.csv")
    assert response.is_streamed
    record, = _records(app)
    assert record["rows"] is None and not record["finished"]  # nothing counted before the end
    response.get_data()
    record, = _records(app)
    assert record["rows"] == 3 and record["finished"]


# Links on the list pages -------------------------------------------------------------------------

def test_export_links_carry_the_pages_filters(app, login, world):
    client = login("hq")
    page = client.get(f"/leads/?status=submitted&station={world.stations['milan']}&q=x%26y&after=abc").get_data(as_text=True)
    links = re.findall(r'href="(/exports/leads\.(?:xlsx|csv)\?[^"]*)"', page)
    assert len(links) == 2
    for link in links:
        assert "status=submitted" in link and f"station={world.stations['milan']}" in link and "q=x%26y" in link
        assert "after=" not in link and "sort=-updated" in link
    page = client.get("/review/?status=under_review").get_data(as_text=True)
    links = re.findall(r'href="(/exports/leads\.(?:xlsx|csv)\?[^"]*)"', page)
    assert len(links) == 2 and all("queue=1" in link and "status=under_review" in link for link in links)
    page = client.get("/contacts/?kind=scholar&tag=AI").get_data(as_text=True)
    links = re.findall(r'href="(/exports/contacts\.(?:xlsx|csv)\?[^"]*)"', page)
    assert len(links) == 2 and all("kind=scholar" in link and "tag=AI" in link for link in links)


def test_the_review_queue_export_leaves_out_drafts(app, login, world):
    client = login("admin")
    everything = _dicts(_csv(client.get("/exports/leads.csv")))
    queue = _dicts(_csv(client.get("/exports/leads.csv?queue=1")))
    assert any(row["Status"] == "Draft" for row in everything)
    assert queue and all(row["Status"] != "Draft" for row in queue)
    assert len(queue) == sum(row["Status"] != "Draft" for row in everything)


def test_both_languages(app, login, world):
    client = login("admin")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    header = _csv(client.get("/exports/contacts.csv"))[0]
    assert header[0] == "联络对象编号"  # the headers in the reader's language (the BOM checked in _csv)
    page = client.get("/exports/").get_data(as_text=True)
    assert "导出记录" in page and "导出人" in page and "筛选条件" in page
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/exports/").get_data(as_text=True)
    assert "Exported by" in page and "Filters" in page
    page = login("asean_admin").get(f"/stations/{world.stations['hanoi']}/edit", headers={"Accept-Language": "zh-CN"})
    assert "允许联络员导出" in page.get_data(as_text=True)


# Large exports: made by a background job, downloaded by their requester only ----------------------

REDIS_URL = os.environ.get("LIAISON_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_queue(request):
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        connection = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        connection.ping()
    except RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Redis tests, but no Redis answers at {REDIS_URL}: {error}")
        pytest.skip(f"no Redis answers at {REDIS_URL} ({error})")
    name = f"liaison-test-{uuid.uuid4().hex[:12]}"
    yield name
    for key in connection.scan_iter(f"rq:*{name}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def app_config(request):
    if "redis_queue" not in request.fixturenames:
        return {}
    return {"REDIS_URL": REDIS_URL, "JOB_QUEUE": request.getfixturevalue("redis_queue"), "JOB_RETRY_BACKOFF": [0]}


@pytest.fixture
def large(app, tmp_path):
    """Every export with rows goes to the background; files in the test's own directory."""
    app.config.update(EXPORT_JOB_THRESHOLD=0, EXPORTS_DIR=str(tmp_path / "exports"))
    return tmp_path / "exports"


def _background(client, path: str) -> str:
    """Ask for a large export: the answer is its page (303), which is returned."""
    response = client.get(path)
    assert response.status_code == 303, response.status_code
    page = response.headers["Location"]
    assert re.fullmatch(r"(http://localhost)?/exports/files/\d+", page)
    return page.removeprefix("http://localhost")


def _table(response, fmt):
    assert response.status_code == 200
    return _csv(response) if fmt == "csv" else _xlsx(response)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("export,role", [("contacts", "hq"), ("leads", "admin"), ("contacts", "vol_hanoi")])
def test_a_large_export_is_made_in_the_background_with_the_same_rows(app, login, world, large, fmt, export, role):
    client = login(role)
    app.config["EXPORT_JOB_THRESHOLD"] = None  # off: streamed in the request
    direct = _table(client.get(f"/exports/{export}.{fmt}"), fmt)
    app.config["EXPORT_JOB_THRESHOLD"] = 0
    page = _background(client, f"/exports/{export}.{fmt}")
    html = client.get(page).get_data(as_text=True)
    assert 'data-state="ready"' in html and f'href="{page}/download"' in html
    response = client.get(page + "/download")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "no-store" in response.headers["Cache-Control"]
    assert _table(response, fmt) == direct  # the same rows, masked the same way
    files = list(large.iterdir())
    assert len(files) == 1 and files[0].suffix == "." + fmt and (files[0].stat().st_mode & 0o077) == 0
    first, second = _records(app)  # one record per export, the background one with its real count
    assert second["rows"] == first["rows"] == len(direct) - 1 and second["finished"]
    assert second["stations"] == first["stations"] and second["user"] == world.users[role]
    with app.app_context():
        run = db.session.scalar(select(JobRun).where(JobRun.key == f"export:{second['id']}"))
        assert run.status == JobStatus.DONE


def test_the_background_export_keeps_the_filters_and_the_language(app, login, world, large):
    client = login("admin")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    app.config["EXPORT_JOB_THRESHOLD"] = None
    direct = _csv(client.get("/exports/leads.csv?queue=1&sort=-submitted&after=x"))
    app.config["EXPORT_JOB_THRESHOLD"] = 0
    page = _background(client, "/exports/leads.csv?queue=1&sort=-submitted&after=x")
    assert "您的导出" in client.get(page).get_data(as_text=True)
    background = _csv(client.get(page + "/download"))
    assert background == direct and background[0][0] != "Lead no."  # the headers in Chinese
    assert _records(app)[1]["filters"] == {"queue": "1", "sort": "-submitted"}


def test_the_threshold_is_a_capped_count(app, login, world, large, monkeypatch):
    from liaison import pagination

    caps = []
    counted = pagination.capped_count
    monkeypatch.setattr(pagination, "capped_count", lambda stmt, cap=1000: caps.append(cap) or counted(stmt, cap))
    client = login("admin")
    app.config["EXPORT_JOB_THRESHOLD"] = 3  # three contacts: not more than the threshold
    response = client.get("/exports/contacts.csv")
    assert response.status_code == 200 and response.is_streamed
    response.get_data()
    app.config["EXPORT_JOB_THRESHOLD"] = 2
    _background(client, "/exports/contacts.csv")
    assert caps == [3, 2]  # never an unbounded COUNT
    app.config["EXPORT_JOB_THRESHOLD"] = None  # off: always streamed
    assert client.get("/exports/contacts.csv").status_code == 200
    assert caps == [3, 2]


def test_only_the_requester_sees_and_downloads_the_file(app, client, login, world, large):
    page = _background(login("vol_hanoi"), "/exports/contacts.xlsx?q=a")
    assert client.get(page).status_code == 200 and client.get(page + "/download").status_code == 200
    for role in ("vol_milan", "asean_admin", "europe_admin", "hq", "admin"):
        login(role)
        assert client.get(page).status_code == 404, role
        assert client.get(page + "/download").status_code == 404, role
    client.post("/logout")
    for url in (page, page + "/download"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    _set_export(app, world.stations["hanoi"], False)  # the right taken away since: no download
    client = login("vol_hanoi")
    assert client.get(page).status_code == 200
    assert client.get(page + "/download").status_code == 403


def test_bad_and_unknown_ids_are_404(app, login, world, large):
    client = login("admin")
    app.config["EXPORT_JOB_THRESHOLD"] = None
    client.get("/exports/contacts.csv").get_data()  # a direct export: a record, but no file
    direct_id = _records(app)[0]["id"]
    for url in (f"/exports/files/{direct_id}", f"/exports/files/{direct_id}/download", "/exports/files/999999",
                "/exports/files/0", "/exports/files/-1", "/exports/files/abc", "/exports/files/99999999999999999999",
                "/exports/files/2147483648/download", "/exports/files/1/download/x"):
        assert client.get(url).status_code == 404, url


def test_a_file_expires_and_the_daily_job_deletes_it(app, login, world, large):
    client = login("hq")
    page = _background(client, "/exports/contacts.csv")
    assert client.get(page + "/download").status_code == 200
    with app.app_context():
        record = db.session.get(ExportRecord, _records(app)[0]["id"])
        record.finished_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    assert 'data-state="expired"' in client.get(page).get_data(as_text=True)
    assert client.get(page + "/download").status_code == 404  # expired, even before the clean-up
    made, = large.iterdir()
    old = time.time() - 25 * 3600
    os.utime(made, (old, old))
    fresh = large / "FreshFreshFreshFresh12.xlsx"
    crashed = large / "CrashedCrashedCrashed1.csv.part"
    other = large / "notes.txt"
    for path in (fresh, crashed, other):
        path.write_bytes(b"x")
    os.utime(crashed, (old, old))
    os.utime(other, (old, old))
    with app.app_context():
        report = jobs.run_due(app)
        assert report["exports.cleanup"] == 1
        assert jobs.run_due(app)["exports.cleanup"] == 0  # once a day
    assert sorted(path.name for path in large.iterdir()) == sorted([fresh.name, other.name])
    assert 'data-state="expired"' in client.get(page).get_data(as_text=True)


def test_the_requester_is_notified_when_the_file_is_ready(app, login, world, large):
    page = _background(login("vol_hanoi"), "/exports/contacts.csv")
    with app.app_context():
        notification, = db.session.scalars(select(Notification)).all()
        assert notification.user_id == world.users["vol_hanoi"] and notification.kind == "export_ready"
        assert notification.path == page and notification.params == {"count": 1}
    assert "is ready to download" in login("vol_hanoi").get("/notifications/").get_data(as_text=True)


def test_a_direct_export_notifies_nobody(app, login, world):
    app.config["EXPORT_JOB_THRESHOLD"] = None
    assert login("vol_hanoi").get("/exports/contacts.csv").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(Notification)).all() == []


def test_the_job_makes_no_file_when_the_right_is_gone(app, login, world, large, monkeypatch):
    """Under Redis the job may run later: a volunteer who lost the right by then gets no file."""
    from liaison.exports import services as export_services

    ran = []
    monkeypatch.setattr(jobs, "dispatch", lambda app, keys: ran.extend(keys))  # held back
    page = _background(login("vol_hanoi"), "/exports/contacts.csv")
    assert 'data-state="preparing"' in login("vol_hanoi").get(page).get_data(as_text=True)
    _set_export(app, world.stations["hanoi"], False)
    monkeypatch.undo()
    assert jobs.run_key(app, ran[0], inline=True) == JobStatus.DONE
    assert list(large.iterdir()) == []
    record, = _records(app)
    assert not record["finished"] and record["rows"] is None
    assert 'data-state="unavailable"' in login("vol_hanoi").get(page).get_data(as_text=True)
    with app.app_context():
        assert export_services.delete_expired() == 0


def test_with_redis_a_worker_makes_the_file(app, login, world, large, redis_queue):
    from rq import SimpleWorker

    client = login("hq")
    app.config["EXPORT_JOB_THRESHOLD"] = None
    direct = _csv(client.get("/exports/contacts.csv"))
    app.config["EXPORT_JOB_THRESHOLD"] = 0
    page = _background(client, "/exports/contacts.csv")
    assert 'data-state="preparing"' in client.get(page).get_data(as_text=True)
    assert client.get(page + "/download").status_code == 404
    with app.app_context():
        SimpleWorker([jobs.rq_queue(app)], connection=jobs.redis_connection(app)).work(burst=True)
        keys = db.session.scalars(select(JobRun.key)).all()
        for key in keys:
            jobs.redis_connection(app).delete(f"rq:job:{jobs.rq_job_id(key)}")
        db.session.remove()
    assert 'data-state="ready"' in client.get(page).get_data(as_text=True)
    assert _csv(client.get(page + "/download")) == direct
