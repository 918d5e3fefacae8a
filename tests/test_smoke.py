"""Every main page answers 200 for the roles that may see it."""
import pytest

PAGES = ["/", "/stations/", "/contacts/", "/leads/", "/auth-profile"]


@pytest.mark.parametrize("role", ["admin", "hq", "asean_admin", "europe_admin", "vol_hanoi"])
def test_main_pages_render(login, world, role):
    client = login(role)
    for path in ["/", "/stations/", "/contacts/", "/leads/", "/profile",
                 f"/stations/{world.stations['hanoi']}" if role in ("admin", "hq", "asean_admin", "vol_hanoi") else f"/stations/{world.stations['milan']}"]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
