"""Scope: nobody sees records outside their stations or regions, by id, in lists or in search."""
import pytest

from liaison.models import Contact, TalentLead, db
from liaison.scope import scoped

from .factories import make_lead


def _pages(world, station):
    return [
        f"/contacts/{world.contacts[station]}",
        f"/contacts/{world.contacts[station]}/edit",
        f"/leads/{world.leads[station + '_draft']}",
        f"/leads/{world.leads[station + '_draft']}/edit",
        f"/leads/{world.leads[station + '_submitted']}",
        f"/leads/new?contact_id={world.contacts[station]}",
        f"/stations/{world.stations[station]}",
    ]


@pytest.mark.parametrize("role,foreign", [
    ("vol_hanoi", "bangkok"), ("vol_hanoi", "milan"), ("vol_milan", "hanoi"),
    ("asean_admin", "milan"), ("europe_admin", "hanoi"), ("europe_admin", "bangkok"),
])
def test_foreign_records_are_404(login, world, role, foreign):
    client = login(role)
    for path in _pages(world, foreign):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("role,foreign", [("vol_hanoi", "bangkok"), ("vol_milan", "hanoi"), ("asean_admin", "milan")])
def test_foreign_records_are_404_for_posts(login, world, role, foreign):
    client = login(role)
    lead = world.leads[foreign + "_submitted"]
    for path, data in [
        (f"/leads/{lead}/move", {"move": "withdraw", "version": "1"}),
        (f"/leads/{lead}/comment", {"text": "hello"}),
        (f"/contacts/{world.contacts[foreign]}/edit", {"name": "X", "kind": "scholar"}),
        (f"/stations/{world.stations[foreign]}/status", {"status-status": "closed"}),
    ]:
        assert client.post(path, data=data).status_code == 404, path


@pytest.mark.parametrize("role,own,foreign", [
    ("vol_hanoi", ["Nguyen Van An"], ["Somchai Jaidee", "Marco Rossi"]),
    ("asean_admin", ["Nguyen Van An", "Somchai Jaidee"], ["Marco Rossi"]),
    ("europe_admin", ["Marco Rossi"], ["Nguyen Van An", "Somchai Jaidee"]),
    ("hq", ["Nguyen Van An", "Somchai Jaidee", "Marco Rossi"], []),
])
def test_lists_and_search_show_only_own_records(login, world, role, own, foreign):
    client = login(role)
    for path in ["/contacts/", "/leads/", "/leads/?status=open", "/stations/", "/"]:
        page = client.get(path).get_data(as_text=True)
        if path.startswith(("/contacts", "/leads")):
            for name in own:
                assert name in page, (path, name)
        for name in foreign:
            assert name not in page, (path, name)
    for name in foreign:
        # Search by any script and by e-mail.
        first = name.split()[0]
        assert name not in client.get(f"/contacts/?q={first}").get_data(as_text=True)
        assert name not in client.get(f"/leads/?q={first}").get_data(as_text=True)


def test_search_matches_every_script(login, world):
    client = login("vol_hanoi")
    for query in ["Nguyen", "阮文安", "Nguyễn", "an@example.org"]:
        assert "Nguyen Van An" in client.get("/contacts/", query_string={"q": query}).get_data(as_text=True), query


def test_scoped_query_layer(ctx, world):
    from liaison.models import User

    volunteer = db.session.get(User, world.users["vol_hanoi"])
    contacts = db.session.scalars(scoped(db.select(Contact), Contact, volunteer)).all()
    assert {c.station_id for c in contacts} == {world.stations["hanoi"]}
    leads = db.session.scalars(scoped(db.select(TalentLead), TalentLead, volunteer)).all()
    assert {lead.station_id for lead in leads} == {world.stations["hanoi"]}
    admin = db.session.get(User, world.users["asean_admin"])
    leads = db.session.scalars(scoped(db.select(TalentLead), TalentLead, admin)).all()
    assert {lead.station_id for lead in leads} == {world.stations["hanoi"], world.stations["bangkok"]}


def test_exports_respect_scope(login, world):
    import io

    from openpyxl import load_workbook

    client = login("vol_hanoi")
    for path in ["/exports/leads.xlsx", "/exports/contacts.xlsx"]:
        response = client.get(path)
        assert response.status_code == 200
        rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
        text = repr(rows)
        assert "Nguyen Van An" in text and "Somchai" not in text and "Marco" not in text


def test_hq_reviewer_sees_but_cannot_record(login, world):
    client = login("hq")
    assert client.get(f"/contacts/{world.contacts['milan']}").status_code == 200
    assert client.get(f"/contacts/{world.contacts['milan']}/edit").status_code == 403
    assert client.get(f"/leads/new?contact_id={world.contacts['milan']}").status_code == 403
    assert client.get("/contacts/new").status_code == 403


def test_hq_pages_forbidden_to_others(login, world):
    client = login("vol_hanoi")
    for path in ["/review/", "/review/report", "/admin/users", "/admin/regions", "/admin/plugins/"]:
        assert client.get(path).status_code == 403, path
    client = login("asean_admin")
    for path in ["/review/", "/admin/regions"]:
        assert client.get(path).status_code == 403, path
    assert client.get("/admin/users").status_code == 200


@pytest.mark.parametrize("path", ["/", "/stations/", "/contacts/", "/leads/", "/review/", "/admin/users", "/profile"])
def test_login_required(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_unknown_ids_are_404(login, world):
    client = login("admin")
    for path in ["/leads/999999", "/contacts/999999", "/stations/999999", "/leads/new?contact_id=999999",
                 "/admin/users/999999/edit", "/admin/regions/999999/edit"]:
        assert client.get(path).status_code == 404, path


def test_regional_admin_cannot_touch_other_region_station(login, world):
    client = login("asean_admin")
    assert client.get(f"/stations/{world.stations['milan']}/edit").status_code == 404
    assert client.get(f"/stations/{world.stations['hanoi']}/edit").status_code == 200


def test_lead_of_new_station_member_appears(ctx, world):
    """Membership is read from the database on every request, not cached across requests."""
    lead_id = make_lead(world, "bangkok", "submitted")
    from liaison.models import User

    volunteer = db.session.get(User, world.users["vol_hanoi"])
    ids = set(db.session.scalars(scoped(db.select(TalentLead.id), TalentLead, volunteer)))
    assert lead_id not in ids
