"""No page issues a query per row: the statement count does not grow with the data."""
import pytest

from liaison.models import LeadStatus

from .factories import make_lead


def _grow(app, world, leads_per_station=6):
    with app.test_request_context():
        for station in ("hanoi", "bangkok", "milan"):
            for index in range(leads_per_station):
                make_lead(world, station, [LeadStatus.SUBMITTED, LeadStatus.UNDER_REVIEW, LeadStatus.REFERRED][index % 3])


PAGES = {
    "hq": ["/", "/leads/", "/review/", "/review/?sort=-priority", "/contacts/", "/stations/", "/review/report",
           "/exports/leads.xlsx"],
    "asean_admin": ["/", "/leads/", "/contacts/", "/stations/", "/admin/users", "/admin/plugins/"],
    "vol_hanoi": ["/", "/leads/", "/contacts/", "/stations/"],
    "admin": ["/admin/users", "/admin/regions"],
}


@pytest.mark.parametrize("role", list(PAGES))
def test_list_pages_do_not_query_per_row(app, login, world, count_queries, role):
    client = login(role)
    before = {}
    for path in PAGES[role]:
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        before[path] = counter.count
    _grow(app, world)
    for path in PAGES[role]:
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        assert counter.count == before[path], (path, before[path], counter.count)


def test_lead_detail_does_not_query_per_event(app, login, world, count_queries):
    client = login("hq")
    with app.test_request_context():
        short = make_lead(world, "hanoi", LeadStatus.WITHDRAWN)  # closed, like the long one: same page parts
        long = make_lead(world, "hanoi", LeadStatus.LANDED)
    with count_queries() as few:
        client.get(f"/leads/{short}")
    with count_queries() as many:
        client.get(f"/leads/{long}")
    assert many.count == few.count


def test_lead_detail_loads_its_to_one_relations_with_the_lead(app, login, world, count_queries):
    """Contact, station, region, submitter and reviewer come with the lead's own statement; a
    separate statement per relation is per-request overhead on the most visited page."""
    client = login("hq")
    with app.test_request_context():
        lead = make_lead(world, "hanoi", LeadStatus.UNDER_REVIEW)
    with count_queries() as counter:
        response = client.get(f"/leads/{lead}")
    assert response.status_code == 200
    statements = [" ".join(s.split()) + " " for s in counter.statements]
    separate = [s for s in statements if s.startswith("SELECT") and " FROM leads " not in s
                and any(f" FROM {table} " in s for table in ("contacts", "stations", "regions"))]
    assert separate == []
    assert sum(" FROM leads " in s for s in statements) == 1
