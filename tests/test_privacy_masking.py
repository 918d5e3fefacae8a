"""Masking by role, reveals with a reason, and the access log.

The page sweep is generated from the app's URL map like ``test_authorization_matrix`` (and uses
its URL templates): distinctive values are planted on the world's Hanoi contact, and every GET
route an HQ reviewer or an admin can open must show them masked, never raw — including pages
added later and the bundled plugins' pages (switched on, with a record each). Spreadsheets are
unzipped and read too.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from flask import url_for
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import select

from liaison.forms import format_phone, normalise_phone
from liaison.models import AccessLogEntry, Contact, RevealGrant, db, utcnow
from liaison.privacy import masking

from .conftest import PASSWORD
from .test_authorization_matrix import EXPECTED, _attachment, _document, _plugin_records

EMAIL = "planted.wang@secretmail.example"
PHONE_E164 = "+84912345678"
HANDLE = "wechat:planted_handle_4711"
NOTES = "Planted note: prefers calls after 6pm & has a peanut allergy #4711"
ORIGINAL = "Nguyễn Plantedname"
MASKED_FIELDS = ["contacts.email", "contacts.messaging", "contacts.name_original", "contacts.notes", "contacts.phone"]

# Pages that show a person's data in clear by design (and log it): the subject access report
# is for the person themself.
UNMASKED_BY_DESIGN = {"rights.report", "rights.report_json"}


@pytest.fixture
def app_config():
    return {"PLUGINS_EXTRA": ["tests.plugins.good_plugin"]}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _phone() -> str:
    return format_phone(PHONE_E164)


def raw_forms() -> list[str]:
    """Every way a planted value could appear in clear."""
    import phonenumbers

    national = phonenumbers.format_number(phonenumbers.parse(PHONE_E164), phonenumbers.PhoneNumberFormat.NATIONAL)
    values = [EMAIL, PHONE_E164, _phone(), national, HANDLE, NOTES, ORIGINAL, "peanut allergy", "planted_handle"]
    return sorted({form for value in values for form in (value, str(escape(value)))})


@pytest.fixture
def planted(app, world):
    """The Hanoi contact with distinctive personal values; the plugins on with a record each."""
    with app.test_request_context():
        contact = db.session.get(Contact, world.contacts["hanoi"])
        contact.email, contact.email_normalized = EMAIL, EMAIL
        contact.phone, contact.phone_e164 = _phone(), normalise_phone(PHONE_E164)
        contact.messaging, contact.notes, contact.name_original = HANDLE, NOTES, ORIGINAL
        db.session.commit()
        records = _plugin_records(world)
        db.session.remove()
    return records


def client_for(app, world, role):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.post("/login", data={"email": world.emails[role], "password": PASSWORD}).status_code == 302
    return client


def text_of(response) -> str:
    """The response as text; a spreadsheet (a zip) as the text of its parts."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return data.decode("utf-8", "replace")


def leaks(text: str) -> list[str]:
    return [value for value in raw_forms() if value in text]


def get_routes(app, world, records) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET route: the matrix's URL where it has one, else built from the
    rule with the world's records."""
    values = {"station": world.stations["hanoi"], "contact": world.contacts["hanoi"],
              "lead": world.leads["hanoi_submitted"], "draft": world.leads["hanoi_draft"],
              "region": world.regions["ASEAN"], "victim": world.users["vol_bangkok"], **records}
    by_argument = {"station_id": world.stations["hanoi"], "contact_id": world.contacts["hanoi"],
                   "lead_id": world.leads["hanoi_submitted"], "region_id": world.regions["ASEAN"],
                   "user_id": world.users["vol_bangkok"], "application_id": records["title_app"],
                   "partnership_id": records["partnership"], "survivor_id": world.contacts["hanoi"],
                   "merged_id": world.contacts["bangkok"], "name": "fixture_good"}
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            template = EXPECTED.get(rule.endpoint, (None,))[0]
            if template and "{document}" in template:
                values["document"] = _document(records["partnership"])
            if template and "{attachment}" in template:
                values["attachment"] = _attachment(world)
            try:
                url = template.format(**values)
            except (AttributeError, KeyError):  # not in the matrix, or a record this world lacks
                url = url_for(rule.endpoint, **{name: by_argument.get(name, 1) for name in rule.arguments})
            routes.append((rule.endpoint, url))
    return routes


