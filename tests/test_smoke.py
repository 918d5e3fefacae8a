"""Every main page answers 200 for the roles that may see it."""
import pytest

COMMON = ["/", "/stations/", "/contacts/", "/leads/", "/profile", "/leads/?status=open&sort=-priority",
          "/exports/leads.xlsx", "/exports/contacts.xlsx"]
EXTRA = {
    "admin": ["/review/", "/review/report", "/admin/users", "/admin/regions", "/admin/plugins/", "/admin/users/new",
              "/admin/regions/new", "/stations/new"],
    "hq": ["/review/", "/review/report", "/review/?status=submitted&reviewer=none&sort=-priority"],
    "asean_admin": ["/admin/users", "/admin/plugins/", "/admin/users/new", "/stations/new", "/contacts/new"],
    "europe_admin": ["/admin/users", "/admin/plugins/", "/stations/new"],
    "vol_hanoi": ["/contacts/new"],
}
OWN_STATION = {"admin": "hanoi", "hq": "milan", "asean_admin": "bangkok", "europe_admin": "milan", "vol_hanoi": "hanoi"}


@pytest.mark.parametrize("role", list(EXTRA))
def test_main_pages_render(login, world, role):
    client = login(role)
    station = OWN_STATION[role]
    records = [f"/stations/{world.stations[station]}", f"/contacts/{world.contacts[station]}",
               f"/leads/{world.leads[station + '_submitted']}", f"/leads/{world.leads[station + '_draft']}"]
    for path in COMMON + EXTRA[role] + records:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
