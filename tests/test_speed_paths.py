"""The faster paths of issue 9's per-request work give the same answers as the plain ones:
the lead search narrowed by a filter (PostgreSQL tests the lead's own row), the home page's and
the contact list's relations loaded without extra statements, and WTForms' messages from a catalog
loaded once per process."""
from __future__ import annotations

import re

import pytest
from liaison.leads.queries import LeadFilters, filtered_leads
from liaison.models import LeadStatus, Station, TalentLead, User, db

from .factories import make_lead


def _ids(user_id: int, **filters) -> set[int]:
    user = db.session.get(User, user_id)
    return set(db.session.scalars(filtered_leads(user, LeadFilters(**filters)).with_only_columns(TalentLead.id)))


def test_narrowed_search_finds_what_the_plain_search_finds_within_the_filter(app, world):
    with app.test_request_context():
        hq = world.users["hq"]
        battery = make_lead(world, "hanoi", LeadStatus.SUBMITTED, summary="Battery chemist, solid-state cells")
        make_lead(world, "hanoi", LeadStatus.UNDER_REVIEW, summary="Battery recycling plant")
        make_lead(world, "milan", LeadStatus.SUBMITTED, summary="Battery line in Turin")
        other = make_lead(world, "hanoi", LeadStatus.SUBMITTED, summary="Drone software")
        hanoi = db.session.get(Station, world.stations["hanoi"])
        region = "ASEAN"  # Hanoi's (tests/factories.py)
        for q in ("battery", "BATTERY cells", "nguyen", "阮文安", "an", "阮文", f"#{other}", "zzz", "ba"):
            plain = _ids(hq, q=q)
            submitted = _ids(hq, status="submitted")
            in_region = _ids(hq, region=region)
            at_station = _ids(hq, station_id=hanoi.id)
            assert _ids(hq, q=q, status="submitted") == plain & submitted, q
            assert _ids(hq, q=q, region=region, status="submitted") == plain & submitted & in_region, q
            assert _ids(hq, q=q, station_id=hanoi.id) == plain & at_station, q
        assert battery in _ids(hq, q="battery", region=region, status="submitted")
        assert other in _ids(hq, q="nguyen", region=region, status="submitted")  # through its contact
        assert other not in _ids(hq, q="battery", region=region, status="submitted")


@pytest.mark.parametrize("key, path", [("vol_hanoi", "/"), ("hq", "/"), ("hq", "/contacts/")])
def test_lists_load_their_relations_in_the_list_query(app, world, login, count_queries, key, path):
    with app.app_context():
        make_lead(world, "hanoi", LeadStatus.NEEDS_INFO)
        make_lead(world, "hanoi", LeadStatus.SUBMITTED)
    client = login(key)
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    # a select-in load names the ids it fetches ("WHERE stations.id IN (?, ?)"), a lazy load one id
    lookups = [s for s in counter.statements
               if re.search(r"FROM (contacts|stations)\s+WHERE \1\.id (IN \((?!SELECT)|= )", s)]
    assert lookups == [], lookups


def test_lead_page_in_chinese_keeps_wtforms_messages_translated(app, world, login):
    with app.app_context():
        lead_id = make_lead(world, "hanoi", LeadStatus.DRAFT)
    client = login("vol_hanoi")
    response = client.post(f"/leads/{lead_id}/edit", data={"category": "", "summary": "", "priority": "x"},
                           headers={"Accept-Language": "zh"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "该字段是必填字段。" in body  # WTForms' own message, from its Chinese catalog
    response = client.post(f"/leads/{lead_id}/edit", data={"category": "", "summary": "", "priority": "x"},
                           headers={"Accept-Language": "en"})
    assert "This field is required." in response.get_data(as_text=True)
    assert "该字段是必填字段。" not in response.get_data(as_text=True)
