"""Log-in, log-out, sessions, passwords, safe redirects, rate limiting and the language choice."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, inspect, select

from liaison.models import AuditEntry, User, db

from .conftest import PASSWORD
from .factories import build_world

FAILED_LOGIN = "The e-mail address or the password is not correct."
SHOWN_PASSWORD = re.compile(r'<code[^>]*id="temporary-password">([^<]+)</code>')


def snapshot(app) -> dict[str, list]:
    with app.app_context():
        try:
            existing = set(inspect(db.engine).get_table_names())  # plugin models may be known but not migrated
            return {table.name: sorted(tuple(repr(v) for v in row) for row in db.session.execute(select(table)))
                    for table in db.metadata.sorted_tables if table.name in existing}
        finally:
            db.session.remove()


def user(app, key_or_id, world=None) -> User:
    with app.app_context():
        uid = world.users[key_or_id] if world is not None else key_or_id
        found = db.session.get(User, uid)
        db.session.expunge(found)
        db.session.remove()
        return found


def logged_in(client) -> bool:
    return client.get("/profile").status_code == 200


def without_tokens(text: str) -> str:
    """A page without its CSRF tokens (they differ from session to session)."""
    return re.sub(r'name="csrf_token"([^>]*)value="[^"]*"', r'name="csrf_token"\1value=""', text)


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "no <html lang>"
    return match.group(1)


def shown_password(response) -> str:
    match = SHOWN_PASSWORD.search(response.get_data(as_text=True))
    assert match, "no temporary password shown"
    return match.group(1)


# Log-in and log-out -------------------------------------------------------------------------

def test_login_and_logout(client, auth, world):
    response = auth.login(world.emails["vol_hanoi"])
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert logged_in(client)
    response = auth.logout()
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not logged_in(client)


def test_logout_is_post_only(client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    assert client.get("/logout").status_code == 405
    assert logged_in(client)


def test_login_is_case_and_space_insensitive_for_the_address(client, auth, world):
    response = client.post("/login", data={"email": "  VOL_Hanoi@Example.ORG ", "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in(client)


def test_login_records_the_time(app, auth, world):
    assert user(app, "vol_hanoi", world).last_login_at is None
    auth.login(world.emails["vol_hanoi"])
    assert user(app, "vol_hanoi", world).last_login_at is not None


def test_login_page_redirects_when_logged_in(client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def _failed_login_page(app, email, password):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 200
    assert not logged_in(client)
    return without_tokens(response.get_data(as_text=True)).replace(email, "<email>")


def test_no_user_enumeration(app, world):
    """Wrong password, unknown address, deactivated account: one message, one page."""
    with app.app_context():
        db.session.get(User, world.users["vol_milan"]).active = False
        db.session.commit()
    wrong_password = _failed_login_page(app, world.emails["vol_hanoi"], "wrong-password")
    unknown = _failed_login_page(app, "nobody@example.org", "wrong-password")
    deactivated = _failed_login_page(app, world.emails["vol_milan"], PASSWORD)
    assert FAILED_LOGIN in wrong_password
    assert wrong_password == unknown == deactivated
    assert wrong_password.count(FAILED_LOGIN) == 1


def test_failed_login_writes_nothing(app, client, world):
    before = snapshot(app)
    client.post("/login", data={"email": world.emails["vol_hanoi"], "password": "wrong-password"})
    client.post("/login", data={"email": "nobody@example.org", "password": "wrong-password"})
    assert snapshot(app) == before


# Deactivation and session versions ---------------------------------------------------------

def test_deactivated_user_cannot_log_in(app, client, auth, world):
    admin = app.test_client()
    admin.post("/login", data={"email": world.emails["admin"], "password": PASSWORD})
    admin.post(f"/admin/users/{world.users['vol_hanoi']}/active", data={"active": "0"})
    response = auth.login(world.emails["vol_hanoi"])
    assert response.status_code == 200 and FAILED_LOGIN in response.get_data(as_text=True)
    assert not logged_in(client)
    admin.post(f"/admin/users/{world.users['vol_hanoi']}/active", data={"active": "1"})
    assert auth.login(world.emails["vol_hanoi"]).status_code == 302


@pytest.mark.parametrize("by", ["admin", "asean_admin"])
def test_deactivation_logs_out_at_once(app, client, auth, world, by):
    auth.login(world.emails["vol_hanoi"])
    assert logged_in(client)
    admin = app.test_client()
    admin.post("/login", data={"email": world.emails[by], "password": PASSWORD})
    assert admin.post(f"/admin/users/{world.users['vol_hanoi']}/active", data={"active": "0"}).status_code == 302
    response = client.get("/leads/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Reactivation does not bring the old session back.
    admin.post(f"/admin/users/{world.users['vol_hanoi']}/active", data={"active": "1"})
    assert not logged_in(client)


def test_session_id_contains_the_token(app, client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    account = user(app, "vol_hanoi", world)
    assert len(account.session_token) >= 32
    with client.session_transaction() as session:
        assert session["_user_id"] == f"{account.id}:{account.session_token}"
    for forged in (f"{account.id}:{account.session_token[:-1]}", f"{account.id}:{account.session_token}x",
                   f"{account.id}", f"{account.id}:", "abc:1", f":{account.session_token}", "999999:1",
                   f"{account.id}:1", f"{account.id}:None", f"{account.id}:{account.session_token.upper()}",
                   f"{world.users['admin']}:{account.session_token}", f"{account.id}:é"):
        with client.session_transaction() as session:
            session["_user_id"] = forged
        assert not logged_in(client), forged


def copy_session(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value, domain=cookie.domain or "localhost")
    return thief


def test_logout_ends_the_session_on_the_server(app, client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    copy = copy_session(app, client)
    assert copy.get("/leads/").status_code == 200, "the copied cookie works while logged in"
    token = user(app, "vol_hanoi", world).session_token
    assert auth.logout().status_code == 302
    assert user(app, "vol_hanoi", world).session_token != token
    response = copy.get("/leads/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not logged_in(copy)
    # Logging in again issues a new session; the old cookie stays dead.
    assert auth.login(world.emails["vol_hanoi"]).status_code == 302 and logged_in(client)
    assert not logged_in(copy)


def test_logout_ends_every_session_of_the_user(app, world):
    """Log-out is "log out everywhere": the user's other browsers are logged out too."""
    phone, laptop, colleague = app.test_client(), app.test_client(), app.test_client()
    for browser, key in ((phone, "vol_hanoi"), (laptop, "vol_hanoi"), (colleague, "vol_bangkok")):
        assert browser.post("/login", data={"email": world.emails[key], "password": PASSWORD}).status_code == 302
    phone.post("/logout")
    assert not logged_in(phone) and not logged_in(laptop)
    assert logged_in(colleague), "other users' sessions are untouched"


