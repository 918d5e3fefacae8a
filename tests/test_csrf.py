"""CSRF: with protection on, every POST route refuses a missing, forged or foreign token with the
clear "your form had expired" page and writes nothing; the token of the rendered form works."""
from __future__ import annotations

import io
import re

import pytest
from flask import url_for
from sqlalchemy import select

from liaison.models import AuditEntry, LeadEvent, Station, TalentLead, User, db

from .helpers import snapshot
from .conftest import PASSWORD

CSRF_MESSAGE = "Your form had expired or was sent from another page, so nothing was saved."
TOKEN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"




def token_of(client, path: str) -> str:
    """The CSRF token of the form rendered at ``path``."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    found = TOKEN.findall(response.get_data(as_text=True))
    assert found, f"no csrf_token in {path}"
    return found[-1]


def log_in(client, email: str) -> None:
    token = token_of(client, "/login")
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code


def logged_in(client) -> bool:
    return client.get("/profile").status_code == 200


# What a valid submission of each core POST route looks like --------------------------------

def _station(world, **changes):
    data = {"name": "Jakarta station", "region_id": str(world.regions["ASEAN"]), "country": "ID",
            "city": "Jakarta", "host_organisation": "Jakarta Chinese Association", "host_kind": "chinese_association"}
    data.update(changes)
    return data


def _lead_version(app, lead_id):
    with app.app_context():
        try:
            return str(db.session.get(TalentLead, lead_id).version)
        finally:
            db.session.remove()


def _attachment(app, world) -> int:
    """A file attached to the Hanoi draft by its volunteer (removable by the admin); only its row,
    without a timeline entry, so that counting events before and after stays meaningful."""
    import secrets

    from liaison.models import LeadAttachment

    with app.app_context():
        try:
            attachment = LeadAttachment(lead_id=world.leads["hanoi_draft"], storage_key=secrets.token_hex(16),
                                        filename="cv.pdf", content_type="application/pdf", size=16, sha256="0" * 64,
                                        uploaded_by_id=world.users["vol_hanoi"])
            db.session.add(attachment)
            db.session.commit()
            return attachment.id
        finally:
            db.session.remove()


def _erasure(app, world, contact: str, requester: str, flag: bool = False) -> dict:
    """An erasure request awaiting approval (and, with ``flag``, one flagged field)."""
    from liaison.models import ErasureFlag, ErasureRequest

    with app.app_context():
        try:
            erasure = ErasureRequest(contact_id=world.contacts[contact], station_id=world.stations[contact],
                                     reason="The person asked.", requested_by_id=world.users[requester])
            db.session.add(erasure)
            db.session.flush()
            values = {"erasure_id": erasure.id}
            if flag:
                record = ErasureFlag(erasure_id=erasure.id, table_name="leads", record_id=world.leads["hanoi_draft"],
                                     column_name="summary")
                db.session.add(record)
                db.session.flush()
                values["flag_id"] = record.id
            db.session.commit()
            return values
        finally:
            db.session.remove()


def _reset_token(app, world) -> str:
    from liaison.auth.services import reset_token

    with app.app_context():
        try:
            return reset_token(db.session.get(User, world.users["vol_hanoi"]))
        finally:
            db.session.remove()


def _admin_notification(app, world) -> int:
    """An unread notification of the admin (the tests below log in as the admin)."""
    from liaison.models import Notification

    with app.app_context():
        try:
            notification = Notification(user_id=world.users["admin"], kind="lead_submitted",
                                        station_id=world.stations["hanoi"], params={"lead": 1})
            db.session.add(notification)
            db.session.commit()
            return notification.id
        finally:
            db.session.remove()


def _failed_job(app, world) -> int:
    import uuid

    from liaison.models import JobRun

    with app.app_context():
        try:
            run = JobRun(key=f"csrf-{uuid.uuid4().hex}", name="notifications.digest",
                         kwargs={"user_id": world.users["admin"]}, status="failed", attempts=4, last_error="down")
            db.session.add(run)
            db.session.commit()
            return run.id
        finally:
            db.session.remove()


def payloads(world, app) -> dict[str, tuple[dict, dict, bool]]:
    """endpoint -> (url values, form data, anonymous?)."""
    hanoi, submitted, draft = world.stations["hanoi"], world.leads["hanoi_submitted"], world.leads["hanoi_draft"]
    return {
        "main.set_language": ({}, {"locale": "en"}, False),
        "auth.login": ({}, {"email": world.emails["vol_hanoi"], "password": PASSWORD}, True),
        "auth.logout": ({}, {}, False),
        "auth.forgot_password": ({}, {"email": world.emails["vol_hanoi"]}, True),
        "auth.profile": ({}, {"profile-name": "The Admin", "profile-locale": "en", "profile-timezone": "UTC"}, False),
        "stations.create": ({}, _station(world), False),
        "stations.edit": ({"station_id": hanoi}, _station(world, name="Hanoi station 2", country="VN", city="Hanoi"),
                          False),
        "stations.change_status": ({"station_id": hanoi}, {"status-status": "suspended"}, False),
        "stations.add_member": ({"station_id": hanoi}, {"member-user_id": str(world.users["vol_bangkok"])}, False),
        "stations.remove_member": ({"station_id": hanoi, "user_id": world.users["vol_hanoi"]}, {}, False),
        "contacts.create": ({"station_id": hanoi}, {"kind": "scholar", "name": "Tran Thi Binh"}, False),
        "contacts.edit": ({"contact_id": world.contacts["hanoi"]}, {"kind": "student", "name": "Nguyen Van An"}, False),
        "leads.create": ({"contact_id": world.contacts["hanoi"]},
                         {"category": "employment", "summary": "A lead", "priority": "2", "save": "1"}, False),
        "leads.edit": ({"lead_id": draft}, {"category": "project", "summary": "Edited", "priority": "2",
                                            "version": _lead_version(app, draft), "save": "1"}, False),
        "leads.move": ({"lead_id": submitted}, {"move": "start_review", "version": _lead_version(app, submitted)},
                       False),
        "leads.comment": ({"lead_id": submitted}, {"text": "A remark"}, False),
        "leads.assign": ({"lead_id": submitted}, {"reviewer_id": str(world.users["hq2"])}, False),
        "leads.upload": ({"lead_id": draft}, {"files": (io.BytesIO(b"%PDF-1.4 minimal"), "cv.pdf")}, False),
        "leads.remove": ({"lead_id": draft, "attachment_id": _attachment(app, world)}, {}, False),
        "review.bulk_assign": ({}, {"lead_ids": [str(submitted)], "reviewer_id": str(world.users["hq2"])}, False),
        "assignment.rules": ({}, {"name": "Everything", "position": "1", "criterion": "any", "strategy": "reviewer",
                                  "reviewer_id": str(world.users["hq2"])}, False),
        "assignment.edit": ({"rule_id": _assignment_rule(app, world)},
                            {"name": "Renamed", "position": "2", "criterion": "any", "strategy": "reviewer",
                             "reviewer_id": str(world.users["hq"])}, False),
        "assignment.delete": ({"rule_id": _assignment_rule(app, world)}, {}, False),
        "assignment.reapply": ({}, {}, False),
        "assignment.deadlines": ({}, {"days_submitted": "7", "remind_submitted": "2"}, False),
        "admin.create_user": ({}, {"name": "New", "email": "new@example.org", "role": "volunteer"}, False),
        "admin.edit_user": ({"user_id": world.users["vol_hanoi"]},
                            {"name": "Renamed", "email": world.emails["vol_hanoi"], "role": "volunteer"}, False),
        "admin.set_active": ({"user_id": world.users["vol_hanoi"]}, {"active": "0"}, False),
        "admin.reset_password": ({"user_id": world.users["vol_hanoi"]}, {}, False),
        "admin.create_region": ({}, {"code": "AFRICA", "name": "Africa"}, False),
        "admin.edit_region": ({"region_id": world.regions["ASEAN"]}, {"code": "ASEAN", "name": "SE Asia"}, False),
        "privacy_log.dry_run": ({}, {}, False),  # a dry run: stores a RetentionRun with its counts
        "consent.record": ({"contact_id": world.contacts["hanoi"]},
                           {"purpose": "policy_news", "basis": "consent", "source": "email", "given_on": "2025-06-01"},
                           False),
        "consent.withdraw": ({"consent_id": world.consents["hanoi_keep_in_touch"]},
                             {"note": "Asked by e-mail"}, False),
        "rights.request_erasure": ({"contact_id": world.contacts["milan"]}, {"reason": "The person asked."}, False),
        "rights.approve": (_erasure(app, world, "hanoi", "vol_hanoi"), {"confirm": "y"}, False),
        "rights.reject": (_erasure(app, world, "bangkok", "vol_bangkok"), {"note": "Must keep it."}, False),
        "rights.cancel": (_erasure(app, world, "bangkok", "admin"), {}, False),
        "rights.resolve_flag": (_erasure(app, world, "hanoi", "vol_hanoi", flag=True), {}, False),
        "reports.close": ({}, {"period": "2025"}, False),
        "scorecard.weights": ({}, {"year": "2025", "w_contacts": "1", "w_submitted": "1", "w_accepted": "1",
                                   "w_landed": "1", "w_answer_days": "1", "w_volunteers": "1"}, False),
        "reports.reopen": ({"period_id": _closed_period(app)}, {"reason": "A late correction."}, False),
        "privacy.reveal": ({"contact_id": world.contacts["hanoi"]}, {"reason": "review_lead"}, False),
        **_import_payloads(app, world),
        "duplicates.dismiss": ({"pair_id": _duplicates(app, world)["pair"]}, {}, False),
        "duplicates.merge": ({"survivor_id": world.contacts["hanoi"], "merged_id": world.contacts["bangkok"]},
                             {"confirm": "y"}, False),
        "duplicates.undo": ({"merge_id": _duplicates(app, world)["merge"]}, {}, False),
        "auth.reset_password": ({"token": _reset_token(app, world)},
                                {"new_password": "a-new-password-1", "new_password_repeat": "a-new-password-1"}, True),
        "notifications.read": ({"notification_id": _admin_notification(app, world)}, {}, False),
        "notifications.read_all": ({}, {"_": _admin_notification(app, world)}, False),
        "notifications.preferences": ({}, {"kind__lead_decided": "off"}, False),
        "jobs.retry_job": ({"run_id": _failed_job(app, world)}, {}, False),
        "notices.create": ({}, {"title": "Visa rules", "title_zh": "签证新规", "body": "Text", "body_zh": "正文",
                                "effective_from": "2025-01-01", "to_all": "y"}, False),
        # Acknowledged by a volunteer of the station (see test_a_volunteer_acknowledges_with_the_right_token).
        "notices.acknowledge": ({"notice_id": _hanoi_notice(app, world)}, {}, False),
        "appointments.create": ({}, {"user_id": str(world.users["vol_bangkok"]), "station_id": str(hanoi),
                                     "appointed_on": "2025-01-01", "term_start": "2025-01-01",
                                     "term_end": "2099-01-01", "appointing_body": "County federation"}, False),
        "saved_views.create": ({}, {"list": "leads.index", "name": "CSRF view", "query": "sort=-updated"}, False),
        "saved_views.rename": ({"view_id": _admin_saved_view(app, world)},
                               {f"v{_admin_saved_view(app, world)}-name": "Renamed"}, False),
        "saved_views.delete": ({"view_id": _admin_saved_view(app, world)}, {}, False),
        **_event_payloads(app, world),
        "api_tokens.index": ({}, {"name": "CSRF token", "access": "read", "days": "30", "station": ""}, False),
        "api_tokens.revoke": ({"token_id": _admin_api_token(app, world)}, {}, False),
        "api_tokens.admin_revoke": ({"token_id": _admin_api_token(app, world)}, {}, False),
        **_demand_payloads(app, world),
    }


def _demand_payloads(app, world) -> dict:
    """A demand for the ASEAN region and its match with the Hanoi contact (liaison.demands)."""
    from liaison.demands.models import Demand, DemandField, DemandMatch, DemandRegion

    with app.app_context():
        try:
            demand = Demand(title="Battery engineers", organisation="Wenzhou NEV Co.", source_kind="enterprise",
                            kind="hire", requirements="Five years.", status="open",
                            field_rows=[DemandField(field="battery", folded="battery")],
                            region_rows=[DemandRegion(region_id=world.regions["ASEAN"])])
            db.session.add(demand)
            db.session.flush()
            match = DemandMatch(demand_id=demand.id, contact_id=world.contacts["bangkok"],
                                station_id=world.stations["bangkok"])
            db.session.add(match)
            # Two Hanoi events: the demand is to be presented at one, and is presented at the other.
            from datetime import datetime

            from liaison.demands.models import event_demands
            from liaison.events.models import Event, EventStation

            events = [Event(kind="symposium", organiser="stations", title="Expo", title_zh="对接会",
                            starts_at=datetime(2030, 1, 1, 9), ends_at=datetime(2030, 1, 1, 12), timezone="UTC",
                            status="registration_open", seats_taken=0,
                            organising=[EventStation(station_id=world.stations["hanoi"])]) for _n in range(2)]
            db.session.add_all(events)
            db.session.flush()
            db.session.execute(event_demands.insert().values(event_id=events[1].id, demand_id=demand.id))
            db.session.commit()
            demand_id, match_id = demand.id, match.id
            to_present, presented = events[0].id, events[1].id
        finally:
            db.session.remove()
    form = {"title": "Battery engineers", "organisation": "Wenzhou NEV Co.", "source_kind": "enterprise",
            "kind": "hire", "fields": "battery", "requirements": "Five years.",
            "regions": str(world.regions["ASEAN"])}
    return {
        "demands.create": ({}, form, False),
        "demands.edit": ({"demand_id": demand_id}, {**form, "title": "Renamed", "version": "1"}, False),
        "demands.move": ({"demand_id": demand_id}, {"move": "start_matching", "version": "1"}, False),
        "demands.record_match": ({"demand_id": demand_id}, {"contact_id": str(world.contacts["hanoi"])}, False),
        "demands.move_match": ({"match_id": match_id}, {"move": "hold_meeting", "version": "1"}, False),
        "events.present_demand": ({"event_id": to_present}, {"demand_id": str(demand_id)}, False),
        "events.withdraw_demand": ({"event_id": presented, "demand_id": demand_id}, {}, False),
    }


def _admin_api_token(app, world) -> int:
    """An unrevoked API token of the admin's (the CSRF tests post as the admin)."""
    from datetime import datetime

    from liaison.api import tokens
    from liaison.api.models import ApiToken

    with app.app_context():
        try:
            found = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == world.users["admin"],
                                                                ApiToken.revoked_at.is_(None)))
            if found is None:  # written directly: no audit entry (a refused form leaves no trace)
                row = ApiToken(user_id=world.users["admin"], name="CSRF", prefix="c5rf0001",
                               secret_hash=tokens.hash_token("lia_c5rf0001_x"), access="read",
                               expires_at=datetime(2099, 1, 1))
                db.session.add(row)
                db.session.commit()
                found = row.id
            return found
        finally:
            db.session.remove()


