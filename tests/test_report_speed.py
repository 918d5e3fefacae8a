"""Issue 9, second pass: the HQ report counts in SQL through one covering index, a search
combined with an indexed filter walks that filter's index, and the contact list reads the
stations once. Checked on a few thousand leads with SQLite's EXPLAIN QUERY PLAN (as
tests/test_indexes.py does) and against figures computed in Python."""
from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from liaison import search
from liaison.i18n import utc_start_of
from liaison.leads.queries import LeadFilters, filtered_leads
from liaison.models import LeadStatus, Region, Station, TalentLead, User, db
from liaison.review.services import REACHED, build_report

from .helpers import query_plan, selects_sent

N_LEADS = 3_000
N_STATIONS = 20
CATEGORIES = ["employment", "project", "referral"]
KINDS = ["hired", "project_signed", "company_founded"]

pytestmark = pytest.mark.usefixtures("world")


def _bulk(world) -> list[dict]:
    """3,000 leads over 23 stations in both regions, some landed, drafts unsubmitted; then ANALYZE."""
    rng = random.Random(11)
    region_ids = list(world.regions.values())
    db.session.execute(insert(Station.__table__), [
        {"name": f"Station {i}", "country": "DE", "city": f"City {i}", "region_id": region_ids[i % 2],
         "host_organisation": "Association", "sort_key": f"station {i}"} for i in range(N_STATIONS)])
    station_ids = list(db.session.scalars(select(Station.id)))
    contact_id = world.contacts["hanoi"]
    statuses = [s.value for s in LeadStatus]
    start = datetime(2023, 1, 1)
    leads = []
    for i in range(N_LEADS):
        status = "draft" if i % 10 == 0 else rng.choice(statuses[1:])
        when = start + timedelta(hours=11 * i)
        summary = f"Lead {i} about {'battery' if i % 3 == 0 else 'solar'} cells"
        landed = status == "landed"
        leads.append({"contact_id": contact_id, "station_id": rng.choice(station_ids), "category": rng.choice(CATEGORIES),
                      "summary": summary, "field": "Chemistry", "priority": 2, "status": status,
                      "submitted_at": None if status == "draft" else when, "created_at": when, "updated_at": when,
                      "status_changed_at": when, "search_text": search.lead_search_text(summary, "Chemistry"),
                      "landed_on": (when + timedelta(days=200)).date() if landed else None,
                      "landing_kind": rng.choice(KINDS) if landed else None})
    db.session.execute(insert(TalentLead.__table__), leads)
    db.session.commit()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    return leads


def _expected(leads: list[dict], first: date | None = None, last: date | None = None):
    region_of = dict(db.session.execute(select(Station.id, Region.code).join(Region)).all())
    chosen = [lead for lead in leads if lead["submitted_at"] is not None
              and (first is None or lead["submitted_at"] >= utc_start_of(first))
              and (last is None or lead["submitted_at"] < utc_start_of(last + timedelta(days=1)))]
    totals, regions = Counter(), Counter()
    for lead in chosen:
        for stage, reached in REACHED.items():
            if lead["status"] in reached:
                totals[stage] += 1
                regions[region_of[lead["station_id"]], stage] += 1
        if lead["status"] == "rejected":
            totals["rejected"] += 1
    kinds = Counter(lead["landing_kind"] for lead in chosen if lead["status"] == "landed")
    years = Counter(lead["landed_on"].year for lead in leads if lead["status"] == "landed")
    return dict(totals), dict(regions), dict(kinds), dict(years)