def test_logout_when_logged_out_changes_nothing(app, client, world):
    before = snapshot(app)
    assert client.post("/logout").status_code == 302
    assert snapshot(app) == before


@pytest.mark.parametrize("how", ["password", "reset", "deactivate"])
def test_copied_cookie_dies_with_password_change_reset_and_deactivation(app, client, auth, world, how):
    auth.login(world.emails["vol_hanoi"])
    copy = copy_session(app, client)
    assert logged_in(copy)
    if how == "password":
        response = client.post("/profile", data={"password-current_password": PASSWORD,
                                                 "password-new_password": "a-brand-new-password",
                                                 "password-new_password_repeat": "a-brand-new-password"})
        assert response.status_code == 302
        assert logged_in(client), "the session that changed the password goes on"
    else:
        admin = app.test_client()
        admin.post("/login", data={"email": world.emails["admin"], "password": PASSWORD})
        path = "reset-password" if how == "reset" else "active"
        assert admin.post(f"/admin/users/{world.users['vol_hanoi']}/{path}", data={"active": "0"}).status_code in (200, 302)
        assert not logged_in(client)
    assert not logged_in(copy)


def test_password_change_logs_out_other_sessions(app, world):
    this, other = app.test_client(), app.test_client()
    for client in (this, other):
        client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD})
        assert logged_in(client)
    token = user(app, "vol_hanoi", world).session_token
    response = this.post("/profile", data={"password-current_password": PASSWORD,
                                           "password-new_password": "a-brand-new-password",
                                           "password-new_password_repeat": "a-brand-new-password"})
    assert response.status_code == 302
    assert user(app, "vol_hanoi", world).session_token != token
    page = this.get("/profile")
    assert page.status_code == 200, "the session that changed the password goes on"
    assert "Other sessions have been logged out" in page.get_data(as_text=True)
    assert not logged_in(other), "every other session ends"
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD}).status_code == 200
    assert fresh.post("/login", data={"email": world.emails["vol_hanoi"],
                                      "password": "a-brand-new-password"}).status_code == 302