def _event_payloads(app, world) -> dict:
    """An open event of the Hanoi station with a public registration; each POST route's payload."""
    from datetime import datetime

    from liaison.events.models import Event, EventRegistration, EventStation

    with app.app_context():
        try:
            event = Event(kind="symposium", organiser="stations", title="Symposium", title_zh="座谈会",
                          starts_at=datetime(2030, 1, 1, 9), ends_at=datetime(2030, 1, 1, 12), timezone="UTC",
                          status="registration_open", seats_taken=1,
                          organising=[EventStation(station_id=world.stations["hanoi"])])
            db.session.add(event)
            db.session.flush()
            registration = EventRegistration(event_id=event.id, status="registered", source="public", name="Hoa",
                                             email="hoa@example.org", email_normalized="hoa@example.org")
            db.session.add(registration)
            db.session.commit()
            ids = {"event_id": event.id}
            both = {**ids, "registration_id": registration.id}
            slug = event.slug
        finally:
            db.session.remove()
    return {
        "events.create": ({}, {"kind": "salon", "organiser": "stations", "station_ids": str(world.stations["hanoi"]),
                               "region_id": "0", "title": "Salon", "title_zh": "沙龙", "timezone": "UTC",
                               "starts_at": "2030-01-01T09:00", "ends_at": "2030-01-01T12:00"}, False),
        "events.edit": (ids, {"kind": "salon", "title": "Salon", "title_zh": "沙龙", "timezone": "UTC",
                              "starts_at": "2030-01-01T09:00", "ends_at": "2030-01-01T12:00"}, False),
        "events.move": (ids, {"move": "close_registration"}, False),
        "events.outcome": (ids, {"participants": "3"}, False),
        "events.invite": (ids, {"contact_ids": str(world.contacts["hanoi"])}, False),
        "events.check_in": (both, {}, False),
        "events.set_status": (both, {"status": "declined"}, False),
        "events.walk_in": (ids, {"name": "Walk In"}, False),
        "events.confirm": (both, {"station_id": str(world.stations["hanoi"])}, False),
        "events.create_lead": (both, {"category": "expert_pool", "summary": "Met there."}, False),
        "events_public.register": ({"slug": slug}, {"name": "Public Person", "email": "p@example.org",
                                                    "consent": "y"}, True),
    }


