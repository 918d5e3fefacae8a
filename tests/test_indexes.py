"""Every list query is served by an index: on 10,000 leads, SQLite's EXPLAIN QUERY PLAN of each
sort, filter and search of the lists shows no full table scan where an index should serve."""
from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from liaison import search
from liaison.contacts import services as contact_services
from liaison.i18n import name_order
from liaison.leads.queries import SORTS, LeadFilters, filtered_leads
from liaison.models import Contact, LeadStatus, Station, TalentLead, User, db
from liaison.models.contact import contact_search_keys
from liaison.scope import visible_stations_query

from .helpers import query_plan, selects_sent

N_LEADS = 10_000
N_CONTACTS = 2_000
N_STATIONS = 40

FULL_SCAN = re.compile(r"^SCAN (leads|contacts|stations)\b(?! USING (COVERING )?INDEX)")
# A search reads the matching rows only: no walk along a sort index over the whole table.
ANY_SCAN = re.compile(r"^SCAN (leads|contacts)\b")

pytestmark = pytest.mark.usefixtures("world")


def _bulk(world) -> None:
    """10,000 leads and 2,000 contacts over 43 stations, inserted in bulk (search columns filled by
    the same functions the ORM uses), then ANALYZE."""
    rng = random.Random(9)
    region_ids = list(world.regions.values())
    station_rows = [{"name": f"Station {i}", "country": "DE", "city": f"City {i}", "region_id": region_ids[i % 2],
                     "host_organisation": "Association", "sort_key": f"station {i}"} for i in range(N_STATIONS)]
    db.session.execute(insert(Station.__table__), station_rows)
    station_ids = list(db.session.scalars(select(Station.id)))
    surnames, given = "王李张刘陈杨黄赵吴周", "明华伟芳娜敏静丽强磊"
    contacts = []
    for i in range(N_CONTACTS):
        name_zh = rng.choice(surnames) + rng.choice(given) + (rng.choice(given) if i % 2 else "")
        name = f"Person {i} Nguyễn"
        contacts.append({"station_id": rng.choice(station_ids), "kind": "scholar", "name": name, "name_zh": name_zh,
                         "organisation": f"University {i % 300}", "sort_key": f"person {i:05d}",
                         "search_text": search.contact_search_text(name, name_zh, None, f"University {i % 300}", None)})
    db.session.execute(insert(Contact.__table__), contacts)
    contact_rows = db.session.execute(select(Contact.id, Contact.station_id, Contact.name, Contact.name_zh)).all()
    db.session.execute(insert(contact_search_keys), [
        {"contact_id": cid, "key": key}
        for cid, _station, name, name_zh in contact_rows if cid not in world.contacts.values()
        for key in search.contact_search_keys(name, name_zh, None, None)])
    statuses = [s.value for s in LeadStatus]
    reviewers = [world.users["hq"], world.users["hq2"], None]
    start = datetime(2024, 1, 1)
    leads = []
    for i in range(N_LEADS):
        contact_id, station_id, _name, _zh = contact_rows[rng.randrange(len(contact_rows))]
        status = "draft" if i % 10 == 0 else rng.choice(statuses[1:])
        when = start + timedelta(minutes=97 * i)
        summary = f"Lead {i} about topic {i % 500} in field work"
        leads.append({"contact_id": contact_id, "station_id": station_id, "category": rng.choice(["employment", "project", "referral"]),
                      "summary": summary, "field": f"Field {i % 40}", "priority": rng.randint(1, 3), "status": status,
                      "reviewer_id": None if status == "draft" else rng.choice(reviewers),
                      "submitted_at": None if status == "draft" else when, "created_at": when, "updated_at": when,
                      "status_changed_at": when, "search_text": search.lead_search_text(summary, f"Field {i % 40}")})
    db.session.execute(insert(TalentLead.__table__), leads)
    db.session.commit()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def _plan(statement) -> list[str]:
    """EXPLAIN QUERY PLAN of ``statement`` exactly as SQLAlchemy sends it (with its parameters)."""
    sql, params = selects_sent(lambda: db.session.execute(statement).all())[-1]  # after what the session sends first
    return query_plan(sql, params)


def _check(cases: dict, pattern=FULL_SCAN) -> list[str]:
    bad = []
    for label, statement in cases.items():
        plan = _plan(statement)
        if any(pattern.search(line) for line in plan):
            bad.append(f"{label}: {plan}")
    return bad


