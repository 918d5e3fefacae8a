"""The REST API (/api/v1): tokens, the same rules as the pages, ETags, idempotency, rate limits,
problem+json. The authorization matrix is tests/test_api_matrix.py; the fuzzer
tests/test_api_schemathesis.py; the documentation's example client tests/test_api_docs.py."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from liaison.api import tokens
from liaison.api.models import ApiIdempotencyKey, ApiToken, TokenAccess
from liaison.models import AuditEntry, Contact, Station, TalentLead, User, db, utcnow

API = "/api/v1"


def make_token(app, world, role: str, access: str = TokenAccess.WRITE, station: str | None = None,
               days: int = 30) -> str:
    with app.test_request_context():
        user = db.session.get(User, world.users[role])
        restricted = db.session.get(Station, world.stations[station]) if station else None
        _token, secret = tokens.create_token(user, f"{role} test", access=access, days=days, station=restricted)
        return secret


def bearer(secret: str, **extra) -> dict:
    return {"Authorization": f"Bearer {secret}", **extra}


@pytest.fixture
def token(app, world):
    """``token("vol_hanoi")`` → a read-write token's secret."""
    return lambda role, **kwargs: make_token(app, world, role, **kwargs)


def assert_problem(response, status: int):
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and "type" in body and body["instance"]
    return body


# Authentication ------------------------------------------------------------------------------

def test_no_token_is_401(client, world):
    body = assert_problem(client.get(f"{API}/leads/"), 401)
    assert "Bearer" in body["detail"]


