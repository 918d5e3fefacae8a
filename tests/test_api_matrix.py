"""The API's authorization matrix, generated from the URL map: every /api/v1 route × method ×
role × its own / a foreign record, with a read-write token of each role.

As in tests/test_authorization_matrix.py (the pages'), core records are the Hanoi station's
(region ASEAN): "own" for vol_hanoi and asean_admin, foreign for vol_milan and europe_admin,
visible to hq and admin. Each plugin's records are of the station where that plugin is on (ASEAN
plugin: Hanoi; Europe plugin: Milan). A route missing from ``EXPECTED`` fails the test.
"""
from __future__ import annotations

import pytest

from .test_api import make_token
from .test_authorization_matrix import _demand_records, _event_records, _plugin_records
from .test_authorization_matrix import app_config  # noqa: F401  (the same plugins as the pages' matrix)

ROLES = ["anonymous", "vol_hanoi", "vol_milan", "asean_admin", "europe_admin", "hq", "admin"]
OK, UNAUTHORIZED, FORBIDDEN, NOT_FOUND = "ok", 401, 403, 404


def policy(vol_hanoi, vol_milan, asean_admin, europe_admin, hq, admin):
    return dict(anonymous=UNAUTHORIZED, vol_hanoi=vol_hanoi, vol_milan=vol_milan, asean_admin=asean_admin,
                europe_admin=europe_admin, hq=hq, admin=admin)


ANY_USER = policy(OK, OK, OK, OK, OK, OK)
SEE_HANOI = policy(OK, NOT_FOUND, OK, NOT_FOUND, OK, OK)
ACT_FOR_HANOI = policy(OK, NOT_FOUND, OK, NOT_FOUND, FORBIDDEN, OK)
HQ_MOVE_HANOI = policy(FORBIDDEN, NOT_FOUND, FORBIDDEN, NOT_FOUND, OK, OK)
SEE_MILAN = policy(NOT_FOUND, OK, NOT_FOUND, OK, OK, OK)
PUBLIC = dict.fromkeys(ROLES, OK)

# endpoint -> (url template, {method: policy})
EXPECTED = {
    "api-docs.openapi_json": ("/api/v1/openapi.json", {"GET": PUBLIC}),
    "api_tokens.docs": ("/api/v1/docs", {"GET": PUBLIC}),
    "api_stations.list_stations": ("/api/v1/stations/", {"GET": ANY_USER}),
    "api_stations.get_station": ("/api/v1/stations/{station}", {"GET": SEE_HANOI}),
    "api_contacts.list_contacts": ("/api/v1/contacts/", {"GET": ANY_USER}),
    "api_contacts.get_contact": ("/api/v1/contacts/{contact}", {"GET": SEE_HANOI}),
    # A contact of the Hanoi station: HQ sees but does not record contacts (403).
    "api_contacts.create_contact": ("/api/v1/contacts/", {"POST": ACT_FOR_HANOI}),
    "api_contacts.update_contact": ("/api/v1/contacts/{contact}", {"PATCH": ACT_FOR_HANOI}),
    # The contact's lawful bases: seen by whoever sees the contact, recorded and withdrawn by
    # those who act for its station (HQ reads only), as on the contact's page.
    "api_contacts.list_consents": ("/api/v1/contacts/{contact}/consents", {"GET": SEE_HANOI}),
    "api_contacts.record_consent": ("/api/v1/contacts/{contact}/consents", {"POST": ACT_FOR_HANOI}),
    "api_contacts.withdraw_consent": ("/api/v1/contacts/{contact}/consents/{consent}/withdraw",
                                      {"POST": ACT_FOR_HANOI}),
    "api_leads.list_leads": ("/api/v1/leads/", {"GET": ANY_USER}),
    "api_leads.get_lead": ("/api/v1/leads/{lead}", {"GET": SEE_HANOI}),
    "api_leads.create_lead": ("/api/v1/leads/", {"POST": ACT_FOR_HANOI}),
    "api_leads.update_lead": ("/api/v1/leads/{draft}", {"PATCH": ACT_FOR_HANOI}),
    # start_review on the submitted lead: HQ's move.
    "api_leads.move_lead": ("/api/v1/leads/{lead}/moves", {"POST": HQ_MOVE_HANOI}),
    "api_leads.comment_lead": ("/api/v1/leads/{lead}/comments", {"POST": policy(OK, NOT_FOUND, OK, NOT_FOUND, OK, OK)}),
    "api_leads.lead_timeline": ("/api/v1/leads/{lead}/timeline", {"GET": SEE_HANOI}),
    # Events (an event the Hanoi station organises, with a registration) and demands (one for the
    # ASEAN region, matched with the Hanoi contact): the pages' records (test_authorization_matrix).
    "api_events.list_events": ("/api/v1/events/", {"GET": ANY_USER}),
    "api_events.get_event": ("/api/v1/events/{event}", {"GET": SEE_HANOI}),
    "api_events.event_registrations": ("/api/v1/events/{event}/registrations", {"GET": SEE_HANOI}),
    "api_events.check_in": ("/api/v1/events/{event}/registrations/{event_registration}/check-in",
                            {"POST": SEE_HANOI}),
    # Registering someone and moving the event's status: those who run the event (as check-in).
    "api_events.register": ("/api/v1/events/{event}/registrations", {"POST": SEE_HANOI}),
    "api_events.move_event": ("/api/v1/events/{event}/moves", {"POST": SEE_HANOI}),
    "api_demands.list_demands": ("/api/v1/demands/", {"GET": ANY_USER}),
    "api_demands.get_demand": ("/api/v1/demands/{demand}", {"GET": SEE_HANOI}),
    "api_demands.demand_matches": ("/api/v1/demands/{demand}/matches", {"GET": SEE_HANOI}),
    "api_p_asean_language_title_applications.list_records": (
        "/api/v1/p/asean_language_title/applications/", {"GET": ANY_USER}),
    "api_p_asean_language_title_applications.get_record": (
        "/api/v1/p/asean_language_title/applications/{title_app}", {"GET": SEE_HANOI}),
    "api_p_europe_school_partnership_partnerships.list_records": (
        "/api/v1/p/europe_school_partnership/partnerships/", {"GET": ANY_USER}),
    "api_p_europe_school_partnership_partnerships.get_record": (
        "/api/v1/p/europe_school_partnership/partnerships/{partnership}", {"GET": SEE_MILAN}),
    "api_p_student_service_students.list_records": ("/api/v1/p/student_service/students/", {"GET": ANY_USER}),
    "api_p_student_service_students.get_record": (
        "/api/v1/p/student_service/students/{ss_student}", {"GET": SEE_MILAN}),
    "api_p_skills_alliance_members.list_records": ("/api/v1/p/skills_alliance/members/", {"GET": ANY_USER}),
    "api_p_skills_alliance_members.get_record": ("/api/v1/p/skills_alliance/members/{sa_member}", {"GET": SEE_HANOI}),
    "api_p_skills_alliance_agreements.list_records": ("/api/v1/p/skills_alliance/agreements/", {"GET": ANY_USER}),
    "api_p_skills_alliance_agreements.get_record": (
        "/api/v1/p/skills_alliance/agreements/{sa_agreement}", {"GET": SEE_HANOI}),
}