def _hanoi_notice(app, world) -> int:
    """A policy notice for the Hanoi station."""
    from datetime import date

    from liaison.models import NoticeTarget, PolicyNotice

    with app.app_context():
        try:
            notice = PolicyNotice(title="Visa rules", title_zh="签证新规", body="Text", body_zh="正文",
                                  effective_from=date(2020, 1, 1),
                                  targets=[NoticeTarget(kind="station", station_id=world.stations["hanoi"])])
            db.session.add(notice)
            db.session.commit()
            return notice.id
        finally:
            db.session.remove()


def test_a_volunteer_acknowledges_a_notice_with_the_right_token(app, client, world):
    notice_id = _hanoi_notice(app, world)
    log_in(client, world.emails["vol_hanoi"])
    token = token_of(client, f"/notices/{notice_id}")
    before = snapshot(app)
    assert client.post(f"/notices/{notice_id}/acknowledge", data={}).status_code == 400
    assert snapshot(app) == before
    assert client.post(f"/notices/{notice_id}/acknowledge", data={"csrf_token": token}).status_code == 302
    assert snapshot(app) != before


def _admin_saved_view(app, world) -> int:
    """A saved view of the admin's (the CSRF tests post as the admin)."""
    from liaison.models import SavedView

    with app.app_context():
        try:
            view = db.session.scalar(select(SavedView).where(SavedView.user_id == world.users["admin"]))
            if view is None:
                view = SavedView(user_id=world.users["admin"], endpoint="leads.index", name="CSRF", query="")
                db.session.add(view)
                db.session.commit()
            return view.id
        finally:
            db.session.remove()