# Every page, per role --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["hq", "admin"])
def test_no_page_shows_a_planted_value_to_a_masked_role(app, world, planted, role):
    client = client_for(app, world, role)
    opened, found = [], []
    for endpoint, url in get_routes(app, world, planted):
        response = client.get(url)
        assert response.status_code < 500, (endpoint, url, response.status_code)
        if response.status_code != 200 or endpoint in UNMASKED_BY_DESIGN:
            continue
        opened.append(endpoint)
        if leaked := leaks(text_of(response)):
            found.append((endpoint, url, leaked))
    assert not found, found
    # The sweep really opened the pages that show contacts, the plugins' and the exports.
    assert {"contacts.index", "contacts.detail", "leads.detail", "stations.detail", "exports.contacts",
            "exports.leads", "asean_language_title.detail", "europe_school_partnership.index"} <= set(opened)
    if role == "admin":
        assert "contacts.edit" in opened  # the edit form shows the masked fields masked
    # The masked forms are there instead.
    page = client.get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    assert "p***@secretmail.example" in page and "+84 *** *** 5678" in page and "N***" in page
    assert 'name="reason"' in page  # the reveal form


@pytest.mark.parametrize("role", ["vol_hanoi", "asean_admin"])
def test_own_station_and_region_see_the_values(app, world, planted, role):
    page = client_for(app, world, role).get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    for value in (EMAIL, _phone(), HANDLE, str(escape(NOTES)), ORIGINAL):
        assert value in page, value
    assert 'name="reason"' not in page  # nothing to reveal
    assert ">masked<" not in page


def test_other_stations_volunteers_and_regions_never_reach_the_contact(app, world, planted):
    for role in ("vol_milan", "europe_admin"):
        client = client_for(app, world, role)
        assert client.get(f"/contacts/{world.contacts['hanoi']}").status_code == 404
        response = client.post(f"/privacy/contacts/{world.contacts['hanoi']}/reveal", data={"reason": "review_lead"})
        assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(RevealGrant)) == 0


def test_the_contact_list_leaves_masked_values_out_in_one_query_for_the_reveals(app, world, planted, count_queries):
    client = client_for(app, world, "hq")
    with count_queries() as counter:
        page = client.get("/contacts/").get_data(as_text=True)
    assert not leaks(page)
    assert len([s for s in counter.statements if "privacy_reveals" in s]) == 1
    page = client_for(app, world, "vol_hanoi").get("/contacts/").get_data(as_text=True)
    assert ORIGINAL in page


# Reveal ----------------------------------------------------------------------------------------

def _entries(app, action=None):
    with app.app_context():
        from sqlalchemy.orm import selectinload

        stmt = select(AccessLogEntry).options(selectinload(AccessLogEntry.fields)).order_by(AccessLogEntry.id)
        if action:
            stmt = stmt.where(AccessLogEntry.action == action)
        entries = db.session.scalars(stmt).all()
        result = [dict(user=e.user_id, contact=e.contact_id, station=e.station_id, action=e.action, reason=e.reason,
                       note=e.note, count=e.record_count, fields=[f.field for f in e.fields]) for e in entries]
        db.session.remove()
        return result


