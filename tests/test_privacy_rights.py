"""The data subject's rights: the access report (HTML and JSON) and two-person erasure.

A planted world: the Hanoi contact (Nguyen Van An) is named in a record of every table that can
refer to a person — its leads (a landed one too), their timelines and files, another contact's
notes and another station's lead, consent evidence, a reveal note, an access-log note, the audit
log's details, an ASEAN title application (and a certified one) and a European partnership.
The report must show each; the erasure must leave none of the person's values anywhere in the
database (every text column of every table, read from the live schema, and the SQLite FTS
tables), while HQ's report figures stay equal.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, timedelta
from io import BytesIO

import pytest
from sqlalchemy import JSON, String, Text, inspect, select, text, update
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from liaison.models import (
    AccessAction,
    AccessLogEntry,
    AuditEntry,
    Contact,
    ContactConsent,
    ErasureFlag,
    ErasureRequest,
    ErasureStatus,
    LeadAttachment,
    LeadEvent,
    LeadStatus,
    RetentionException,
    RevealGrant,
    Station,
    TalentLead,
    User,
    db,
    utcnow,
)
from liaison.plugins import activation

from .factories import make_lead

NAME, NAME_ZH, NAME_ORIGINAL = "Nguyen Van An", "阮文安", "Nguyễn Văn An"
EMAIL, PHONE_E164 = "nguyen.an@planted.example", "+842438251234"
MESSAGING = "line:planted-an-77"
NOTE = "NOTE-PLANTED-7731 prefers WeChat"
ORGANISATION = "Planted Hanoi Polytechnic 4471"
PERSONAL_VALUES = [NAME, NAME_ZH, NAME_ORIGINAL, EMAIL, PHONE_E164, "84 24 3825 1234", MESSAGING,
                   "NOTE-PLANTED-7731", ORGANISATION]


@pytest.fixture
def app_config():
    return {}


def _user(world, key) -> User:
    return db.session.get(User, world.users[key])


@pytest.fixture
def planted(app, world):
    """Plant the Hanoi person in every table that can refer to them; returns ids."""
    from plugins.asean_language_title import services as asean
    from plugins.asean_language_title.models import TitleEvent
    from plugins.europe_school_partnership import services as europe
    from plugins.europe_school_partnership.models import PartnershipEvent, partnership_contacts

    from liaison.leads import files

    ids = {}
    with app.test_request_context():
        admin = _user(world, "admin")
        activation.set_enabled("asean_language_title", True, admin, region_id=world.regions["ASEAN"])
        activation.set_enabled("europe_school_partnership", True, admin, region_id=world.regions["EUROPE"])
        contact = db.session.get(Contact, world.contacts["hanoi"])
        contact.messaging, contact.notes, contact.organisation = MESSAGING, NOTE, ORGANISATION
        contact.email = contact.email_normalized = EMAIL
        contact.country, contact.city = "VN", "Hanoi"
        db.session.commit()
        ids["landed"] = make_lead(world, "hanoi", LeadStatus.LANDED, summary=f"{NAME} joined the Hangzhou institute",
                                  wants=f"Wants a lab; reach {EMAIL}")
        draft = db.session.scalar(select(TalentLead).where(TalentLead.id == world.leads["hanoi_draft"])
                                  .options(selectinload(TalentLead.station)))
        draft.summary, draft.wants = f"Profile of {NAME_ORIGINAL}, robotics", "wants-planted-9912"
        vol = _user(world, "vol_hanoi")
        db.session.add(LeadEvent(lead_id=world.leads["hanoi_submitted"], actor_id=vol.id, kind="comment",
                                 text=f"Call {PHONE_E164} after 6pm"))
        db.session.commit()
        upload = files.check_upload(FileStorage(BytesIO(b"%PDF-1.4 planted"), filename="cv.pdf"))
        files.attach(draft, [upload], vol)
        attachment = db.session.scalar(select(LeadAttachment).where(LeadAttachment.lead_id == draft.id))
        ids["attachment"], ids["attachment_path"] = attachment.id, str(files.path_of(attachment.storage_key))
        # Another person's records naming this one.
        other = db.session.get(Contact, world.contacts["bangkok"])
        other.notes = f"Introduced by {NAME} ({EMAIL})"
        other_lead = db.session.get(TalentLead, world.leads["bangkok_submitted"])
        other_lead.summary = f"Referred by {NAME_ZH}"
        consent = ContactConsent(contact_id=contact.id, purpose="pass_to_hq", basis="consent", source="form",
                                 given_on=date(2025, 1, 2), evidence=f"Form signed by {NAME}", recorded_by_id=vol.id)
        reveal = RevealGrant(user_id=_user(world, "hq").id, contact_id=contact.id, reason="review_lead",
                             note=f"checking {PHONE_E164}", expires_at=utcnow() + timedelta(minutes=30))
        access = AccessLogEntry(user_id=_user(world, "hq").id, contact_id=contact.id, station_id=contact.station_id,
                                action=AccessAction.REVEAL, note=f"asked by {EMAIL}")
        audit = AuditEntry(actor_id=admin.id, action="contact.update", object_type="contact", object_id=contact.id,
                           details={"name": NAME_ZH, "changes": [f"messaging {MESSAGING}"]})
        db.session.add_all([consent, reveal, access, audit])
        db.session.commit()
        ids.update(consent=consent.id, reveal=reveal.id, access=access.id, audit=audit.id)
        # ASEAN: an application in progress and a certified one.
        contact = db.session.scalar(select(Contact).where(Contact.id == contact.id).options(selectinload(Contact.station)))
        application = asean.create_application(contact, {
            "language": "vi", "level": "translator", "practice_years": 6, "current_title": "assistant",
            "current_title_since": date(2018, 3, 1), "education": f"BA thesis of {NAME}",
            "credentials": "CRED-PLANTED-5521"}, vol)
        contact = db.session.scalar(select(Contact).where(Contact.id == contact.id).options(selectinload(Contact.station)))
        certified = asean.create_application(contact, {
            "language": "vi", "level": "assistant", "practice_years": 3, "education": "EDU-PLANTED-3319"}, vol)
        certified.status, certified.certificate_number = "passed", "CERT-PLANTED-8842"
        db.session.add(TitleEvent(application_id=application.id, kind="comment", text=f"Interviewed {NAME}"))
        db.session.commit()
        ids.update(application=application.id, certified=certified.id)
        # Europe: a partnership the person is linked to.
        partnership = europe.create_partnership(db.session.get(Station, world.stations["milan"]), {
            "home_name": "Wenzhou Technician College", "home_kind": "technician_college", "home_city": "Wenzhou",
            "partner_name": "University of South Wales", "partner_country": "GB", "partner_kind": "university",
            "programme_kind": "joint_3_2", "majors": "智能制造", "first_contact_on": date(2025, 1, 10),
            "contact_ids": []}, admin)
        partnership.notes = f"Coordinator: {NAME}, {EMAIL}"
        db.session.execute(partnership_contacts.insert().values(partnership_id=partnership.id, contact_id=contact.id))
        db.session.add(PartnershipEvent(partnership_id=partnership.id, happened_on=date(2025, 2, 1), kind="note",
                                        text=f"Met {NAME_ZH} in Milan"))
        db.session.commit()
        ids["partnership"] = partnership.id
    return ids


def _report_figures():
    """HQ's report figures: the review report and, where present, the reports page's figures."""
    from liaison.review.services import build_report

    figures = {"review": asdict(build_report())}
    try:
        from liaison.reports import figures as report_figures
        from liaison.reports.periods import between
    except ImportError:
        return figures
    selection = report_figures.Selection(between(date(2020, 1, 1), date.today() + timedelta(days=365)), None)
    figures["reports"] = report_figures.compute(selection)
    figures["reports"].get("on_time", {}).pop("as_of", None)  # the moment "open and overdue" was counted at
    return figures


# The access report ----------------------------------------------------------------------

def test_report_has_a_record_from_every_table_and_plugin(app, client, login, world, planted):
    login("vol_hanoi")
    response = client.get(f"/privacy/rights/contacts/{world.contacts['hanoi']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for marker in [NAME, NAME_ZH, EMAIL, NOTE, MESSAGING, "wants-planted-9912", f"Call {PHONE_E164}", "cv.pdf",
                   f"Form signed by {NAME}", f"checking {PHONE_E164}", f"asked by {EMAIL}", "contact.update",
                   "CRED-PLANTED-5521", "CERT-PLANTED-8842", f"Interviewed {NAME}", f"Coordinator: {NAME}",
                   f"Met {NAME_ZH} in Milan"]:
        assert marker in html, marker
    # Headings in both languages, whatever the viewer's.
    for heading in ["Talent leads, their timelines and files", "Access log", "Translator title applications",
                    "School partnerships the person is linked to"]:
        assert heading in html
    assert "人才线索及其时间线和附件" in html and "个人信息查阅报告" in html

    response = client.get(f"/privacy/rights/contacts/{world.contacts['hanoi']}/report.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.get_data(as_text=True))
    assert data["contact"]["email"] == EMAIL and data["contact"]["notes"] == NOTE
    sections = {s["title"]["en"]: s for s in data["sections"]}
    leads = sections["Talent leads, their timelines and files"]["records"]
    assert {lead["id"] for lead in leads} >= {world.leads["hanoi_draft"], planted["landed"]}
    assert any(a["filename"] == "cv.pdf" for lead in leads for a in lead["attachments"])
    assert "storage_key" not in json.dumps(leads)
    assert any(e["text"] == f"Call {PHONE_E164} after 6pm" for lead in leads for e in lead["timeline"])
    assert f"Form signed by {NAME}" in [c["evidence"] for c in sections["Lawful basis and consent"]["records"]]
    assert sections["Reveals of masked data"]["records"][0]["note"] == f"checking {PHONE_E164}"
    log = sections["Access log"]["records"]
    assert any(entry["note"] == f"asked by {EMAIL}" for entry in log)
    assert any(entry["action"] == "subject_report" for entry in log)  # the HTML view just before
    assert sections["Audit log"]["records"][0]["details"]["name"] == NAME_ZH
    asean = sections["Translator title applications"]
    assert asean["plugin"] == "asean_language_title" and len(asean["records"]) == 2
    assert asean["title"]["zh"] != asean["title"]["en"]
    europe = sections["School partnerships the person is linked to"]
    assert europe["plugin"] == "europe_school_partnership" and europe["records"][0]["id"] == planted["partnership"]
    with app.app_context():
        actions = db.session.scalars(select(AccessLogEntry.action).where(
            AccessLogEntry.contact_id == world.contacts["hanoi"], AccessLogEntry.action == AccessAction.SUBJECT_REPORT,
            AccessLogEntry.user_id == world.users["vol_hanoi"])).all()
    assert len(actions) == 2  # the page and the download


def test_report_page_in_chinese(client, login, world, planted):
    client = login("asean_admin")
    client.post("/language", data={"locale": "zh_Hans_CN"})
    html = client.get(f"/privacy/rights/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    assert "下载 JSON" in html and "个人信息查阅报告" in html
    assert "Subject access report" in html  # the English heading is there too, for the person


@pytest.mark.parametrize("role,status", [("vol_hanoi", 200), ("asean_admin", 200), ("admin", 200),
                                         ("vol_milan", 404), ("europe_admin", 404), ("hq", 403)])
def test_report_scope(client, login, world, role, status):
    login(role)
    assert client.get(f"/privacy/rights/contacts/{world.contacts['hanoi']}").status_code == status
    assert client.get(f"/privacy/rights/contacts/{world.contacts['hanoi']}/report.json").status_code == status


@pytest.mark.parametrize("query", [NAME, "阮文", EMAIL.upper(), PHONE_E164, "+84 24 3825 1234", "84 24 3825 1234"])
def test_find_the_person_by_name_email_or_phone_within_scope(client, login, world, planted, query):
    login("vol_hanoi")
    html = client.get("/privacy/rights/", query_string={"q": query}).get_data(as_text=True)
    assert f"/privacy/rights/contacts/{world.contacts['hanoi']}" in html
    login("vol_milan")
    html = client.get("/privacy/rights/", query_string={"q": query}).get_data(as_text=True)
    assert f"/privacy/rights/contacts/{world.contacts['hanoi']}" not in html
    assert "Nobody in your stations matches." in html


# Erasure --------------------------------------------------------------------------------

def _request(client, world, reason="The person asked by e-mail on 3 May.") -> int:
    response = client.post(f"/privacy/rights/contacts/{world.contacts['hanoi']}/erasure", data={"reason": reason})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _approve(client, erasure_id, **data):
    return client.post(f"/privacy/rights/erasures/{erasure_id}/approve", data={"confirm": "y", **data},
                       follow_redirects=True)


def _text_columns():
    """Every (table, [text/varchar/JSON columns]) of the live database."""
    inspector = inspect(db.engine)
    found = []
    for table in inspector.get_table_names():
        if table.endswith(("_fts_data", "_fts_idx", "_fts_docsize", "_fts_config", "_fts_content")):
            continue
        columns = [c["name"] for c in inspector.get_columns(table)
                   if isinstance(c["type"], (String, Text, JSON)) or str(c["type"]).upper() in ("JSON", "JSONB", "TEXT")]
        if columns:
            found.append((table, columns))
    return found


def _leftovers(values) -> list[str]:
    found = []
    with db.engine.connect() as connection:
        for table, columns in _text_columns():
            selected = ", ".join(f'CAST("{c}" AS TEXT)' for c in columns)
            for row in connection.execute(text(f'SELECT {selected} FROM "{table}"')):
                for column, value in zip(columns, row):
                    if value is None:
                        continue
                    folded = value.lower()
                    decoded = folded.encode().decode("unicode_escape", errors="ignore") if "\\u" in folded else ""
                    for planted_value in values:
                        if planted_value.lower() in folded or (decoded and planted_value.lower() in decoded):
                            found.append(f"{table}.{column}: {planted_value!r}")
        if connection.dialect.name == "sqlite":
            for fts in ("contacts_fts", "leads_fts"):
                for planted_value in values:
                    phrase = '"' + planted_value.lower().replace('"', '""') + '"'
                    if len(planted_value) >= 3 and connection.execute(
                            text(f"SELECT rowid FROM {fts} WHERE {fts} MATCH :q"), {"q": phrase}).first():
                        found.append(f"{fts}: {planted_value!r}")
    return found


def test_erasure_leaves_no_personal_value_and_keeps_the_figures(app, client, login, world, planted):
    with app.app_context():
        assert len(_leftovers(PERSONAL_VALUES)) > 20  # the scan finds what was planted
        figures = _report_figures()
        leads_before = db.session.scalar(select(db.func.count()).select_from(TalentLead))
    login("vol_hanoi")
    erasure_id = _request(client, world, reason=f"{NAME} asked by e-mail ({EMAIL}).")
    login("asean_admin")
    page = client.get(f"/privacy/rights/erasures/{erasure_id}").get_data(as_text=True)
    assert "What will be erased" in page and "What will be kept" in page
    html = _approve(client, erasure_id, note="Checked the e-mail.").get_data(as_text=True)
    assert "The person&#39;s data has been erased" in html or "The person's data has been erased" in html
    with app.app_context():
        assert _leftovers(PERSONAL_VALUES) == []
        assert _report_figures() == figures
        assert db.session.scalar(select(db.func.count()).select_from(TalentLead)) == leads_before
        contact = db.session.get(Contact, world.contacts["hanoi"])
        assert contact.name == f"Erased person #{contact.id}" and contact.erased_at is not None
        assert contact.email is None and contact.phone_e164 is None and contact.notes is None
        erasure = db.session.get(ErasureRequest, erasure_id)
        assert erasure.status == ErasureStatus.DONE and erasure.decided_by_id == world.users["asean_admin"]
        exceptions = set(db.session.execute(select(RetentionException.plugin, RetentionException.record_type,
                                                   RetentionException.record_id, RetentionException.reason)).all())
        assert ("core", "lead", planted["landed"], "landed_lead") in exceptions
        assert ("core", "contact_consent", planted["consent"], "consent_record") in exceptions
        assert ("asean_language_title", "title_application", planted["certified"], "certified_title") in exceptions
        assert ("europe_school_partnership", "partnership", planted["partnership"], "institutional_record") in exceptions
        flags = set(db.session.execute(select(ErasureFlag.table_name, ErasureFlag.record_id, ErasureFlag.column_name)))
        assert ("contacts", world.contacts["bangkok"], "notes") in flags
        assert ("leads", world.leads["bangkok_submitted"], "summary") in flags
        assert ("leads", planted["landed"], "summary") in flags
        assert ("audit_log", planted["audit"], "details") in flags
        assert ("europe_school_partnership_partnerships", planted["partnership"], "notes") in flags
        # Non-landed leads lost their text and files; the landed one kept its figures.
        draft = db.session.get(TalentLead, world.leads["hanoi_draft"])
        assert draft.summary == "[erased]" and draft.wants is None
        assert db.session.get(LeadAttachment, planted["attachment"]) is None
        landed = db.session.get(TalentLead, planted["landed"])
        assert landed.status == LeadStatus.LANDED and landed.landing_kind == "hired"
        assert db.session.get(Contact, world.contacts["bangkok"]).notes == "Introduced by [erased] ([erased])"
        certified = db.session.get(__import__("plugins.asean_language_title.models", fromlist=["x"]).TitleApplication,
                                   planted["certified"])
        assert (certified.status, certified.level, certified.language) == ("passed", "assistant", "vi")
        assert db.session.get(ContactConsent, planted["consent"]).withdrawn_at is not None
        # The erasure is logged, without the values.
        entry = db.session.scalar(select(AccessLogEntry).where(AccessLogEntry.action == AccessAction.ERASURE)
                                  .options(selectinload(AccessLogEntry.fields)))
        assert entry.user_id == world.users["asean_admin"] and "contacts.email" in {f.field for f in entry.fields}
    import os

    assert not os.path.exists(planted["attachment_path"])
    # Search no longer finds the person.
    login("vol_hanoi")
    assert f"/privacy/rights/contacts/{world.contacts['hanoi']}" not in client.get(
        "/privacy/rights/", query_string={"q": NAME}).get_data(as_text=True)
    # The request page lists what was kept and the flags; flags can be marked reviewed.
    page = client.get(f"/privacy/rights/erasures/{erasure_id}").get_data(as_text=True)
    assert "A landed lead: its figures are part of HQ" in page
    assert "A certified title" in page and "Mark reviewed" in page
    with app.app_context():
        flag_id = db.session.scalar(select(ErasureFlag.id).where(ErasureFlag.erasure_id == erasure_id))
    assert client.post(f"/privacy/rights/erasures/{erasure_id}/flags/{flag_id}/resolve").status_code == 302
    with app.app_context():
        flag = db.session.get(ErasureFlag, flag_id)
        assert flag.resolved_by_id == world.users["vol_hanoi"] and flag.resolved_at is not None
    # The subject report of an erased person shows nothing personal.
    report = client.get(f"/privacy/rights/contacts/{world.contacts['hanoi']}/report.json").get_json()
    assert not any(v.lower() in json.dumps(report, ensure_ascii=False).lower() for v in PERSONAL_VALUES)


def test_two_people(app, client, login, world):
    login("asean_admin")
    erasure_id = _request(client, world)
    html = _approve(client, erasure_id).get_data(as_text=True)
    assert "You asked for this erasure: another person" in html
    with app.app_context():
        assert db.session.get(ErasureRequest, erasure_id).status == ErasureStatus.REQUESTED
        assert db.session.get(Contact, world.contacts["hanoi"]).erased_at is None
    login("vol_hanoi")  # a volunteer never approves
    assert client.post(f"/privacy/rights/erasures/{erasure_id}/approve", data={"confirm": "y"}).status_code == 403
    login("hq")
    assert client.post(f"/privacy/rights/erasures/{erasure_id}/approve", data={"confirm": "y"}).status_code == 403
    login("europe_admin")
    assert client.post(f"/privacy/rights/erasures/{erasure_id}/approve", data={"confirm": "y"}).status_code == 404
    login("admin")
    response = client.post(f"/privacy/rights/erasures/{erasure_id}/approve", data={})  # not confirmed
    assert response.status_code == 200 and "Tick the box to confirm the erasure." in response.get_data(as_text=True)
    _approve(client, erasure_id)
    with app.app_context():
        assert db.session.get(ErasureRequest, erasure_id).status == ErasureStatus.DONE


def test_one_open_request_reject_and_cancel(app, client, login, world):
    login("vol_hanoi")
    erasure_id = _request(client, world)
    html = client.post(f"/privacy/rights/contacts/{world.contacts['hanoi']}/erasure", data={"reason": "again"},
                       follow_redirects=True).get_data(as_text=True)
    assert "already awaiting approval" in html
    login("asean_admin")
    response = client.post(f"/privacy/rights/erasures/{erasure_id}/reject", data={"note": ""})
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)
    client.post(f"/privacy/rights/erasures/{erasure_id}/reject", data={"note": "A landed contract binds us."})
    with app.app_context():
        erasure = db.session.get(ErasureRequest, erasure_id)
        assert erasure.status == ErasureStatus.REJECTED and erasure.decision_note == "A landed contract binds us."
    login("vol_hanoi")
    second = _request(client, world)
    login("asean_admin")
    assert client.post(f"/privacy/rights/erasures/{second}/cancel").status_code == 403  # not the requester
    login("vol_hanoi")
    client.post(f"/privacy/rights/erasures/{second}/cancel")
    with app.app_context():
        assert db.session.get(ErasureRequest, second).status == ErasureStatus.CANCELLED
        assert db.session.get(Contact, world.contacts["hanoi"]).erased_at is None


def test_queue_is_scoped_and_for_approvers(app, client, login, world):
    login("vol_hanoi")
    erasure_id = _request(client, world)
    for role, visible in [("asean_admin", True), ("admin", True), ("europe_admin", False)]:
        login(role)
        html = client.get("/privacy/rights/erasures").get_data(as_text=True)
        assert (f"/privacy/rights/erasures/{erasure_id}" in html) is visible, role
    for role in ("vol_hanoi", "hq"):
        login(role)
        assert client.get("/privacy/rights/erasures").status_code == 403


def test_a_failing_plugin_rolls_the_whole_erasure_back(app, client, login, world, planted, monkeypatch):
    from plugins.asean_language_title import privacy as asean_privacy

    def broken(contact, erasure):
        raise RuntimeError("title archive is read-only")

    monkeypatch.setattr(asean_privacy, "erase_personal_data", broken)
    login("vol_hanoi")
    erasure_id = _request(client, world)
    login("admin")
    html = _approve(client, erasure_id).get_data(as_text=True)
    assert "could not erase its records, so nothing was erased" in html and "title archive is read-only" in html
    with app.app_context():
        assert db.session.get(ErasureRequest, erasure_id).status == ErasureStatus.REQUESTED
        contact = db.session.get(Contact, world.contacts["hanoi"])
        assert contact.name == NAME and contact.erased_at is None and contact.notes == NOTE
        assert db.session.get(Contact, world.contacts["bangkok"]).notes.startswith(f"Introduced by {NAME}")
        assert db.session.get(LeadAttachment, planted["attachment"]) is not None
        assert db.session.scalar(select(db.func.count()).select_from(ErasureFlag)) == 0
    import os

    assert os.path.exists(planted["attachment_path"])


def test_reapply_after_restoring_an_older_copy(app, client, login, world, runner, planted):
    from plugins.asean_language_title.models import TitleApplication

    from liaison.privacy import erasure as erasures

    login("vol_hanoi")
    erasure_id = _request(client, world)
    login("admin")
    _approve(client, erasure_id)
    contact_id = world.contacts["hanoi"]
    old = {"name": NAME, "name_zh": NAME_ZH, "email": EMAIL, "email_normalized": EMAIL, "phone_e164": PHONE_E164,
           "erased_at": None}
    with app.app_context():
        # A table restored from an older backup: the person is back.
        db.session.execute(update(Contact).where(Contact.id == contact_id).values(**old))
        db.session.execute(update(TalentLead).where(TalentLead.id == world.leads["hanoi_draft"])
                           .values(summary=f"About {NAME}"))
        db.session.execute(update(TitleApplication).where(TitleApplication.id == planted["application"])
                           .values(education=f"BA thesis of {NAME}", credentials="CRED-PLANTED-5521"))
        db.session.commit()
    result = runner.invoke(args=["privacy", "reapply-erasures"])
    assert result.exit_code == 0 and f"#{contact_id}" in result.output
    with app.app_context():
        assert _leftovers([NAME, NAME_ZH, EMAIL, PHONE_E164, "CRED-PLANTED-5521"]) == []  # the plugins' too
        assert db.session.get(ErasureRequest, erasure_id).reapplied_at is not None
    assert "nothing to re-apply" in runner.invoke(args=["privacy", "reapply-erasures"]).output  # idempotent
    # A whole database from before the erasure: the request is gone too; the ledger remembers.
    with app.app_context():
        db.session.execute(ErasureRequest.__table__.delete())
        db.session.execute(update(Contact).where(Contact.id == contact_id).values(**old))
        db.session.commit()
        assert erasures.ledger_path().exists()
    result = runner.invoke(args=["privacy", "reapply-erasures"])
    assert f"#{contact_id}" in result.output
    with app.app_context():
        assert _leftovers([NAME, NAME_ZH, EMAIL, PHONE_E164]) == []
        assert db.session.scalar(select(ErasureRequest.reason)) == "reapplied:ledger"


def test_system_erasure_for_retention(app, world):
    from liaison.privacy.erasure import anonymise_contact

    with app.test_request_context():
        contact = db.session.get(Contact, world.contacts["milan"])
        erasure = anonymise_contact(contact, actor=None, reason_code="retention:inactive_contact")
        assert erasure.status == ErasureStatus.DONE and erasure.requested_by_id is None
        assert db.session.get(Contact, world.contacts["milan"]).name == f"Erased person #{contact.id}"
        assert _leftovers(["Marco Rossi", "marco@example.org", "马可·罗西"]) == []


def test_erased_contact_cannot_be_requested_again(app, client, login, world):
    from liaison.privacy.erasure import anonymise_contact

    with app.test_request_context():
        anonymise_contact(db.session.get(Contact, world.contacts["hanoi"]), actor=None, reason_code="test")
    login("vol_hanoi")
    html = client.get(f"/privacy/rights/contacts/{world.contacts['hanoi']}/erasure").get_data(as_text=True)
    assert "already been erased" in html
    response = client.post(f"/privacy/rights/contacts/{world.contacts['hanoi']}/erasure", data={"reason": "x"},
                           follow_redirects=True)
    assert "already been erased" in response.get_data(as_text=True)


def test_rights_pages_in_both_languages(app, client, login, world):
    import re

    from .test_i18n import CHINESE_UI, ENGLISH_UI, visible_text

    login("vol_hanoi")
    erasure_id = _request(client, world)
    contact = world.contacts["hanoi"]
    pages = {"vol_hanoi": ["/privacy/rights/?q=Nguyen", f"/privacy/rights/contacts/{contact}/erasure",
                           f"/privacy/rights/erasures/{erasure_id}", f"/contacts/{contact}"],
             "asean_admin": ["/privacy/rights/erasures", f"/privacy/rights/erasures/{erasure_id}"]}
    for role, paths in pages.items():
        login(role)
        for locale in ("zh_Hans_CN", "en"):
            client.post("/language", data={"locale": locale})
            for path in paths:
                response = client.get(path)
                assert response.status_code == 200, path
                shown = visible_text(response.get_data(as_text=True))
                if locale == "en":
                    assert not [w for w in CHINESE_UI if w in shown], path
                else:
                    assert not [w for w in ENGLISH_UI if re.search(rf"\b{re.escape(w)}\b", shown)], (path, shown[:3000])
    # The approver's page in Chinese names the decision in Chinese.
    client.post("/language", data={"locale": "zh_Hans_CN"})
    assert "批准并删除" in client.get(f"/privacy/rights/erasures/{erasure_id}").get_data(as_text=True)


def test_values_are_replaced_as_whole_names_only():
    from liaison.privacy.erasure import scrub

    values = ["Nguyen Van An", "an@example.org", "阮文安", "842438251234"]
    assert scrub("Met nguyen van an in Milan", values) == "Met [erased] in Milan"
    assert scrub("milan@example.org, AN@example.org", values) == "milan@example.org, [erased]"
    assert scrub("阮文安在米兰", values) == "[erased]在米兰"
    assert scrub("+842438251234 / 9842438251234", values) == "+[erased] / 9842438251234"
    assert scrub(None, values) is None


def test_report_costs_the_same_queries_for_more_records(app, client, login, world, count_queries):
    """No query per lead, event or log entry."""
    login("vol_hanoi")
    url = f"/privacy/rights/contacts/{world.contacts['hanoi']}/report.json"
    client.get(url)
    with count_queries() as few:
        client.get(url)
    with app.app_context():
        for _ in range(4):
            make_lead(world, "hanoi", LeadStatus.SUBMITTED)
    client.get(url)
    with count_queries() as many:
        client.get(url)
    assert many.count == few.count


def test_hq_reviewers_see_no_rights_links(client, login, world):
    client = login("hq")
    html = client.get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    assert "/privacy/rights/" not in html
    client = login("vol_hanoi")
    html = client.get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    assert f"/privacy/rights/contacts/{world.contacts['hanoi']}/erasure" in html
    assert 'href="/privacy/rights/"' in html  # the menu