def test_wrong_current_password_changes_nothing(app, client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    before = snapshot(app)
    response = client.post("/profile", data={"password-current_password": "not-my-password",
                                             "password-new_password": "a-brand-new-password",
                                             "password-new_password_repeat": "a-brand-new-password"})
    assert response.status_code == 200
    assert "This is not your current password." in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert logged_in(client)


# Admin reset and the first log-in ----------------------------------------------------------

def _reset(app, world, key, by="admin"):
    admin = app.test_client()
    admin.post("/login", data={"email": world.emails[by], "password": PASSWORD})
    response = admin.post(f"/admin/users/{world.users[key]}/reset-password")
    assert response.status_code == 200
    return shown_password(response)


def test_admin_reset_ends_sessions_and_forces_a_new_password(app, client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    temporary = _reset(app, world, "vol_hanoi")
    assert not logged_in(client), "the reset ends the user's sessions"
    assert auth.login(world.emails["vol_hanoi"]).status_code == 200, "the old password is gone"
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": temporary,
                                           "next": "/leads/"})
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert "Please choose a new password of your own." in client.get("/profile").get_data(as_text=True)
    assert user(app, "vol_hanoi", world).must_change_password
    response = client.post("/profile", data={"password-current_password": temporary,
                                             "password-new_password": "my-own-password-1",
                                             "password-new_password_repeat": "my-own-password-1"})
    assert response.status_code == 302
    assert not user(app, "vol_hanoi", world).must_change_password
    auth.logout()
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": "my-own-password-1"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_must_change_password_is_enforced_until_changed(app, client, world):
    temporary = _reset(app, world, "vol_hanoi")
    client.post("/login", data={"email": world.emails["vol_hanoi"], "password": temporary})
    for path in ["/", "/leads/", f"/contacts/{world.contacts['hanoi']}"]:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/profile"), path
    assert client.get("/profile").status_code == 200


# Safe redirects after log-in -------------------------------------------------------------

UNSAFE_NEXT = ["//evil.example", "\\\\evil.example", "https://evil.example", "/\\evil.example",
               "javascript:alert(1)", "http://localhost.evil.example/", "///evil.example", "/\t/evil.example",
               " //evil.example", "evil.example", "https:evil.example", "//evil.example/%2F..", "data:text/html,hi"]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_unsafe_next_goes_home(client, world, target):
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", UNSAFE_NEXT[:5])
def test_unsafe_next_from_the_query_string_goes_home(client, world, target):
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200
    response = client.post("/login", query_string={"next": target},
                           data={"email": world.emails["vol_hanoi"], "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/leads/", "/leads/?status=open&sort=-priority", "/contacts/1", "/profile#x"])
def test_local_next_is_followed(client, world, target):
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD, "next": target})
    assert response.headers["Location"] == target


def test_login_required_comes_back_to_the_page(client, world):
    response = client.get("/leads/?status=open")
    location = response.headers["Location"]
    assert "/login" in location and "next=" in location
    page = client.get(location)
    assert 'value="/leads/?status=open"' in page.get_data(as_text=True)
    response = client.post(location, data={"email": world.emails["vol_hanoi"], "password": PASSWORD,
                                           "next": "/leads/?status=open"})
    assert response.headers["Location"] == "/leads/?status=open"