def test_list_queries_use_indexes(app, world, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL's plans are checked in test_search")
    with app.test_request_context():
        _bulk(world)  # built once for both checks: 10,000 rows take a few seconds
        # The check itself sees a full scan when there is one.
        assert _check({"unindexed": select(TalentLead).order_by(TalentLead.wants).limit(25)})
        assert _check({"like": select(TalentLead).where(TalentLead.summary.ilike("%topic%")).limit(25)}, ANY_SCAN)
        _check_lead_lists(world)
        _check_contact_and_station_lists(world)
        _check_figures()


def _check_lead_lists(world):
    hq = db.session.get(User, world.users["hq"])
    volunteer = db.session.get(User, world.users["vol_hanoi"])
    regional = db.session.get(User, world.users["asean_admin"])
    station_id = db.session.scalar(select(Station.id).where(Station.name == "Station 7"))
    day = date(2024, 6, 1)
    filters = {
        "status": LeadFilters(status="submitted"),
        "open": LeadFilters(status="open"),
        "region": LeadFilters(region="ASEAN"),
        "station": LeadFilters(station_id=station_id),
        "category": LeadFilters(category="referral"),
        "reviewer me": LeadFilters(reviewer="me"),
        "reviewer none": LeadFilters(reviewer="none"),
        "reviewer id": LeadFilters(reviewer=str(world.users["hq2"])),
        "dates": LeadFilters(submitted_from=day, submitted_to=day + timedelta(days=7)),
        "station and status": LeadFilters(station_id=station_id, status="under_review"),
    }
    cases = {}
    for sort in SORTS:
        cases[f"hq {sort}"] = filtered_leads(hq, LeadFilters(sort=sort)).limit(25)
        cases[f"volunteer {sort}"] = filtered_leads(volunteer, LeadFilters(sort=sort)).limit(25)
        cases[f"regional {sort}"] = filtered_leads(regional, LeadFilters(sort=sort)).limit(25)
        cases[f"queue {sort}"] = (filtered_leads(hq, LeadFilters(sort=sort))
                                  .where(TalentLead.status != LeadStatus.DRAFT).limit(25))
        for label, base in filters.items():
            base.sort = sort
            cases[f"{label} {sort}"] = filtered_leads(hq, base).limit(25)
    assert _check(cases) == []

    searches = {q: filtered_leads(hq, LeadFilters(q=q)).limit(25)
                for q in ("topic 42", "nguyễn", "person 1234", "王明", "王", "#1234", "university 7")}
    searches["volunteer search"] = filtered_leads(volunteer, LeadFilters(q="topic 42")).limit(25)
    searches["filtered search"] = filtered_leads(hq, LeadFilters(q="field 3", status="submitted")).limit(25)
    assert _check(searches, ANY_SCAN) == []
    # The search finds what it should, through the index.
    assert len(db.session.scalars(filtered_leads(hq, LeadFilters(q="topic 42 in"))).all()) == 20


def _check_contact_and_station_lists(world):
    hq = db.session.get(User, world.users["hq"])
    volunteer = db.session.get(User, world.users["vol_hanoi"])
    station_id = db.session.scalar(select(Station.id).where(Station.name == "Station 7"))
    cases = {}
    for order in ((Contact.sort_key, Contact.id), (Contact.name, Contact.id)):
        label = order[0].key
        cases[f"hq {label}"] = contact_services.search(hq).order_by(*order).limit(25)
        cases[f"volunteer {label}"] = contact_services.search(volunteer).order_by(*order).limit(25)
        cases[f"station {label}"] = contact_services.search(hq, station_id=station_id).order_by(*order).limit(25)
    cases["stations"] = visible_stations_query(hq).limit(25)
    cases["stations by name"] = select(Station).order_by(*name_order(Station)).limit(25)
    assert _check(cases) == []
    searches = {q: contact_services.search(hq, q=q).order_by(Contact.sort_key, Contact.id).limit(25)
                for q in ("nguyen", "王明", "明", "university 12", "person 1")}
    assert _check(searches, ANY_SCAN) == []
    assert len(db.session.scalars(contact_services.search(hq, q="university 299")).all()) == 6


def _plans_of(compute) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of every SELECT ``compute()`` sends."""
    return {sql: query_plan(sql, params) for sql, params in selects_sent(compute, ("SELECT", "WITH"))}


def _check_figures():
    """The home page's HQ figures and the report's "leads from demands / events" read indexes only
    (the latter through the partial indexes, which hold just those leads): no walk over every lead."""
    from liaison.demands import reports as demand_reports
    from liaison.events import reports as event_reports
    from liaison.reports import periods
    from liaison.scorecard import dashboards

    period = periods.named("2024")
    computations = {
        "queue by age": dashboards.queue_by_age,
        "funnel": lambda: dashboards.funnel_years(2024),
        "landings by month": lambda: dashboards.landings_by_month(date(2024, 12, 31)),
        "leads from demands": lambda: demand_reports.match_counts(period, None),
        "leads from events": lambda: event_reports.section(period, None),
    }
    partial = {"source_demand_id IS NOT NULL": "ix_leads_from_demand", "source_event_id IS NOT NULL": "ix_leads_from_event"}
    bad, served = [], set()
    for label, compute in computations.items():
        for sql, plan in _plans_of(compute).items():
            if " leads" in sql and any(ANY_SCAN.search(line) for line in plan):
                bad.append(f"{label}: {plan}\n{sql}")
            for condition, index in partial.items():
                if condition in sql:
                    # without it SQLite walks every lead station by station (a SEARCH, not a SCAN)
                    if any(index in line for line in plan):
                        served.add(index)
                    else:
                        bad.append(f"{label}: {plan}\n{sql}")
    assert bad == []
    assert served == set(partial.values())
