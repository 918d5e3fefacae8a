"""Downloads of figures under the export right and recorded like every export: the report's table
CSVs and summary XLSX, the scorecard (XLSX and CSV), the home page's chart CSVs and the access
log — HQ, regional admins in and out of their regions, volunteers with their station's setting on
and off; one ``ExportRecord`` per download with its rows; CSVs with a BOM; each chart's CSV
equal to the table printed beside the chart; the links hidden from users without the right."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from liaison.models import AccessLogEntry, ExportRecord, ExportStation, Station, db, station_membership
from liaison.models.base import utcnow

from .factories import make_lead

pytestmark = pytest.mark.usefixtures("world")
YEAR = date.today().year
BOM = b"\xef\xbb\xbf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv(response) -> list[list[str]]:
    data = response.get_data()
    assert data[:3] == BOM, data[:20]
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))


def _set_export(app, station_id: int, allowed: bool) -> None:
    with app.app_context():
        db.session.get(Station, station_id).volunteers_may_export = allowed
        db.session.commit()


def _records(app) -> list[dict]:
    with app.app_context():
        stations: dict[int, dict[int, int]] = {}
        for row in db.session.scalars(select(ExportStation)):
            stations.setdefault(row.export_id, {})[row.station_id] = row.rows
        return [dict(user=r.user_id, what=r.what, format=r.format, filters=r.filters, rows=r.rows,
                     finished=r.finished_at is not None, stations=stations.get(r.id, {}))
                for r in db.session.scalars(select(ExportRecord).order_by(ExportRecord.id))]


def _leads(world) -> None:
    for station, status in (("hanoi", "accepted"), ("hanoi", "submitted"), ("bangkok", "landed"),
                            ("milan", "referred")):
        make_lead(world, station, status)


# The export right -------------------------------------------------------------------------------

DOWNLOADS = {
    "table": f"/reports/table/status.csv?period={YEAR}",
    "summary": f"/reports/summary.xlsx?period={YEAR}",
    "scorecard_xlsx": f"/reports/scorecard/scorecard.xlsx?year={YEAR}",
    "scorecard_csv": f"/reports/scorecard/scorecard.csv?year={YEAR}",
}
HOME_CHARTS = {"vol_hanoi": ["home_status"], "asean_admin": ["home_stations"],
               "hq": ["home_queue_age", "home_funnel", "home_landings"]}


@pytest.mark.parametrize("name", sorted(DOWNLOADS))
@pytest.mark.parametrize("who", ["hq", "admin", "asean_admin", "vol_hanoi"])
def test_downloads_with_the_right_are_recorded(app, login, world, who, name):
    with app.app_context():
        _leads(world)
    response = login(who).get(DOWNLOADS[name])
    assert response.status_code == 200
    assert response.mimetype == ("text/csv" if name.endswith("csv") or name == "table" else XLSX)
    assert "attachment" in response.headers["Content-Disposition"]
    if response.mimetype == "text/csv":
        assert response.get_data()[:3] == BOM
    records = _records(app)
    assert len(records) == 1
    record = records[0]
    assert record["user"] == world.users[who] and record["finished"] and record["format"] in ("csv", "xlsx")
    assert record["what"] == {"table": "report_table", "summary": "report_summary"}.get(name, "scorecard")
    assert record["rows"] is not None and record["rows"] > 0
    if who == "vol_hanoi":  # the stations it counts: their regions' admins see it
        assert record["stations"] == {world.stations["hanoi"]: 0}
    if who in ("hq", "admin"):
        assert record["stations"] == {}


@pytest.mark.parametrize("name", sorted(DOWNLOADS))
def test_volunteer_without_the_right_gets_403_and_no_record(app, login, world, name):
    _set_export(app, world.stations["hanoi"], False)
    assert login("vol_hanoi").get(DOWNLOADS[name]).status_code == 403
    assert _records(app) == []
    _set_export(app, world.stations["hanoi"], True)
    assert login("vol_hanoi").get(DOWNLOADS[name]).status_code == 200
    assert len(_records(app)) == 1


def test_volunteer_right_must_hold_for_every_station_of_the_selection(app, login, world):
    with app.app_context():  # vol_hanoi is also a member of Bangkok, whose volunteers may not export
        db.session.execute(insert(station_membership).values(user_id=world.users["vol_hanoi"],
                                                             station_id=world.stations["bangkok"]))
        db.session.commit()
    _set_export(app, world.stations["bangkok"], False)
    client = login("vol_hanoi")
    assert client.get(f"/reports/table/status.csv?period={YEAR}").status_code == 403
    assert client.get(f"/reports/summary.xlsx?period={YEAR}").status_code == 403
    assert client.get(f"/reports/scorecard/scorecard.csv?year={YEAR}").status_code == 403
    assert client.get("/charts/home_status.csv").status_code == 403
    page = client.get(f"/reports/?period={YEAR}").get_data(as_text=True)
    assert "/reports/table/" not in page
    # Narrowed to Hanoi, whose volunteers may export: allowed.
    hanoi = world.stations["hanoi"]
    response = client.get(f"/reports/table/status.csv?period={YEAR}&station={hanoi}")
    assert response.status_code == 200
    assert f"/reports/table/status.csv?period={YEAR}&amp;station={hanoi}" in client.get(
        f"/reports/?period={YEAR}&station={hanoi}").get_data(as_text=True)
    [record] = _records(app)
    assert record["filters"] == {"period": str(YEAR), "station": str(hanoi), "table": "status"}
    assert record["stations"] == {hanoi: 0}


def test_regional_admin_in_and_out_of_region(app, login, world):
    with app.app_context():
        _leads(world)
    client = login("asean_admin")
    rows = _csv(client.get(f"/reports/table/status.csv?period={YEAR}&region=ASEAN"))
    counts = dict((r[0], r[1]) for r in rows[1:])
    assert counts["Accepted"] == counts["Landed"] == "1" and "Referred" not in counts  # Milan's is not
    [record] = _records(app)
    assert record["rows"] == len(rows) - 1 and record["filters"] == {"period": str(YEAR), "region": "ASEAN", "table": "status"}
    assert set(record["stations"]) == {world.stations["hanoi"], world.stations["bangkok"]}
    # Another region, or one of its stations: not a valid choice — the page with the error, no file.
    for query in ("region=EUROPE", f"station={world.stations['milan']}"):
        response = client.get(f"/reports/table/status.csv?period={YEAR}&{query}")
        assert response.mimetype == "text/html"
    # Without a filter: their regions only (Milan's lead is not counted).
    rows = _csv(client.get(f"/reports/table/status.csv?period={YEAR}"))
    assert "Referred" not in [r[0] for r in rows]
    assert len(_records(app)) == 2
    # The scorecard: the cards of their regions' stations only.
    rows = _csv(client.get(f"/reports/scorecard/scorecard.csv?year={YEAR}"))
    assert sorted(r[1] for r in rows[1:]) == ["Bangkok station", "Hanoi station"]
    # The Europe admin's home chart does not count ASEAN's stations.
    rows = _csv(login("europe_admin").get("/charts/home_stations.csv"))
    assert [r[0] for r in rows[1:]] == ["Milan station"]


def test_links_hidden_without_the_right(app, login, world):
    client = login("vol_hanoi")
    pages = {"report": f"/reports/?period={YEAR}", "summary": f"/reports/summary?period={YEAR}",
             "scorecard": f"/reports/scorecard/?year={YEAR}", "home": "/"}
    links = {"report": "/reports/table/", "summary": "/reports/summary.xlsx",
             "scorecard": "/reports/scorecard/scorecard.", "home": "/charts/home_status.csv"}
    for name, url in pages.items():
        assert links[name] in client.get(url).get_data(as_text=True), name
    _set_export(app, world.stations["hanoi"], False)
    for name, url in pages.items():
        page = client.get(url)
        assert page.status_code == 200
        assert links[name] not in page.get_data(as_text=True), name
    assert "/reports/scorecard/scorecard.csv" in login("hq").get(f"/reports/scorecard/?year={YEAR}").get_data(
        as_text=True)


# Home charts: the CSV is the table beside the chart ---------------------------------------------

def _table(page: str, key: str) -> list[list[str]]:
    """The table printed beside a home chart: heading row, then the rows."""
    block = page[page.index(f'data-table="{key}"'):]
    block = block[:block.index("</section>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", block, re.S):
        rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
    return rows


@pytest.mark.parametrize("language", ["en", "zh-CN"])
@pytest.mark.parametrize("who", sorted(HOME_CHARTS))
def test_home_chart_csv_equals_the_table(app, login, world, who, language):
    with app.app_context():
        _leads(world)
        old = make_lead(world, "hanoi", "landed")
        from liaison.models import TalentLead

        db.session.get(TalentLead, old).submitted_at = utcnow().replace(year=YEAR - 1)
        db.session.get(TalentLead, old).landed_on = date.today()
        db.session.commit()
    client = login(who)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    page = client.get("/").get_data(as_text=True)
    for key in HOME_CHARTS[who]:
        assert f'href="/charts/{key}.csv"' in page, key
        table = _table(page, key)
        assert len(table) > 1, key
        response = client.get(f"/charts/{key}.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert _csv(response) == table, key
    records = _records(app)
    assert [r["what"] for r in records] == ["home_chart"] * len(HOME_CHARTS[who])
    assert [r["filters"] for r in records] == [{"chart": key} for key in HOME_CHARTS[who]]
    assert [r["rows"] for r in records] == [len(_table(page, key)) - 1 for key in HOME_CHARTS[who]]


def test_home_funnel_csv_compares_this_year_with_last(app, login, world):
    client = login("hq")
    rows = _csv(client.get("/charts/home_funnel.csv"))
    assert rows[0] == ["Stage", str(YEAR - 1), str(YEAR)]
    assert "/reports/table/funnel.csv" not in client.get("/").get_data(as_text=True)


def test_home_chart_csv_of_another_role_or_unknown_is_404(app, login, world):
    for who, key in (("vol_hanoi", "home_queue_age"), ("asean_admin", "home_status"), ("hq", "home_stations"),
                     ("hq", "nothing")):
        assert login(who).get(f"/charts/{key}.csv").status_code == 404, (who, key)
    _set_export(app, world.stations["hanoi"], False)
    assert login("vol_hanoi").get("/charts/home_status.csv").status_code == 403
    assert _records(app) == []


# Report tables, summary XLSX, scorecard ---------------------------------------------------------

def test_report_table_csv_is_the_table_neutralised(app, login, world):
    with app.app_context():
        _leads(world)
    response = login("hq").get(f"/reports/table/stations.csv?period={YEAR}")
    rows = _csv(response)
    assert rows[0][:3] == ["Rank", "Station", "Region"]
    [record] = _records(app)
    assert record["rows"] == len(rows) - 1 and record["filters"] == {"period": str(YEAR), "table": "stations"}


def test_summary_xlsx_holds_the_sections_tables(app, login, world):
    from liaison.reports import periods, services
    from liaison.reports.figures import Selection

    with app.app_context():
        _leads(world)
    response = login("hq").get(f"/reports/summary.xlsx?period={YEAR}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    with app.test_request_context():
        view = services.build(Selection(periods.named(str(YEAR)), None, None))
        core = [str(t.title) for t in view.tables]
        sections = [str(t.title) for s in view.sections for t in s.tables]
        rows = sum(len(t.rows) for t in view.all_tables())
    assert sections, "the core's sections (events, demands) have tables"
    assert len(book.sheetnames) == 1 + len(core) + len(sections)
    assert sections[0][:20] in " ".join(book.sheetnames)
    [record] = _records(app)
    assert record["what"] == "report_summary" and record["rows"] == 9 + rows


def test_scorecard_csv_is_the_ranked_table(app, login, world):
    with app.app_context():
        _leads(world)
    client = login("hq")
    rows = _csv(client.get(f"/reports/scorecard/scorecard.csv?year={YEAR}"))
    sheet = load_workbook(io.BytesIO(client.get(f"/reports/scorecard/scorecard.xlsx?year={YEAR}").get_data())).active

    def same(cell):  # the workbook reads 1.0 back as 1
        try:
            return float(cell)
        except (TypeError, ValueError):
            return "" if cell is None else cell

    assert [[same(c) for c in row] for row in rows] == [[same(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert "None" not in [cell for row in rows for cell in row]
    csv_record, xlsx_record = _records(app)
    assert csv_record["rows"] == xlsx_record["rows"] == len(rows) - 1
    assert csv_record["filters"] == {"year": str(YEAR)} and (csv_record["format"], xlsx_record["format"]) == (
        "csv", "xlsx")


# The access log ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_access_log_export_has_no_row_cut_and_is_recorded(app, login, world, monkeypatch, fmt):
    import liaison.exports.services
    import liaison.privacy.log_views

    # The old export stopped at MAX_ROWS silently: a small limit would cut these entries.
    monkeypatch.setattr(liaison.exports.services, "MAX_ROWS", 2, raising=False)
    monkeypatch.setattr(liaison.privacy.log_views, "MAX_ROWS", 2, raising=False)
    with app.app_context():
        for n in range(5):
            db.session.add(AccessLogEntry(user_id=world.users["hq"], station_id=world.stations["hanoi"],
                                          action="view", record_count=1, created_at=utcnow(), note=f"n{n}"))
        db.session.add(AccessLogEntry(user_id=world.users["hq"], station_id=world.stations["milan"],
                                      action="view", record_count=1, created_at=utcnow(), note="milan"))
        db.session.commit()
    client = login("asean_admin")
    assert "without a row limit" in client.get("/privacy/log").get_data(as_text=True)
    response = client.get(f"/privacy/log.{fmt}?action=view")
    assert response.status_code == 200
    if fmt == "csv":
        rows = _csv(response)
    else:
        rows = [list(r) for r in load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True)]
    notes = sorted(row[8] for row in rows[1:])
    assert notes == ["n0", "n1", "n2", "n3", "n4"]  # every entry of their region's stations, none of Milan's
    [record] = _records(app)
    assert record["what"] == "access_log" and record["format"] == fmt and record["rows"] == 5
    assert record["filters"] == {"action": "view"} and record["stations"] == {world.stations["hanoi"]: 5}


def test_chart_and_scorecard_csvs_neutralise_formulas(app, login, world):
    with app.app_context():
        db.session.get(Station, world.stations["hanoi"]).name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    client = login("asean_admin")
    names = [r[0] for r in _csv(client.get("/charts/home_stations.csv"))[1:]]
    assert "'=HYPERLINK(\"http://x\")" in names and "=HYPERLINK(\"http://x\")" not in names
    names = [r[1] for r in _csv(client.get(f"/reports/scorecard/scorecard.csv?year={YEAR}"))[1:]]
    assert "'=HYPERLINK(\"http://x\")" in names