@pytest.mark.parametrize("target,expected", [("//evil.example", "/"), ("https://evil.example", "/"),
                                             ("javascript:alert(1)", "/"), ("/leads/", "/leads/")])
def test_language_switch_next_is_safe(client, world, target, expected):
    response = client.post("/language", data={"locale": "en", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == expected


# Forgotten passwords ---------------------------------------------------------------------

def test_forgot_password_answers_the_same_and_records_known_addresses(app, world):
    with app.app_context():
        db.session.get(User, world.users["vol_milan"]).active = False
        db.session.commit()
    answers = []
    for email in (world.emails["vol_hanoi"], "nobody@example.org", world.emails["vol_milan"],
                  "VOL_BANGKOK@example.org"):
        client = app.test_client()
        response = client.post("/forgot-password", data={"email": email})
        assert response.status_code == 302 and response.headers["Location"].endswith("/login")
        answers.append(without_tokens(client.get("/login").get_data(as_text=True)))
    assert "we have sent it a link to choose a new password" in answers[0]
    assert len(set(answers)) == 1
    with app.app_context():
        requested = set(db.session.scalars(select(AuditEntry.object_id).where(
            AuditEntry.action == "user.password_reset_requested")))
    assert requested == {world.users["vol_hanoi"], world.users["vol_bangkok"]}


@pytest.mark.parametrize("viewer,sees", [("admin", True), ("asean_admin", True), ("europe_admin", False)])
def test_reset_request_is_shown_to_the_admins(app, client, auth, world, viewer, sees):
    app.test_client().post("/forgot-password", data={"email": world.emails["vol_hanoi"]})
    auth.login(world.emails[viewer])
    page = client.get("/admin/users").get_data(as_text=True)
    assert ("asked for a new password" in page) is sees


def test_forgot_password_form_errors(app, client, world):
    before = snapshot(app)
    response = client.post("/forgot-password", data={"email": ""})
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)
    assert snapshot(app) == before


# Rate limiting -----------------------------------------------------------------------------

LIMITED = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}
# Failed log-ins: 3 per account in 15 minutes, 5 per address in an hour.
THROTTLED = {"RATELIMIT_ENABLED": True, "LOGIN_FAILURES_PER_ACCOUNT": "3 per 15 minutes",
             "LOGIN_FAILURES_PER_ADDRESS": "5 per hour"}
LOCKED_15 = "Too many failed log-ins. Please wait 15 minutes and try again."
LOCKED_60 = "Too many failed log-ins. Please wait 60 minutes and try again."


def browser(app, address="127.0.0.1", language="en"):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_ACCEPT_LANGUAGE": language})
    return client


def fail(client, email, times=1):
    for _ in range(times):
        response = client.post("/login", data={"email": email, "password": "wrong-password"})
        assert response.status_code in (200, 429)
    return response


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_a_shared_office_is_not_locked_out_by_successful_logins(app, world):
    """60 log-ins within minutes from one address (a station office, an event's Wi-Fi): all pass.
    The production settings are in force (only the test switch is turned back on)."""
    keys = ["vol_hanoi", "vol_bangkok", "vol_milan", "hq", "asean_admin", "admin"]
    for number in range(60):
        client = browser(app)
        response = client.post("/login", data={"email": world.emails[keys[number % len(keys)]], "password": PASSWORD})
        assert response.status_code == 302, number