def _duplicates(app, world) -> dict[str, int]:
    """A Hanoi–Bangkok pair (the same phone) and a merge of two other contacts."""
    from liaison.duplicates import services
    from liaison.models import Contact, DuplicatePair

    with app.app_context():
        try:
            made = []
            for station, name in (("hanoi", "Pham Van Duc"), ("bangkok", "Duc Pham"), ("hanoi", "Le Van Tam"),
                                  ("bangkok", "Tam Le")):
                phone = "+84243825000" + str(len(made) // 2)
                made.append(Contact(station_id=world.stations[station], kind="scholar", name=name, phone=phone,
                                    phone_e164=phone))
            db.session.add_all(made)
            db.session.commit()
            pair = db.session.scalar(select(DuplicatePair.id).where(DuplicatePair.contact_a_id == made[0].id,
                                                                    DuplicatePair.contact_b_id == made[1].id))
            record = services.merge(made[2], made[3], {}, db.session.get(User, world.users["admin"]))
            return {"pair": pair, "merge": record.id}
        finally:
            db.session.remove()


def _import_payloads(app, world) -> dict:
    """A staged and a committed import of Hanoi, and what each import route is sent."""
    from liaison.imports import services as imports

    with app.test_request_context():
        try:
            volunteer = db.session.get(User, world.users["vol_hanoi"])
            station = db.session.get(Station, world.stations["hanoi"])
            staged = imports.stage(station, "staged.csv", b"Name,E-mail\nTran Mai,mai@example.org\n", volunteer).id
            # A committed import built directly (committing through the service writes an audit
            # entry, which test_a_refused_form_leaves_no_trace counts after building the payloads).
            from liaison.models import Contact, ImportBatch, ImportRow, utcnow

            contact = Contact(station_id=station.id, kind="scholar", name="Le Minh", created_by_id=volunteer.id)
            batch = ImportBatch(station_id=station.id, status="committed", mode="create", filename="done.csv",
                                sha256="0" * 64, created_by_id=volunteer.id, header=["Name"], mapping={"0": "name"},
                                notices=[], total_rows=1, created_count=1, committed_at=utcnow())
            db.session.add_all([contact, batch])
            db.session.flush()
            db.session.add(ImportRow(import_id=batch.id, row_number=2, action="created", contact_id=contact.id,
                                     after=imports.snapshot(contact)))
            db.session.commit()
            done = batch.id
        finally:
            db.session.remove()
    return {
        "imports.upload": ({"station_id": world.stations["hanoi"]},
                           {"file": (io.BytesIO(b"Name\nAn Tran\n"), "a.csv")}, False),
        "imports.mapping": ({"import_id": staged}, {"col_0": "name", "col_1": "email"}, False),
        "imports.review": ({"import_id": staged}, {"mode": "create"}, False),
        "imports.discard": ({"import_id": staged}, {}, False),
        "imports.revert": ({"import_id": done}, {}, False),
    }


def _assignment_rule(app, world) -> int:
    """An active rule giving every lead to hq2 (re-applying it assigns the unassigned leads)."""
    from liaison.models import AssignmentRule

    with app.app_context():
        try:
            rule = AssignmentRule(name="CSRF", criterion="any", strategy="reviewer", reviewer_id=world.users["hq2"])
            db.session.add(rule)
            db.session.commit()
            return rule.id
        finally:
            db.session.remove()


def _closed_period(app) -> int:
    """A closed report period (an admin may reopen it)."""
    from datetime import date

    from liaison.models import ReportPeriod

    with app.app_context():
        try:
            record = db.session.scalar(select(ReportPeriod).where(ReportPeriod.key == "2024-Q1"))
            if record is None:  # payloads() may be built twice in one test
                record = ReportPeriod(key="2024-Q1", kind="quarter", starts_on=date(2024, 1, 1),
                                      ends_on=date(2024, 3, 31), closed=True, snapshot={})
                db.session.add(record)
                db.session.commit()
            return record.id
        finally:
            db.session.remove()


def _default_value(world, rule, name):
    """A value for a URL variable of a route without a payload above (e.g. a plugin's)."""
    known = {"station_id": world.stations["hanoi"], "user_id": world.users["vol_hanoi"],
             "contact_id": world.contacts["hanoi"], "lead_id": world.leads["hanoi_submitted"],
             "region_id": world.regions["ASEAN"]}
    if name in known:
        return known[name]
    converters = {arg: conv for conv, arg in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule)}
    return 1 if converters.get(name) == "int" else "core"


