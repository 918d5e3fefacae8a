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
