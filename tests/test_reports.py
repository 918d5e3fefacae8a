"""Reports (issue 13): the figures against a hand-computed fixture on both databases, periods,
scope per role, closed periods against later edits, the bureau summary in both languages, CSV
(BOM, formula neutralisation) and charts drawn from their tables' rows."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from liaison.models import AuditEntry, Contact, LeadEvent, ReportPeriod, Station, TalentLead, User, db
from liaison.reports import figures as F
from liaison.reports import periods, services, summary
from liaison.reports.charts import Table

pytestmark = pytest.mark.usefixtures("world")

# Times are UTC; the bureau's days are Asia/Shanghai's (UTC+8).
D = datetime
# key: (station, category, final status, submitted_at (UTC), [(to_status, days after submission)], landing)
LEADS = {
    "L1": ("hanoi", "employment", "landed", D(2025, 3, 10),
           [("under_review", 1), ("accepted", 3), ("referred", 5), ("landed", 20)], (date(2025, 4, 1), "hired")),
    # Asked for more information and reviewed again: the *first* review counts.
    "L2": ("hanoi", "project", "landed", D(2025, 5, 1),
           [("under_review", 2), ("needs_info", 2.5), ("submitted", 3), ("under_review", 3.5), ("accepted", 4),
            ("referred", 10), ("landed", 40)], (date(2025, 6, 10), "project_signed")),
    "L3": ("hanoi", "employment", "rejected", D(2025, 6, 1), [("under_review", 5), ("rejected", 6)], None),
    # 2024-12-31 17:00 UTC is 2025-01-01 01:00 in Shanghai: in 2025, in January.
    "L4": ("hanoi", "employment", "accepted", D(2024, 12, 31, 17), [("under_review", 3), ("accepted", 6)], None),
    "L5": ("bangkok", "project", "referred", D(2025, 7, 1), [("under_review", 4), ("accepted", 8), ("referred", 9)], None),
    "L6": ("bangkok", "employment", "submitted", D(2025, 8, 1), [], None),
    "L7": ("bangkok", "employment", "withdrawn", D(2025, 9, 1), [("withdrawn", 1)], None),
    "L8": ("milan", "return_startup", "landed", D(2025, 2, 1),
           [("under_review", 10), ("accepted", 12), ("referred", 15), ("landed", 60)], (date(2025, 4, 2), "company_registered")),
    "L9": ("milan", "employment", "closed_lost", D(2025, 10, 1), [("under_review", 1), ("accepted", 2), ("closed_lost", 3)], None),
    # 2025-12-31 17:00 UTC is already 2026 in Shanghai: not in 2025.
    "L10": ("milan", "employment", "under_review", D(2025, 12, 31, 17), [("under_review", 1)], None),
    # Submitted in 2024, accepted in 2025: not in the 2025 cohort, but accepted in 2025.
    "L11": ("milan", "employment", "accepted", D(2024, 11, 1), [("under_review", 30), ("accepted", 75)], None),
}
CONTACTS = [("hanoi", "scholar", "VN", D(2025, 3, 1)), ("milan", "entrepreneur", "IT", D(2025, 11, 30)),
            ("milan", "scholar", "IT", D(2024, 6, 1))]

# Hand-computed from the table above -----------------------------------------------------------
EXPECTED_STATUS = {"landed": 3, "rejected": 1, "accepted": 1, "referred": 1, "submitted": 1, "withdrawn": 1,
                   "closed_lost": 1}
EXPECTED_TOTALS = {"submitted": 9, "accepted": 6, "referred": 4, "landed": 3}
EXPECTED_FUNNEL = [("submitted", 9, None, None), ("accepted", 6, 66.7, 66.7), ("referred", 4, 66.7, 44.4),
                   ("landed", 3, 75.0, 33.3)]
EXPECTED_CATEGORY = {"employment": (6, 3, 1, 1), "project": (2, 2, 2, 1), "return_startup": (1, 1, 1, 1)}
EXPECTED_STATIONS = [("hanoi", 4, 3, 2, 2), ("milan", 2, 2, 1, 1), ("bangkok", 3, 1, 1, 0)]  # ranked
EXPECTED_REGIONS = {"ASEAN": (7, 4, 3, 2), "EUROPE": (2, 2, 1, 1)}
# review: [1, 1, 2, 3, 4, 5, 10]; acceptance: [2, 3, 4, 6, 8, 12]; landing: [20, 40, 60]
EXPECTED_TIMES = {"review": (7, 3.0, 7.0), "acceptance": (6, 5.0, 10.0), "landing": (3, 40.0, 56.0)}
EXPECTED_MONTHS = {"2025-01": (1, 0), "2025-02": (1, 0), "2025-03": (1, 0), "2025-04": (0, 2), "2025-05": (1, 0),
                   "2025-06": (1, 1), "2025-07": (1, 0), "2025-08": (1, 0), "2025-09": (1, 0), "2025-10": (1, 0)}
EXPECTED_SUMMARY = {"contacts": 2, "submitted": 9, "accepted": 7, "referred": 4, "landed": 3,
                    "landed_by_kind": {"company_registered": 1, "hired": 1, "project_signed": 1}}
ZH = "2025年：新增联络对象2名，提交人才线索9条，受理7条，推荐4条，落地3个（注册企业1家、引进就业1人、签约项目1个）"
EN = ("2025: 2 new contacts, 9 talent leads submitted, 7 accepted, 4 referred, 3 landed "
      "(1 company registered, 1 person hired, 1 project signed).")


def build_fixture(world) -> dict[str, int]:
    ids = {}
    hq = world.users["hq"]
    for key, (station, category, status, submitted, steps, landing) in LEADS.items():
        lead = TalentLead(contact_id=world.contacts[station], station_id=world.stations[station],
                          submitter_id=world.users[f"vol_{station}"], category=category, summary=f"{key} lead",
                          status=status, submitted_at=submitted, created_at=submitted - timedelta(days=1),
                          updated_at=submitted, status_changed_at=submitted,
                          landed_on=landing[0] if landing else None, landing_kind=landing[1] if landing else None)
        db.session.add(lead)
        db.session.flush()
        previous = "submitted"
        db.session.add(LeadEvent(lead_id=lead.id, actor_id=hq, kind="created", to_status="draft",
                                 created_at=submitted - timedelta(days=1)))
        db.session.add(LeadEvent(lead_id=lead.id, actor_id=hq, kind="status", from_status="draft",
                                 to_status="submitted", created_at=submitted))
        for to_status, days in steps:
            db.session.add(LeadEvent(lead_id=lead.id, actor_id=hq, kind="status", from_status=previous,
                                     to_status=to_status, created_at=submitted + timedelta(days=days)))
            previous = to_status
        ids[key] = lead.id
    for station, kind, country, created in CONTACTS:
        db.session.add(Contact(station_id=world.stations[station], kind=kind, name=f"Contact {kind} {country}",
                               country=country, created_at=created, updated_at=created))
    db.session.commit()
    return ids


@pytest.fixture
def fixture_leads(app, world):
    with app.app_context():
        ids = build_fixture(world)
        db.session.remove()
    return ids


def _selection(station_ids=None, category=None, key="2025"):
    return F.Selection(periods.named(key), station_ids, category)


# Periods ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, first, last, kind, key", [
    ("2025", date(2025, 1, 1), date(2025, 12, 31), "year", "2025"),
    ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31), "quarter", "2025-Q4"),
    (" 2025-q1 ", date(2025, 1, 1), date(2025, 3, 31), "quarter", "2025-Q1"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month", "2024-02"),
    ("2025-2", date(2025, 2, 1), date(2025, 2, 28), "month", "2025-02"),
    ("2025-12", date(2025, 12, 1), date(2025, 12, 31), "month", "2025-12"),
    ("２０２５－Ｑ４", date(2025, 10, 1), date(2025, 12, 31), "quarter", "2025-Q4"),  # typed with a Chinese IME
])
def test_named_periods(app, text, first, last, kind, key):
    with app.test_request_context():
        period = periods.named(text)
    assert (period.first, period.last, period.kind, period.key) == (first, last, kind, key)


@pytest.mark.parametrize("text", ["", "25", "2025-Q5", "2025-Q0", "2025-13", "2025-00", "1999", "2025/11", "Q4 2025",
                                  "2025-11-01", "٢٠٢٥", "2025-Q4; drop table leads"])
def test_bad_named_periods(app, text):
    with app.test_request_context(), pytest.raises(periods.PeriodError):
        periods.named(text)


def test_open_ended_dates(login, world, fixture_leads):
    """From a day until today, or from the first day the reports know until a day."""
    client = login("hq")
    since = client.get("/reports/?date_from=2025-06-01").get_data(as_text=True)
    assert _table_rows(since, "funnel")[0][1] == "9"  # L3, L5, L6, L7, L9, L10 and the world's 3 submitted
    until = client.get("/reports/?date_to=2025-01-31").get_data(as_text=True)
    assert _table_rows(until, "funnel")[0][1] == "2"  # L11 (2024) and L4 (1 January, Shanghai)


def test_period_ranges_and_bounds(app):
    with app.test_request_context():
        assert periods.between(date(2025, 1, 5), date(2025, 3, 2)).months() == ["2025-01", "2025-02", "2025-03"]
        with pytest.raises(periods.PeriodError):
            periods.between(date(2025, 3, 2), date(2025, 1, 5))
        # The bureau's days (Asia/Shanghai), whatever the viewer's time zone.
        assert periods.named("2025").utc_bounds() == (D(2024, 12, 31, 16), D(2025, 12, 31, 16))
        assert periods.named("2025-Q4").chinese_label == "2025年第四季度"
        assert periods.named("2025-11").chinese_label == "2025年11月"


# Figures against the hand-computed fixture (SQLite and PostgreSQL) -------------------------------

def test_figures_match_the_hand_computed_fixture(app, fixture_leads):
    with app.test_request_context():
        result = F.compute(_selection())
        world_stations = {s.name: s.id for s in db.session.scalars(select(Station))}
    assert result["by_status"] == EXPECTED_STATUS
    assert result["totals"] == EXPECTED_TOTALS
    assert [(r["stage"], r["count"], r["rate"], r["overall"]) for r in result["funnel"]] == EXPECTED_FUNNEL
    assert {r["category"]: tuple(r[s] for s in F.STAGES) for r in result["by_category"]} == EXPECTED_CATEGORY
    names = {"hanoi": "Hanoi station", "bangkok": "Bangkok station", "milan": "Milan station"}
    assert [(r["rank"], r["station_id"], *[r[s] for s in F.STAGES]) for r in result["by_station"]] == [
        (rank, world_stations[names[key]], *counts) for rank, (key, *counts) in enumerate(EXPECTED_STATIONS, 1)]
    assert {r["region"]: tuple(r[s] for s in F.STAGES) for r in result["by_region"]} == EXPECTED_REGIONS
    months = {r["month"]: (r["submitted"], r["landed"]) for r in result["by_month"]}
    assert len(months) == 12 and {m: v for m, v in months.items() if v != (0, 0)} == EXPECTED_MONTHS
    for name, (count, median, p90) in EXPECTED_TIMES.items():
        figure = result["times"][name]
        assert figure["count"] == count, name
        assert figure["median"] == pytest.approx(median, abs=0.01), name
        assert figure["p90"] == pytest.approx(p90, abs=0.01), name
    assert result["landings_by_kind"] == {"company_registered": 1, "hired": 1, "project_signed": 1}
    assert result["contacts_by_kind"] == {"entrepreneur": 1, "scholar": 1}
    assert result["contacts_by_country"] == {"IT": 1, "VN": 1}
    assert result["summary"] == EXPECTED_SUMMARY


def test_filters_narrow_every_figure(app, world, fixture_leads):
    with app.test_request_context():
        hanoi = F.compute(_selection((world.stations["hanoi"],)))
        employment = F.compute(_selection(category="employment"))
        quarter = F.compute(_selection(key="2025-Q1"))
    assert hanoi["totals"] == {"submitted": 4, "accepted": 3, "referred": 2, "landed": 2}
    assert hanoi["times"]["review"]["count"] == 4 and hanoi["times"]["review"]["median"] == pytest.approx(2.5)
    assert hanoi["summary"]["contacts"] == 1 and hanoi["summary"]["accepted"] == 3
    assert employment["totals"] == {"submitted": 6, "accepted": 3, "referred": 1, "landed": 1}
    assert employment["landings_by_kind"] == {"hired": 1}
    # Q1: L4 (January, Shanghai time), L8, L1; landings in April are not in Q1.
    assert quarter["totals"] == {"submitted": 3, "accepted": 3, "referred": 2, "landed": 2}
    assert quarter["landings_by_kind"] == {} and [r["month"] for r in quarter["by_month"]] == ["2025-01", "2025-02", "2025-03"]


def test_no_rows_are_loaded_into_python(app, fixture_leads, count_queries):
    """Every figure is a GROUP BY (or the percentile query): a handful of statements, whatever the
    number of leads."""
    with app.test_request_context():
        with count_queries() as counter:
            F.compute(_selection())
    # (HQ's review deadlines are read once per request, not a figure.)
    statements = [sql for sql in counter.statements if sql.lstrip().upper().startswith("SELECT")
                  and "FROM lead_deadlines" not in sql]
    assert len(statements) == 9, statements
    assert all("GROUP BY" in sql.upper() for sql in statements), statements


# Scope of the report per role ------------------------------------------------------------------

@pytest.mark.parametrize("who, submitted, stations", [
    ("hq", 9, {"Hanoi station", "Bangkok station", "Milan station"}),
    ("admin", 9, {"Hanoi station", "Bangkok station", "Milan station"}),
    ("asean_admin", 7, {"Hanoi station", "Bangkok station"}),
    ("europe_admin", 2, {"Milan station"}),
    ("vol_hanoi", 4, {"Hanoi station"}),
    ("vol_milan", 2, {"Milan station"}),
])
def test_every_role_sees_its_own_scope(login, world, fixture_leads, who, submitted, stations):
    client = login(who)
    page = client.get("/reports/?period=2025").get_data(as_text=True)
    funnel = _table_rows(page, "funnel")
    assert funnel[0][1] == str(submitted)
    ranked = {row[1] for row in _table_rows(page, "stations")}
    assert ranked == stations
    for other in {"Hanoi station", "Bangkok station", "Milan station"} - stations:
        assert other not in page  # not in the table, the chart or the station filter
    csv_rows = _csv(client.get("/reports/table/stations.csv?period=2025"))
    assert {row[1] for row in csv_rows[1:]} == stations
    summary_page = client.get("/reports/summary?period=2025").get_data(as_text=True)
    assert f"提交人才线索{submitted}条" in summary_page


def test_a_station_or_region_outside_the_scope_is_not_a_valid_choice(login, world, fixture_leads):
    client = login("vol_hanoi")
    for query in (f"station={world.stations['milan']}", "region=EUROPE"):
        response = client.get(f"/reports/?period=2025&{query}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Not a valid choice" in page and "is-invalid" in page
        assert 'data-chart="funnel"' not in page


# Bad filter input: a message next to the field, never a 500 ----------------------------------

@pytest.mark.parametrize("query, field, message", [
    ("period=2025-Q5", "period", "Write a year (2025), a quarter (2025-Q4) or a month (2025-11)."),
    ("period=1850", "period", "Choose a year from 2000 to 2100."),
    ("period=" + "9" * 500, "period", "cannot be longer than"),
    ("date_from=2025-13-01&date_to=2025-12-01", "date_from", "Not a valid date value"),
    ("date_from=2099-03-01&date_to=2099-01-01", "date_to", "The end of the period is before its start."),
    ("date_from=2025-03-01&date_to=2025-01-01", "date_to", "The end of the period is before its start."),
    ("period=2025&date_from=2025-01-01&date_to=2025-02-01", "period", "not both"),
    ("category=nonsense", "category", "Not a valid choice"),
    ("region=MARS", "region", "Not a valid choice"),
    ("station=abc", "station", "Not a valid choice"),
    ("station=999999", "station", "Not a valid choice"),
])
def test_bad_filters_are_explained_next_to_the_field(client, login, world, query, field, message):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client = login("hq")
    for path in ("/reports/", "/reports/summary", "/reports/table/status.csv", "/reports/summary.xlsx"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)
        page = response.get_data(as_text=True)
        errors = re.search(rf'id="{field}-errors">(.*?)</div>\s*</div>', page, re.S)
        assert errors and message in errors.group(1), (path, query, page[:3000])
        assert "data-chart=" not in page


def test_unknown_table_is_404(login, world):
    assert login("hq").get("/reports/table/nonsense.csv?period=2025").status_code == 404


def test_old_report_address_shows_the_new_report(login, world, fixture_leads):
    client = login("hq")
    page = client.get("/review/report?date_from=2025-01-01&date_to=2025-12-31").get_data(as_text=True)
    assert _table_rows(page, "funnel")[0][1] == "9" and 'data-chart="funnel"' in page
    assert login("vol_hanoi").get("/review/report").status_code == 403  # as before: HQ's address


# Charts are drawn from their tables; CSV --------------------------------------------------------

def test_chart_data_equals_table_data(login, world, fixture_leads):
    page = login("hq").get("/reports/?period=2025").get_data(as_text=True)
    charts = re.findall(r'<svg [^>]*data-chart="([^"]+)"(.*?)</svg>', page, re.S)
    assert {key for key, _body in charts} >= {"funnel", "status", "category", "region", "month", "landings",
                                              "contact_kind", "contact_country"}
    for key, body in charts:
        drawn = sorted((s, l, float(v)) for s, l, v in
                       re.findall(r'data-series="([^"]*)" data-label="([^"]*)" data-value="([^"]*)"', body))
        rows = _table_rows(page, key)
        headings = _table_headings(page, key)
        series = sorted({s for s, _l, _v in drawn})
        tabled = sorted((s, row[0], float(row[headings.index(s)].replace(",", "")))
                        for row in rows for s in series)
        assert drawn == tabled, key
        assert re.search(r"<title id=\"chart-[^\"]+-title\">", body) and "<desc" in body


def test_chart_points_follow_the_table(app):
    table = Table("t", "Title", ["Label", "A", "B"], [["x", 1, 2], ["y", 3, 0]], chart="bar", series=(1, 2))
    svg = str(table.svg())
    assert svg.count("<rect") - svg.count('width="10" height="10"') == 4
    assert table.chart_points() == [("A", "x", 1.0), ("A", "y", 3.0), ("B", "x", 2.0), ("B", "y", 0.0)]
    assert 'role="img"' in svg and "<title" in svg and "<script" not in svg


def test_csv_has_a_bom_and_neutralises_formulas(app, login, world, fixture_leads):
    with app.app_context():
        station = db.session.get(Station, world.stations["milan"])
        station.name = "=HYPERLINK(\"http://evil\",\"x\")"
        db.session.commit()
    response = login("hq").get("/reports/table/stations.csv?period=2025")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode("utf-8"))
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:2] == ["Rank", "Station"]
    assert ["2", "'=HYPERLINK(\"http://evil\",\"x\")", "Europe", "2", "2", "1", "1"] in rows
    for value in ("+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert services.neutralise(value) == "'" + value
    assert services.neutralise("plain") == "plain" and services.neutralise(-3) == -3


def test_csv_and_charts_in_chinese(login, world, fixture_leads):
    client = login("hq")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    client.post("/language", data={"language": "zh_Hans_CN"})
    page = client.get("/reports/?period=2025").get_data(as_text=True)
    assert "河内联络站" in page or "Hanoi联络站" in page
    rows = _csv(client.get("/reports/table/stations.csv?period=2025"))
    assert "Hanoi联络站" in {row[1] for row in rows[1:]}


# Closed periods ----------------------------------------------------------------------------

def test_closing_a_period_keeps_its_figures_and_shows_later_corrections(app, login, world, fixture_leads):
    client = login("hq")
    response = client.post("/reports/periods/close", data={"period": "2025"})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalar(select(ReportPeriod).where(ReportPeriod.key == "2025"))
        assert record.closed and record.closed_by_id == world.users["hq"]
        assert record.snapshot["figures"]["totals"] == EXPECTED_TOTALS
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.close")).object_id == record.id
        # A late correction: L6 is reviewed and accepted after the period was closed.
        lead = db.session.get(TalentLead, fixture_leads["L6"])
        lead.status = "accepted"
        for to_status, days in (("under_review", 500), ("accepted", 501)):
            db.session.add(LeadEvent(lead_id=lead.id, kind="status", to_status=to_status,
                                     created_at=lead.submitted_at + timedelta(days=days)))
        db.session.commit()
    page = client.get("/reports/?period=2025").get_data(as_text=True)
    assert "the figures below are those kept then" in page
    assert _table_rows(page, "funnel")[1][1] == "6"  # the snapshot, not today's 7
    late = page[page.index('id="late-corrections"'):]
    assert re.search(r"<td>Funnel</td><td>Accepted</td><td>Leads</td><td class=\"text-end\">6</td><td class=\"text-end\">7</td>", late)
    assert re.search(r"<td>Leads by status</td><td>Submitted</td><td>Leads</td><td class=\"text-end\">1</td><td class=\"text-end\">–</td>", late)
    # The summary for the closed period is the snapshot's too.
    assert ZH in client.get("/reports/summary?period=2025").get_data(as_text=True)
    # Closing again is refused; a category shows today's figures, said so.
    again = client.post("/reports/periods/close", data={"period": "2025"})
    assert again.status_code == 200 and "This period is already closed." in again.get_data(as_text=True)
    narrow = client.get("/reports/?period=2025&category=employment").get_data(as_text=True)
    assert re.search(r"below are today(&#39;|')s figures for your selection", narrow)
    # A volunteer sees their station's figures as closed (L6 is Bangkok's: 1 accepted then, 2
    # today) and the late correction apart — like the bureau's.
    volunteer = login("vol_bangkok").get("/reports/?period=2025").get_data(as_text=True)
    assert "the figures below are those kept then" in volunteer and "put together from the figures kept" in volunteer
    assert _table_rows(volunteer, "funnel")[1][1] == "1"
    assert [row[1:] for row in _table_rows(volunteer, "stations")] == [["Bangkok station", "Asean", "3", "1", "1", "0"]]
    late = volunteer[volunteer.index('id="late-corrections"'):]
    assert re.search(r"<td>Funnel</td><td>Accepted</td><td>Leads</td><td class=\"text-end\">1</td>"
                     r"<td class=\"text-end\">2</td>", late)
    assert "Hanoi" not in late and "Milan" not in late
    # Their summary is the snapshot's too: 3 submitted, nothing accepted in 2025 at Bangkok…
    volunteer_summary = login("vol_bangkok").get("/reports/summary?period=2025").get_data(as_text=True)
    assert "提交人才线索3条" in volunteer_summary
    # … and HQ choosing the station sees the same.
    station = client.get(f"/reports/?period=2025&station={world.stations['bangkok']}").get_data(as_text=True)
    assert _table_rows(station, "funnel")[1][1] == "1" and 'id="late-corrections"' in station


def test_figures_kept_per_station_add_up_to_what_compute_counts(app, world, fixture_leads):
    """Every set of stations' figures put together from the per-station snapshot equal ``compute``
    over those stations — on both databases; the times of a set of several stations with leads
    only when a volunteer held that set (medians do not add up)."""
    hanoi, bangkok, milan = (world.stations[k] for k in ("hanoi", "bangkok", "milan"))
    with app.test_request_context():
        period = periods.named("2025")
        whole = F.compute(_selection())
        kept = {**F.station_parts(period), "times": F.times_by_set(period, [(hanoi, milan), (milan,)])}
        assert set(kept["times"]) == {str(hanoi), str(bangkok), str(milan), f"{min(hanoi, milan)},{max(hanoi, milan)}"}
        for stations in [(hanoi,), (bangkok,), (milan,), (hanoi, milan), (milan, hanoi), ()]:
            assert F.combine(period, stations, kept, whole) == F.compute(_selection(stations)), stations
        assert F.combine(period, (hanoi, bangkok), kept, whole) is None
        # A station without leads then (one created since) adds nothing to a set's times.
        assert F.combine(period, (bangkok, 99999), kept, whole) == F.compute(_selection((bangkok, 99999)))


def test_a_volunteer_of_two_stations_sees_their_closed_figures(app, login, world, fixture_leads):
    with app.app_context():
        from liaison.models.user import station_membership

        db.session.execute(station_membership.insert().values(user_id=world.users["vol_hanoi"],
                                                               station_id=world.stations["milan"]))
        db.session.commit()
    assert login("hq").post("/reports/periods/close", data={"period": "2025"}).status_code == 302
    with app.app_context():
        lead = db.session.get(TalentLead, fixture_leads["L10"])  # Milan's: submitted in 2026 (Shanghai)
        lead.submitted_at = D(2025, 12, 1)
        db.session.commit()
    page = login("vol_hanoi").get("/reports/?period=2025").get_data(as_text=True)
    assert "the figures below are those kept then" in page
    assert _table_rows(page, "funnel")[0][1] == "6"  # Hanoi 4 + Milan 2, as closed
    assert re.search(r"<td>Funnel</td><td>Submitted</td><td>Leads</td><td class=\"text-end\">6</td>"
                     r"<td class=\"text-end\">7</td>", page)
    (row,) = [r for r in _table_rows(page, "times") if r[0] == "First review"]
    # Both stations' durations ranked together when closed: 1, 1, 2, 3, 5 and 10 days.
    assert row[1:3] == ["6", "2.5"]


def test_closing_takes_the_same_statements_for_more_stations(app, world, fixture_leads, count_queries):
    """Closing counts every station's figures in statements grouped by station: thirty more
    stations (with leads, contacts and a volunteer of two of them) add no statement."""
    import json

    with app.test_request_context():
        period = periods.named("2025")
        services.snapshot(period)  # what is read once per request (plugins' switches, …) is read

        def selects(counter) -> list[str]:
            return [sql for sql in counter.statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))]

        with count_queries() as counter:
            services.snapshot(period)
        before = len(selects(counter))
        stations = [Station(name=f"Extra {n}", name_zh=f"站{n}", region_id=world.regions["ASEAN" if n % 2 else "EUROPE"],
                            country="DE", city=f"City {n}", host_organisation="Association", sort_key=f"extra {n}")
                    for n in range(30)]
        db.session.add_all(stations)
        db.session.flush()
        for station in stations:
            contact = Contact(station_id=station.id, kind="scholar", name=f"C {station.id}", country="DE",
                              created_at=D(2025, 5, 1), updated_at=D(2025, 5, 1))
            db.session.add(contact)
            db.session.flush()
            lead = TalentLead(contact_id=contact.id, station_id=station.id, category="employment", summary="x",
                              status="accepted", submitted_at=D(2025, 5, 2), status_changed_at=D(2025, 5, 2))
            db.session.add(lead)
            db.session.flush()
            db.session.add(LeadEvent(lead_id=lead.id, kind="status", to_status="accepted",
                                     created_at=D(2025, 5, 4)))
        from liaison.models.user import station_membership

        db.session.execute(station_membership.insert().values(user_id=world.users["vol_milan"],
                                                               station_id=stations[0].id))
        db.session.commit()
        with count_queries() as counter:
            kept = services.snapshot(period)
        assert len(selects(counter)) == before
        assert len(kept["stations"]["parts"]) == 33
        assert len(json.dumps(kept["stations"])) < 20_000  # compact: counts only, per station


def test_reopening_is_an_audited_admin_action(app, login, world, fixture_leads):
    login("hq").post("/reports/periods/close", data={"period": "2025-Q1"})
    with app.app_context():
        record_id = db.session.scalar(select(ReportPeriod.id).where(ReportPeriod.key == "2025-Q1"))
    assert login("hq").post(f"/reports/periods/{record_id}/reopen", data={"reason": "typo"}).status_code == 403
    client = login("admin")
    empty = client.post(f"/reports/periods/{record_id}/reopen", data={"reason": "  "})
    assert empty.status_code == 200 and "This field is required." in empty.get_data(as_text=True)
    assert client.post("/reports/periods/99999/reopen", data={"reason": "x"}).status_code == 404
    response = client.post(f"/reports/periods/{record_id}/reopen", data={"reason": "A landing was recorded late."})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.get(ReportPeriod, record_id)
        assert not record.closed and record.reopened_by_id == world.users["admin"]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.reopen"))
        assert entry.actor_id == world.users["admin"] and entry.details["reason"] == "A landing was recorded late."
    assert "the figures below are those kept then" not in client.get("/reports/?period=2025-Q1").get_data(as_text=True)
    assert client.get("/reports/periods").status_code == 200


@pytest.mark.parametrize("period, message", [
    ("2025-Q9", "Write a year"), ("", "This field is required."), (str(date.today().year), "once it has ended"),
])
def test_bad_close_input(app, login, world, period, message):
    response = login("hq").post("/reports/periods/close", data={"period": period})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(ReportPeriod)) == 0


# The bureau summary ------------------------------------------------------------------------

def test_summary_in_both_languages(app, login, world, fixture_leads):
    with app.test_request_context():
        period = periods.named("2025")
        assert summary.chinese(period, EXPECTED_SUMMARY) == ZH
        assert summary.english(period, EXPECTED_SUMMARY) == EN
        one = {"contacts": 1, "submitted": 1, "accepted": 0, "referred": 0, "landed": 1,
               "landed_by_kind": {"hired": 1, "service_agreement": 2}}
        assert summary.english(periods.named("2025-Q4"), one) == (
            "Q4 2025: 1 new contact, 1 talent lead submitted, 0 accepted, 0 referred, 1 landed "
            "(0 companies registered, 1 person hired, 0 projects signed, 2 service agreements signed).")
        assert summary.chinese(periods.named("2025-11"), one).endswith("签约项目0个、签订服务协议2份）")
    page = login("hq").get("/reports/summary?period=2025").get_data(as_text=True)
    assert ZH in page and EN in page and "/static/reports." in page
    book = load_workbook(io.BytesIO(login("hq").get("/reports/summary.xlsx?period=2025").data))
    sheet = book.worksheets[0]
    assert sheet["A1"].value == ZH and sheet["A2"].value == EN
    figures = {row[1]: row[2] for row in sheet.iter_rows(min_row=6, values_only=True)}
    assert figures["Talent leads submitted"] == 9 and figures["of which: people hired"] == 1
    assert len(book.worksheets) > 5


# Helpers -----------------------------------------------------------------------------------

def _table_block(page: str, key: str) -> str:
    start = page.index(f'id="t-{key.replace(".", "-")}"')
    return page[start:page.index("</section>", start)]


def _table_rows(page: str, key: str) -> list[list[str]]:
    body = _table_block(page, key)
    if "<tbody>" not in body:
        assert "Nothing to count in this period." in body
        return []
    body = body[body.index("<tbody>"):body.index("</tbody>")]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _table_headings(page: str, key: str) -> list[str]:
    body = _table_block(page, key)
    head = body[body.index("<thead>"):body.index("</thead>")]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


# The bundled plugins' sections --------------------------------------------------------------

def _plugin_records(app, world):
    from plugins.asean_language_title import services as asean
    from plugins.europe_school_partnership import services as europe
    from sqlalchemy.orm import selectinload

    from liaison.plugins import activation

    with app.test_request_context():
        admin = db.session.get(User, world.users["admin"])
        activation.set_enabled("asean_language_title", True, admin, region_id=world.regions["ASEAN"])
        activation.set_enabled("europe_school_partnership", True, admin, region_id=world.regions["EUROPE"])
        db.session.commit()
        contact = db.session.scalar(select(Contact).where(Contact.id == world.contacts["hanoi"])
                                    .options(selectinload(Contact.station)))
        application = asean.create_application(contact, {
            "language": "vi", "level": "translator", "practice_years": 6, "current_title": "assistant",
            "current_title_since": date(2018, 3, 1), "education": "BA in Vietnamese"},
            db.session.get(User, world.users["vol_hanoi"]))
        application.submitted_at = D(2025, 6, 1)
        europe.create_partnership(db.session.get(Station, world.stations["milan"]), {
            "home_name": "Wenzhou Technician College", "home_kind": "technician_college", "home_city": "Wenzhou",
            "partner_name": "University of South Wales", "partner_country": "GB", "partner_kind": "university",
            "programme_kind": "joint_3_2", "majors": "智能制造", "first_contact_on": date(2025, 1, 10),
            "contact_ids": []}, admin)
        db.session.commit()


def test_plugin_sections_for_the_stations_where_they_are_on(app, login, world):
    _plugin_records(app, world)
    this_year = str(date.today().year)
    hq = login("hq")
    page = hq.get("/reports/?period=2025").get_data(as_text=True)
    assert "Translator titles in ASEAN languages" in page
    assert _table_rows(page, "asean_language_title.by_language") == [["Vietnamese", "1", "0"]]
    (row,) = _table_rows(page, "asean_language_title.applications")
    assert row[:2] == ["2025", "Vietnamese"] and row[-1] == "1"
    rows = _csv(hq.get("/reports/table/asean_language_title.by_language.csv?period=2025"))
    assert rows == [["Language", "Applications submitted", "Titles granted"], ["Vietnamese", "1", "0"]]
    # The partnership was started this year: not in 2025, in this year's report.
    assert "School partnerships in Europe" in page and _table_rows(page, "europe_school_partnership.stage_country") == []
    page = hq.get(f"/reports/?period={this_year}").get_data(as_text=True)
    row = _table_rows(page, "europe_school_partnership.stage_country")[0]
    assert row[0] == "United Kingdom" and row[-2:] == ["1", "1"]
    # Each region's people see their own plugin's section only.
    milan = login("vol_milan").get(f"/reports/?period={this_year}").get_data(as_text=True)
    assert "School partnerships in Europe" in milan and "Translator titles in ASEAN languages" not in milan
    hanoi = login("vol_hanoi").get("/reports/?period=2025").get_data(as_text=True)
    assert "Translator titles in ASEAN languages" in hanoi and "School partnerships in Europe" not in hanoi
    assert login("vol_hanoi").get(f"/reports/table/europe_school_partnership.stage_country.csv?period={this_year}").status_code == 404


def test_a_closed_period_freezes_plugin_sections_and_each_region(app, login, world, fixture_leads):
    """Closing keeps the plugins' sections (in both languages) and each region's figures: a
    regional admin, or HQ choosing a region, sees the region's snapshot; late corrections to a
    plugin's records are listed apart, like the core figures'."""
    _plugin_records(app, world)
    hq = login("hq")
    assert hq.post("/reports/periods/close", data={"period": "2025"}).status_code == 302
    with app.app_context():
        record = db.session.scalar(select(ReportPeriod).where(ReportPeriod.key == "2025"))
        kept = record.snapshot
        asean = str(world.regions["ASEAN"])
        assert set(kept["sections"]) == {"en", "zh"}
        assert kept["regions"][asean]["figures"]["totals"] == {"submitted": 7, "accepted": 4, "referred": 3, "landed": 2}
        (section,) = [s for s in kept["regions"][asean]["sections"]["en"] if s["plugin"] == "asean_language_title"]
        assert "europe_school_partnership" not in {s["plugin"] for s in kept["regions"][asean]["sections"]["en"]}
        # Late corrections: the application is granted its title, an ASEAN lead is accepted.
        from plugins.asean_language_title.models import TitleApplication
        application = db.session.scalar(select(TitleApplication))
        application.status, application.decision_date = "passed", date(2025, 7, 1)
        lead = db.session.get(TalentLead, fixture_leads["L6"])
        lead.status = "accepted"
        db.session.add(LeadEvent(lead_id=lead.id, kind="status", to_status="accepted",
                                 created_at=lead.submitted_at + timedelta(days=501)))
        db.session.commit()
    page = hq.get("/reports/?period=2025").get_data(as_text=True)
    assert _table_rows(page, "asean_language_title.by_language") == [["Vietnamese", "1", "0"]]  # as closed
    late = page[page.index('id="late-corrections"'):]
    assert re.search(r"<td>Title applications by language</td><td>Vietnamese</td><td>Titles granted</td>"
                     r"<td class=\"text-end\">0</td><td class=\"text-end\">1</td>", late)
    rows = _csv(hq.get("/reports/table/asean_language_title.by_language.csv?period=2025"))
    assert rows[1] == ["Vietnamese", "1", "0"]
    # The same snapshot in Chinese: the labels kept in Chinese.
    zh = hq.get("/reports/?period=2025", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert _table_rows(zh, "asean_language_title.by_language")[0][1:] == ["1", "0"]
    # The ASEAN admin sees the ASEAN snapshot (4 accepted when closed, 5 today), not today's.
    regional = login("asean_admin").get("/reports/?period=2025").get_data(as_text=True)
    assert "the figures below are those kept then" in regional
    assert _table_rows(regional, "funnel")[1][1] == "4"
    assert re.search(r"<td>Funnel</td><td>Accepted</td><td>Leads</td><td class=\"text-end\">4</td>"
                     r"<td class=\"text-end\">5</td>", regional)
    # HQ choosing the region gets the same; a station its figures as closed (the plugins'
    # sections today's, said so); a category is today's, said so.
    chosen = hq.get("/reports/?period=2025&region=ASEAN").get_data(as_text=True)
    assert _table_rows(chosen, "funnel")[1][1] == "4"
    station = hq.get(f"/reports/?period=2025&station={world.stations['hanoi']}").get_data(as_text=True)
    assert "the sections below (events, demands, plugins) are today" in station
    assert _table_rows(station, "funnel")[1][1] == "3"
    assert _table_rows(station, "asean_language_title.by_language") == [["Vietnamese", "1", "1"]]  # today's
    category = hq.get("/reports/?period=2025&region=ASEAN&category=project").get_data(as_text=True)
    assert re.search(r"below are today(&#39;|')s figures for your selection", category)


# Review deadlines kept (issue 15's on-time rates) -----------------------------------------------
# Calendar days (5 to start the review, 14 to answer, 30 to refer), from the fixture's timeline:
# on time, late, open and overdue at the end of 2025 — per deadline and per station.
EXPECTED_ON_TIME = {"submitted": (8, 1, 1), "needs_info": (1, 0, 0), "accepted": (5, 0, 2)}
EXPECTED_ON_TIME_STATIONS = {"hanoi": (8, 0, 1), "bangkok": (3, 0, 1), "milan": (3, 1, 1)}


def test_review_deadlines_kept_against_the_hand_computed_fixture(app, login, world, fixture_leads):
    with app.test_request_context():
        kept = F.on_time(_selection())
    totals = {status: tuple(sum(row["by_status"].get(status, {}).get(name, 0) for row in kept["by_station"])
                            for name in ("on_time", "late", "open_overdue")) for status in kept["statuses"]}
    assert totals == EXPECTED_ON_TIME
    names = {world.stations[key]: key for key in ("hanoi", "bangkok", "milan")}
    stations = {names[row["station_id"]]: tuple(sum(c[name] for c in row["by_status"].values())
                                               for name in ("on_time", "late", "open_overdue"))
                for row in kept["by_station"]}
    assert stations == EXPECTED_ON_TIME_STATIONS
    page = login("hq").get("/reports/?period=2025").get_data(as_text=True)
    assert _table_rows(page, "on_time") == [["Review started (from submitted)", "8", "1", "88.9%", "1"],
                                            ["Answered by the station (from needs information)", "1", "0", "100.0%", "0"],
                                            ["Referred (from accepted)", "5", "0", "100.0%", "2"]]
    assert _table_rows(page, "on_time_region") == [["Asean", "11", "0", "100.0%", "2"],
                                                   ["Europe", "3", "1", "75.0%", "1"]]
    assert ["Milan station", "Europe", "3", "1", "75.0%", "1"] in _table_rows(page, "on_time_station")
    rows = _csv(login("hq").get("/reports/table/on_time.csv?period=2025"))
    assert rows[0] == ["Deadline", "On time", "Late", "On-time rate", "Open, overdue"] and rows[1][1:] == ["8", "1", "88.9%", "1"]
    # A volunteer sees their station's only.
    hanoi = login("vol_hanoi").get("/reports/?period=2025").get_data(as_text=True)
    assert _table_rows(hanoi, "on_time_station") == [["Hanoi station", "Asean", "8", "0", "100.0%", "1"]]
    zh = login("hq").get("/reports/?period=2025", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert _table_rows(zh, "on_time")[0][1:] == ["8", "1", "88.9%", "1"]


@pytest.mark.parametrize("working", [False, True])
def test_review_deadlines_kept_agree_with_the_deadline_rules(app, world, working):
    """The SQL figures (a calendar of due dates joined in SQL for working days) agree with the
    deadline rules applied lead by lead (``on_time_rates``), across the Spring Festival and the
    National Day weeks of 2025."""
    import random

    from liaison.assignment.services import on_time_rates

    app.config["LEAD_DEADLINE_WORKING_DAYS"] = working
    rng = random.Random(13)
    with app.test_request_context():
        hq = world.users["hq"]
        for n in range(40):
            station = rng.choice(["hanoi", "bangkok", "milan"])
            at = D(2025, 1, 20) + timedelta(minutes=rng.randrange(60 * 24 * 330))
            lead = TalentLead(contact_id=world.contacts[station], station_id=world.stations[station],
                              submitter_id=world.users[f"vol_{station}"], category="employment", summary=f"R{n}",
                              status="submitted", submitted_at=at, created_at=at, updated_at=at, status_changed_at=at)
            db.session.add(lead)
            db.session.flush()
            previous = "draft"
            for status in ("submitted", "under_review", "needs_info", "submitted", "under_review", "accepted",
                           "referred")[: rng.randrange(1, 8)]:
                db.session.add(LeadEvent(lead_id=lead.id, actor_id=hq, kind="status", from_status=previous,
                                         to_status=status, created_at=at))
                previous, lead.status = status, status
                at += timedelta(hours=rng.randrange(1, 24 * 40))
        db.session.commit()
        kept = F.on_time(_selection())
        start, end = periods.named("2025").utc_bounds()
        expected = on_time_rates(start, end)
        for status in kept["statuses"]:
            on, late = (sum(row["by_status"].get(status, {}).get(name, 0) for row in kept["by_station"])
                        for name in ("on_time", "late"))
            assert (on, on + late) == expected[status], status
        db.session.remove()


def test_figures_are_recomputed_when_the_data_changes(app, world, fixture_leads, count_queries):
    """The per-process cache of computed figures never serves figures of older data."""
    with app.test_request_context():
        selection = _selection()
        first = services.live_figures(selection)
        with count_queries() as counter:
            assert services.live_figures(selection) == first
        assert len([s for s in counter.statements if "GROUP BY" in s.upper()]) == 0  # served from the cache
        lead = db.session.get(TalentLead, fixture_leads["L6"])
        db.session.add(LeadEvent(lead_id=lead.id, kind="status", to_status="under_review",
                                 created_at=lead.submitted_at + timedelta(days=2)))
        db.session.commit()
        assert services.live_figures(selection)["times"]["review"]["count"] == 8
        app.config["REPORTS_CACHE_SECONDS"] = 0
        with count_queries() as counter:
            services.live_figures(selection)
        assert len([s for s in counter.statements if "GROUP BY" in s.upper()]) == 9


def test_lead_counts_read_the_covering_index(app, world, fixture_leads, database_url):
    """SQLite: the counts by status, category and station walk ix_leads_report alone (no table
    row); the months walk the period's range of ix_leads_submitted."""
    if not database_url.startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from sqlalchemy import event

    with app.test_request_context():
        for stations in (None, (world.stations["hanoi"], world.stations["milan"])):
            selection = _selection(stations)
            for figure, index in ((F.by_status, "ix_leads_report"), (F.by_category, "ix_leads_report"),
                                  (F.by_station, "ix_leads_report"),
                                  (lambda s: F.by_month(s, {}), "ix_leads_submitted")):
                sent = []

                def capture(_conn, _cursor, sql, params, *_args):
                    sent.append((sql, params))

                event.listen(db.engine, "before_cursor_execute", capture)
                try:
                    figure(selection)
                finally:
                    event.remove(db.engine, "before_cursor_execute", capture)
                (sql, params), = [(q, p) for q, p in sent if q.lstrip().upper().startswith("SELECT")]
                plan = [row[3] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
                lines = [line for line in plan if re.search(r"\bleads\b", line)]
                assert lines and not any(re.match(r"SCAN leads\b(?! USING (COVERING )?INDEX)", line) for line in lines), plan
                if stations is None:
                    assert all("COVERING INDEX" in line and index in line for line in lines), plan


@pytest.mark.parametrize("who", ["hq", "vol_milan"])
def test_report_pages_in_both_languages(client, auth, world, fixture_leads, who):
    from .test_i18n import CHINESE_UI, ENGLISH_UI, visible_text

    auth.login(world.emails[who])
    paths = ["/reports/?period=2025", "/reports/summary?period=2025-Q4", "/reports/?period=2025-11&category=employment"]
    if who == "hq":
        paths.append("/reports/periods")
    client.post("/language", data={"locale": "zh_Hans_CN"})
    for path in paths:
        text = visible_text(client.get(path).get_data(as_text=True))
        leftovers = [word for word in ENGLISH_UI + ["Funnel", "Median", "Closed periods", "Ranking"]
                     if re.search(rf"\b{re.escape(word)}\b", text)]
        assert not leftovers, (path, leftovers)
        assert "统计报表" in text or "工作情况汇总" in text or "已关账期间" in text, path
    assert "转化漏斗" in visible_text(client.get("/reports/?period=2025").get_data(as_text=True))
    client.post("/language", data={"locale": "en"})
    for path in paths:
        text = visible_text(client.get(path).get_data(as_text=True))
        if "/summary" in path:  # the bureau summary is in both languages, whatever the page's
            assert "2025年第四季度：" in text and "Q4 2025: " in text and "Summary for the bureau" in text
            continue
        assert not [word for word in CHINESE_UI + ["转化漏斗", "中位数"] if word in text], path
