"""Lawful basis and consent per purpose (issue 11): the validity rule, the gate on submitting and
resubmitting a lead, recording and withdrawing per role, the renewal list's scope, bad input,
the new-contact form's "The person agreed to…", both languages."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from liaison.config import DefaultConfig as Config
from liaison.leads.workflow import apply_move
from liaison.models import (
    AuditEntry,
    Contact,
    ContactConsent,
    LeadEvent,
    LeadStatus,
    Purpose,
    Station,
    TalentLead,
    User,
    db,
    utcnow,
)
from liaison.privacy import consent

from .factories import make_lead
from .helpers import snapshot
from .test_bad_input import page_of

# "Today" as the app sees it: the users' calendar day (the world's users have the default time zone).
TODAY = datetime.now(ZoneInfo(Config.BABEL_DEFAULT_TIMEZONE)).date()


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _basis(contact_id, purpose="pass_to_hq", *, given_on=None, expires_on=None, withdrawn=False, basis="consent",
           source="form") -> int:
    row = ContactConsent(contact_id=contact_id, purpose=purpose, basis=basis, source=source,
                         given_on=given_on or TODAY - timedelta(days=30), expires_on=expires_on,
                         withdrawn_at=utcnow() if withdrawn else None)
    db.session.add(row)
    db.session.commit()
    return row.id


def _clear(contact_id, purpose="pass_to_hq") -> None:
    for row in db.session.scalars(select(ContactConsent).where(ContactConsent.contact_id == contact_id,
                                                               ContactConsent.purpose == purpose)):
        db.session.delete(row)
    db.session.commit()


def _consents(app, contact_id) -> list[ContactConsent]:
    with app.app_context():
        try:
            rows = db.session.scalars(select(ContactConsent).where(ContactConsent.contact_id == contact_id)
                                      .order_by(ContactConsent.id)).all()
            db.session.expunge_all()
            return rows
        finally:
            db.session.remove()


# The rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize("given,expires,withdrawn,valid", [
    (-30, None, False, True),
    (0, None, False, True),  # given today
    (1, None, False, False),  # given tomorrow: not yet
    (-30, 0, False, True),  # expires today: still valid today
    (-30, -1, False, False),  # expired yesterday
    (-30, 30, False, True),
    (-30, None, True, False),  # withdrawn
    (-30, 30, True, False),
], ids=["past", "today", "future", "expires-today", "expired", "expires-later", "withdrawn", "withdrawn-unexpired"])
def test_validity_rule(app, world, ctx, given, expires, withdrawn, valid):
    contact_id = world.contacts["milan"]
    _clear(contact_id)
    basis_id = _basis(contact_id, given_on=TODAY + timedelta(days=given),
                      expires_on=None if expires is None else TODAY + timedelta(days=expires), withdrawn=withdrawn)
    found = consent.valid_basis(contact_id, Purpose.PASS_TO_HQ, on=TODAY)
    assert (found is not None and found.id == basis_id) is valid
    assert consent.may_contact(contact_id, "pass_to_hq") is valid
    assert (contact_id in consent.valid_purposes([contact_id, world.contacts["hanoi"]], "pass_to_hq")) is valid
    assert world.contacts["hanoi"] in consent.valid_purposes([contact_id, world.contacts["hanoi"]], "pass_to_hq")
    # Each purpose needs its own basis.
    assert consent.valid_basis(contact_id, Purpose.POLICY_NEWS) is None
    if not valid:
        with pytest.raises(consent.MissingBasis) as raised:
            consent.require_basis(contact_id, Purpose.PASS_TO_HQ)
        assert "Lawful basis and consent" in str(raised.value.message)


def test_a_later_day_and_an_erased_person(app, world, ctx):
    contact_id = world.contacts["milan"]
    _clear(contact_id)
    _basis(contact_id, expires_on=TODAY + timedelta(days=10))
    assert consent.valid_basis(contact_id, "pass_to_hq", on=TODAY + timedelta(days=10)) is not None
    assert consent.valid_basis(contact_id, "pass_to_hq", on=TODAY + timedelta(days=11)) is None
    contact = db.session.get(Contact, contact_id)
    contact.erased_at = utcnow()
    db.session.commit()
    assert not consent.may_contact(contact, Purpose.PASS_TO_HQ)
    assert consent.valid_purposes([contact_id], "pass_to_hq") == set()


def test_valid_purposes_is_one_query(app, world, ctx, count_queries):
    ids = list(world.contacts.values())
    with count_queries() as counter:
        found = consent.valid_purposes(ids, Purpose.PASS_TO_HQ)
    selects = [s for s in counter.statements if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    assert found == set(ids) and len(selects) == 1, counter.statements
    assert consent.valid_purposes([], Purpose.PASS_TO_HQ) == set()


def test_every_purpose_has_a_description_in_both_languages(app):
    assert set(consent.PURPOSES) == set(Purpose)
    for locale in ("en", "zh_Hans_CN"):
        with app.test_request_context(headers={"Accept-Language": "zh-CN" if locale != "en" else "en"}):
            for info in consent.PURPOSES.values():
                text, label = str(info.description), str(info.label)
                assert text and label
                if locale != "en":
                    assert re.search(r"[\u4e00-\u9fff]", text), text
                    assert re.search(r"[\u4e00-\u9fff]", label), label


def test_record_and_withdraw_write_an_audit_entry(app, world, ctx):
    contact = db.session.get(Contact, world.contacts["hanoi"])
    actor = db.session.get(User, world.users["vol_hanoi"])
    saved = consent.record(contact, "policy_news", "consent", "email", TODAY, actor=actor,
                           expires_on=TODAY + timedelta(days=365), evidence=" E-mail of today ", text_version="2026-11")
    db.session.commit()
    assert saved.evidence == "E-mail of today" and saved.recorded_by_id == actor.id
    consent.withdraw(saved, actor, "Asked by phone")
    db.session.commit()
    assert not consent.may_contact(contact, Purpose.POLICY_NEWS)
    with pytest.raises(consent.ConsentError):
        consent.withdraw(saved, actor, "again")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("consent.%"))
                                 .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["consent.record", "consent.withdraw"]
    assert entries[0].station_id == world.stations["hanoi"] and entries[0].region_id == world.regions["ASEAN"]
    assert entries[0].object_id == contact.id and entries[0].details["purpose"] == "policy_news"
    assert "Nguyen" not in repr(entries[0].details)  # no personal value in the audit trail
    assert "Policy news" in entries[0].description


@pytest.mark.parametrize("given,expires,field", [
    (1, None, "given_on"), (0, -1, "expires_on"), (-10, -20, "expires_on"), (None, None, "given_on"),
])
def test_record_refuses_a_basis_that_could_not_be_valid(app, world, ctx, given, expires, field):
    contact = db.session.get(Contact, world.contacts["hanoi"])
    with pytest.raises(consent.ConsentError) as raised:
        consent.record(contact, "policy_news", "consent", "email",
                       None if given is None else TODAY + timedelta(days=given), actor=None,
                       expires_on=None if expires is None else TODAY + timedelta(days=expires))
    assert raised.value.field == field
    for purpose, basis, source, name in (("bogus", "consent", "email", "purpose"), ("policy_news", "x", "email", "basis"),
                                         ("policy_news", "consent", "x", "source")):
        with pytest.raises(consent.ConsentError) as raised:
            consent.record(contact, purpose, basis, source, TODAY, actor=None)
        assert raised.value.field == name


# The gate on submitting and resubmitting ---------------------------------------------------

def _without_basis(app, world, station="hanoi"):
    with app.app_context():
        try:
            _clear(world.contacts[station])
        finally:
            db.session.remove()


def test_submit_is_refused_without_a_basis_and_nothing_changes(app, client, login, world):
    _without_basis(app, world)
    login("vol_hanoi")
    lead_id = world.leads["hanoi_draft"]
    before = snapshot(app)
    with app.app_context():
        version = db.session.get(TalentLead, lead_id).version
    response = client.post(f"/leads/{lead_id}/move", data={"move": "submit", "version": str(version)})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "no valid lawful basis" in body and "Passing the profile to HQ" in body
    assert f'/contacts/{world.contacts["hanoi"]}#consent' in body  # where to record it
    assert snapshot(app) == before
    # The lead's page says so before anyone tries, with the link.
    page = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert 'id="consent-needed"' in page and f'/contacts/{world.contacts["hanoi"]}#consent' in page


def test_submit_passes_once_a_basis_is_recorded_through_the_form(app, client, login, world):
    _without_basis(app, world)
    login("vol_hanoi")
    response = client.post(f"/privacy/consents/contacts/{world.contacts['hanoi']}/new", data={
        "purpose": "pass_to_hq", "basis": "consent", "source": "verbal", "given_on": TODAY.isoformat(),
        "evidence": "Agreed at the salon"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#consent")
    lead_id = world.leads["hanoi_draft"]
    with app.app_context():
        version = db.session.get(TalentLead, lead_id).version
    assert 'id="consent-needed"' not in client.get(f"/leads/{lead_id}").get_data(as_text=True)
    response = client.post(f"/leads/{lead_id}/move", data={"move": "submit", "version": str(version)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(TalentLead, lead_id).status == LeadStatus.SUBMITTED


def test_new_lead_saved_and_submitted_without_basis_keeps_the_input_and_writes_nothing(app, client, login, world):
    _without_basis(app, world)
    login("vol_hanoi")
    before = snapshot(app)
    url = f"/leads/new?contact_id={world.contacts['hanoi']}"
    data = {"category": "employment", "summary": "A chemist who wants a lab", "priority": "2",
            "submission_token": "gate-token", "save_and_submit": "1"}
    response = client.post(url, data=data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "no valid lawful basis" in body and 'id="consent-needed"' in body
    assert page_of(response).kept("summary") == "A chemist who wants a lab"
    assert snapshot(app) == before
    # A draft can still be saved.
    response = client.post(url, data={**data, "save_and_submit": "", "save": "1", "submission_token": "gate-token-2"})
    assert response.status_code == 302
    with app.app_context():
        lead = db.session.scalar(select(TalentLead).where(TalentLead.submission_token == "gate-token-2"))
        assert lead.status == LeadStatus.DRAFT


def test_edit_and_submit_saves_the_draft_but_does_not_submit(app, client, login, world):
    _without_basis(app, world)
    login("vol_hanoi")
    lead_id = world.leads["hanoi_draft"]
    with app.app_context():
        version = db.session.get(TalentLead, lead_id).version
    response = client.post(f"/leads/{lead_id}/edit", data={
        "category": "employment", "summary": "Edited while no basis", "priority": "2", "version": str(version),
        "save_and_submit": "1"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "saved but not submitted" in body and "no valid lawful basis" in body
    with app.app_context():
        lead = db.session.get(TalentLead, lead_id)
        assert lead.status == LeadStatus.DRAFT and lead.summary == "Edited while no basis"


def test_resubmitting_an_answer_is_refused_without_a_valid_basis(app, client, login, world):
    with app.app_context():
        try:
            lead_id = make_lead(world, "hanoi", LeadStatus.NEEDS_INFO)
            # The basis has expired since the lead was first submitted.
            for row in db.session.scalars(select(ContactConsent).where(
                    ContactConsent.contact_id == world.contacts["hanoi"], ContactConsent.purpose == "pass_to_hq")):
                row.given_on = TODAY - timedelta(days=400)
                row.expires_on = TODAY - timedelta(days=1)
            db.session.commit()
            version = db.session.get(TalentLead, lead_id).version
        finally:
            db.session.remove()
    login("vol_hanoi")
    before = snapshot(app)
    response = client.post(f"/leads/{lead_id}/move", data={"move": "answer", "version": str(version),
                                                          "comment": "Here is the answer"})
    assert response.status_code == 400
    assert "no valid lawful basis" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_hqs_moves_and_withdrawal_are_not_gated(app, world, ctx):
    """HQ owns the review of leads already in its hands; the station may always withdraw."""
    _clear(world.contacts["hanoi"])
    lead = db.session.scalar(select(TalentLead).where(TalentLead.id == world.leads["hanoi_submitted"])
                             .options(selectinload(TalentLead.station)))
    apply_move(lead, "start_review", db.session.get(User, world.users["hq"]))
    apply_move(lead, "withdraw", db.session.get(User, world.users["vol_hanoi"]))
    db.session.commit()
    assert lead.status == LeadStatus.WITHDRAWN


def test_the_workflow_itself_refuses_submission(app, world, ctx):
    """Every path (views, CLI, demo, plugins) goes through ``apply_move``: the gate is there."""
    from liaison.workflow import IllegalMove

    _clear(world.contacts["bangkok"])
    lead = db.session.scalar(select(TalentLead).where(TalentLead.id == world.leads["bangkok_draft"])
                             .options(selectinload(TalentLead.station)))
    events = db.session.scalar(select(func.count()).select_from(LeadEvent))
    with pytest.raises(IllegalMove) as raised:
        apply_move(lead, "submit", db.session.get(User, world.users["vol_bangkok"]))
    assert "Lawful basis and consent" in str(raised.value.message)
    assert lead.status == LeadStatus.DRAFT
    assert db.session.scalar(select(func.count()).select_from(LeadEvent)) == events


# Recording and withdrawing, per role ---------------------------------------------------------

RECORD = {"purpose": "event_invitations", "basis": "consent", "source": "event_registration",
          "given_on": "2025-06-01", "text_version": "2025-05"}


@pytest.mark.parametrize("role,status", [
    ("vol_hanoi", 302), ("asean_admin", 302), ("admin", 302), ("hq", 403), ("vol_milan", 404), ("europe_admin", 404),
    ("vol_bangkok", 404),
])
def test_who_records_a_basis(app, client, login, world, role, status):
    login(role)
    url = f"/privacy/consents/contacts/{world.contacts['hanoi']}/new"
    assert client.get(url).status_code == (200 if status == 302 else status)
    before = snapshot(app)
    assert client.post(url, data=RECORD).status_code == status
    rows = [c for c in _consents(app, world.contacts["hanoi"]) if c.purpose == "event_invitations"]
    if status == 302:
        assert len(rows) == 1 and rows[0].recorded_by_id == world.users[role] and rows[0].text_version == "2025-05"
    else:
        assert not rows and snapshot(app) == before


@pytest.mark.parametrize("role,status", [
    ("vol_hanoi", 302), ("asean_admin", 302), ("admin", 302), ("hq", 403), ("vol_milan", 404), ("europe_admin", 404),
])
def test_who_withdraws_a_basis(app, client, login, world, role, status):
    login(role)
    consent_id = world.consents["hanoi_keep_in_touch"]
    before = snapshot(app)
    response = client.post(f"/privacy/consents/{consent_id}/withdraw", data={"note": "Asked by e-mail"})
    assert response.status_code == status
    row = next(c for c in _consents(app, world.contacts["hanoi"]) if c.id == consent_id)
    if status == 302:
        assert row.withdrawn_at is not None and row.withdrawn_by_id == world.users[role]
        assert row.withdrawal_note == "Asked by e-mail"
        # A second withdrawal changes nothing.
        again = snapshot(app)
        client.post(f"/privacy/consents/{consent_id}/withdraw", data={"note": "again"})
        assert snapshot(app) == again
    else:
        assert row.withdrawn_at is None and snapshot(app) == before


def test_a_suspended_station_is_read_only(app, client, login, world):
    with app.app_context():
        db.session.get(Station, world.stations["hanoi"]).status = "suspended"
        db.session.commit()
        db.session.remove()
    login("vol_hanoi")
    assert client.post(f"/privacy/consents/contacts/{world.contacts['hanoi']}/new", data=RECORD).status_code == 403
    page = client.get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    assert "Lawful basis and consent" in page and "/privacy/consents/contacts/" not in page


def test_unknown_ids_are_404(app, client, login, world):
    login("admin")
    for url in ("/privacy/consents/contacts/999999/new", "/privacy/consents/999999/withdraw",
                "/privacy/consents/abc/withdraw"):
        assert client.get(url).status_code == 404


def test_withdrawing_pass_to_hq_lists_the_leads_already_with_hq(app, client, login, world):
    login("vol_hanoi")
    body = client.get(f"/privacy/consents/{world.consents['hanoi_pass_to_hq']}/withdraw").get_data(as_text=True)
    assert f'/leads/{world.leads["hanoi_submitted"]}"' in body


# The contact's page -------------------------------------------------------------------------

def test_contact_page_lists_every_purpose(app, client, login, world):
    with app.app_context():
        _basis(world.contacts["hanoi"], "event_photos", given_on=TODAY - timedelta(days=400),
               expires_on=TODAY - timedelta(days=3))
        _basis(world.contacts["hanoi"], "policy_news", withdrawn=True)
        db.session.remove()
    login("vol_hanoi")
    body = client.get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    panel = re.search(r'<section[^>]*id="consent".*?</section>', body, re.S).group(0)
    for purpose in Purpose:
        assert str(purpose.label) in panel
    assert "Valid" in panel and "Expired" in panel and "Withdrawn" in panel and "None recorded" in panel
    assert "Signed the station&#39;s contact form" in panel and "Admin" in panel  # evidence, recorded by
    assert "/privacy/consents/contacts/" in panel and "/withdraw" in panel
    # HQ reads the bases but has no buttons.
    login("hq")
    body = client.get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    panel = re.search(r'<section[^>]*id="consent".*?</section>', body, re.S).group(0)
    assert "Valid" in panel and "/privacy/consents/contacts/" not in panel and "/withdraw" not in panel


def test_contact_page_in_chinese(app, client, login, world):
    login("vol_hanoi")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    with app.app_context():
        user = db.session.get(User, world.users["vol_hanoi"])
        user.locale = "zh_Hans_CN"
        db.session.commit()
        db.session.remove()
    body = client.get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    panel = re.search(r'<section[^>]*id="consent".*?</section>', body, re.S).group(0)
    assert "合法依据" in panel and "Lawful basis and consent" not in panel
    assert "Passing the profile to HQ" not in panel  # the English label is not shown
    assert "Consents to renew" not in client.get("/privacy/consents/expiring").get_data(as_text=True)


# The new-contact form ----------------------------------------------------------------------

def test_new_contact_records_what_the_person_agreed_to(app, client, login, world):
    login("vol_hanoi")
    response = client.post(f"/contacts/new?station_id={world.stations['hanoi']}", data={
        "kind": "scholar", "name": "Le Van Hung", "submission_token": "agreed-1",
        "agree_keep_in_touch": "y", "agree_pass_to_hq": "y", "consent_source": "paper",
        "consent_given_on": TODAY.isoformat(), "consent_evidence": "Binder 2026/3"})
    assert response.status_code == 302
    contact_id = int(response.headers["Location"].rsplit("/", 1)[1])
    rows = _consents(app, contact_id)
    assert sorted(r.purpose for r in rows) == ["keep_in_touch", "pass_to_hq"]
    assert all(r.basis == "consent" and r.source == "paper" and r.evidence == "Binder 2026/3"
               and r.recorded_by_id == world.users["vol_hanoi"] for r in rows)
    # Without ticks nothing is recorded, and the contact's leads wait for a basis.
    response = client.post(f"/contacts/new?station_id={world.stations['hanoi']}", data={
        "kind": "scholar", "name": "Do Thi Lan", "submission_token": "agreed-2", "consent_source": "paper"})
    assert response.status_code == 302
    assert _consents(app, int(response.headers["Location"].rsplit("/", 1)[1])) == []


def test_the_edit_form_has_no_agreement_fieldset(app, client, login, world):
    login("vol_hanoi")
    assert "agree_pass_to_hq" in client.get(f"/contacts/new?station_id={world.stations['hanoi']}").get_data(as_text=True)
    assert "agree_pass_to_hq" not in client.get(f"/contacts/{world.contacts['hanoi']}/edit").get_data(as_text=True)


# The renewal list ------------------------------------------------------------------------------

@pytest.fixture
def renewals(app, world):
    """Bases of every station: expiring, expired, long expired, renewed, withdrawn."""
    with app.app_context():
        ids = {
            "hanoi_soon": _basis(world.contacts["hanoi"], "event_photos", expires_on=TODAY + timedelta(days=20)),
            "bangkok_expired": _basis(world.contacts["bangkok"], "policy_news", given_on=TODAY - timedelta(days=400),
                                      expires_on=TODAY - timedelta(days=10)),
            "milan_soon": _basis(world.contacts["milan"], "event_invitations", expires_on=TODAY + timedelta(days=59)),
            "milan_later": _basis(world.contacts["milan"], "policy_news", expires_on=TODAY + timedelta(days=90)),
            "milan_long_ago": _basis(world.contacts["milan"], "event_photos", given_on=TODAY - timedelta(days=900),
                                     expires_on=TODAY - timedelta(days=400)),
            "hanoi_withdrawn": _basis(world.contacts["hanoi"], "policy_news", expires_on=TODAY + timedelta(days=5),
                                      withdrawn=True),
            "bangkok_renewed_old": _basis(world.contacts["bangkok"], "event_photos", given_on=TODAY - timedelta(days=400),
                                          expires_on=TODAY - timedelta(days=5)),
        }
        _basis(world.contacts["bangkok"], "event_photos", expires_on=TODAY + timedelta(days=365))  # the renewal
        db.session.remove()
    return ids


@pytest.mark.parametrize("role,expected", [
    ("vol_hanoi", {"hanoi_soon"}),
    ("vol_milan", {"milan_soon"}),
    ("asean_admin", {"hanoi_soon", "bangkok_expired"}),
    ("europe_admin", {"milan_soon"}),
    ("hq", {"hanoi_soon", "bangkok_expired", "milan_soon"}),
    ("admin", {"hanoi_soon", "bangkok_expired", "milan_soon"}),
])
def test_expiring_list_is_scoped(app, client, login, world, renewals, role, expected):
    with app.test_request_context():
        user = db.session.get(User, world.users[role])
        listed = {row.id for row in db.session.scalars(consent.expiring(user))}
        assert listed == {renewals[key] for key in expected}
        assert consent.expiring_count(user) == len(expected)
    login(role)
    body = client.get("/privacy/consents/expiring").get_data(as_text=True)
    contacts = {"hanoi": "Nguyen Van An", "bangkok": "Somchai Jaidee", "milan": "Marco Rossi"}
    for key, name in contacts.items():
        assert (name in body) == any(k.startswith(key) for k in expected), (key, body[:200])
    if expected:
        assert "/contacts/" in body and "#consent" in body


def test_expiring_list_is_keyset_paginated(app, client, login, world):
    with app.app_context():
        for day in range(30):
            contact = Contact(station_id=world.stations["hanoi"], kind="student", name=f"Renewal {day:02d}")
            db.session.add(contact)
            db.session.flush()
            _basis(contact.id, "event_photos", expires_on=TODAY + timedelta(days=day))
        # Renewing one basis takes the earlier one off the list: only the later one counts.
        _basis(world.contacts["hanoi"], "event_photos", expires_on=TODAY + timedelta(days=3))
        _basis(world.contacts["hanoi"], "event_photos", expires_on=TODAY + timedelta(days=50))
        db.session.remove()
    login("vol_hanoi")
    first = client.get("/privacy/consents/expiring").get_data(as_text=True)
    after = re.search(r'rel="next" href="([^"]+)"', first)
    assert after, "no next page"
    second = client.get(after.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    names = re.findall(r"Renewal \d\d", first) + re.findall(r"Renewal \d\d", second.get_data(as_text=True))
    assert names == [f"Renewal {day:02d}" for day in range(30)]  # by expiry, none twice, none missing
    with app.test_request_context():
        user = db.session.get(User, world.users["vol_hanoi"])
        hanoi = [row for row in db.session.scalars(consent.expiring(user))
                 if row.contact_id == world.contacts["hanoi"]]
        assert [row.expires_on for row in hanoi] == [TODAY + timedelta(days=50)]


def test_home_page_hints_at_bases_to_renew(app, client, login, world, renewals):
    login("vol_hanoi")
    assert "/privacy/consents/expiring" in client.get("/").get_data(as_text=True)
    login("hq")  # HQ does not renew anything
    assert "/privacy/consents/expiring" not in client.get("/").get_data(as_text=True)