def test_reveal_shows_the_values_to_that_user_only_until_it_expires(app, world, planted):
    contact = world.contacts["hanoi"]
    hq, hq2 = client_for(app, world, "hq"), client_for(app, world, "hq2")
    response = hq.post(f"/privacy/contacts/{contact}/reveal", data={"reason": "review_lead", "note": "Lead #12"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/contacts/{contact}")
    page = hq.get(f"/contacts/{contact}").get_data(as_text=True)
    for value in (EMAIL, _phone(), HANDLE, str(escape(NOTES)), ORIGINAL):
        assert value in page
    assert "Personal fields revealed to you until" in page
    assert not leaks(hq2.get(f"/contacts/{contact}").get_data(as_text=True))  # another reviewer: still masked
    # The reveal runs out.
    with app.app_context():
        grant = db.session.scalar(select(RevealGrant))
        assert timedelta(minutes=29) < grant.expires_at - grant.created_at <= timedelta(minutes=30)
        grant.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert not leaks(hq.get(f"/contacts/{contact}").get_data(as_text=True))


def test_reveal_and_views_are_in_the_access_log(app, world, planted):
    contact, station = world.contacts["hanoi"], world.stations["hanoi"]
    hq = client_for(app, world, "hq")
    hq.get(f"/contacts/{contact}")  # masked: not a view of the record in clear
    assert _entries(app) == []
    hq.post(f"/privacy/contacts/{contact}/reveal", data={"reason": "verify_identity", "note": "same person?"})
    hq.get(f"/contacts/{contact}")
    client_for(app, world, "vol_hanoi").get(f"/contacts/{contact}")
    common = dict(contact=contact, station=station, count=1, fields=MASKED_FIELDS)
    assert _entries(app) == [
        dict(user=world.users["hq"], action="reveal", reason="verify_identity", note="same person?", **common),
        dict(user=world.users["hq"], action="view", reason=None, note=None, **common),
        dict(user=world.users["vol_hanoi"], action="view", reason=None, note=None, **common),
    ]


def test_a_view_costs_one_insert(app, world, planted, count_queries):
    client = client_for(app, world, "vol_hanoi")
    with count_queries() as counter:
        assert client.get(f"/contacts/{world.contacts['hanoi']}").status_code == 200
    inserts = [s for s in counter.statements if s.lstrip().upper().startswith("INSERT")]
    assert len([s for s in inserts if "INTO privacy_access_log " in s or "INTO privacy_access_log(" in s]) == 1
    assert len([s for s in inserts if "privacy_access_log_fields" in s]) == 1  # all fields at once
    assert len(inserts) == 2


def test_reveal_refuses_bad_input_next_to_the_field_and_writes_nothing(app, world, planted):
    contact = world.contacts["hanoi"]
    hq = client_for(app, world, "hq")
    for data, message in [({}, "Choose why you need to see the personal fields."),
                          ({"reason": ""}, "Choose why you need to see the personal fields."),
                          ({"reason": "curiosity"}, "Not a valid choice"),
                          ({"reason": "review_lead", "note": "x" * 301}, "cannot be longer than 300")]:
        response = hq.post(f"/privacy/contacts/{contact}/reveal", data=data)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        field = "note" if "note" in data else "reason"
        assert re.search(rf'id="{field}-errors"[^>]*>\s*<div>[^<]*{re.escape(message)}', page), (data, page[-3000:])
        assert not leaks(page)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(RevealGrant)) == 0
    assert _entries(app) == []
    assert hq.post(f"/privacy/contacts/999999/reveal", data={"reason": "review_lead"}).status_code == 404


def test_own_station_needs_no_reveal(app, world, planted):
    response = client_for(app, world, "vol_hanoi").post(f"/privacy/contacts/{world.contacts['hanoi']}/reveal",
                                                        data={"reason": "review_lead"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(RevealGrant)) == 0


# Editing, erased contacts ------------------------------------------------------------------------

def test_admin_edits_a_contact_without_seeing_or_losing_its_masked_fields(app, world, planted):
    contact = world.contacts["hanoi"]
    admin = client_for(app, world, "admin")
    page = admin.get(f"/contacts/{contact}/edit").get_data(as_text=True)
    assert not leaks(page)
    assert 'name="email"' not in page and "Reveal the personal fields to change it." in page
    response = admin.post(f"/contacts/{contact}/edit", data={
        "kind": "scholar", "name": "Nguyen Van An", "organisation": "Hanoi University of Science",
        "country": "VN", "email": "attacker@example.org"})  # a masked field sent anyway: ignored
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        saved = db.session.get(Contact, contact)
        assert (saved.organisation, saved.email, saved.messaging, saved.notes) == (
            "Hanoi University of Science", EMAIL, HANDLE, NOTES)
    # After a reveal the fields are ordinary inputs again.
    admin.post(f"/privacy/contacts/{contact}/reveal", data={"reason": "contact_person", "next": f"/contacts/{contact}/edit"})
    assert f'value="{EMAIL}"' in admin.get(f"/contacts/{contact}/edit").get_data(as_text=True)


def _erase(app, world):
    with app.app_context():
        contact = db.session.get(Contact, world.contacts["hanoi"])
        contact.erased_at = utcnow()
        db.session.commit()


@pytest.mark.parametrize("language,label", [("en", "Erased person"), ("zh-CN", "已删除的个人")])
def test_an_erased_contact_shows_nothing_personal(app, world, planted, language, label):
    _erase(app, world)
    client = client_for(app, world, "vol_hanoi")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    page = client.get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    assert label in page
    assert not leaks(page)
    assert _entries(app) == []  # nothing personal was shown
    response = client_for(app, world, "hq").post(f"/privacy/contacts/{world.contacts['hanoi']}/reveal",
                                                  data={"reason": "review_lead"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(RevealGrant)) == 0


@pytest.mark.parametrize("language,texts", [
    ("en", ["masked", "Reveal", "Why do you need to see them?", "Reviewing a lead"]),
    ("zh-CN", ["已遮蔽", "显示完整信息", "为什么需要查看？", "审核人才线索"]),
])
def test_masked_labels_in_both_languages(app, world, planted, language, texts):
    client = client_for(app, world, "hq")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    page = client.get(f"/contacts/{world.contacts['hanoi']}").get_data(as_text=True)
    for text in texts:
        assert text in page, text


# Exports ---------------------------------------------------------------------------------------

def _rows(client, path):
    sheet = load_workbook(io.BytesIO(client.get(path).data)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


@pytest.mark.parametrize("role,clear", [("vol_hanoi", True), ("asean_admin", True), ("hq", False), ("admin", False)])
def test_contact_export_is_masked_per_role_and_logged(app, world, planted, role, clear):
    client = client_for(app, world, role)
    rows = {row["Contact no."]: row for row in _rows(client, "/exports/contacts.xlsx")}
    hanoi = rows[world.contacts["hanoi"]]
    assert hanoi["E-mail"] == (EMAIL if clear else "p***@secretmail.example")
    assert hanoi["Phone"] == "'" + (_phone() if clear else "+84 *** *** 5678")  # "+" escaped against formulas
    assert hanoi["Name in original script"] == (ORIGINAL if clear else "N***")
    entries = _entries(app, "export")
    assert {e["station"]: e["count"] for e in entries} == {world.stations[s]: 1 for s in
                                                           {"vol_hanoi": ["hanoi"], "asean_admin": ["hanoi", "bangkok"]}
                                                           .get(role, ["hanoi", "bangkok", "milan"])}
    for entry in entries:
        assert entry["user"] == world.users[role] and entry["note"] == "contacts.xlsx" and entry["contact"] is None
        assert "contacts.name" in entry["fields"]
        assert ("contacts.email" in entry["fields"]) == clear  # only what left in clear


def test_export_follows_a_reveal(app, world, planted):
    hq = client_for(app, world, "hq")
    hq.post(f"/privacy/contacts/{world.contacts['hanoi']}/reveal", data={"reason": "contact_person"})
    rows = {row["Contact no."]: row for row in _rows(hq, "/exports/contacts.xlsx")}
    assert rows[world.contacts["hanoi"]]["E-mail"] == EMAIL
    assert rows[world.contacts["milan"]]["E-mail"] == "m***@example.org"


def test_lead_export_is_logged_with_its_personal_fields(app, world, planted):
    rows = _rows(client_for(app, world, "hq"), "/exports/leads.xlsx")
    assert len(rows) == 6
    entries = _entries(app, "export")
    assert sum(e["count"] for e in entries) == 6 and {e["note"] for e in entries} == {"leads.xlsx"}
    assert {"contacts.name", "leads.summary"} <= set(entries[0]["fields"])


def test_an_empty_export_is_logged_too(app, world, planted):
    client_for(app, world, "hq").get("/exports/contacts.xlsx?q=nobody-is-called-this")
    assert [(e["count"], e["station"]) for e in _entries(app, "export")] == [(0, None)]


# The layer itself ------------------------------------------------------------------------------

def test_mask_functions():
    assert masking.mask_email("wang@example.org") == "w***@example.org"
    assert masking.mask_email("no-at-sign") == "n***"
    assert masking.mask_phone("+393331231234") == "+39 *** *** 1234"
    assert masking.mask_phone("+39 02 1234 5678") == "+39 *** *** 5678"
    assert masking.mask_phone("12") == "*** ***"
    assert masking.mask_text("WeChat: wang") == "W***"
    assert masking.mask("notes", "anything at all") == "***"
    assert masking.mask("email", None) == "" and masking.mask("phone", "") == ""


class TestConfiguredRoles:
    """``PRIVACY_UNMASKED`` decides per role: here HQ sees everything and volunteers nothing."""

    @pytest.fixture
    def app_config(self):
        return {"PLUGINS_EXTRA": ["tests.plugins.good_plugin"],
                "PRIVACY_UNMASKED": {"volunteer": "none", "regional_admin": "own_regions", "hq_reviewer": "all",
                                     "admin": "none"},
                "PRIVACY_MASKED_FIELDS": ["email", "phone"], "PRIVACY_REVEAL_MINUTES": 5}

    def test_roles_follow_the_configuration(self, app, world, planted):
        contact = world.contacts["hanoi"]
        assert EMAIL in client_for(app, world, "hq").get(f"/contacts/{contact}").get_data(as_text=True)
        volunteer = client_for(app, world, "vol_hanoi")
        page = volunteer.get(f"/contacts/{contact}").get_data(as_text=True)
        assert EMAIL not in page and "p***@secretmail.example" in page
        assert HANDLE in page  # not a masked field in this configuration
        volunteer.post(f"/privacy/contacts/{contact}/reveal", data={"reason": "contact_person"})
        with app.app_context():
            grant = db.session.scalar(select(RevealGrant))
            assert grant.expires_at - grant.created_at == timedelta(minutes=5)
        assert EMAIL in volunteer.get(f"/contacts/{contact}").get_data(as_text=True)


def test_duplicate_warning_shows_the_existing_contact_masked(app, world, planted):
    admin = client_for(app, world, "admin")
    response = admin.post(f"/contacts/new?station_id={world.stations['hanoi']}", data={
        "kind": "scholar", "name": "Wang Lei", "country": "VN", "email": EMAIL, "submission_token": "dup-masked"})
    page = response.get_data(as_text=True)
    warning = page[page.index('class="alert alert-warning"'):page.index("<form method=\"post\" novalidate data-once")]
    assert "Nguyen Van An" in warning and "p***@secretmail.example" in warning
    assert not leaks(warning)
    page = client_for(app, world, "vol_hanoi").post(f"/contacts/new?station_id={world.stations['hanoi']}", data={
        "kind": "scholar", "name": "Wang Lei", "country": "VN", "email": EMAIL,
        "submission_token": "dup-clear"}).get_data(as_text=True)
    assert EMAIL in page[page.index('class="alert alert-warning"'):page.index("<form method=\"post\" novalidate data-once")]


@pytest.mark.parametrize("language,label", [("en", "Erased person"), ("zh-CN", "已删除的个人")])
def test_an_erased_contact_is_named_in_the_viewers_language_in_lists(app, world, planted, language, label):
    _erase(app, world)
    client = client_for(app, world, "hq")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    for path in ("/leads/", "/contacts/", f"/leads/{world.leads['hanoi_submitted']}"):
        assert f"{label} #{world.contacts['hanoi']}" in client.get(path).get_data(as_text=True), path