def post_routes(app, world):
    """(endpoint, url, data) for every route of the app that accepts POST."""
    known = payloads(world, app)
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.rule.startswith("/api/v1"):
                continue  # the API: token-authenticated, CSRF-exempt, never a session (tests/test_api.py)
            values, data, _anonymous = known.get(rule.endpoint, ({}, {}, False))
            values = {**{name: _default_value(world, rule, name) for name in rule.arguments}, **values}
            routes.append((rule.endpoint, url_for(rule.endpoint, **values), data))
    assert len(routes) >= len(known)
    return routes


def test_payloads_cover_the_core_routes(app, world):
    """A new core POST route needs a payload here, so that the tests below really try it."""
    core = {endpoint for endpoint, _url, _data in post_routes(app, world)
            if endpoint.split(".")[0] in {"main", "auth", "stations", "contacts", "leads", "review", "admin",
                                             "privacy_log", "consent", "rights", "reports", "privacy",
                                             "imports", "duplicates", "notifications", "jobs", "saved_views",
                                             "assignment", "notices", "appointments", "scorecard", "exports",
                                             "api_tokens", "demands", "events", "events_public"}}
    assert core == set(payloads(world, app))


# Refused without the right token ---------------------------------------------------------

BAD_TOKENS = {
    "missing": lambda client, app: None,
    "empty": lambda client, app: "",
    "forged": lambda client, app: "IjE2ZjU5ZjQ0ZDkxNGE2NzAxYmQxZTcxNmQ3MmM1ZmZiNjY0ZTcxYWIi.Zz9x4A.forged",
    "garbage": lambda client, app: "not a token at all",
    # A genuine token, but of another browser's session.
    "another session's": lambda client, app: token_of(app.test_client(), "/login"),
}