def test_report_counts_through_one_covering_index(app, world, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with app.test_request_context():
        leads = _bulk(world)
        # The figures are right, with and without a period (the world's own leads are in 2024–25:
        # the period below leaves them out).
        for first, last in ((None, None), (date(2023, 3, 1), date(2023, 9, 30))):
            report = build_report(first, last)
            statements = selects_sent(lambda first=first, last=last: build_report(first, last))
            totals, regions, kinds, years = _expected(leads, first, last)
            if first is None:  # the world's leads count too
                world_leads = db.session.execute(select(TalentLead.status, TalentLead.submitted_at)
                                                  .where(TalentLead.summary.not_like("Lead % cells"))).all()
                assert all(submitted is None or submitted.year >= 2024 for _s, submitted in world_leads)
            else:
                assert report.totals == totals
                assert {(row["code"], stage): row[stage] for row in report.by_region for stage in REACHED
                        if row[stage]} == regions
                assert report.landed_by_kind == kinds
            assert {y: n for y, n in report.landed_by_year.items() if y < 2024} == \
                {y: n for y, n in years.items() if y < 2024}
            assert len(statements) == 3
            # Every query reads leads through ix_leads_report only: no table row, no other index.
            for sql, params in statements:
                plan = query_plan(sql, params)
                lead_lines = [line for line in plan if re.search(r"\bleads\b", line)]
                assert lead_lines, plan
                if first is None:
                    assert all("USING COVERING INDEX ix_leads_report" in line for line in lead_lines), plan
                else:  # a period: the planner may take an index range over submitted_at instead
                    assert not any(re.match(r"SCAN leads\b(?! USING (COVERING )?INDEX)", line) for line in plan), plan
        # The per-station counts are grouped in the index's order: no sort over the leads.
        unfiltered = query_plan(*selects_sent(lambda: build_report())[0])
        scan = unfiltered.index("SCAN leads USING COVERING INDEX ix_leads_report")
        assert not unfiltered[scan + 1].startswith("USE TEMP B-TREE"), unfiltered

def test_search_with_an_indexed_filter_walks_the_filter_index(app, world, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with app.test_request_context():
        _bulk(world)
        hq = db.session.get(User, world.users["hq"])
        for filters in (LeadFilters(q="battery", region="ASEAN", status="submitted"),
                        LeadFilters(q="battery", status="under_review"),
                        LeadFilters(q="battery", station_id=world.stations["hanoi"])):
            stmt = filtered_leads(hq, filters).limit(51)
            (sql, params), = selects_sent(lambda stmt=stmt: db.session.execute(stmt).all())
            plan = query_plan(sql, params)
            # Driven from the filter's index, the matches probed as a set — not every matching
            # lead fetched by primary key and then discarded.
            assert plan[0].startswith("SEARCH leads USING") and "INTEGER PRIMARY KEY" not in plan[0], plan
            # The same leads as the plain condition (driven from the matches) finds.
            plain = filtered_leads(hq, LeadFilters(region=filters.region, status=filters.status,
                                                   station_id=filters.station_id)).where(search.lead_condition(filters.q))
            found = set(db.session.scalars(filtered_leads(hq, filters).with_only_columns(TalentLead.id)))
            assert found and found == set(db.session.scalars(plain.with_only_columns(TalentLead.id)))
        # The search alone still drives from the text index.
        plan = query_plan(*selects_sent(lambda: db.session.execute(filtered_leads(hq, LeadFilters(q="battery")).limit(51)).all())[0])
        assert not any(re.match(r"SCAN leads\b", line) for line in plan), plan


def test_contact_list_reads_the_stations_once(app, login, world, count_queries):
    client = login("hq")
    with count_queries() as counter:
        page = client.get("/contacts/", query_string={"station": world.stations["milan"]})
    assert page.status_code == 200
    assert sum(1 for sql in counter.statements if re.search(r"\bFROM stations\b", sql)
               and "stations.id IN" not in sql) == 1, counter.statements
    html = page.get_data(as_text=True)
    assert re.search(rf'<option selected value="{world.stations["milan"]}">', html)
    assert "/contacts/new" not in html  # HQ reviewers record no contacts
    volunteer = login("vol_hanoi")
    assert "/contacts/new" in volunteer.get("/contacts/").get_data(as_text=True)
