"""Forgot password: a time-limited, single-use link by e-mail (from the job queue), the same
answer whether the address exists or not, throttled like the log-in."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from liaison.models import AuditEntry, JobRun, User, db

from .conftest import PASSWORD
from .helpers import snapshot

LINK = re.compile(r"https?://[^\s\"<>]+/reset-password/[A-Za-z0-9._\-]+")


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def outbox(app) -> list:
    return list(getattr(app.extensions["mailman"], "outbox", []))


def ask(app, email: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/forgot-password", data={"email": email})
    response.close()  # as the WSGI server does once the response is sent: the mail goes then
    return response, client


def reset_link(app, email: str) -> str:
    response, _client = ask(app, email)
    assert response.status_code == 302
    mails = [m for m in outbox(app) if m.to == [email]]
    assert mails, "no reset e-mail"
    found = LINK.findall(mails[-1].body)
    assert found, mails[-1].body
    return found[0]


def path_of(link: str) -> str:
    return link[link.index("/reset-password/"):]


def can_log_in(app, email: str, password: str) -> bool:
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    return response.status_code == 302 and "/login" not in response.headers["Location"]


def test_the_link_arrives_and_sets_a_new_password_once(app, world):
    email = world.emails["vol_hanoi"]
    link = reset_link(app, email)
    assert link.startswith("http://localhost/reset-password/")  # SERVER_NAME in the tests; PUBLIC_URL in production
    client = app.test_client()
    page = client.get(path_of(link))
    assert page.status_code == 200 and 'name="new_password"' in page.get_data(as_text=True)
    response = client.post(path_of(link), data={"new_password": "a-new-password-1", "new_password_repeat": "a-new-password-1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert can_log_in(app, email, "a-new-password-1")
    assert not can_log_in(app, email, PASSWORD)
    # Single use: the same link is dead now.
    before = snapshot(app)
    again = client.post(path_of(link), data={"new_password": "another-password-2", "new_password_repeat": "another-password-2"})
    assert again.status_code == 200 and 'id="reset-link-invalid"' in again.get_data(as_text=True)
    assert snapshot(app) == before
    assert can_log_in(app, email, "a-new-password-1")


def test_the_reset_ends_every_session_of_the_account(app, world):
    email = world.emails["vol_hanoi"]
    session = app.test_client()
    session.post("/login", data={"email": email, "password": PASSWORD})
    assert session.get("/profile").status_code == 200
    link = reset_link(app, email)
    app.test_client().post(path_of(link), data={"new_password": "a-new-password-1", "new_password_repeat": "a-new-password-1"})
    assert session.get("/profile").status_code == 302  # logged out


def test_the_link_expires(app, world):
    link = reset_link(app, world.emails["vol_hanoi"])
    app.config["PASSWORD_RESET_MAX_AGE"] = -1  # every link is past its age now
    body = app.test_client().get(path_of(link)).get_data(as_text=True)
    assert 'id="reset-link-invalid"' in body and 'name="new_password"' not in body


def test_an_earlier_link_dies_when_the_password_changes_otherwise(app, world):
    link = reset_link(app, world.emails["vol_hanoi"])
    with app.test_request_context():
        from liaison.auth import services

        services.change_password(db.session.get(User, world.users["vol_hanoi"]), "changed-meanwhile-1")
    assert 'id="reset-link-invalid"' in app.test_client().get(path_of(link)).get_data(as_text=True)


@pytest.mark.parametrize("token", ["abc", "x" * 600, "eyJhbGciOiJIUzI1NiJ9.e30.forged", "WzEsImFiYyJd.Zz9x4A.abc"])
def test_forged_or_garbage_tokens_change_nothing(app, world, token):
    before = snapshot(app)
    client = app.test_client()
    for response in (client.get(f"/reset-password/{token}"),
                     client.post(f"/reset-password/{token}", data={"new_password": "a-new-password-1",
                                                                    "new_password_repeat": "a-new-password-1"})):
        assert response.status_code == 200 and 'id="reset-link-invalid"' in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_token_signed_with_another_key_is_refused(app, world):
    from itsdangerous import URLSafeTimedSerializer

    token = URLSafeTimedSerializer("another-secret", salt="liaison-password-reset").dumps([world.users["admin"], "0" * 32])
    assert 'id="reset-link-invalid"' in app.test_client().get(f"/reset-password/{token}").get_data(as_text=True)


def test_the_same_answer_whether_the_address_exists_or_not(app, world):
    with app.app_context():
        db.session.get(User, world.users["vol_milan"]).active = False
        db.session.commit()
        db.session.remove()
    answers = []
    for email in (world.emails["vol_hanoi"], "nobody@example.org", world.emails["vol_milan"], "VOL_BANGKOK@example.org"):
        response, client = ask(app, email)
        assert response.status_code == 302 and response.headers["Location"].endswith("/login")
        body = client.get("/login").get_data(as_text=True)
        answers.append(re.sub(r'name="csrf_token"[^>]*', "", body))
    assert len(set(answers)) == 1
    assert "we have sent it a link to choose a new password" in answers[0]
    assert sorted(m.to[0] for m in outbox(app)) == ["vol_bangkok@example.org", "vol_hanoi@example.org"]
    with app.app_context():
        requested = set(db.session.scalars(select(AuditEntry.object_id).where(
            AuditEntry.action == "user.password_reset_requested")))
    assert requested == {world.users["vol_hanoi"], world.users["vol_bangkok"]}


def test_the_answer_is_made_before_any_mail_is_sent(app, world):
    """Inline jobs (no REDIS_URL): the reset mail goes after the response has been sent, so the
    time to answer does not tell whether the address has an account."""
    responses = {}
    for email in (world.emails["vol_hanoi"], "nobody@example.org"):
        client = app.test_client()
        response = client.post("/forgot-password", data={"email": email})
        assert response.status_code == 302 and response.headers["Location"].endswith("/login")
        responses[email] = response
    assert outbox(app) == []  # both answered, no mail sent within either request
    with app.app_context():
        job = db.session.scalar(select(JobRun).where(JobRun.name == "auth.password_reset_mail"))
        assert job.status == "queued"  # written with the request's commit (nothing lost), not yet run
        db.session.remove()
    for response in responses.values():
        response.close()  # the server has sent the response
    assert [m.to for m in outbox(app)] == [[world.emails["vol_hanoi"]]]
    with app.app_context():
        assert db.session.scalar(select(JobRun.status).where(JobRun.name == "auth.password_reset_mail")) == "done"
        db.session.remove()


def test_a_response_never_closed_leaves_the_mail_to_run_due(app, world):
    from datetime import timedelta

    from liaison import jobs
    from liaison.models import utcnow

    response = app.test_client().post("/forgot-password", data={"email": world.emails["vol_hanoi"]})
    assert response.status_code == 302 and outbox(app) == []
    with app.app_context():
        assert jobs.run_due(app, now=utcnow() + timedelta(minutes=6))["requeued"] == 1
        db.session.remove()
    assert [m.to for m in outbox(app)] == [[world.emails["vol_hanoi"]]]
    response.close()  # later: the job is done, nothing is sent twice
    assert len(outbox(app)) == 1


def test_the_mail_is_in_the_users_language_and_sent_from_the_queue(app, world):
    with app.app_context():
        db.session.get(User, world.users["vol_hanoi"]).locale = "zh_Hans_CN"
        db.session.commit()
        db.session.remove()
    reset_link(app, world.emails["vol_hanoi"])
    mail = outbox(app)[-1]
    assert "新密码" in mail.subject and "一次" in mail.body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobRun).where(
            JobRun.name == "auth.password_reset_mail", JobRun.status == "done")) == 1


@pytest.mark.parametrize("data,message", [
    ({"new_password": "short", "new_password_repeat": "short"}, "Use at least 10 characters."),
    ({"new_password": "a-new-password-1", "new_password_repeat": "a-different-one-2"}, "The two passwords differ."),
    ({"new_password": "", "new_password_repeat": ""}, "This field is required."),
    ({"new_password": "x" * 10_000, "new_password_repeat": "x" * 10_000}, "cannot be longer than"),
])
def test_bad_new_password_is_refused_next_to_the_field(app, world, data, message):
    link = reset_link(app, world.emails["vol_hanoi"])
    before = snapshot(app)
    response = app.test_client().post(path_of(link), data=data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert message in body and "-errors" in body
    assert data["new_password"] not in body or not data["new_password"]  # passwords are never echoed
    assert snapshot(app) == before
    assert can_log_in(app, world.emails["vol_hanoi"], PASSWORD)  # the link still works afterwards


LIMITED = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}


@pytest.mark.parametrize("app_config", [LIMITED])
def test_reset_requests_are_throttled(app, world):
    client = app.test_client()
    for _ in range(3):
        assert client.post("/forgot-password", data={"email": "nobody@example.org"}).status_code == 302
    response = client.post("/forgot-password", data={"email": world.emails["vol_hanoi"]})
    assert response.status_code == 429
    assert outbox(app) == []


@pytest.mark.parametrize("app_config", [LIMITED])
def test_guessing_reset_tokens_is_throttled(app, world):
    client = app.test_client()
    for attempt in range(3):
        client.post(f"/reset-password/guess{attempt}", data={"new_password": "a-new-password-1",
                                                             "new_password_repeat": "a-new-password-1"})
    assert client.post("/reset-password/guess9", data={}).status_code == 429


def test_the_link_is_built_on_public_url_not_the_host_header(app, world):
    app.config["PUBLIC_URL"] = "https://liaison.example.org/"
    client = app.test_client()
    response = client.post("/forgot-password", data={"email": world.emails["vol_hanoi"]},
                           headers={"Host": "evil.example.com"}, base_url="http://evil.example.com")
    assert response.status_code == 302
    response.close()
    body = outbox(app)[-1].body
    assert "evil.example.com" not in body
    assert "https://liaison.example.org/reset-password/" in body