@pytest.mark.parametrize("app_config", [THROTTLED])
def test_failed_logins_lock_the_account_even_for_the_correct_password(app, world):
    client = browser(app)
    for attempt in range(3):
        response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": "wrong-password"})
        assert FAILED_LOGIN in response.get_data(as_text=True)
        assert response.status_code == (429 if attempt == 2 else 200), "the third failure says how long to wait"
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD})
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert LOCKED_15 in body, "the wait time is shown next to the form"
    assert 'id="login-locked"' in body and 'name="password"' in body and "Traceback" not in body
    assert 890 <= int(response.headers["Retry-After"]) <= 900
    assert not logged_in(client)
    assert client.get("/login").status_code == 200, "reading the page is not limited"
    # Another browser, another address: the account itself is locked.
    elsewhere = browser(app, "10.1.2.3")
    assert elsewhere.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD}).status_code == 429
    assert not logged_in(elsewhere)
    # The same address with other spellings of the address is the same account.
    response = browser(app, "10.1.2.4").post("/login", data={"email": " VOL_Hanoi@Example.org", "password": PASSWORD})
    assert response.status_code == 429


@pytest.mark.parametrize("app_config", [{**THROTTLED, "BABEL_DEFAULT_LOCALE": "zh_Hans_CN"}])
def test_the_wait_time_is_shown_in_chinese(app, world):
    client = browser(app, language="zh-CN")
    fail(client, world.emails["vol_hanoi"], 3)
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD})
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "登录失败次数过多" in body and "15" in body and "Too many" not in body


@pytest.mark.parametrize("app_config", [{**THROTTLED, "LOGIN_FAILURES_PER_ACCOUNT": "3 per 2 seconds"}])
def test_the_account_opens_again_when_the_window_has_passed(app, world):
    import time

    client = browser(app)
    fail(client, world.emails["vol_hanoi"], 3)
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD})
    assert response.status_code == 429
    assert "Please wait 1 minute and try again." in response.get_data(as_text=True)
    time.sleep(int(response.headers["Retry-After"]) + 0.2)
    assert client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("app_config", [THROTTLED])
def test_a_successful_login_forgives_the_accounts_failures(app, world):
    client = browser(app)
    fail(client, world.emails["vol_hanoi"], 2)
    assert client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD}).status_code == 302
    other = browser(app, "10.9.9.9")
    fail(other, world.emails["vol_hanoi"], 2)
    assert other.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("app_config", [THROTTLED])
def test_one_accounts_failures_do_not_block_another_until_the_address_limit(app, world):
    office = browser(app, "192.0.2.10")
    fail(office, world.emails["vol_hanoi"], 3)  # vol_hanoi is locked…
    colleague = browser(app, "192.0.2.10")
    # …but a colleague behind the same address logs in, again and again.
    for _ in range(3):
        assert colleague.post("/login", data={"email": world.emails["vol_bangkok"], "password": PASSWORD}).status_code == 302
        colleague.post("/logout")
    # Two more failures from the address (5 in all, for other accounts) reach the address limit.
    fail(office, world.emails["vol_milan"], 1)
    fail(office, "nobody@example.org", 1)
    response = colleague.post("/login", data={"email": world.emails["vol_bangkok"], "password": PASSWORD})
    assert response.status_code == 429 and LOCKED_60 in response.get_data(as_text=True)
    assert not logged_in(colleague)
    # Another address is not concerned.
    assert browser(app, "198.51.100.7").post(
        "/login", data={"email": world.emails["vol_bangkok"], "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("app_config", [THROTTLED])
def test_guessing_many_addresses_from_one_place_is_limited(app, world):
    client = browser(app)
    for number in range(5):
        assert client.post("/login", data={"email": f"guess{number}@example.org", "password": "x"}).status_code in (200, 429)
    assert client.post("/login", data={"email": "guess9@example.org", "password": "x"}).status_code == 429


@pytest.mark.parametrize("app_config", [THROTTLED])
def test_a_locked_account_looks_like_a_locked_unknown_address(app, world):
    """The lock does not tell which addresses have accounts."""
    pages = []
    for email, address in ((world.emails["vol_hanoi"], "10.0.0.1"), ("nobody@example.org", "10.0.0.2")):
        client = browser(app, address)
        fail(client, email, 3)
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 429
        pages.append(without_tokens(response.get_data(as_text=True)).replace(email, "<email>"))
    assert pages[0] == pages[1]


@pytest.mark.parametrize("app_config", [THROTTLED])
def test_invalid_forms_and_page_views_do_not_count(app, world):
    client = browser(app)
    for _ in range(10):
        assert client.post("/login", data={"email": world.emails["vol_hanoi"], "password": ""}).status_code == 200
        assert client.get("/login").status_code == 200
    assert client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD}).status_code == 302