def _check_refused(app, client, world, token, who):
    failures = []
    for endpoint, url, data in post_routes(app, world):
        before = snapshot(app)
        body = dict(data)
        if token is not None:
            body["csrf_token"] = token
        response = client.post(url, data=body)
        text = response.get_data(as_text=True)
        if response.status_code != 400 or CSRF_MESSAGE not in text:
            failures.append((endpoint, url, response.status_code, "no CSRF page"))
        if snapshot(app) != before:
            failures.append((endpoint, url, "database changed"))
        if who and not logged_in(client):
            failures.append((endpoint, url, "the session was changed (logged out)"))
            log_in(client, world.emails[who])
    assert not failures, failures


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_every_post_route_refuses_a_bad_token_when_logged_in(app, client, world, kind):
    log_in(client, world.emails["admin"])
    _check_refused(app, client, world, BAD_TOKENS[kind](client, app), "admin")


@pytest.mark.parametrize("kind", ["missing", "forged", "another session's"])
def test_every_post_route_refuses_a_bad_token_when_anonymous(app, client, world, kind):
    token_of(client, "/login")  # the session has a token of its own
    _check_refused(app, client, world, BAD_TOKENS[kind](client, app), None)


def test_token_in_a_header_of_another_session_is_refused(app, client, world):
    log_in(client, world.emails["admin"])
    other = token_of(app.test_client(), "/login")
    before = snapshot(app)
    response = client.post(f"/leads/{world.leads['hanoi_submitted']}/comment", data={"text": "hi"},
                           headers={"X-CSRFToken": other})
    assert response.status_code == 400 and CSRF_MESSAGE in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_login_is_csrf_protected(app, client, world):
    token_of(client, "/login")
    before = snapshot(app)
    response = client.post("/login", data={"email": world.emails["admin"], "password": PASSWORD})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert CSRF_MESSAGE in body and "Bad request" in body
    assert not logged_in(client)
    assert snapshot(app) == before  # not even the last log-in time