def test_openapi_document_is_public_and_generated(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert f"{API}/leads/{{lead_id}}/moves" in spec["paths"]
    assert f"{API}/p/asean_language_title/applications/" in spec["paths"]
    assert f"{API}/p/europe_school_partnership/partnerships/" in spec["paths"]


def test_docs_page_has_no_inline_script_and_keeps_the_csp(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script>" not in html and "cdn" not in html.lower()
    assert "vendor/swagger-ui/swagger-ui-bundle" in html and "api/docs" in html
    for path in ("vendor/swagger-ui/swagger-ui-bundle.js", "api/docs.js"):
        assert client.get(f"/static/{path}").status_code == 200


def test_session_cookie_does_not_authenticate_api(client, world, login):
    login("vol_hanoi")
    assert_problem(client.get(f"{API}/leads/"), 401)
    response = client.post(f"{API}/leads/", json={"contact_id": world.contacts["hanoi"], "category": "employment",
                                                   "summary": "Through the session"})
    assert_problem(response, 401)


def test_revoked_and_expired_tokens_are_401(app, client, world, token):
    secret = token("vol_hanoi")
    assert client.get(f"{API}/leads/", headers=bearer(secret)).status_code == 200
    with app.test_request_context():
        row = db.session.scalar(select(ApiToken))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert "expired" in assert_problem(client.get(f"{API}/leads/", headers=bearer(secret)), 401)["detail"]
    with app.test_request_context():
        row = db.session.scalar(select(ApiToken))
        row.expires_at = utcnow() + timedelta(days=1)
        tokens.revoke(row, db.session.get(User, world.users["vol_hanoi"]))
    assert "revoked" in assert_problem(client.get(f"{API}/leads/", headers=bearer(secret)), 401)["detail"]
    assert_problem(client.get(f"{API}/leads/", headers=bearer(secret[:-2] + "xx")), 401)


def test_token_is_stored_hashed_and_use_is_recorded(app, client, world, token):
    secret = token("vol_hanoi")
    client.get(f"{API}/stations/", headers=bearer(secret))
    with app.test_request_context():
        row = db.session.scalar(select(ApiToken))
        assert secret not in (row.secret_hash, row.prefix, row.name) and row.secret_hash == tokens.hash_token(secret)
        assert row.last_used_at is not None
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert "api_token.create" in actions


def test_read_only_token_cannot_write(client, world, token):
    secret = token("vol_hanoi", access=TokenAccess.READ)
    assert client.get(f"{API}/leads/", headers=bearer(secret)).status_code == 200
    response = client.post(f"{API}/leads/", headers=bearer(secret),
                           json={"contact_id": world.contacts["hanoi"], "category": "employment", "summary": "x"})
    assert "read-only" in assert_problem(response, 403)["detail"]


def test_station_restricted_token_sees_one_station(client, world, token):
    secret = token("asean_admin", station="bangkok")
    stations = client.get(f"{API}/stations/", headers=bearer(secret)).get_json()["items"]
    assert [s["id"] for s in stations] == [world.stations["bangkok"]]
    leads = client.get(f"{API}/leads/", headers=bearer(secret)).get_json()["items"]
    assert leads and {lead["station_id"] for lead in leads} == {world.stations["bangkok"]}
    # Hanoi is in the admin's region, but not the token's station: 404, reading and writing.
    assert_problem(client.get(f"{API}/leads/{world.leads['hanoi_draft']}", headers=bearer(secret)), 404)
    assert_problem(client.get(f"{API}/contacts/{world.contacts['hanoi']}", headers=bearer(secret)), 404)
    response = client.post(f"{API}/leads/", headers=bearer(secret),
                           json={"contact_id": world.contacts["hanoi"], "category": "employment", "summary": "x"})
    assert_problem(response, 404)
    assert client.get(f"{API}/contacts/{world.contacts['bangkok']}", headers=bearer(secret)).status_code == 200


# Leads: the same services and state machine as the pages -------------------------------------

def _create_draft(client, secret, world, **extra):
    return client.post(f"{API}/leads/", headers=bearer(secret, **extra), json={
        "contact_id": world.contacts["hanoi"], "category": "employment", "summary": "A chemist who wants to come back",
        "priority": 3})


def test_create_draft_then_submit_with_etag(app, client, world, token):
    secret = token("vol_hanoi")
    response = _create_draft(client, secret, world)
    assert response.status_code == 201, response.data
    lead = response.get_json()
    assert lead["status"] == "draft" and "submit" in lead["moves"] and lead["can_edit"]
    assert response.headers["Location"].endswith(f"/api/v1/leads/{lead['id']}")
    etag = response.headers["ETag"]
    assert etag == f'"{lead["version"]}"'
    assert lead["created_at"].endswith("Z")
    # Without If-Match: 428; with a stale one: 412; with the current one: the move is made.
    url = f"{API}/leads/{lead['id']}/moves"
    assert_problem(client.post(url, headers=bearer(secret), json={"move": "submit"}), 428)
    assert_problem(client.post(url, headers=bearer(secret, **{"If-Match": '"999"'}), json={"move": "submit"}), 412)
    response = client.post(url, headers=bearer(secret, **{"If-Match": etag}), json={"move": "submit"})
    assert response.status_code == 200, response.data
    assert response.get_json()["status"] == "submitted"
    assert response.headers["ETag"] != etag
    # The same stale ETag after the move: 412, nothing changed.
    assert_problem(client.patch(f"{API}/leads/{lead['id']}", headers=bearer(secret, **{"If-Match": etag}),
                                json={"summary": "late"}), 412)
    timeline = client.get(f"{API}/leads/{lead['id']}/timeline", headers=bearer(secret)).get_json()["items"]
    assert [e["kind"] for e in timeline] == ["created", "status"]
    assert timeline[1]["to_status"] == "submitted"


def test_workflow_rules_are_the_pages(client, world, token):
    vol, hq = token("vol_hanoi"), token("hq")
    lead_id = world.leads["hanoi_submitted"]
    etag = client.get(f"{API}/leads/{lead_id}", headers=bearer(hq)).headers["ETag"]
    # A volunteer may not start the review (HQ's move): 403; a move from the wrong status: 409.
    assert_problem(client.post(f"{API}/leads/{lead_id}/moves", headers=bearer(vol, **{"If-Match": etag}),
                               json={"move": "start_review"}), 403)
    assert_problem(client.post(f"{API}/leads/{lead_id}/moves", headers=bearer(hq, **{"If-Match": etag}),
                               json={"move": "accept"}), 409)
    response = client.post(f"{API}/leads/{lead_id}/moves", headers=bearer(hq, **{"If-Match": etag}),
                           json={"move": "start_review"})
    assert response.status_code == 200 and response.get_json()["status"] == "under_review"
    etag = response.headers["ETag"]
    # Rejecting needs a comment: 422 naming the field.
    body = assert_problem(client.post(f"{API}/leads/{lead_id}/moves", headers=bearer(hq, **{"If-Match": etag}),
                                      json={"move": "reject"}), 422)
    assert body["errors"][0]["field"] == "comment"
    assert_problem(client.post(f"{API}/leads/{lead_id}/moves", headers=bearer(hq, **{"If-Match": etag}),
                               json={"move": "fly"}), 422)


def test_edit_draft_and_bad_input(client, world, token):
    secret = token("vol_hanoi")
    lead_id = world.leads["hanoi_draft"]
    etag = client.get(f"{API}/leads/{lead_id}", headers=bearer(secret)).headers["ETag"]
    body = assert_problem(client.patch(f"{API}/leads/{lead_id}", headers=bearer(secret, **{"If-Match": etag}),
                                       json={"summary": "x" * 4001, "category": "nope"}), 422)
    assert {e["field"] for e in body["errors"]} == {"summary", "category"}
    response = client.patch(f"{API}/leads/{lead_id}", headers=bearer(secret, **{"If-Match": etag}),
                            json={"summary": "Better summary", "wants": None})
    assert response.status_code == 200 and response.get_json()["summary"] == "Better summary"
    # HQ sees it but does not act for the station: 403; a submitted lead is no longer editable: 409.
    assert_problem(client.patch(f"{API}/leads/{lead_id}", headers=bearer(token("hq"), **{"If-Match": "*"}),
                                json={"summary": "HQ"}), 403)
    submitted = world.leads["hanoi_submitted"]
    assert_problem(client.patch(f"{API}/leads/{submitted}", headers=bearer(secret, **{"If-Match": "*"}),
                                json={"summary": "late"}), 409)


def test_list_filters_match_the_pages(client, world, token):
    secret = token("hq")
    items = client.get(f"{API}/leads/?status=draft&station_id={world.stations['hanoi']}",
                       headers=bearer(secret)).get_json()["items"]
    assert [lead["id"] for lead in items] == [world.leads["hanoi_draft"]]
    page = client.get(f"{API}/leads/?limit=1", headers=bearer(secret)).get_json()
    assert len(page["items"]) == 1 and page["page"]["next_cursor"]
    second = client.get(f"{API}/leads/?limit=1&after={page['page']['next_cursor']}", headers=bearer(secret)).get_json()
    assert second["items"][0]["id"] != page["items"][0]["id"]
    vol_items = client.get(f"{API}/leads/", headers=bearer(token("vol_milan"))).get_json()["items"]
    assert {lead["station_id"] for lead in vol_items} == {world.stations["milan"]}


def test_comment(client, world, token):
    lead_id = world.leads["hanoi_submitted"]
    response = client.post(f"{API}/leads/{lead_id}/comments", headers=bearer(token("hq")), json={"text": "Looks good"})
    assert response.status_code == 201 and response.get_json()["kind"] == "comment"
    assert_problem(client.post(f"{API}/leads/{lead_id}/comments", headers=bearer(token("vol_milan")),
                               json={"text": "x"}), 404)


# Contacts: masked as on the pages ----------------------------------------------------------

def test_contact_personal_fields_masked_as_on_pages(app, client, world, token):
    with app.test_request_context():
        contact = db.session.get(Contact, world.contacts["hanoi"])
        contact.email, contact.phone = "wang.min@example.org", "+84912345678"
        db.session.commit()
    url = f"{API}/contacts/{world.contacts['hanoi']}"
    hq = client.get(url, headers=bearer(token("hq"))).get_json()
    assert hq["email"] == "w***@example.org" and "email" in hq["masked"] and "***" in hq["phone"]
    vol = client.get(url, headers=bearer(token("vol_hanoi"))).get_json()
    assert vol["email"] == "wang.min@example.org" and vol["masked"] == []
    listed = client.get(f"{API}/contacts/?station_id={world.stations['hanoi']}",
                        headers=bearer(token("hq"))).get_json()["items"]
    assert {c["email"] for c in listed if c["id"] == world.contacts["hanoi"]} == {"w***@example.org"}


def test_contact_create_edit(client, world, token):
    secret = token("vol_hanoi")
    response = client.post(f"{API}/contacts/", headers=bearer(secret),
                           json={"kind": "scholar", "name": "Nguyen Van A", "email": "a@example.org",
                                 "tags": ["chemistry"]})
    assert response.status_code == 201, response.data
    contact = response.get_json()
    assert contact["station_id"] == world.stations["hanoi"] and contact["tags"] == ["chemistry"]
    # The same e-mail again: the duplicate check of the pages, 409 with the candidates.
    again = client.post(f"{API}/contacts/", headers=bearer(secret),
                        json={"kind": "scholar", "name": "Someone", "email": "A@example.org"})
    assert assert_problem(again, 409)["duplicates"] == [contact["id"]]
    etag = response.headers["ETag"]
    edited = client.patch(f"{API}/contacts/{contact['id']}", headers=bearer(secret, **{"If-Match": etag}),
                          json={"city": "Hanoi", "email": "not an e-mail"})
    assert any(e["field"] == "email" for e in assert_problem(edited, 422)["errors"])
    edited = client.patch(f"{API}/contacts/{contact['id']}", headers=bearer(secret, **{"If-Match": etag}),
                          json={"city": "Hanoi"})
    assert edited.status_code == 200 and edited.get_json()["city"] == "Hanoi"
    assert_problem(client.patch(f"{API}/contacts/{contact['id']}", headers=bearer(secret), json={"city": "x"}), 428)


# Problems ------------------------------------------------------------------------------------

def test_problem_json_for_every_error_class(app, client, world, token, monkeypatch):
    secret = token("vol_hanoi")
    assert_problem(client.get(f"{API}/leads/999999", headers=bearer(secret)), 404)
    assert_problem(client.get(f"{API}/nothing-here", headers=bearer(secret)), 404)
    response = client.delete(f"{API}/leads/", headers=bearer(secret))
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    assert_problem(client.post(f"{API}/leads/", headers=bearer(secret), data="x=1",
                               content_type="application/x-www-form-urlencoded"), 415)
    assert_problem(client.post(f"{API}/leads/", headers=bearer(secret), data="[1]", content_type="application/json"),
                   400)
    body = assert_problem(client.post(f"{API}/leads/", headers=bearer(secret), json={"category": "employment"}), 422)
    assert {e["field"] for e in body["errors"]} >= {"contact_id", "summary"}
    body = assert_problem(client.get(f"{API}/leads/?limit=1000", headers=bearer(secret)), 422)
    assert body["errors"][0]["field"] == "limit"

    from liaison.api import views

    def boom(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "lead_out", boom)
    body = assert_problem(client.get(f"{API}/leads/{world.leads['hanoi_draft']}", headers=bearer(secret)), 500)
    assert "boom" not in body["detail"]


def test_messages_follow_accept_language(client, world):
    body = assert_problem(client.get(f"{API}/leads/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}), 401)
    assert body["title"] != "Not authenticated"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["title"])


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "API_RATE_LIMIT": "3 per minute"}])
def test_rate_limit_per_token(client, world, token):
    first, second = token("vol_hanoi"), token("vol_milan")
    for _ in range(3):
        assert client.get(f"{API}/stations/", headers=bearer(first)).status_code == 200
    response = client.get(f"{API}/stations/", headers=bearer(first))
    assert_problem(response, 429)
    assert response.headers["Retry-After"]
    assert client.get(f"{API}/stations/", headers=bearer(second)).status_code == 200  # per token


