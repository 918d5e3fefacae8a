"""Account, region and station administration: who may do what, and what it changes."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from liaison.models import AuditEntry, Contact, Region, Station, TalentLead, User, db

from .helpers import snapshot
from .conftest import PASSWORD

# The page that shows a temporary password once: "Temporary password for <email>:" then the secret.
TEMPORARY = re.compile(r'Temporary password for (\S+):</p>\s*<p[^>]*><code[^>]*id="temporary-password">([^<]+)</code>')
RESET = TEMPORARY


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"




def load_user(app, email: str) -> User | None:
    with app.app_context():
        found = db.session.scalar(select(User).where(User.email == email)
                                  .options(selectinload(User.stations), selectinload(User.regions)))
        if found is not None:
            db.session.expunge(found)
        db.session.remove()
        return found


def station_status(app, station_id) -> str:
    with app.app_context():
        try:
            return db.session.get(Station, station_id).status
        finally:
            db.session.remove()


def set_station_status(app, station_id, status) -> None:
    with app.app_context():
        db.session.get(Station, station_id).status = status
        db.session.commit()
        db.session.remove()


def count(app, model, *where) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(model).where(*where))
        finally:
            db.session.remove()


# Creating accounts -------------------------------------------------------------------------

@pytest.mark.parametrize("role,scope", [
    ("volunteer", {"stations": ["hanoi", "milan"]}),
    ("regional_admin", {"regions": ["ASEAN", "EUROPE"]}),
    ("hq_reviewer", {}),
    ("admin", {}),
])
def test_admin_creates_every_role(app, client, login, world, role, scope):
    login("admin")
    data = {"name": "New Person", "email": "New.Person@Example.org", "role": role,
            "stations": [str(world.stations[s]) for s in scope.get("stations", [])],
            "regions": [str(world.regions[r]) for r in scope.get("regions", [])]}
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 200
    found = TEMPORARY.search(response.get_data(as_text=True))
    assert found, "the temporary password is shown"
    email, password = found.groups()
    assert email == "new.person@example.org"
    account = load_user(app, "new.person@example.org")
    assert account.role == role and account.must_change_password and account.active
    assert sorted(s.id for s in account.stations) == sorted(world.stations[s] for s in scope.get("stations", []))
    assert sorted(r.code for r in account.regions) == sorted(scope.get("regions", []))
    assert password not in client.get("/admin/users").get_data(as_text=True), "shown once only"
    # The first log-in leads to the password form.
    other = app.test_client()
    response = other.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302 and response.headers["Location"] == "/profile"


def test_scope_of_other_roles_is_dropped(app, client, login, world):
    """An HQ reviewer given stations and regions by mistake gets neither."""
    login("admin")
    client.post("/admin/users/new", data={"name": "Reviewer", "email": "rev@example.org", "role": "hq_reviewer",
                                          "stations": [str(world.stations["hanoi"])],
                                          "regions": [str(world.regions["ASEAN"])]})
    account = load_user(app, "rev@example.org")
    assert account.stations == [] and account.regions == []


def test_creation_is_audited(app, client, login, world):
    login("admin")
    client.post("/admin/users/new", data={"name": "New", "email": "new@example.org", "role": "volunteer"})
    account = load_user(app, "new@example.org")
    assert count(app, AuditEntry, AuditEntry.action == "user.create", AuditEntry.object_id == account.id,
                 AuditEntry.actor_id == world.users["admin"]) == 1


def test_regional_admin_creates_a_volunteer_of_own_stations(app, client, login, world):
    login("asean_admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="admin"' not in page and 'value="hq_reviewer"' not in page
    assert "Milan station" not in page
    response = client.post("/admin/users/new", data={"name": "Bangkok Two", "email": "bkk2@example.org",
                                                     "role": "volunteer",
                                                     "stations": [str(world.stations["bangkok"])]})
    assert response.status_code == 200 and TEMPORARY.search(response.get_data(as_text=True))
    account = load_user(app, "bkk2@example.org")
    assert account.role == "volunteer" and [s.id for s in account.stations] == [world.stations["bangkok"]]


@pytest.mark.parametrize("role", ["admin", "hq_reviewer", "regional_admin"])
def test_regional_admin_cannot_create_other_roles(app, client, login, world, role):
    login("asean_admin")
    before = snapshot(app)
    response = client.post("/admin/users/new", data={"name": "Escalated", "email": "up@example.org", "role": role,
                                                     "regions": [str(world.regions["ASEAN"])]})
    assert response.status_code == 200
    assert snapshot(app) == before


@pytest.mark.parametrize("stations", [["milan"], ["hanoi", "milan"]])
def test_regional_admin_cannot_assign_stations_of_other_regions(app, client, login, world, stations):
    login("asean_admin")
    before = snapshot(app)
    response = client.post("/admin/users/new", data={"name": "Sneaky", "email": "sneaky@example.org",
                                                     "role": "volunteer",
                                                     "stations": [str(world.stations[s]) for s in stations]})
    assert response.status_code == 200
    assert snapshot(app) == before


def test_regional_admin_cannot_hand_out_regions_on_edit(app, client, login, world):
    login("asean_admin")
    client.post(f"/admin/users/{world.users['vol_hanoi']}/edit", data={
        "name": "Vol Hanoi", "email": world.emails["vol_hanoi"], "role": "volunteer",
        "stations": [str(world.stations["hanoi"])], "regions": [str(world.regions["EUROPE"])]})
    account = load_user(app, world.emails["vol_hanoi"])
    assert account.role == "volunteer" and account.regions == []


# Scope of account management -------------------------------------------------------------

OUT_OF_SCOPE = {"asean_admin": ["vol_milan", "hq", "hq2", "admin", "europe_admin", "asean_admin"],
                "europe_admin": ["vol_hanoi", "vol_bangkok", "hq", "admin", "asean_admin", "europe_admin"]}


@pytest.mark.parametrize("actor,target", [(a, t) for a, targets in OUT_OF_SCOPE.items() for t in targets])
def test_accounts_outside_scope_are_404(app, client, login, world, actor, target):
    login(actor)
    uid = world.users[target]
    before = snapshot(app)
    assert client.get(f"/admin/users/{uid}/edit").status_code == 404
    assert client.post(f"/admin/users/{uid}/edit", data={"name": "X", "email": world.emails[target],
                                                         "role": "volunteer"}).status_code == 404
    assert client.post(f"/admin/users/{uid}/active", data={"active": "0"}).status_code == 404
    assert client.post(f"/admin/users/{uid}/reset-password").status_code == 404
    assert snapshot(app) == before


@pytest.mark.parametrize("actor,visible,hidden", [
    ("asean_admin", ["vol_hanoi", "vol_bangkok"], ["vol_milan", "hq", "admin", "europe_admin"]),
    ("europe_admin", ["vol_milan"], ["vol_hanoi", "vol_bangkok", "hq", "admin", "asean_admin"]),
    ("admin", ["vol_hanoi", "vol_milan", "hq", "asean_admin", "europe_admin"], []),
])
def test_user_list_shows_only_accounts_in_scope(client, login, world, actor, visible, hidden):
    login(actor)
    page = client.get("/admin/users").get_data(as_text=True)
    for key in visible:
        assert world.emails[key] in page, key
    for key in hidden:
        assert world.emails[key] not in page, key
    assert client.get("/admin/users", query_string={"q": "vol_milan"}).status_code == 200


@pytest.mark.parametrize("role", ["hq", "vol_hanoi"])
def test_others_cannot_manage_accounts(app, client, login, world, role):
    login(role)
    before = snapshot(app)
    for path in ["/admin/users", "/admin/users/new", f"/admin/users/{world.users['vol_milan']}/edit"]:
        assert client.get(path).status_code == 403, path
    assert client.post(f"/admin/users/{world.users['vol_milan']}/active", data={"active": "0"}).status_code == 403
    assert client.post(f"/admin/users/{world.users['vol_milan']}/reset-password").status_code == 403
    assert client.post("/admin/users/new", data={"name": "X", "email": "x@example.org",
                                                 "role": "admin"}).status_code == 403
    assert snapshot(app) == before


def test_nobody_edits_their_own_account_there(client, login, world):
    login("admin")
    assert client.get(f"/admin/users/{world.users['admin']}/edit").status_code == 404
    assert client.post(f"/admin/users/{world.users['admin']}/active", data={"active": "0"}).status_code == 404


# Deactivate, reactivate, reset -----------------------------------------------------------

@pytest.mark.parametrize("actor,target", [("admin", "hq"), ("admin", "asean_admin"), ("asean_admin", "vol_hanoi"),
                                          ("europe_admin", "vol_milan")])
def test_deactivate_and_reactivate(app, client, login, world, actor, target):
    login(actor)
    uid = world.users[target]
    response = client.post(f"/admin/users/{uid}/active", data={"active": "0"}, follow_redirects=True)
    assert "has been deactivated and logged out" in response.get_data(as_text=True)
    assert not load_user(app, world.emails[target]).active
    assert app.test_client().post("/login", data={"email": world.emails[target],
                                                  "password": PASSWORD}).status_code == 200
    response = client.post(f"/admin/users/{uid}/active", data={"active": "1"}, follow_redirects=True)
    assert "can log in again" in response.get_data(as_text=True)
    assert load_user(app, world.emails[target]).active
    assert app.test_client().post("/login", data={"email": world.emails[target],
                                                  "password": PASSWORD}).status_code == 302
    assert count(app, AuditEntry, AuditEntry.object_id == uid,
                 AuditEntry.action.in_(["user.deactivate", "user.activate"])) == 2


def test_deactivated_volunteer_is_no_member_candidate(app, client, login, world):
    login("asean_admin")
    client.post(f"/admin/users/{world.users['vol_bangkok']}/active", data={"active": "0"})
    page = client.get(f"/stations/{world.stations['hanoi']}").get_data(as_text=True)
    assert "vol_bangkok@example.org" not in page


@pytest.mark.parametrize("actor,target", [("admin", "hq"), ("asean_admin", "vol_bangkok")])
def test_reset_password(app, client, login, world, actor, target):
    login(actor)
    response = client.post(f"/admin/users/{world.users[target]}/reset-password")
    assert response.status_code == 200
    found = RESET.search(response.get_data(as_text=True))
    assert found and found.group(1) == world.emails[target]
    password = found.group(2)
    assert len(password) >= 10
    account = load_user(app, world.emails[target])
    assert account.must_change_password and account.check_password(password)
    other = app.test_client()
    assert other.post("/login", data={"email": world.emails[target], "password": PASSWORD}).status_code == 200
    response = other.post("/login", data={"email": world.emails[target], "password": password})
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert password not in client.get("/admin/users").get_data(as_text=True)


# Editing keeps what the editor does not manage ------------------------------------------

def _volunteer_of(app, world, stations):
    with app.app_context():
        account = User(email="multi@example.org", name="Multi Station", role="volunteer", regions=[],
                       stations=[db.session.get(Station, world.stations[s]) for s in stations])
        account.set_password(PASSWORD)
        db.session.add(account)
        db.session.commit()
        uid = account.id
        db.session.remove()
        return uid


def test_regional_admin_edit_keeps_foreign_memberships(app, client, login, world):
    uid = _volunteer_of(app, world, ["hanoi", "milan"])
    login("asean_admin")
    page = client.get(f"/admin/users/{uid}/edit").get_data(as_text=True)
    assert "Milan station" not in page
    response = client.post(f"/admin/users/{uid}/edit", data={
        "name": "Multi Station", "email": "multi@example.org", "role": "volunteer",
        "stations": [str(world.stations["bangkok"])]})
    assert response.status_code == 302
    account = load_user(app, "multi@example.org")
    assert {s.id for s in account.stations} == {world.stations["bangkok"], world.stations["milan"]}


def test_regional_admin_edit_with_no_station_keeps_foreign_memberships(app, client, login, world):
    uid = _volunteer_of(app, world, ["hanoi", "milan"])
    login("asean_admin")
    client.post(f"/admin/users/{uid}/edit", data={"name": "Multi Station", "email": "multi@example.org",
                                                  "role": "volunteer"})
    account = load_user(app, "multi@example.org")
    assert {s.id for s in account.stations} == {world.stations["milan"]}


def test_edit_keeps_membership_of_a_closed_station(app, client, login, world):
    uid = _volunteer_of(app, world, ["hanoi", "bangkok"])
    set_station_status(app, world.stations["hanoi"], "closed")
    login("asean_admin")
    client.post(f"/admin/users/{uid}/edit", data={"name": "Multi Station", "email": "multi@example.org",
                                                  "role": "volunteer", "stations": [str(world.stations["bangkok"])]})
    account = load_user(app, "multi@example.org")
    assert {s.id for s in account.stations} == {world.stations["hanoi"], world.stations["bangkok"]}


def test_admin_edit_changes_role_and_scope(app, client, login, world):
    login("admin")
    response = client.post(f"/admin/users/{world.users['vol_hanoi']}/edit", data={
        "name": "Now Regional", "email": world.emails["vol_hanoi"], "role": "regional_admin",
        "regions": [str(world.regions["EUROPE"])], "stations": [str(world.stations["hanoi"])]})
    assert response.status_code == 302
    account = load_user(app, world.emails["vol_hanoi"])
    assert account.role == "regional_admin" and [r.code for r in account.regions] == ["EUROPE"]
    assert account.stations == []


# Regions ---------------------------------------------------------------------------------

def test_admin_creates_and_edits_regions(app, client, login, world):
    login("admin")
    response = client.post("/admin/regions/new", data={"code": "africa", "name": "Africa", "name_zh": "非洲"})
    assert response.status_code == 302
    with app.app_context():
        region = db.session.scalar(select(Region).where(Region.code == "AFRICA"))
        assert (region.name, region.name_zh) == ("Africa", "非洲")
        region_id = region.id
    response = client.post(f"/admin/regions/{region_id}/edit", data={"code": "AFRICA", "name": "Africa and "
                                                                     "the Middle East", "name_zh": ""})
    assert response.status_code == 302
    with app.app_context():
        region = db.session.get(Region, region_id)
        assert (region.name, region.name_zh) == ("Africa and the Middle East", None)
    assert "Africa and the Middle East" in client.get("/admin/regions").get_data(as_text=True)
    assert count(app, AuditEntry, AuditEntry.action.in_(["region.create", "region.update"])) == 2


@pytest.mark.parametrize("role", ["hq", "asean_admin", "europe_admin", "vol_hanoi"])
def test_regions_are_admin_only(app, client, login, world, role):
    login(role)
    before = snapshot(app)
    region = world.regions["ASEAN"]
    assert client.get("/admin/regions").status_code == 403
    assert client.get("/admin/regions/new").status_code == 403
    assert client.get(f"/admin/regions/{region}/edit").status_code == 403
    assert client.post("/admin/regions/new", data={"code": "AFRICA", "name": "Africa"}).status_code == 403
    assert client.post(f"/admin/regions/{region}/edit", data={"code": "ASEAN", "name": "Renamed"}).status_code == 403
    assert snapshot(app) == before


# Station status --------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ["asean_admin", "admin"])
@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_station_status_change(app, client, login, world, actor, status):
    login(actor)
    response = client.post(f"/stations/{world.stations['hanoi']}/status",
                           data={"status-status": status, "status-reason": "host moved away"}, follow_redirects=True)
    assert response.status_code == 200
    assert station_status(app, world.stations["hanoi"]) == status
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "station.status"))
        assert entry.details == {"before": "active", "after": status, "reason": "host moved away"}
        assert entry.actor_id == world.users[actor] and entry.region_id == world.regions["ASEAN"]


@pytest.mark.parametrize("actor,code", [("hq", 403), ("vol_hanoi", 403), ("europe_admin", 404)])
def test_others_cannot_change_station_status(app, client, login, world, actor, code):
    login(actor)
    before = snapshot(app)
    assert client.post(f"/stations/{world.stations['hanoi']}/status",
                       data={"status-status": "closed"}).status_code == code
    assert snapshot(app) == before


def test_only_admin_reopens_a_closed_station(app, client, login, world):
    station = world.stations["hanoi"]
    set_station_status(app, station, "closed")
    login("asean_admin")
    assert 'name="status-status"' not in client.get(f"/stations/{station}").get_data(as_text=True)
    for status in ("active", "suspended"):
        response = client.post(f"/stations/{station}/status", data={"status-status": status}, follow_redirects=True)
        assert response.status_code in (200, 403)
        assert "Only an administrator can reopen a closed station." in response.get_data(as_text=True)
        assert station_status(app, station) == "closed"
    login("admin")
    assert 'name="status-status"' in client.get(f"/stations/{station}").get_data(as_text=True)
    client.post(f"/stations/{station}/status", data={"status-status": "active"})
    assert station_status(app, station) == "active"


def test_regional_admin_reactivates_a_suspended_station(app, client, login, world):
    station = world.stations["hanoi"]
    set_station_status(app, station, "suspended")
    login("asean_admin")
    client.post(f"/stations/{station}/status", data={"status-status": "active"})
    assert station_status(app, station) == "active"


def _contact_form(name="Tran Thi Binh"):
    return {"kind": "scholar", "name": name, "country": "VN", "submission_token": "closed-station-token"}


def _lead_form(app, lead_id=None):
    data = {"category": "employment", "summary": "Changed summary", "priority": "2", "save": "1"}
    if lead_id:
        with app.app_context():
            data["version"] = str(db.session.get(TalentLead, lead_id).version)
            db.session.remove()
    return data


@pytest.mark.parametrize("status", ["closed", "suspended"])
@pytest.mark.parametrize("actor", ["vol_hanoi", "asean_admin", "admin"])
def test_inactive_station_is_read_only(app, client, login, world, status, actor):
    set_station_status(app, world.stations["hanoi"], status)
    login(actor)
    station, contact, draft = world.stations["hanoi"], world.contacts["hanoi"], world.leads["hanoi_draft"]
    before = snapshot(app)
    forbidden = [
        ("get", f"/contacts/{contact}/edit", None),
        ("post", f"/contacts/{contact}/edit", _contact_form("Renamed")),
        ("get", f"/leads/new?contact_id={contact}", None),
        ("post", f"/leads/new?contact_id={contact}", _lead_form(app)),
        ("get", f"/leads/{draft}/edit", None),
        ("post", f"/leads/{draft}/edit", _lead_form(app, draft)),
    ]
    if actor == "vol_hanoi":  # the volunteer's only station: nothing to record anywhere
        forbidden += [("get", f"/contacts/new?station_id={station}", None),
                      ("post", f"/contacts/new?station_id={station}", _contact_form())]
    for method, path, data in forbidden:
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 403, (method, path, response.status_code)
    # The station's moves are refused too.
    response = client.post(f"/leads/{draft}/move",
                           data={"move": "submit", "version": _lead_form(app, draft)["version"]})
    assert response.status_code in (400, 403)
    assert snapshot(app) == before
    for path in [f"/stations/{station}", f"/contacts/{contact}", f"/leads/{draft}",
                 f"/leads/{world.leads['hanoi_submitted']}", "/contacts/", "/leads/", "/stations/"]:
        assert client.get(path).status_code == 200, path
    page = client.get(f"/stations/{station}").get_data(as_text=True)
    assert "its records can be read but not changed" in page
    assert f"/contacts/new?station_id={station}" not in page


@pytest.mark.parametrize("actor", ["asean_admin", "admin"])
def test_contact_for_an_inactive_station_is_refused_not_redirected(app, client, login, world, actor):
    set_station_status(app, world.stations["hanoi"], "closed")
    if actor == "admin":
        set_station_status(app, world.stations["milan"], "closed")  # admin's only other station: Bangkok
    login(actor)
    before = snapshot(app)
    url = f"/contacts/new?station_id={world.stations['hanoi']}"
    response = client.post(url, data=_contact_form())
    with app.app_context():
        saved_in = [s for s, in db.session.execute(select(Contact.station_id).where(Contact.name == "Tran Thi Binh"))]
    assert saved_in == [], f"saved in station {saved_in}, not the one asked for"
    assert response.status_code == 403
    assert client.get(url).status_code == 403
    assert snapshot(app) == before


def test_hq_still_reviews_leads_of_a_closed_station(app, client, login, world):
    set_station_status(app, world.stations["hanoi"], "closed")
    lead = world.leads["hanoi_submitted"]
    login("hq")
    with app.app_context():
        version = db.session.get(TalentLead, lead).version
    assert client.post(f"/leads/{lead}/move", data={"move": "start_review", "version": str(version)}).status_code == 302
    assert client.post(f"/leads/{lead}/comment", data={"text": "noted"}).status_code == 302


@pytest.mark.parametrize("status", ["closed"])
def test_closed_station_membership_and_details_are_frozen(app, client, login, world, status):
    station = world.stations["hanoi"]
    set_station_status(app, station, status)
    login("asean_admin")
    before = snapshot(app)
    assert client.post(f"/stations/{station}/members",
                       data={"member-user_id": str(world.users["vol_bangkok"])}).status_code == 403
    assert client.post(f"/stations/{station}/members/{world.users['vol_hanoi']}/remove").status_code == 403
    response = client.post(f"/stations/{station}/edit", data={
        "name": "Renamed", "region_id": str(world.regions["ASEAN"]), "country": "VN", "city": "Hanoi",
        "host_organisation": "X", "host_kind": "other"})
    assert response.status_code in (302, 403)
    assert snapshot(app) == before
    assert count(app, Contact, Contact.station_id == station) == 1


# Temporary passwords never travel in the session cookie ----------------------------------

def cookie_payload(client) -> str:
    """What anyone holding the session cookie can read without the secret key: the signed
    cookie's payload, base64-decoded (and inflated when Flask compressed it)."""
    import zlib

    from itsdangerous import base64_decode

    cookie = client.get_cookie("session")
    if cookie is None:
        return ""
    value = cookie.value
    compressed = value.startswith(".")
    payload = base64_decode(value.lstrip(".").split(".")[0])
    return (zlib.decompress(payload) if compressed else payload).decode("utf-8", "replace")


