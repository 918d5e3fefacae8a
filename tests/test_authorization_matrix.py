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
    "review.queue": ("/review/", {"GET": HQ}),
    "review.report": ("/review/report", {"GET": HQ}),
    "review.bulk_assign": ("/review/assign", {"POST": HQ}),
    "exports.leads": ("/exports/leads.xlsx", {"GET": ANY_USER}),
    "exports.contacts": ("/exports/contacts.xlsx", {"GET": ANY_USER}),
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
}

# Extra form data a POST needs to reach the authorization decision (never enough to be valid
# for every role: the outcome "ok" includes a re-rendered form).
POST_DATA = {
    "plugins_admin.switch": {"scope": "region:{region}", "state": "on"},
    "plugins_admin.settings": {"scope": "region:{region}"},
    "leads.move": {"move": "start_review", "version": "0"},
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


def _document(partnership_id: int) -> int:
    from plugins.europe_school_partnership.models import PartnershipDocument

    document = PartnershipDocument(partnership_id=partnership_id, kind="mou", title="MoU")
    db.session.add(document)
    db.session.commit()
    return document.id


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
                  "region": world.regions["ASEAN"], "victim": world.users["vol_bangkok"], **_plugin_records(world)}
    url_template, methods = EXPECTED[endpoint]
    data = {key: value.format(**values) for key, value in POST_DATA.get(endpoint, {}).items()}
    outcomes = {}
    for role in ROLES:
        if "{document}" in url_template:
            with app.app_context():
                values["document"] = _document(values["partnership"])
        if "{attachment}" in url_template:
            with app.test_request_context():
                values["attachment"] = _attachment(world)
        url = url_template.format(**values)
        client = app.test_client()
        if role != "anonymous":
            assert client.post("/login", data={"email": world.emails[role], "password": PASSWORD}).status_code == 302
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        outcomes[role] = _outcome(response)
    assert outcomes == methods[method]
