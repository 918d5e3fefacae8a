"""The authorization matrix: every route of the app × every role × its own / a foreign record.

The routes come from the app's URL map; the expected outcome of each is written in ``EXPECTED``
below. A route without an expectation — a new page, a plugin's page — fails the test, so no
route escapes it.

Core and ASEAN-plugin records are the Hanoi station's (region ASEAN): "own" for vol_hanoi and
asean_admin, foreign for vol_milan and europe_admin, visible to hq and admin. The Europe plugin's
records are the Milan station's, the mirror image. Each bundled plugin is switched on for its own
region only, so for the other region's people its pages do not exist (404).
"""
from __future__ import annotations

from datetime import date

import pytest

from liaison.models import User, db
from liaison.plugins import activation

from .conftest import PASSWORD

ROLES = ["anonymous", "vol_hanoi", "vol_milan", "asean_admin", "europe_admin", "hq", "admin"]

OK, LOGIN, FORBIDDEN, NOT_FOUND = "ok", "login", 403, 404


def policy(vol_hanoi, vol_milan, asean_admin, europe_admin, hq, admin, anonymous=LOGIN):
    return dict(anonymous=anonymous, vol_hanoi=vol_hanoi, vol_milan=vol_milan, asean_admin=asean_admin,
                europe_admin=europe_admin, hq=hq, admin=admin)