# Idempotency ---------------------------------------------------------------------------------

def test_idempotency_key_replays_and_refuses_another_body(app, client, world, token):
    secret = token("vol_hanoi")
    first = _create_draft(client, secret, world, **{"Idempotency-Key": "abc-1"})
    again = _create_draft(client, secret, world, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    other = client.post(f"{API}/leads/", headers=bearer(secret, **{"Idempotency-Key": "abc-1"}),
                        json={"contact_id": world.contacts["hanoi"], "category": "employment", "summary": "other"})
    assert_problem(other, 422)
    # A refused request frees its key: fixed and resent, it is created.
    bad = client.post(f"{API}/leads/", headers=bearer(secret, **{"Idempotency-Key": "abc-2"}),
                      json={"contact_id": world.contacts["hanoi"], "category": "nope", "summary": "x"})
    assert_problem(bad, 422)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiIdempotencyKey)) == 1


def test_two_concurrent_identical_requests_create_one_lead(app, world, token):
    secret = token("vol_hanoi")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(TalentLead))
    barrier = threading.Barrier(2)
    results: list = []

    def send():
        client = app.test_client()
        barrier.wait()
        response = _create_draft(client, secret, world, **{"Idempotency-Key": "same-key"})
        results.append((response.status_code, response.get_json().get("id")))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2 and {status for status, _ in results} == {201}, results
    assert len({lead_id for _, lead_id in results}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TalentLead)) == before + 1