def session_data(app, client) -> dict:
    cookie = client.get_cookie("session")
    return app.session_interface.get_signing_serializer(app).loads(cookie.value) if cookie else {}


@pytest.mark.parametrize("how", ["create", "reset"])
def test_temporary_password_is_shown_once_and_never_in_the_session(app, client, login, world, how):
    login("admin")
    if how == "create":
        response = client.post("/admin/users/new", data={"name": "New Person", "email": "new.person@example.org",
                                                         "role": "volunteer", "stations": [str(world.stations["hanoi"])]})
    else:
        response = client.post(f"/admin/users/{world.users['vol_hanoi']}/reset-password")
    assert response.status_code == 200, "the secret is on the response page itself, not behind a redirect"
    assert response.headers["Cache-Control"] == "no-store"
    found = TEMPORARY.search(response.get_data(as_text=True))
    assert found, "the temporary password is on the page"
    password = found.group(2)
    assert password not in cookie_payload(client), "the session cookie can be base64-decoded"
    assert password not in repr(session_data(app, client))
    assert "_flashes" not in session_data(app, client)
    for path in ("/admin/users", "/"):
        assert password not in client.get(path).get_data(as_text=True), "shown once only"
        assert password not in cookie_payload(client)


def test_cookie_payload_reads_a_flashed_message(app, client, login, world):
    """The helper above does see what a flash puts in the cookie (so its "not in" means something)."""
    login("admin")
    client.post(f"/admin/users/{world.users['vol_hanoi']}/active", data={"active": "0"})
    assert "has been deactivated" in cookie_payload(client)
