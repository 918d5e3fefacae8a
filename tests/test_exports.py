"""Exports HQ can trust: CSV with a BOM (streamed) and XLSX (no row cut), formula neutralisation,
the export right per role and station setting, the export records and their list, masking, the
list pages' links carrying their filters."""
from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from liaison.exports import services
from liaison.models import Contact, ExportRecord, ExportStation, Station, db

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