# Token pages -----------------------------------------------------------------------------------

def test_profile_token_page_shows_secret_once_and_revokes(app, client, world, login):
    login("vol_hanoi")
    page = client.get("/profile/tokens")
    assert page.status_code == 200
    response = client.post("/profile/tokens", data={"name": "Sync", "access": "write", "days": "30",
                                                   "station": str(world.stations["hanoi"])})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="new-token"' in html
    secret = html.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("lia_")
    assert secret not in client.get("/profile/tokens").get_data(as_text=True)
    api = app.test_client()
    assert api.get(f"{API}/stations/", headers=bearer(secret)).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 302
    assert_problem(api.get(f"{API}/stations/", headers=bearer(secret)), 401)
    with app.app_context():
        assert {"api_token.create", "api_token.revoke"} <= set(db.session.scalars(select(AuditEntry.action)))


def test_bad_token_form_keeps_input(client, world, login):
    login("vol_hanoi")
    response = client.post("/profile/tokens", data={"name": "", "access": "admin", "days": "12345", "station": "x"})
    assert response.status_code == 200 and 'id="new-token"' not in response.get_data(as_text=True)
    assert "is-invalid" in response.get_data(as_text=True)


def test_admin_sees_and_revokes_every_token(app, client, world, login, token):
    token("vol_hanoi")
    login("admin")
    assert "vol_hanoi test" in client.get("/admin/api-tokens/").get_data(as_text=True)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert client.post(f"/admin/api-tokens/{token_id}/revoke").status_code == 302
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None
    login("hq")
    assert client.get("/admin/api-tokens/").status_code == 403


def test_zh_token_page(client, world, login):
    login("vol_hanoi")
    html = client.get("/profile/tokens", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "API 令牌" in html and "创建令牌" in html


@pytest.mark.parametrize("path", ["/leads/", "/contacts/", "/stations/"])
def test_lists_issue_a_constant_number_of_queries(client, world, token, count_queries, path):
    secret = token("hq")
    client.get(f"{API}{path}", headers=bearer(secret))  # the token's first use is recorded once
    counts = []
    for limit in (1, 20):
        with count_queries() as counter:
            response = client.get(f"{API}{path}?limit={limit}", headers=bearer(secret))
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
