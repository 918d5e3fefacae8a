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
SKILLS = "/p/skills_alliance"
STUDENTS = "/p/student_service"
HQ_MILAN = policy(NOT_FOUND, FORBIDDEN, NOT_FOUND, FORBIDDEN, OK, OK)  # HQ's page of a plugin on for EUROPE
MANAGE_MILAN = policy(NOT_FOUND, FORBIDDEN, NOT_FOUND, OK, OK, OK)  # HQ and the admins of a region where it is on

# endpoint -> (url template, {method: policy})
EXPECTED = {
    "main.home": ("/", {"GET": ANY_USER}),
    # A home chart's CSV: the volunteers' chart; other roles' pages do not have it (404).
    "main.chart_csv": ("/charts/home_status.csv", {"GET": policy(OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)}),
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
    # API tokens (HTML pages): everyone has their own (one of vol_hanoi's: 404 for others); admins see all.
    # The /api/v1 routes themselves have their own matrix (tests/test_api_matrix.py).
    "api_tokens.index": ("/profile/tokens", {"GET": ANY_USER, "POST": ANY_USER}),
    "api_tokens.revoke": ("/profile/tokens/{api_token}/revoke",
                          {"POST": policy(OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)}),
    "api_tokens.admin_index": ("/admin/api-tokens/", {"GET": ADMIN}),
    "api_tokens.admin_revoke": ("/admin/api-tokens/{api_token}/revoke", {"POST": ADMIN}),
    "appointments.letter": ("/appointments/{appointment}/letter", {"GET": SEE_HANOI}),
    "appointments.letter_pdf": ("/appointments/{appointment}/letter.pdf", {"GET": SEE_HANOI}),
    # Events (liaison.events): one organised by the Hanoi station, with a public registration;
    # whoever runs it (the station side, HQ) manages it; the public form needs no log-in.
    "events.index": ("/events/", {"GET": ANY_USER}),
    "events.create": ("/events/new", {"GET": ANY_USER, "POST": ANY_USER}),
    "events.detail": ("/events/{event}", {"GET": SEE_HANOI}),
    "events.edit": ("/events/{event}/edit", {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "events.move": ("/events/{event}/move", {"POST": SEE_HANOI}),
    "events.outcome": ("/events/{event}/figures", {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "events.invite": ("/events/{event}/invite", {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "events.checkin": ("/events/{event}/check-in", {"GET": SEE_HANOI}),
    "events.live_counts": ("/events/{event}/counts.json", {"GET": SEE_HANOI}),
    "events.check_in": ("/events/{event}/registrations/{event_registration}/check-in", {"POST": SEE_HANOI}),
    "events.set_status": ("/events/{event}/registrations/{event_registration}/status", {"POST": SEE_HANOI}),
    "events.walk_in": ("/events/{event}/walk-in", {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "events.by_token": ("/events/r/{event_token}", {"GET": SEE_HANOI}),
    "events.confirm": ("/events/{event}/registrations/{event_registration}/contact",
                       {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "events.create_lead": ("/events/{event}/registrations/{event_registration}/lead",
                           {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    # The export right (tests/test_events.py): Hanoi's volunteers may export (the station's setting).
    "events.export": ("/events/{event}/attendees.csv", {"GET": SEE_HANOI}),
    "events_public.register": ("/e/{event_slug}", {"GET": PUBLIC, "POST": PUBLIC}),
    "events_public.done": ("/e/{event_slug}/r/{event_token}", {"GET": PUBLIC}),
    # Demands (liaison.demands): one for the ASEAN region (seen by its stations' volunteers and
    # admin, managed by HQ and the ASEAN admin) and its match with the Hanoi contact (HQ's alone).
    "demands.index": ("/demands/", {"GET": ANY_USER}),
    "demands.create": ("/demands/new", {"GET": DUPLICATES, "POST": DUPLICATES}),
    "demands.detail": ("/demands/{demand}", {"GET": SEE_HANOI}),
    "demands.edit": ("/demands/{demand}/edit", {"GET": policy(FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, OK, OK),
                                                 "POST": policy(FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, OK, OK)}),
    "demands.move": ("/demands/{demand}/move", {"POST": policy(FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, OK, OK)}),
    "demands.record_match": ("/demands/{demand}/matches",
                             {"POST": policy(FORBIDDEN, NOT_FOUND, FORBIDDEN, NOT_FOUND, OK, OK)}),
    "demands.move_match": ("/demands/matches/{demand_match}/move",
                           {"POST": policy(FORBIDDEN, NOT_FOUND, FORBIDDEN, NOT_FOUND, OK, OK)}),
    # Demands presented at events: whoever sees the Hanoi event and manages the ASEAN demand (HQ,
    # the ASEAN admin); the event's volunteers see the panel but may not present or take off.
    "events.present_demand": ("/events/{event}/demands",
                              {"POST": policy(FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, OK, OK)}),
    "events.withdraw_demand": ("/events/{event}/demands/{demand}/withdraw",
                               {"POST": policy(FORBIDDEN, NOT_FOUND, OK, NOT_FOUND, OK, OK)}),
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
    "assignment.deadlines": ("/review/deadlines", {"GET": HQ, "POST": HQ}),
    # Reports (issue 13): every user their own scope; HQ closes periods, an admin reopens them.
    "reports.index": ("/reports/?period=2025", {"GET": ANY_USER}),
    "reports.table_csv": ("/reports/table/status.csv?period=2025", {"GET": ANY_USER}),
    "reports.summary_page": ("/reports/summary?period=2025", {"GET": ANY_USER}),
    "reports.summary_xlsx": ("/reports/summary.xlsx?period=2025", {"GET": ANY_USER}),
    "scorecard.index": ("/reports/scorecard/?year=2025", {"GET": ANY_USER}),  # each role its own cards
    "scorecard.xlsx": ("/reports/scorecard/scorecard.xlsx?year=2025", {"GET": ANY_USER}),
    "scorecard.csv": ("/reports/scorecard/scorecard.csv?year=2025", {"GET": ANY_USER}),
    "scorecard.weights": ("/reports/scorecard/weights", {"POST": HQ}),
    "reports.closed_periods": ("/reports/periods", {"GET": HQ}),
    "reports.close": ("/reports/periods/close", {"POST": HQ}),
    "reports.reopen": ("/reports/periods/{report_period}/reopen", {"POST": ADMIN}),  # a closed period each
    "exports.leads": ("/exports/leads.xlsx", {"GET": ANY_USER}),
    "exports.contacts": ("/exports/contacts.xlsx", {"GET": ANY_USER}),
    # (every station lets its volunteers export by default; test_exports has the setting's matrix)
    "exports.leads_csv": ("/exports/leads.csv", {"GET": ANY_USER}),
    "exports.contacts_csv": ("/exports/contacts.csv", {"GET": ANY_USER}),
    # a large export's page and file (background job): vol_hanoi's own, nobody else's (404)
    "exports.prepared": ("/exports/files/{export_file}",
                         {"GET": policy(OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)}),
    "exports.download": ("/exports/files/{export_file}/download",
                         {"GET": policy(OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)}),
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
    # The skills-talent alliance (on for ASEAN): a member, an agreement and its milestone, all Hanoi's.
    "skills_alliance.agreements": (SKILLS + "/", {"GET": SEE_HANOI}),
    "skills_alliance.milestones": (SKILLS + "/milestones", {"GET": SEE_HANOI}),
    "skills_alliance.new_agreement": (SKILLS + "/agreements/new?station_id={station}",
                                      {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "skills_alliance.agreement": (SKILLS + "/agreements/{sa_agreement}", {"GET": SEE_HANOI}),
    "skills_alliance.move": (SKILLS + "/agreements/{sa_agreement}/move", {"POST": SEE_HANOI}),
    "skills_alliance.add_milestone": (SKILLS + "/agreements/{sa_agreement}/milestones", {"POST": SEE_HANOI}),
    "skills_alliance.complete_milestone": (SKILLS + "/agreements/{sa_agreement}/milestones/{sa_milestone}/done",
                                           {"POST": SEE_HANOI}),
    "skills_alliance.add_document": (SKILLS + "/agreements/{sa_agreement}/documents", {"POST": SEE_HANOI}),
    "skills_alliance.members": (SKILLS + "/members", {"GET": SEE_HANOI}),
    "skills_alliance.new_member": (SKILLS + "/members/new?station_id={station}", {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "skills_alliance.member": (SKILLS + "/members/{sa_member}", {"GET": SEE_HANOI}),
    "skills_alliance.edit_member": (SKILLS + "/members/{sa_member}/edit", {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "skills_alliance.renew_member": (SKILLS + "/members/{sa_member}/renewals", {"POST": SEE_HANOI}),
    "skills_alliance.recognitions": (SKILLS + "/recognitions", {"GET": SEE_HANOI}),
    "skills_alliance.new_recognition": (SKILLS + "/recognitions/new?station_id={station}",
                                        {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "skills_alliance.import_recognitions": (SKILLS + "/recognitions/import?station_id={station}",
                                            {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    # Corrections: a POST without data reaches the decision but removes nothing (a removal needs
    # the agreement's version, or the confirmation), so every role finds the record in place.
    "skills_alliance.edit_agreement": (SKILLS + "/agreements/{sa_agreement}/edit",
                                       {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "skills_alliance.edit_milestone": (SKILLS + "/agreements/{sa_agreement}/milestones/{sa_milestone}/edit",
                                       {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "skills_alliance.remove_milestone": (SKILLS + "/agreements/{sa_agreement}/milestones/{sa_milestone}/remove",
                                         {"POST": SEE_HANOI}),
    "skills_alliance.edit_document": (SKILLS + "/agreements/{sa_agreement}/documents/{sa_document}/edit",
                                      {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "skills_alliance.remove_document": (SKILLS + "/agreements/{sa_agreement}/documents/{sa_document}/remove",
                                        {"POST": SEE_HANOI}),
    "skills_alliance.edit_recognition": (SKILLS + "/recognitions/{sa_recognition}/edit",
                                         {"GET": SEE_HANOI, "POST": SEE_HANOI}),
    "skills_alliance.remove_recognition": (SKILLS + "/recognitions/{sa_recognition}/remove", {"POST": SEE_HANOI}),
    # A document of its own for every role (an allowed removal must not hide the next role's answer).
    "europe_school_partnership.remove_document": (EUROPE + "/{partnership}/documents/{document}/remove",
                                                  {"POST": SEE_MILAN}),
    # Services for students abroad (on for EUROPE): a student of Milan's (Marco Rossi) with a
    # service request, a roll call for Italy, an internship and the student's application.
    # HQ alone opens and closes roll calls, records programmes, gives places and keeps the teams.
    "student_service.index": (STUDENTS + "/", {"GET": SEE_MILAN}),
    "student_service.student_new": (STUDENTS + "/students/new?contact_id={ss_contact}",
                                    {"GET": SEE_MILAN, "POST": SEE_MILAN}),
    "student_service.student": (STUDENTS + "/students/{ss_student}", {"GET": SEE_MILAN}),
    "student_service.student_edit": (STUDENTS + "/students/{ss_student}/edit", {"GET": SEE_MILAN, "POST": SEE_MILAN}),
    "student_service.student_move": (STUDENTS + "/students/{ss_student}/move", {"POST": SEE_MILAN}),
    "student_service.request_new": (STUDENTS + "/students/{ss_student}/requests/new",
                                    {"GET": SEE_MILAN, "POST": SEE_MILAN}),
    "student_service.requests_list": (STUDENTS + "/requests", {"GET": SEE_MILAN}),
    "student_service.overdue": (STUDENTS + "/requests/overdue", {"GET": SEE_MILAN}),
    "student_service.request_detail": (STUDENTS + "/requests/{ss_request}", {"GET": SEE_MILAN}),
    "student_service.request_move": (STUDENTS + "/requests/{ss_request}/move", {"POST": SEE_MILAN}),
    "student_service.roll_calls": (STUDENTS + "/roll-calls", {"GET": SEE_MILAN}),
    "student_service.roll_call_new": (STUDENTS + "/roll-calls/new", {"GET": HQ_MILAN, "POST": HQ_MILAN}),
    "student_service.roll_call": (STUDENTS + "/roll-calls/{ss_roll_call}", {"GET": SEE_MILAN}),
    "student_service.roll_call_counts": (STUDENTS + "/roll-calls/{ss_roll_call}/counts.json", {"GET": SEE_MILAN}),
    "student_service.roll_call_mark": (STUDENTS + "/roll-calls/{ss_roll_call}/entries/{ss_entry}",
                                       {"POST": SEE_MILAN}),
    "student_service.roll_call_close": (STUDENTS + "/roll-calls/{ss_roll_call}/close", {"POST": HQ_MILAN}),
    "student_service.programmes": (STUDENTS + "/programmes", {"GET": SEE_MILAN}),
    "student_service.programme_new": (STUDENTS + "/programmes/new", {"GET": HQ_MILAN, "POST": HQ_MILAN}),
    "student_service.programme": (STUDENTS + "/programmes/{ss_programme}", {"GET": SEE_MILAN}),
    "student_service.programme_apply": (STUDENTS + "/programmes/{ss_programme}/apply", {"POST": SEE_MILAN}),
    "student_service.application_decide": (STUDENTS + "/applications/{ss_application}/decide", {"POST": HQ_MILAN}),
    "student_service.programme_edit": (STUDENTS + "/programmes/{ss_programme}/edit",
                                       {"GET": HQ_MILAN, "POST": HQ_MILAN}),
    # Departments and home teams: HQ, admins and the admins of a region where the plugin is on;
    # a regional admin takes off a team only the accounts they manage (vol_bangkok is not Europe's).
    "student_service.departments": (STUDENTS + "/departments", {"GET": MANAGE_MILAN, "POST": MANAGE_MILAN}),
    "student_service.department_edit": (STUDENTS + "/departments/{ss_department}/edit",
                                        {"GET": MANAGE_MILAN, "POST": MANAGE_MILAN}),
    "student_service.department_delete": (STUDENTS + "/departments/{ss_department}/delete",
                                          {"POST": MANAGE_MILAN}),  # in use: refused, kept
    "student_service.teams": (STUDENTS + "/teams", {"GET": MANAGE_MILAN}),
    "student_service.team_new": (STUDENTS + "/teams/new", {"POST": MANAGE_MILAN}),
    "student_service.team_edit": (STUDENTS + "/teams/{ss_team}/edit", {"GET": MANAGE_MILAN, "POST": MANAGE_MILAN}),
    "student_service.team_add": (STUDENTS + "/teams/{ss_team}/members", {"POST": MANAGE_MILAN}),
    "student_service.team_remove": (STUDENTS + "/teams/{ss_team}/members/{victim}/remove",
                                    {"POST": policy(NOT_FOUND, FORBIDDEN, NOT_FOUND, NOT_FOUND, OK, OK)}),
    # The roll call's static script (no data): served by WhiteNoise before any login, like /static.
    "student_service.static": (STUDENTS + "/static/roll_call.js", {"GET": PUBLIC}),
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
    "events.present_demand": {"demand_id": "{demand}"},
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


def _api_route(rule) -> bool:
    """/api/v1 routes: tested route by route in tests/test_api_matrix.py (token-authenticated)."""
    return rule.rule.startswith("/api/v1")


def _routes(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static" and not _api_route(rule)}


def test_every_route_has_an_expectation(app):
    missing = sorted(_routes(app) - set(EXPECTED))
    assert not missing, f"routes without an authorization expectation: {missing}"
    assert not sorted(set(EXPECTED) - _routes(app)), "expectations for routes that do not exist"


def test_every_method_has_an_expectation(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or _api_route(rule):
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
    return {"title_app": application.id, "partnership": partnership.id, **_skills_alliance_records(world, admin),
            **_student_service_records(world, admin)}


def _student_service_records(world, admin) -> dict[str, int]:
    """Services for students abroad on for EUROPE: a Milan student, a request, a roll call, a programme."""
    from plugins.student_service import services as students
    from plugins.student_service.models import Department, HomeTeam, RequestEvent, RollCallEntry
    from sqlalchemy.orm import selectinload

    from liaison.models import Contact

    activation.set_enabled("student_service", True, admin, region_id=world.regions["EUROPE"])
    db.session.commit()
    contact = db.session.scalar(db.select(Contact).where(Contact.id == world.contacts["milan"])
                                .options(selectinload(Contact.station)))
    student = students.create_student(contact, {"school": "Politecnico di Milano", "field": "engineering",
                                                "level": "master", "country": "IT", "city": "Milan"}, admin,
                                      stage="abroad")
    request = students.create_request(student, "counselling", "Stress before exams", admin)
    roll_call = students.open_roll_call("Floods", "IT", None, None, admin)
    entry = db.session.scalar(db.select(RollCallEntry.id).where(RollCallEntry.roll_call_id == roll_call.id))
    programme = students.create_programme({"kind": "internship", "title": "Haiyan", "year": 2026, "places": 5,
                                           "fields": "engineering"}, admin)
    application = students.apply(programme, student, admin)
    team = HomeTeam(name="Jiashan County", name_zh="嘉善县")
    department = Department(code="matrix", name="Talent office", name_zh="人才办")
    db.session.add_all([team, department])
    db.session.flush()
    db.session.add(RequestEvent(request_id=request.id, actor_id=admin.id, department_id=department.id))  # in use
    db.session.commit()
    return {"ss_contact": world.contacts["milan"], "ss_student": student.id, "ss_request": request.id,
            "ss_roll_call": roll_call.id, "ss_entry": entry, "ss_programme": programme.id,
            "ss_application": application.id, "ss_team": team.id, "ss_department": department.id}


def _skills_alliance_records(world, admin) -> dict[str, int]:
    """The alliance on for ASEAN: two Hanoi members, an agreement between them and a milestone."""
    from plugins.skills_alliance import services as alliance
    from plugins.skills_alliance.models import Document, Milestone

    from liaison.models import Station

    activation.set_enabled("skills_alliance", True, admin, region_id=world.regions["ASEAN"])
    db.session.commit()
    hanoi = db.session.get(Station, world.stations["hanoi"])
    members = [alliance.create_member(hanoi, {
        "name": f"College {n}", "country": "CN", "kind": "technician_college", "joined_on": date(2025, 1, 10),
        "certificate_no": f"MATRIX-{n}", "status": "active"}, admin).id for n in (1, 2)]
    agreement = alliance.create_agreement(db.session.get(Station, world.stations["hanoi"]), {
        "title": "School–school framework agreement", "kind": "school_school", "areas": ["visits"],
        "member_ids": members, "proposed_on": date(2025, 1, 10)}, admin)
    milestone = Milestone(agreement_id=agreement.id, title="Visit", due_on=date(2025, 6, 1))
    document = Document(agreement_id=agreement.id, kind="agreement", title="Signed text")
    recognition = alliance.create_recognition(hanoi, {
        "issuing_country": "JP", "issuing_body": "MHLW", "name_original": "Ginou Kentei 1", "name_zh": "技能检定1级",
        "domestic_kind": "qualification", "domestic_name": "车工", "domestic_level": "technician",
        "source_document": "List 2", "source_date": date(2025, 1, 10)}, admin)
    db.session.add_all([milestone, document])
    db.session.commit()
    return {"sa_member": members[0], "sa_agreement": agreement.id, "sa_milestone": milestone.id,
            "sa_document": document.id, "sa_recognition": recognition.id}


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


def _event_records(world) -> dict:
    """An event of the Hanoi station, open for registration, with one public registration."""
    from liaison.events.models import Event, EventRegistration, EventStation

    event = Event(kind="symposium", organiser="stations", title="Symposium", title_zh="座谈会",
                  starts_at=date(2030, 1, 1), ends_at=date(2030, 1, 2), timezone="Asia/Bangkok",
                  status="registration_open", seats_taken=1,
                  organising=[EventStation(station_id=world.stations["hanoi"])])
    db.session.add(event)
    db.session.flush()
    registration = EventRegistration(event_id=event.id, status="registered", source="public", name="Le Thi Hoa",
                                     email="hoa@example.org", email_normalized="hoa@example.org")
    db.session.add(registration)
    db.session.commit()
    return {"event": event.id, "event_slug": event.slug, "event_registration": registration.id,
            "event_token": registration.token}


def _export_file(world) -> int:
    """A finished background export of vol_hanoi's, its file in the test's own directory."""
    from pathlib import Path

    from flask import current_app

    from liaison.exports import services as export_services
    from liaison.models import ExportRecord, JobRun, JobStatus, utcnow

    current_app.config["EXPORTS_DIR"] = str(Path(current_app.config["ATTACHMENTS_DIR"]).parent / "exports")
    record = ExportRecord(user_id=world.users["vol_hanoi"], what="contacts", format="csv", filters={}, rows=1,
                          finished_at=utcnow())
    db.session.add(record)
    db.session.flush()
    token = "MatrixMatrixMatrixMatrix"
    db.session.add(JobRun(key=export_services.job_key(record.id), name=export_services.JOB, status=JobStatus.DONE,
                          attempts=1, kwargs={"token": token}))
    export_services.file_path(token, "csv").write_bytes(b"\xef\xbb\xbfContact no.\r\n")
    db.session.commit()
    return record.id


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


def _api_token_records(world) -> dict[str, int]:
    from liaison.api import tokens

    token, _secret = tokens.create_token(db.session.get(User, world.users["vol_hanoi"]), "Matrix", access="read",
                                         days=7, station=None)
    return {"api_token": token.id}


def _demand_records(world) -> dict[str, int]:
    """A demand for the ASEAN region and its match with the Hanoi contact."""
    from liaison.demands.models import Demand, DemandField, DemandMatch, DemandRegion

    demand = Demand(title="Battery engineers", organisation="Wenzhou NEV Co.", source_kind="enterprise", kind="hire",
                    requirements="Five years.", status="open",
                    field_rows=[DemandField(field="battery", folded="battery")],
                    region_rows=[DemandRegion(region_id=world.regions["ASEAN"])])
    db.session.add(demand)
    db.session.flush()
    match = DemandMatch(demand_id=demand.id, contact_id=world.contacts["hanoi"], station_id=world.stations["hanoi"])
    db.session.add(match)
    db.session.commit()
    return {"demand": demand.id, "demand_match": match.id}


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
                  **_notification_records(world), **_saved_view_records(world), **_notice_records(world), **_event_records(world),
                  **_api_token_records(world)}
        values.update(_demand_records(world))
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
        if "{export_file}" in url_template and "export_file" not in values:
            with app.app_context():
                values["export_file"] = _export_file(world)
        if any(key in url_template for key in ("{pair}", "{other}", "{merge}")) and "merge" not in values:
            with app.test_request_context():
                values.update(_duplicate_records(world))
        url = url_template.format(**values)
        client = app.test_client()
        if role != "anonymous":
            assert client.post("/login", data={"email": world.emails[role], "password": PASSWORD}).status_code == 302
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        outcomes[role] = _outcome(response)
        response.get_data()  # a streamed download runs to its end, as a browser would read it
        response.close()
    assert outcomes == methods[method]