PUBLIC = policy(OK, OK, OK, OK, OK, OK, anonymous=OK)
ANY_USER = policy(OK, OK, OK, OK, OK, OK)
SEE_HANOI = policy(OK, NOT_FOUND, OK, NOT_FOUND, OK, OK)
ACT_FOR_HANOI = policy(OK, NOT_FOUND, OK, NOT_FOUND, FORBIDDEN, OK)
HQ = policy(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK)
MANAGERS = policy(FORBIDDEN, FORBIDDEN, OK, OK, FORBIDDEN, OK)
MANAGE_ASEAN = policy(FORBIDDEN, FORBIDDEN, OK, NOT_FOUND, FORBIDDEN, OK)
MANAGE_HANOI = policy(FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, FORBIDDEN, OK)
ADMIN = policy(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
SEE_MILAN = policy(NOT_FOUND, OK, NOT_FOUND, OK, OK, OK)
DUPLICATES = policy(FORBIDDEN, FORBIDDEN, OK, OK, OK, OK)  # HQ and regional admins (their region's pairs)
DUPLICATES_ASEAN = policy(FORBIDDEN, FORBIDDEN, OK, NOT_FOUND, OK, OK)  # a Hanoi–Bangkok pair or merge

ASEAN = "/p/asean_language_title"
EUROPE = "/p/europe_school_partnership"

# endpoint -> (url template, {method: policy})
EXPECTED = {
    "main.home": ("/", {"GET": ANY_USER}),
    "main.health": ("/healthz", {"GET": PUBLIC}),
    "main.set_language": ("/language", {"POST": PUBLIC}),
    "auth.login": ("/login", {"GET": PUBLIC, "POST": PUBLIC}),
    "auth.logout": ("/logout", {"POST": policy(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)}),  # back to log-in
    "auth.forgot_password": ("/forgot-password", {"GET": PUBLIC, "POST": PUBLIC}),
    "auth.profile": ("/profile", {"GET": ANY_USER, "POST": ANY_USER}),
    "auth.reset_password": ("/reset-password/not-a-valid-token", {"GET": PUBLIC, "POST": PUBLIC}),
    # Notifications: everyone has their own; one of vol_hanoi's is 404 for everyone else.
    "notifications.index": ("/notifications/", {"GET": ANY_USER}),
    "notifications.read": ("/notifications/{notification}/read",
                           {"POST": policy(OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)}),
    "notifications.read_all": ("/notifications/read-all", {"POST": ANY_USER}),
    "notifications.preferences": ("/notifications/preferences", {"GET": ANY_USER, "POST": ANY_USER}),
    # Failed background jobs: admins only.
    "jobs.failed": ("/admin/jobs/", {"GET": ADMIN}),
    "jobs.retry_job": ("/admin/jobs/{job}/retry", {"POST": ADMIN}),
    # Policy notices: one for the Hanoi station; HQ publishes and follows receipts; the targeted
    # station's volunteers acknowledge; the public page needs no log-in.
    "notices.index": ("/notices/", {"GET": ANY_USER}),
    "notices.create": ("/notices/new", {"GET": HQ, "POST": HQ}),
    "notices.detail": ("/notices/{notice}", {"GET": SEE_HANOI}),
    "notices.acknowledge": ("/notices/{notice}/acknowledge",
                            {"POST": policy(OK, NOT_FOUND, FORBIDDEN, NOT_FOUND, FORBIDDEN, FORBIDDEN)}),
    "notices.receipts": ("/notices/{notice}/receipts", {"GET": HQ}),
    "notices.public": ("/notices/p/{notice_slug}", {"GET": PUBLIC}),
    # Appointments: vol_hanoi's at Hanoi; regional admins and admins appoint, HQ reads.
    "appointments.index": ("/appointments/", {"GET": ANY_USER}),
    "appointments.expiring": ("/appointments/expiring", {"GET": DUPLICATES}),
    "appointments.create": ("/appointments/new", {"GET": MANAGERS, "POST": MANAGERS}),
    "appointments.letter": ("/appointments/{appointment}/letter", {"GET": SEE_HANOI}),
    # The global search: everyone, each sees results in their own scope (tests/test_find.py).
    "find.search": ("/search?q=Nguyen", {"GET": ANY_USER}),
    # Saved views: everyone keeps their own; one of vol_hanoi's is 404 for everyone else; the
    # review queue's views are HQ's (tests/test_saved_views.py).
    "saved_views.index": ("/saved-views/", {"GET": ANY_USER}),
    "saved_views.create": ("/saved-views/new?list=review.queue",
                           {"GET": HQ, "POST": policy(OK, OK, OK, OK, OK, OK)}),
    "saved_views.rename": ("/saved-views/{saved_view}/rename",
                           {"POST": policy(OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)}),
    "saved_views.delete": ("/saved-views/{saved_view}/delete",
                           {"POST": policy(OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)}),
    "stations.index": ("/stations/", {"GET": ANY_USER}),
    "stations.create": ("/stations/new", {"GET": MANAGERS, "POST": MANAGERS}),
    "stations.detail": ("/stations/{station}", {"GET": SEE_HANOI}),
    "stations.edit": ("/stations/{station}/edit", {"GET": MANAGE_HANOI, "POST": MANAGE_HANOI}),
    "stations.change_status": ("/stations/{station}/status", {"POST": MANAGE_HANOI}),
    "stations.add_member": ("/stations/{station}/members", {"POST": MANAGE_HANOI}),
    "stations.remove_member": ("/stations/{station}/members/{victim}/remove", {"POST": MANAGE_HANOI}),
    "contacts.index": ("/contacts/", {"GET": ANY_USER}),
    "contacts.create": ("/contacts/new?station_id={station}", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "contacts.detail": ("/contacts/{contact}", {"GET": SEE_HANOI}),
    "contacts.edit": ("/contacts/{contact}/edit", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "leads.index": ("/leads/", {"GET": ANY_USER}),
    "leads.create": ("/leads/new?contact_id={contact}", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "leads.detail": ("/leads/{lead}", {"GET": SEE_HANOI}),
    "leads.edit": ("/leads/{draft}/edit", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "leads.move": ("/leads/{lead}/move", {"POST": SEE_HANOI}),  # which moves: the workflow's test
    "leads.comment": ("/leads/{lead}/comment", {"POST": SEE_HANOI}),
    "leads.assign": ("/leads/{lead}/assign", {"POST": HQ}),
    # Files attached to a Hanoi draft by vol_hanoi (a new one for every role: see _attachment).
    "leads.upload": ("/leads/{draft}/attachments", {"POST": ACT_FOR_HANOI}),
    "leads.download": ("/leads/{draft}/attachments/{attachment}", {"GET": SEE_HANOI}),
    "leads.remove": ("/leads/{draft}/attachments/{attachment}/remove", {"POST": ACT_FOR_HANOI}),
    # Spreadsheet imports of the Hanoi station (a staged one and a committed one: see _imports).
    "imports.index": ("/imports/", {"GET": policy(OK, OK, OK, OK, FORBIDDEN, OK)}),
    "imports.upload": ("/imports/new?station_id={station}", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "imports.mapping": ("/imports/{staged_import}/mapping", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "imports.review": ("/imports/{staged_import}/review", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "imports.discard": ("/imports/{staged_import}/discard", {"POST": ACT_FOR_HANOI}),
    "imports.detail": ("/imports/{done_import}", {"GET": ACT_FOR_HANOI}),
    "imports.revert": ("/imports/{done_import}/revert", {"POST": ACT_FOR_HANOI}),
    "review.queue": ("/review/", {"GET": HQ}),
    "review.report": ("/review/report", {"GET": HQ}),
    "review.bulk_assign": ("/review/assign", {"POST": HQ}),
    "assignment.rules": ("/review/rules", {"GET": HQ, "POST": HQ}),
    "assignment.edit": ("/review/rules/{assignment_rule}/edit", {"GET": HQ, "POST": HQ}),
    "assignment.delete": ("/review/rules/{assignment_rule}/delete", {"POST": HQ}),  # a rule each
    "assignment.reapply": ("/review/rules/apply", {"POST": HQ}),
    "assignment.workload": ("/review/workload", {"GET": HQ}),
    # Reports (issue 13): every user their own scope; HQ closes periods, an admin reopens them.
    "reports.index": ("/reports/?period=2025", {"GET": ANY_USER}),
    "reports.table_csv": ("/reports/table/status.csv?period=2025", {"GET": ANY_USER}),
    "reports.summary_page": ("/reports/summary?period=2025", {"GET": ANY_USER}),
    "reports.summary_xlsx": ("/reports/summary.xlsx?period=2025", {"GET": ANY_USER}),
    "scorecard.index": ("/reports/scorecard/?year=2025", {"GET": ANY_USER}),  # each role its own cards
    "scorecard.xlsx": ("/reports/scorecard/scorecard.xlsx?year=2025", {"GET": ANY_USER}),
    "scorecard.weights": ("/reports/scorecard/weights", {"POST": HQ}),
    "reports.closed_periods": ("/reports/periods", {"GET": HQ}),
    "reports.close": ("/reports/periods/close", {"POST": HQ}),
    "reports.reopen": ("/reports/periods/{report_period}/reopen", {"POST": ADMIN}),  # a closed period each
    "exports.leads": ("/exports/leads.xlsx", {"GET": ANY_USER}),
    "exports.contacts": ("/exports/contacts.xlsx", {"GET": ANY_USER}),
    # (every station lets its volunteers export by default; test_exports has the setting's matrix)
    "exports.leads_csv": ("/exports/leads.csv", {"GET": ANY_USER}),
    "exports.contacts_csv": ("/exports/contacts.csv", {"GET": ANY_USER}),
    "exports.index": ("/exports/", {"GET": MANAGERS}),  # admins all, regional admins their regions'
    # Lawful bases of a Hanoi contact: recorded and withdrawn by whoever acts for the station (HQ
    # sees them read-only on the contact's page); the renewal list is everyone's, scoped.
    "consent.record": ("/privacy/consents/contacts/{contact}/new", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "consent.withdraw": ("/privacy/consents/{consent}/withdraw", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "consent.expiring": ("/privacy/consents/expiring", {"GET": ANY_USER}),
    # Reveal a contact's masked fields with a reason (anyone who sees the contact; own-station
    # people already see them and are sent back).
    "privacy.reveal": ("/privacy/contacts/{contact}/reveal", {"POST": SEE_HANOI}),
    # The access log (admins: all; regional admins: their regions' stations) and retention (admins).
    "privacy_log.log": ("/privacy/log", {"GET": MANAGERS}),
    "privacy_log.log_csv": ("/privacy/log.csv", {"GET": MANAGERS}),
    "privacy_log.log_xlsx": ("/privacy/log.xlsx", {"GET": MANAGERS}),
    "privacy_log.retention_page": ("/privacy/retention", {"GET": ADMIN}),
    "privacy_log.dry_run": ("/privacy/retention/dry-run", {"POST": ADMIN}),
    # The data subject's rights (a Hanoi contact; an erasure request vol_hanoi made, with a flag):
    # the station side and admins, never HQ reviewers; approvers are admins and the region's
    # admins other than the requester; only the requester cancels.
    "rights.index": ("/privacy/rights/", {"GET": policy(OK, OK, OK, OK, FORBIDDEN, OK)}),
    "rights.report": ("/privacy/rights/contacts/{contact}", {"GET": policy(OK, NOT_FOUND, OK, NOT_FOUND, FORBIDDEN, OK)}),
    "rights.report_json": ("/privacy/rights/contacts/{contact}/report.json",
                           {"GET": policy(OK, NOT_FOUND, OK, NOT_FOUND, FORBIDDEN, OK)}),
    "rights.request_erasure": ("/privacy/rights/contacts/{contact}/erasure",
                               {"GET": policy(OK, NOT_FOUND, OK, NOT_FOUND, FORBIDDEN, OK),
                                "POST": policy(OK, NOT_FOUND, OK, NOT_FOUND, FORBIDDEN, OK)}),
    "rights.erasures_queue": ("/privacy/rights/erasures", {"GET": MANAGERS}),
    "rights.erasure": ("/privacy/rights/erasures/{erasure}", {"GET": policy(OK, NOT_FOUND, OK, NOT_FOUND, FORBIDDEN, OK)}),
    "rights.approve": ("/privacy/rights/erasures/{erasure}/approve", {"POST": MANAGE_HANOI}),
    "rights.reject": ("/privacy/rights/erasures/{erasure}/reject", {"POST": MANAGE_HANOI}),
    "rights.cancel": ("/privacy/rights/erasures/{erasure}/cancel",
                      {"POST": policy(OK, NOT_FOUND, FORBIDDEN, NOT_FOUND, FORBIDDEN, FORBIDDEN)}),
    "rights.resolve_flag": ("/privacy/rights/erasures/{erasure}/flags/{erasure_flag}/resolve",
                            {"POST": policy(OK, NOT_FOUND, OK, NOT_FOUND, FORBIDDEN, OK)}),
    "admin.users": ("/admin/users", {"GET": MANAGERS}),
    "admin.create_user": ("/admin/users/new", {"GET": MANAGERS, "POST": MANAGERS}),
    "admin.edit_user": ("/admin/users/{victim}/edit", {"GET": MANAGE_ASEAN, "POST": MANAGE_ASEAN}),
    "admin.set_active": ("/admin/users/{victim}/active", {"POST": MANAGE_ASEAN}),
    "admin.reset_password": ("/admin/users/{victim}/reset-password", {"POST": MANAGE_ASEAN}),
    "admin.regions": ("/admin/regions", {"GET": ADMIN}),
    "admin.create_region": ("/admin/regions/new", {"GET": ADMIN, "POST": ADMIN}),
    "admin.edit_region": ("/admin/regions/{region}/edit", {"GET": ADMIN, "POST": ADMIN}),
    "plugins_admin.index": ("/admin/plugins/", {"GET": MANAGERS}),
    "plugins_admin.settings": ("/admin/plugins/fixture_good/settings?scope=region:{region}",
                               {"GET": MANAGE_ASEAN, "POST": MANAGE_ASEAN}),
    "plugins_admin.switch": ("/admin/plugins/fixture_good/switch", {"POST": MANAGE_ASEAN}),
    # The fixture plugin's page, switched on for ASEAN only.
    "fixture_good.index": ("/p/fixture_good/", {"GET": SEE_HANOI}),
    # ASEAN translator titles (on for ASEAN): an application of a Hanoi contact.
    "asean_language_title.index": (ASEAN + "/", {"GET": SEE_HANOI}),
    "asean_language_title.statistics": (ASEAN + "/statistics", {"GET": SEE_HANOI}),
    "asean_language_title.detail": (ASEAN + "/{title_app}", {"GET": SEE_HANOI}),
    "asean_language_title.create": (ASEAN + "/new?contact_id={contact}", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "asean_language_title.edit": (ASEAN + "/{title_app}/edit", {"GET": ACT_FOR_HANOI, "POST": ACT_FOR_HANOI}),
    "asean_language_title.move": (ASEAN + "/{title_app}/move", {"POST": SEE_HANOI}),
    "asean_language_title.route": (ASEAN + "/{title_app}/route", {"POST": MANAGE_HANOI}),
    # European school partnerships (on for EUROPE): a partnership brokered by Milan.
    "europe_school_partnership.index": (EUROPE + "/", {"GET": SEE_MILAN}),
    "europe_school_partnership.board": (EUROPE + "/board", {"GET": SEE_MILAN}),
    "europe_school_partnership.counts": (EUROPE + "/counts", {"GET": SEE_MILAN}),
    "europe_school_partnership.overdue": (EUROPE + "/overdue", {"GET": SEE_MILAN}),
    "europe_school_partnership.create": (EUROPE + "/new", {"GET": SEE_MILAN, "POST": SEE_MILAN}),
    "europe_school_partnership.detail": (EUROPE + "/{partnership}", {"GET": SEE_MILAN}),
    "europe_school_partnership.edit": (EUROPE + "/{partnership}/edit", {"GET": SEE_MILAN, "POST": SEE_MILAN}),
    "europe_school_partnership.move": (EUROPE + "/{partnership}/move", {"POST": SEE_MILAN}),
    "europe_school_partnership.next_step": (EUROPE + "/{partnership}/next-step", {"POST": SEE_MILAN}),
    "europe_school_partnership.complete_step": (EUROPE + "/{partnership}/next-step/done", {"POST": SEE_MILAN}),
    "europe_school_partnership.add_document": (EUROPE + "/{partnership}/documents", {"POST": SEE_MILAN}),
    # A document of its own for every role (an allowed removal must not hide the next role's answer).
    "europe_school_partnership.remove_document": (EUROPE + "/{partnership}/documents/{document}/remove",
                                                  {"POST": SEE_MILAN}),
    # Duplicates: a Hanoi–Bangkok pair and merge (ASEAN); the first allowed undo undoes it, the
    # others are refused with a reason (a redirect, not an authorization answer).
    "duplicates.index": ("/duplicates/", {"GET": DUPLICATES}),
    "duplicates.merges": ("/duplicates/merges", {"GET": DUPLICATES}),
    "duplicates.dismiss": ("/duplicates/{pair}/dismiss", {"POST": DUPLICATES_ASEAN}),
    "duplicates.merge": ("/duplicates/merge/{contact}/{other}", {"GET": DUPLICATES_ASEAN, "POST": DUPLICATES_ASEAN}),
    "duplicates.merge_detail": ("/duplicates/merges/{merge}", {"GET": DUPLICATES_ASEAN}),
    "duplicates.undo": ("/duplicates/merges/{merge}/undo", {"POST": DUPLICATES_ASEAN}),
}

# Extra form data a POST needs to reach the authorization decision (never enough to be valid
# for every role: the outcome "ok" includes a re-rendered form).
POST_DATA = {
    "plugins_admin.switch": {"scope": "region:{region}", "state": "on"},
    "plugins_admin.settings": {"scope": "region:{region}"},
    "leads.move": {"move": "start_review", "version": "0"},
    "reports.reopen": {"reason": "A late correction."},
    "scorecard.weights": {"year": "2025", "w_contacts": "1", "w_submitted": "1", "w_accepted": "1",
                          "w_landed": "1", "w_answer_days": "1", "w_volunteers": "1"},
    "saved_views.create": {"list": "leads.index", "name": "Matrix view", "query": "sort=-updated"},
}


@pytest.fixture
def app_config():
    return {"PLUGINS_EXTRA": ["tests.plugins.good_plugin"]}


def _routes(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}


def test_every_route_has_an_expectation(app):
    missing = sorted(_routes(app) - set(EXPECTED))
    assert not missing, f"routes without an authorization expectation: {missing}"
    assert not sorted(set(EXPECTED) - _routes(app)), "expectations for routes that do not exist"


def test_every_method_has_an_expectation(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        assert methods == set(EXPECTED[rule.endpoint][1]), rule.endpoint


def _outcome(response) -> object:
    if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return LOGIN
    if response.status_code in (403, 404):
        return response.status_code
    assert response.status_code < 500, response.status_code
    return OK


CASES = [(endpoint, method) for endpoint, (_url, methods) in EXPECTED.items() for method in methods]


def _imports(world) -> dict[str, int]:
    """A staged and a committed import of the Hanoi station, by vol_hanoi."""
    from liaison.imports import services as imports
    from liaison.models import Station

    volunteer = db.session.get(User, world.users["vol_hanoi"])
    station = db.session.get(Station, world.stations["hanoi"])
    staged = imports.stage(station, "staged.csv", b"Name,E-mail\nTran Mai,mai@example.org\n", volunteer)
    done = imports.stage(station, "done.csv", b"Name\nLe Minh\n", volunteer)
    imports.commit(done, "create", volunteer)
    return {"staged_import": staged.id, "done_import": done.id}


def _plugin_records(world) -> dict[str, int]:
    """Switch the plugins on for their regions and give each a record; returns url values."""
    from plugins.asean_language_title import services as asean
    from plugins.europe_school_partnership import services as europe
    from sqlalchemy.orm import selectinload

    from liaison.models import Contact, Station

    admin = db.session.get(User, world.users["admin"])
    activation.set_enabled("fixture_good", True, admin, region_id=world.regions["ASEAN"])
    activation.set_enabled("asean_language_title", True, admin, region_id=world.regions["ASEAN"])
    activation.set_enabled("europe_school_partnership", True, admin, region_id=world.regions["EUROPE"])
    db.session.commit()
    contact = db.session.scalar(db.select(Contact).where(Contact.id == world.contacts["hanoi"])
                                .options(selectinload(Contact.station)))
    volunteer = db.session.get(User, world.users["vol_hanoi"])
    application = asean.create_application(contact, {
        "language": "vi", "level": "translator", "practice_years": 6, "current_title": "assistant",
        "current_title_since": date(2018, 3, 1), "education": "BA in Vietnamese"}, volunteer)
    partnership = europe.create_partnership(db.session.get(Station, world.stations["milan"]), {
        "home_name": "Wenzhou Technician College", "home_kind": "technician_college", "home_city": "Wenzhou",
        "partner_name": "University of South Wales", "partner_country": "GB", "partner_kind": "university",
        "programme_kind": "joint_3_2", "majors": "智能制造", "first_contact_on": date(2025, 1, 10),
        "contact_ids": []}, admin)
    return {"title_app": application.id, "partnership": partnership.id}


def _erasure_records(world) -> dict[str, int]:
    """An erasure request for the Hanoi contact, made by vol_hanoi, with one flag."""
    from liaison.models import ErasureFlag, ErasureRequest

    erasure = ErasureRequest(contact_id=world.contacts["hanoi"], station_id=world.stations["hanoi"],
                             reason="The person asked.", requested_by_id=world.users["vol_hanoi"])
    db.session.add(erasure)
    db.session.flush()
    flag = ErasureFlag(erasure_id=erasure.id, table_name="leads", record_id=world.leads["hanoi_draft"],
                       column_name="summary")
    db.session.add(flag)
    db.session.commit()
    return {"erasure": erasure.id, "erasure_flag": flag.id}


def _document(partnership_id: int) -> int:
    from plugins.europe_school_partnership.models import PartnershipDocument

    document = PartnershipDocument(partnership_id=partnership_id, kind="mou", title="MoU")
    db.session.add(document)
    db.session.commit()
    return document.id


def _report_period(role: str) -> int:
    """A closed report period of its own for every role (an allowed reopening must not hide the
    next role's answer)."""
    from liaison.models import ReportPeriod

    month = ROLES.index(role) + 1
    record = ReportPeriod(key=f"2020-{month:02d}", kind="month", starts_on=date(2020, month, 1),
                          ends_on=date(2020, month, 28), closed=True, snapshot={})
    db.session.add(record)
    db.session.commit()
    return record.id


def _assignment_rule() -> int:
    """An assignment rule of its own for every role (an allowed deletion must not hide the next
    role's answer)."""
    from liaison.models import AssignmentRule

    rule = AssignmentRule(name="Matrix", criterion="any", strategy="round_robin")
    db.session.add(rule)
    db.session.commit()
    return rule.id


def _duplicate_records(world) -> dict[str, int]:
    """A Hanoi–Bangkok pair (the same phone) and a merge of two other Hanoi–Bangkok contacts."""
    from liaison.duplicates import services
    from liaison.models import Contact, DuplicatePair

    def contact(station, name, phone):
        record = Contact(station_id=world.stations[station], kind="scholar", name=name, phone=phone, phone_e164=phone)
        db.session.add(record)
        db.session.commit()
        return record

    first, second = contact("hanoi", "Pham Van Duc", "+842438250001"), contact("bangkok", "Duc Pham", "+842438250001")
    pair = db.session.scalar(db.select(DuplicatePair.id).where(DuplicatePair.contact_a_id == first.id,
                                                               DuplicatePair.contact_b_id == second.id))
    survivor, merged = contact("hanoi", "Le Van Tam", "+842438250002"), contact("bangkok", "Tam Le", "+842438250002")
    record = services.merge(survivor, merged, {}, db.session.get(User, world.users["admin"]))
    return {"pair": pair, "other": world.contacts["bangkok"], "merge": record.id}


def _notification_records(world) -> dict[str, int]:
    """A notification of vol_hanoi's and a failed job (retrying it runs a harmless digest)."""
    from liaison.models import JobRun, JobStatus, Notification

    notification = Notification(user_id=world.users["vol_hanoi"], kind="lead_decided", station_id=world.stations["hanoi"],
                                params={"lead": world.leads["hanoi_submitted"], "status": "accepted"})
    run = JobRun(key="matrix-failed-job", name="notifications.digest", kwargs={"user_id": world.users["admin"]},
                 status=JobStatus.FAILED, attempts=4, last_error="ConnectionError: down")
    db.session.add_all([notification, run])
    db.session.commit()
    return {"notification": notification.id, "job": run.id}


def _saved_view_records(world) -> dict[str, int]:
    """A saved view of vol_hanoi's (only its owner renames or deletes it)."""
    from liaison.models import SavedView

    view = SavedView(user_id=world.users["vol_hanoi"], endpoint="leads.index", name="Matrix", query="sort=-updated")
    db.session.add(view)
    db.session.commit()
    return {"saved_view": view.id}


def _notice_records(world) -> dict:
    """A notice for the Hanoi station and vol_hanoi's appointment there."""
    from liaison.models import Appointment, NoticeTarget, PolicyNotice

    notice = PolicyNotice(title="Visa rules", title_zh="签证新规", body="Text", body_zh="正文",
                          effective_from=date(2020, 1, 1),
                          targets=[NoticeTarget(kind="station", station_id=world.stations["hanoi"])])
    appointment = Appointment(user_id=world.users["vol_hanoi"], station_id=world.stations["hanoi"],
                              appointed_on=date(2025, 1, 1), term_start=date(2025, 1, 1), term_end=date(2099, 1, 1),
                              appointing_body="County Overseas Chinese Federation")
    db.session.add_all([notice, appointment])
    db.session.commit()
    return {"notice": notice.id, "notice_slug": notice.slug, "appointment": appointment.id}


def _attachment(world) -> int:
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from liaison.leads import files
    from liaison.models import TalentLead
    from sqlalchemy.orm import selectinload

    lead = db.session.scalar(db.select(TalentLead).where(TalentLead.id == world.leads["hanoi_draft"])
                             .options(selectinload(TalentLead.station)))
    upload = files.check_upload(FileStorage(BytesIO(b"%PDF-1.4 minimal"), filename="cv.pdf"))
    files.attach(lead, [upload], db.session.get(User, world.users["vol_hanoi"]))
    return db.session.scalar(db.select(db.func.max(files.LeadAttachment.id)))


@pytest.mark.parametrize("endpoint,method", CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_authorization(app, world, endpoint, method):
    with app.test_request_context():
        values = {"station": world.stations["hanoi"], "contact": world.contacts["hanoi"],
                  "lead": world.leads["hanoi_submitted"], "draft": world.leads["hanoi_draft"],
                  "region": world.regions["ASEAN"], "victim": world.users["vol_bangkok"], **_plugin_records(world),
                  **_imports(world),
                  "consent": world.consents["hanoi_pass_to_hq"], **_erasure_records(world),
                  **_notification_records(world), **_saved_view_records(world), **_notice_records(world)}
    url_template, methods = EXPECTED[endpoint]
    data = {key: value.format(**values) for key, value in POST_DATA.get(endpoint, {}).items()}
    outcomes = {}
    for role in ROLES:
        if "{document}" in url_template:
            with app.app_context():
                values["document"] = _document(values["partnership"])
        if "{report_period}" in url_template:
            with app.app_context():
                values["report_period"] = _report_period(role)
        if "{assignment_rule}" in url_template:
            with app.app_context():
                values["assignment_rule"] = _assignment_rule()
        if "{attachment}" in url_template:
            with app.test_request_context():
                values["attachment"] = _attachment(world)
        if any(key in url_template for key in ("{pair}", "{other}", "{merge}")) and "merge" not in values:
            with app.test_request_context():
                values.update(_duplicate_records(world))
        url = url_template.format(**values)
        client = app.test_client()
        if role != "anonymous":
            assert client.post("/login", data={"email": world.emails[role], "password": PASSWORD}).status_code == 302
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        outcomes[role] = _outcome(response)
    assert outcomes == methods[method]