def test_csrf_page_is_plain_and_helpful(app, client, world):
    log_in(client, world.emails["vol_hanoi"])
    response = client.post("/logout")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert CSRF_MESSAGE in body and "Go back, reload the page and send it again." in body
    assert 'href="/"' in body  # a way back
    assert "Traceback" not in body
    assert logged_in(client)


# Accepted with the token of the rendered form ---------------------------------------------

def test_login_and_logout_with_the_rendered_token(app, client, world):
    token = token_of(client, "/login")
    response = client.post("/login", data={"email": world.emails["vol_hanoi"], "password": PASSWORD,
                                            "csrf_token": token})
    assert response.status_code == 302
    assert logged_in(client)
    token = token_of(client, "/profile")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not logged_in(client)


def test_profile_with_the_rendered_token(app, client, world):
    log_in(client, world.emails["vol_hanoi"])
    token = token_of(client, "/profile")
    response = client.post("/profile", data={"csrf_token": token, "profile-name": "Hanoi Volunteer",
                                             "profile-locale": "en", "profile-timezone": "Asia/Bangkok"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, world.users["vol_hanoi"])
        assert (user.name, user.timezone) == ("Hanoi Volunteer", "Asia/Bangkok")


def test_log_in_renews_the_token(app, client, world):
    """Log-in starts a fresh session (no fixation): a token from before it no longer works."""
    token_before = token_of(client, "/login")
    log_in(client, world.emails["admin"])
    response = client.post(f"/leads/{world.leads['hanoi_submitted']}/comment",
                           data={"text": "hi", "csrf_token": token_before})
    assert response.status_code == 400
    token_after = token_of(client, "/profile")
    response = client.post(f"/leads/{world.leads['hanoi_submitted']}/comment",
                           data={"text": "hi", "csrf_token": token_after})
    assert response.status_code == 302


@pytest.mark.parametrize("endpoint", [
    "main.set_language", "auth.login", "auth.logout", "auth.forgot_password", "auth.profile", "stations.create",
    "stations.edit", "stations.change_status", "stations.add_member", "stations.remove_member", "contacts.create",
    "contacts.edit", "leads.create", "leads.edit", "leads.move", "leads.comment", "leads.assign", "leads.upload",
    "leads.remove",
    "review.bulk_assign", "admin.create_user", "admin.edit_user", "admin.set_active", "admin.reset_password",
    "admin.create_region", "admin.edit_region",
    "privacy_log.dry_run", "consent.record", "consent.withdraw",
    "rights.request_erasure", "rights.approve", "rights.reject", "rights.cancel", "rights.resolve_flag",
    "reports.close", "reports.reopen", "privacy.reveal", "scorecard.weights",
    "duplicates.dismiss", "duplicates.merge", "duplicates.undo",
    "auth.reset_password", "notifications.read", "notifications.read_all", "notifications.preferences",
    "jobs.retry_job", "saved_views.create", "saved_views.rename", "saved_views.delete",
    "assignment.rules", "assignment.edit", "assignment.delete", "assignment.reapply", "assignment.deadlines",
    "notices.create", "appointments.create",
    "events.create", "events.move", "events.check_in", "events.walk_in", "events_public.register",
    "api_tokens.index", "api_tokens.revoke", "api_tokens.admin_revoke",
    "demands.create", "demands.edit", "demands.move", "demands.record_match", "demands.move_match",
    "events.present_demand", "events.withdraw_demand",
])
def test_every_core_post_route_works_with_the_right_token(app, client, world, endpoint):
    values, data, anonymous = payloads(world, app)[endpoint]
    if anonymous:
        token = token_of(client, "/login")
    else:
        log_in(client, world.emails["admin"])
        token = token_of(client, "/profile")
    with app.test_request_context():
        url = url_for(endpoint, **values)
    before = snapshot(app)
    response = client.post(url, data={**data, "csrf_token": token})
    # A temporary password is shown on the answer itself (never flashed into the cookie).
    expected = 200 if endpoint in ("admin.create_user", "admin.reset_password", "api_tokens.index") else 302
    assert response.status_code == expected, (response.status_code, response.get_data(as_text=True)[:2000])
    assert CSRF_MESSAGE not in response.get_data(as_text=True)
    assert snapshot(app) != before  # logging out too: it replaces the user's session token


def test_get_filter_forms_need_no_token(app, client, world):
    log_in(client, world.emails["hq"])
    for path in ["/leads/?q=Nguyen&status=open", "/review/?reviewer=none", "/contacts/?q=An",
                 "/stations/?region=ASEAN", "/reports/?date_from=2020-01-01&date_to=2030-12-31",
                 "/reports/summary?period=2025-Q4"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "CSRF" not in response.get_data(as_text=True), path


def test_a_refused_form_leaves_no_trace(app, client, world):
    """Belt and braces for the counts: no event, audit entry, station or user was added."""
    log_in(client, world.emails["admin"])
    with app.app_context():
        counts = [db.session.scalar(select(db.func.count()).select_from(m))
                  for m in (LeadEvent, AuditEntry, Station, User)]
    for endpoint, url, data in post_routes(app, world):
        client.post(url, data=data)
    with app.app_context():
        assert [db.session.scalar(select(db.func.count()).select_from(m))
                for m in (LeadEvent, AuditEntry, Station, User)] == counts