def _redis_url():
    import socket

    url = "redis://127.0.0.1:6379"
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            if connection.recv(16).startswith(b"+PONG"):
                return url
    except OSError:
        pass
    return None


def test_failure_counters_live_in_redis_and_are_shared_by_workers(database_url):
    """With RATELIMIT_STORAGE_URI pointing at Redis, the counters are there: two app instances
    (two workers) see the same lock."""
    import uuid

    from liaison import create_app

    from .conftest import _test_config, _empty_database

    url = _redis_url()
    if url is None:
        pytest.skip("no Redis answers on 127.0.0.1:6379 (CI has one): the in-memory counters are tested above")
    import redis

    prefix = f"liaison-test-{uuid.uuid4().hex[:12]}"
    config = {**THROTTLED, "RATELIMIT_STORAGE_URI": url, "RATELIMIT_KEY_PREFIX": prefix}
    one, two = create_app(_test_config(database_url, **config)), create_app(_test_config(database_url, **config))
    server = redis.Redis.from_url(url)
    try:
        with one.app_context():
            world = build_world(PASSWORD)
        fail(browser(one), world.emails["vol_hanoi"], 3)
        keys = [key.decode() for key in server.scan_iter(f"*{prefix}*")]
        assert any("account" in key for key in keys) and any("address" in key for key in keys), keys
        assert not any("vol_hanoi" in key for key in keys), "accounts are keyed by a hash, not the address"
        response = browser(two).post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD})
        assert response.status_code == 429 and LOCKED_15 in response.get_data(as_text=True)
    finally:
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)
        server.close()
        with one.app_context():
            _empty_database()
            db.engine.dispose()
        with two.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("app_config", [LIMITED])
def test_forgot_password_rate_limit(app, client, world):
    for _ in range(3):
        assert client.post("/forgot-password", data={"email": "nobody@example.org"}).status_code == 302
    response = client.post("/forgot-password", data={"email": world.emails["vol_hanoi"]})
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "user.password_reset_requested"))


# Language ----------------------------------------------------------------------------------

CHINESE_DEFAULT = {"BABEL_DEFAULT_LOCALE": "zh_Hans_CN"}  # the production default


def test_production_default_locale_is_chinese():
    from liaison.config import DefaultConfig

    assert DefaultConfig.BABEL_DEFAULT_LOCALE == "zh_Hans_CN"


@pytest.mark.parametrize("app_config", [CHINESE_DEFAULT])
@pytest.mark.parametrize("accept,expected", [
    (None, "zh-Hans-CN"), ("en", "en"), ("en-GB,en;q=0.9", "en"), ("fr-FR,fr;q=0.9,en;q=0.5", "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans-CN"), ("zh-TW", "zh-Hans-CN"), ("fr", "zh-Hans-CN"), ("", "zh-Hans-CN"),
    ("xx-invalid;;q=abc", "zh-Hans-CN"),
])
def test_accept_language_then_default(app, client, world, accept, expected):
    headers = {"Accept-Language": accept} if accept is not None else {}
    assert html_lang(client.get("/login", headers=headers)) == expected


