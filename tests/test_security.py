"""Security by default: headers, cookies, templates without inline code, size limit, mass
assignment, optimistic locking over HTTP."""
import re
from pathlib import Path

import pytest

from liaison import create_app
from liaison.models import Contact, LeadStatus, Station, TalentLead, User, db

from .conftest import _test_config

ROOT = Path(__file__).resolve().parent.parent


def test_security_headers_on_every_response(client, login, world):
    for response in [client.get("/login"), client.get("/static/app.css"), client.get("/nope"),
                     login("vol_hanoi").get("/")]:
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_pages_are_not_cached(login, world):
    assert login("vol_hanoi").get("/").headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_script_style_or_handlers():
    """The CSP forbids them; a template that needs one would silently break in browsers."""
    offenders = []
    for path in list(ROOT.glob("liaison/templates/**/*.html")) + list(ROOT.glob("plugins/*/templates/**/*.html")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: inline event handler")
        if re.search(r"\sstyle\s*=", text) or "<style" in text:
            offenders.append(f"{path}: inline style")
        if re.search(r"https?://", text):
            offenders.append(f"{path}: external URL (the app must work offline)")
    assert not offenders, offenders


def test_session_cookie_flags_in_production(database_url, monkeypatch):
    monkeypatch.setenv("LIAISON_ENV", "production")
    app = create_app(_test_config(database_url, ENV_NAME="production"))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.debug is False
    response = app.test_client().get("/login", base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_production_refuses_to_start_without_secret_key(database_url, monkeypatch, tmp_path):
    from liaison.config import ConfigurationError

    monkeypatch.setenv("LIAISON_INSTANCE_PATH", str(tmp_path))  # no instance/config.py either
    monkeypatch.setenv("LIAISON_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = _test_config(database_url)
    config.pop("SECRET_KEY")
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        create_app(config)


def test_session_cookie_is_httponly_and_lax(client, world):
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": "correct-horse-battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_only_the_session_cookie_is_set_and_it_names_no_secret(app, client, world):
    """No remember-me cookie outlives a log-out; the session carries the user's id and session
    token (checked against the database on every request), never the password hash."""
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": "correct-horse-battery"})
    assert [c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie")] == ["session"]
    with app.app_context():
        account = db.session.get(User, world.users["vol_hanoi"])
        token, password_hash = account.session_token, account.password_hash
    with client.session_transaction() as session:
        assert session["_user_id"] == f"{world.users['vol_hanoi']}:{token}"
        assert "_remember" not in session and password_hash not in repr(dict(session))
    client.post("/logout")
    assert client.get_cookie("remember_token") is None


def test_request_size_limit_gives_a_clear_413(login, world):
    client = login("vol_hanoi")
    response = client.post(f"/contacts/new?station_id={world.stations['hanoi']}",
                           data={"kind": "scholar", "name": "Big", "notes": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "What you sent is too large" in response.get_data(as_text=True)


def test_mass_assignment_of_lead_fields_is_impossible(app, login, world):
    client = login("vol_hanoi")
    response = client.post(f"/leads/new?contact_id={world.contacts['hanoi']}", data={
        "category": "employment", "summary": "mass assignment attempt", "priority": "2", "save": "1",
        "submission_token": "mass-1", "status": "landed", "station_id": str(world.stations["milan"]),
        "reviewer_id": str(world.users["hq"]), "landed_on": "2024-01-01", "landing_kind": "hired",
        "submitter_id": str(world.users["admin"]), "version": "99", "contact_id": str(world.contacts["milan"]),
    })
    assert response.status_code == 302
    with app.app_context():
        lead = db.session.scalar(db.select(TalentLead).where(TalentLead.summary == "mass assignment attempt"))
        assert lead.status == LeadStatus.DRAFT
        assert lead.station_id == world.stations["hanoi"] and lead.contact_id == world.contacts["hanoi"]
        assert lead.reviewer_id is None and lead.landed_on is None and lead.landing_kind is None
        assert lead.submitter_id == world.users["vol_hanoi"]


def test_mass_assignment_on_edit_and_contacts_and_profile(app, login, world):
    client = login("vol_hanoi")
    lead_id = world.leads["hanoi_draft"]
    with app.app_context():
        version = db.session.get(TalentLead, lead_id).version
    client.post(f"/leads/{lead_id}/edit", data={
        "category": "employment", "summary": "edited", "priority": "2", "save": "1", "version": str(version),
        "status": "accepted", "reviewer_id": str(world.users["hq"]), "station_id": str(world.stations["milan"])})
    client.post(f"/contacts/{world.contacts['hanoi']}/edit", data={
        "kind": "scholar", "name": "Nguyen Van An", "station_id": str(world.stations["milan"]),
        "created_by_id": str(world.users["vol_hanoi"])})
    client.post("/profile", data={"profile-name": "Vol", "profile-locale": "en", "profile-timezone": "Asia/Bangkok",
                                  "role": "admin", "profile-role": "admin", "active": "1"})
    with app.app_context():
        lead = db.session.get(TalentLead, lead_id)
        assert (lead.summary, lead.status, lead.reviewer_id, lead.station_id) == (
            "edited", LeadStatus.DRAFT, None, world.stations["hanoi"])
        contact = db.session.get(Contact, world.contacts["hanoi"])
        assert contact.station_id == world.stations["hanoi"]
        user = db.session.get(User, world.users["vol_hanoi"])
        assert user.role == "volunteer" and user.timezone == "Asia/Bangkok"


def test_regional_admin_cannot_move_a_station_to_another_region(app, login, world):
    client = login("asean_admin")
    response = client.post(f"/stations/{world.stations['hanoi']}/edit", data={
        "name": "Hanoi station", "region_id": str(world.regions["EUROPE"]), "country": "VN", "city": "Hanoi",
        "host_organisation": "Host", "host_kind": "other"})
    assert response.status_code == 200  # the choice is not offered: an error next to the field
    with app.app_context():
        assert db.session.get(Station, world.stations["hanoi"]).region_id == world.regions["ASEAN"]


def test_two_reviewers_at_once_the_second_gets_a_conflict(app, client, world):
    from .conftest import PASSWORD

    lead_id = world.leads["hanoi_submitted"]
    with app.app_context():
        version = db.session.get(TalentLead, lead_id).version
    first, second = app.test_client(), app.test_client()
    first.post("/login", data={"email": world.emails["hq"], "password": PASSWORD})
    second.post("/login", data={"email": world.emails["hq2"], "password": PASSWORD})
    # Both opened the page at the same version; the first decision wins.
    assert first.post(f"/leads/{lead_id}/move", data={"move": "start_review", "version": version}).status_code == 302
    response = second.post(f"/leads/{lead_id}/move", data={"move": "start_review", "version": version})
    assert response.status_code == 409
    assert "Someone else changed this lead" in response.get_data(as_text=True)
    with app.app_context():
        lead = db.session.get(TalentLead, lead_id)
        assert lead.status == LeadStatus.UNDER_REVIEW
        events = [e for e in db.session.scalars(db.select(db.text("kind")).select_from(db.text("lead_events"))
                                                .where(db.text(f"lead_id = {lead_id}")))]
        assert events.count("status") == 2  # submit + one start_review, not two


def test_stale_edit_form_is_a_conflict(app, login, world):
    client = login("vol_hanoi")
    lead_id = world.leads["hanoi_draft"]
    with app.app_context():
        version = db.session.get(TalentLead, lead_id).version
    data = {"category": "employment", "summary": "first edit", "priority": "2", "save": "1", "version": str(version)}
    assert client.post(f"/leads/{lead_id}/edit", data=data).status_code == 302
    data["summary"] = "second edit from an old page"
    response = client.post(f"/leads/{lead_id}/edit", data=data, follow_redirects=True)
    assert "Someone else changed this lead" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(TalentLead, lead_id).summary == "first edit"