BODIES = {
    "api_contacts.create_contact": {"kind": "scholar", "name": "Matrix Person",
                                    "station_id": "{station}", "confirm_duplicate": True},
    "api_contacts.update_contact": {"city": "Hanoi"},
    "api_contacts.record_consent": {"purpose": "event_invitations", "source": "email"},
    "api_events.register": {"name": "Matrix Person", "email": "matrix@example.org", "consent": True},
    "api_events.move_event": {"move": "close_registration"},
    "api_contacts.withdraw_consent": {"note": "Asked by e-mail"},
    "api_leads.create_lead": {"contact_id": "{contact}", "category": "employment", "summary": "Matrix lead"},
    "api_leads.update_lead": {"summary": "Matrix edit"},
    "api_leads.move_lead": {"move": "start_review"},
    "api_leads.comment_lead": {"text": "Matrix comment"},
}


def _api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")]


def test_every_api_route_has_an_expectation(app):
    endpoints = {rule.endpoint for rule in _api_rules(app)}
    assert not sorted(endpoints - set(EXPECTED)), "API routes without an authorization expectation"
    assert not sorted(set(EXPECTED) - endpoints), "expectations for API routes that do not exist"
    for rule in _api_rules(app):
        assert (rule.methods or set()) - {"HEAD", "OPTIONS"} == set(EXPECTED[rule.endpoint][1]), rule.endpoint


def _outcome(response):
    if response.status_code in (401, 403, 404):
        return response.status_code
    assert response.status_code < 400, (response.status_code, response.data)
    return OK


CASES = [(endpoint, method) for endpoint, (_url, methods) in EXPECTED.items() for method in methods]


def _back_to_submitted(app, lead_id):
    from liaison.models import LeadStatus, TalentLead, db

    with app.app_context():
        db.session.get(TalentLead, lead_id).status = LeadStatus.SUBMITTED
        db.session.commit()


def _not_withdrawn(app, consent_id):
    from liaison.models import ContactConsent, db

    with app.app_context():
        basis = db.session.get(ContactConsent, consent_id)
        basis.withdrawn_at = basis.withdrawn_by_id = basis.withdrawal_note = None
        db.session.commit()


def _reopen(app, event_id):
    from liaison.events.models import Event
    from liaison.models import db

    with app.app_context():
        db.session.get(Event, event_id).status = "registration_open"
        db.session.commit()


def _fill(value, values):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return values[value[1:-1]]
    return value


@pytest.mark.parametrize("endpoint,method", CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_api_authorization(app, world, endpoint, method):
    with app.test_request_context():
        values = {"station": world.stations["hanoi"], "contact": world.contacts["hanoi"],
                  "lead": world.leads["hanoi_submitted"], "draft": world.leads["hanoi_draft"],
                  "consent": world.consents["hanoi_keep_in_touch"],
                  **_plugin_records(world), **_event_records(world), **_demand_records(world)}
        tokens = {role: make_token(app, world, role) for role in ROLES if role != "anonymous"}
    url_template, methods = EXPECTED[endpoint]
    url = url_template.format(**values)
    body = {key: _fill(value, values) for key, value in BODIES.get(endpoint, {}).items()}
    outcomes = {}
    for role in ROLES:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}
        headers["If-Match"] = "*"  # the matrix tests who may; ETags are tested in test_api.py
        client = app.test_client()
        response = client.open(url, method=method, headers=headers, json=body if method != "GET" else None)
        outcomes[role] = _outcome(response)
        if outcomes[role] == OK and endpoint == "api_leads.move_lead":
            _back_to_submitted(app, values["lead"])  # the next role finds the lead as the world had it
        if outcomes[role] == OK and endpoint == "api_contacts.withdraw_consent":
            _not_withdrawn(app, values["consent"])
        if outcomes[role] == OK and endpoint == "api_events.move_event":
            _reopen(app, values["event"])
    assert outcomes == methods[method]