@pytest.mark.parametrize("app_config", [CHINESE_DEFAULT])
@pytest.mark.parametrize("locale,expected", [("en", "en"), ("zh_Hans_CN", "zh-Hans-CN"), ("zh-CN", "zh-Hans-CN")])
def test_language_switch_on_the_login_page(app, client, world, locale, expected):
    other = "zh-CN" if expected == "en" else "en"
    response = client.post("/language", data={"locale": locale, "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert html_lang(client.get("/login", headers={"Accept-Language": other})) == expected


@pytest.mark.parametrize("app_config", [CHINESE_DEFAULT])
@pytest.mark.parametrize("locale", ["xx", "", "de", "en<script>"])
def test_unknown_locale_is_ignored(app, client, world, locale):
    client.post("/language", data={"locale": "en"})
    response = client.post("/language", data={"locale": locale, "next": "/login"})
    assert response.status_code == 302
    assert html_lang(client.get("/login")) == "en"


@pytest.mark.parametrize("app_config", [CHINESE_DEFAULT])
def test_language_switch_is_saved_to_the_profile(app, client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    assert html_lang(client.get("/")) == "zh-Hans-CN"
    client.post("/language", data={"locale": "en", "next": "/"})
    assert user(app, "vol_hanoi", world).locale == "en"
    assert html_lang(client.get("/")) == "en"
    # Another browser, Chinese by its header, logs in: the profile wins.
    other = app.test_client()
    other.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD})
    assert html_lang(other.get("/", headers={"Accept-Language": "zh-CN"})) == "en"


@pytest.mark.parametrize("app_config", [CHINESE_DEFAULT])
def test_profile_beats_session_beats_accept_language(app, client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    with client.session_transaction() as session:
        session["locale"] = "en"
    # session > Accept-Language
    assert html_lang(client.get("/", headers={"Accept-Language": "zh-CN"})) == "en"
    # profile > session
    with app.app_context():
        db.session.get(User, world.users["vol_hanoi"]).locale = "zh_Hans_CN"
        db.session.commit()
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "zh-Hans-CN"


@pytest.mark.parametrize("app_config", [CHINESE_DEFAULT])
def test_language_survives_log_out(app, client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    client.post("/language", data={"locale": "en"})
    auth.logout()
    assert html_lang(client.get("/login")) == "en"


@pytest.mark.parametrize("app_config", [CHINESE_DEFAULT])
def test_language_chosen_before_log_in_survives_log_in(app, client, auth, world):
    client.post("/language", data={"locale": "en", "next": "/login"})
    assert html_lang(client.get("/login")) == "en"
    auth.login(world.emails["vol_hanoi"])
    assert html_lang(client.get("/")) == "en"


@pytest.mark.parametrize("app_config", [CHINESE_DEFAULT])
def test_profile_form_saves_the_language(app, client, auth, world):
    auth.login(world.emails["vol_hanoi"])
    response = client.post("/profile", data={"profile-name": "Vol Hanoi", "profile-locale": "en",
                                             "profile-timezone": "Asia/Ho_Chi_Minh"})
    assert response.status_code == 302
    assert html_lang(client.get("/profile")) == "en"
    assert user(app, "vol_hanoi", world).locale == "en"


# The session-token migration ---------------------------------------------------------------

def test_migration_gives_existing_users_random_tokens(tmp_path):
    """0004_sessions backfills a distinct random token per user and drops the session version;
    the downgrade brings the version back."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from liaison import create_app

    from .conftest import _test_config

    app = create_app(_test_config("sqlite:///" + str(tmp_path / "old.sqlite")))
    with app.app_context():
        upgrade(revision="0003_speed")
        with db.engine.begin() as connection:
            for number in (1, 2, 3):
                connection.execute(text(
                    "INSERT INTO users (email, name, password_hash, role, active, session_version, "
                    "must_change_password, created_at) VALUES (:email, 'x', 'x', 'volunteer', 1, 7, 0, "
                    "'2026-01-01 00:00:00')"), {"email": f"user{number}@example.org"})
        upgrade(revision="0004_sessions")
        columns = {c["name"]: c for c in inspect(db.engine).get_columns("users")}
        assert "session_version" not in columns and not columns["session_token"]["nullable"]
        with db.engine.connect() as connection:
            tokens = connection.execute(text("SELECT session_token FROM users")).scalars().all()
        assert len(tokens) == 3 and len(set(tokens)) == 3 and all(len(t) >= 32 for t in tokens)
        downgrade(revision="0003_speed")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT session_version FROM users")).scalars().all() == [1, 1, 1]
        db.engine.dispose()
