"""Stations, contacts and leads as their users work with them: lists and filters, membership,
figures, idempotent forms, editing rules, comments, reviewer assignment, the review queue, the
report page and the spreadsheet exports."""
from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from liaison.models import AuditEntry, Contact, LeadEvent, Station, TalentLead, User, db, station_membership

from .factories import make_lead

LEAD_LINK = re.compile(r'<a href="/leads/(\d+)">#\d+</a>')


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def count(app, model, *where) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(model).where(*where))
        finally:
            db.session.remove()


def get(app, model, ident, *options):
    with app.app_context():
        record = db.session.get(model, ident, options=list(options))
        db.session.expunge_all()
        db.session.remove()
        return record


def lead_ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(i) for i in LEAD_LINK.findall(response.get_data(as_text=True))]


def rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


# Stations ----------------------------------------------------------------------------------

STATION = {"name": "Jakarta station", "name_zh": "雅加达联络站", "country": "ID", "city": "Jakarta",
           "host_organisation": "Jakarta Chinese Association", "host_kind": "chinese_association",
           "established_on": "2021-03-01", "contact_email": "jakarta@example.org", "contact_phone": "+62 21 2345 6789",
           "notes": "First salon in May."}


@pytest.mark.parametrize("actor", ["admin", "asean_admin"])
def test_create_station(app, client, login, world, actor):
    login(actor)
    response = client.post("/stations/new", data={**STATION, "region_id": str(world.regions["ASEAN"])})
    assert response.status_code == 302
    with app.app_context():
        station = db.session.scalar(select(Station).where(Station.name == "Jakarta station"))
        assert (station.country, station.region_id, station.status) == ("ID", world.regions["ASEAN"], "active")
        assert str(station.established_on) == "2021-03-01"
        assert response.headers["Location"] == f"/stations/{station.id}"
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "station.create", AuditEntry.object_id == station.id)) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Jakarta Chinese Association" in page and "jakarta@example.org" in page


@pytest.mark.parametrize("actor", ["hq", "vol_hanoi"])
def test_only_admins_create_stations(app, client, login, world, actor):
    login(actor)
    assert client.get("/stations/new").status_code == 403
    assert client.post("/stations/new", data={**STATION, "region_id": str(world.regions["ASEAN"])}).status_code == 403
    assert count(app, Station) == 3
    assert "/stations/new" not in client.get("/stations/").get_data(as_text=True)


def test_regional_admin_creates_only_in_own_region(app, client, login, world):
    login("europe_admin")
    response = client.post("/stations/new", data={**STATION, "region_id": str(world.regions["ASEAN"])})
    assert response.status_code == 200
    assert count(app, Station) == 3


def test_edit_station(app, client, login, world):
    login("asean_admin")
    station = world.stations["hanoi"]
    page = client.get(f"/stations/{station}/edit").get_data(as_text=True)
    assert 'value="Hanoi station"' in page
    response = client.post(f"/stations/{station}/edit", data={
        **STATION, "name": "Hanoi liaison station", "country": "VN", "city": "Hà Nội",
        "region_id": str(world.regions["ASEAN"])})
    assert response.status_code == 302
    saved = get(app, Station, station)
    assert (saved.name, saved.city, saved.country, saved.notes) == ("Hanoi liaison station", "Hà Nội", "VN",
                                                                    "First salon in May.")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "station.update"))
        assert "name" in entry.details["changed"] and "city" in entry.details["changed"]


def _station_names(response) -> set[str]:
    text = response.get_data(as_text=True)
    return {name for name in ("Hanoi station", "Bangkok station", "Milan station") if name in text}


@pytest.mark.parametrize("query,expected", [
    ({}, {"Hanoi station", "Bangkok station", "Milan station"}),
    ({"region": "ASEAN"}, {"Hanoi station", "Bangkok station"}),
    ({"region": "EUROPE"}, {"Milan station"}),
    ({"country": "IT"}, {"Milan station"}),
    ({"country": "th"}, {"Bangkok station"}),
    ({"country": "FR"}, set()),
    ({"status": "suspended"}, {"Bangkok station"}),
    ({"status": "active"}, {"Hanoi station", "Milan station"}),
    ({"q": "hanoi"}, {"Hanoi station"}),
    ({"q": "Milan Chinese"}, {"Milan station"}),
    ({"q": "联络站"}, {"Hanoi station", "Bangkok station", "Milan station"}),
    ({"q": "Bangkok联络站"}, {"Bangkok station"}),
    ({"region": "ASEAN", "status": "active"}, {"Hanoi station"}),
    ({"region": "ASEAN", "country": "IT"}, set()),
])
def test_station_list_filters(app, client, login, world, query, expected):
    with app.app_context():
        db.session.get(Station, world.stations["bangkok"]).status = "suspended"
        db.session.commit()
    login("admin")
    assert _station_names(client.get("/stations/", query_string=query)) == expected


def test_station_list_is_scoped_and_counts(app, client, login, world):
    with app.app_context():
        make_lead(world, "hanoi", "accepted")
        make_lead(world, "hanoi", "landed")
    login("asean_admin")
    response = client.get("/stations/")
    assert _station_names(response) == {"Hanoi station", "Bangkok station"}
    text = response.get_data(as_text=True)
    row = text[text.index("Hanoi station"):]
    row = row[:row.index("</tr>")]
    # 1 contact; open leads: draft, submitted, accepted (the landed one is closed).
    assert re.findall(r'<td class="text-end">(\d+)</td>', row) == ["1", "3"]


def _figures(response) -> dict[str, int]:
    text = response.get_data(as_text=True)
    return {label.strip(): int(number.replace(",", "")) for number, label in re.findall(
        r'<div class="stat-number">([\d,]+)</div></a><div class="small text-muted">([^<]+)</div>', text)}


def test_station_detail_counts(app, client, login, world):
    with app.app_context():
        for status in ("accepted", "accepted", "landed", "rejected"):
            make_lead(world, "hanoi", status)
        make_lead(world, "bangkok", "accepted")
        db.session.add(Contact(station_id=world.stations["hanoi"], kind="student", name="Second contact"))
        db.session.commit()
    login("vol_hanoi")
    figures = _figures(client.get(f"/stations/{world.stations['hanoi']}"))
    assert figures == {"Contacts": 2, "Draft": 1, "Submitted": 1, "Accepted": 2, "Landed": 1, "Rejected": 1}


def test_members_add_and_remove(app, client, login, world):
    station = world.stations["hanoi"]
    login("asean_admin")
    page = client.get(f"/stations/{station}").get_data(as_text=True)
    candidates = page[page.index('name="member-user_id"'):]
    candidates = candidates[:candidates.index("</select>")]
    assert "vol_bangkok@example.org" in candidates
    assert "vol_hanoi@example.org" not in candidates  # already a member
    assert "vol_milan@example.org" not in candidates  # not the regional admin's
    response = client.post(f"/stations/{station}/members", data={"member-user_id": str(world.users["vol_bangkok"])})
    assert response.status_code == 302
    assert count(app, station_membership, station_membership.c.station_id == station,
                 station_membership.c.user_id == world.users["vol_bangkok"]) == 1
    # The new member sees the station's contacts at once.
    login("vol_bangkok")
    assert client.get(f"/contacts/{world.contacts['hanoi']}").status_code == 200
    login("asean_admin")
    response = client.post(f"/stations/{station}/members/{world.users['vol_bangkok']}/remove")
    assert response.status_code == 302
    assert count(app, station_membership, station_membership.c.station_id == station,
                 station_membership.c.user_id == world.users["vol_bangkok"]) == 0
    login("vol_bangkok")
    assert client.get(f"/contacts/{world.contacts['hanoi']}").status_code == 404
    assert count(app, AuditEntry, AuditEntry.action.in_(["station.member_add", "station.member_remove"])) == 2


@pytest.mark.parametrize("actor,code", [("vol_hanoi", 403), ("hq", 403), ("europe_admin", 404)])
def test_members_are_managed_by_admins_only(app, client, login, world, actor, code):
    login(actor)
    station = world.stations["hanoi"]
    assert client.post(f"/stations/{station}/members",
                       data={"member-user_id": str(world.users["vol_bangkok"])}).status_code == code
    assert client.post(f"/stations/{station}/members/{world.users['vol_hanoi']}/remove").status_code == code
    assert count(app, station_membership) == 3


# Contacts ----------------------------------------------------------------------------------

def _add_contacts(app, world, station, specs):
    with app.app_context():
        for name, kind, tags in specs:
            db.session.add(Contact(station_id=world.stations[station], kind=kind, name=name, tags=tags,
                                   organisation=f"{name} Org", email=f"{name.split()[0].lower()}@example.net",
                                   email_normalized=f"{name.split()[0].lower()}@example.net"))
        db.session.commit()


def _names(response, candidates) -> set[str]:
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    return {name for name in candidates if name in text}


CONTACTS = [("Alice Student", "student", "PhD, returnee"), ("Bruno Entrepreneur", "entrepreneur", "salon 2024"),
            ("Chen Researcher", "researcher", "PhD, AI")]
ALL = {"Nguyen Van An", "Somchai Jaidee", "Marco Rossi", "Alice Student", "Bruno Entrepreneur", "Chen Researcher"}


@pytest.mark.parametrize("query,expected", [
    ({}, ALL),
    ({"q": "alice"}, {"Alice Student"}),
    ({"q": "阮文安"}, {"Nguyen Van An"}),
    ({"q": "สมชาย"}, {"Somchai Jaidee"}),
    ({"q": "Bruno Entrepreneur Org"}, {"Bruno Entrepreneur"}),
    ({"q": "marco@EXAMPLE.org"}, {"Marco Rossi"}),
    ({"kind": "student"}, {"Alice Student"}),
    ({"kind": "scholar"}, {"Nguyen Van An", "Somchai Jaidee", "Marco Rossi"}),
    ({"tag": "PhD"}, {"Alice Student", "Chen Researcher"}),
    ({"tag": "salon 2024"}, {"Bruno Entrepreneur"}),
    ({"station": "milan"}, {"Marco Rossi", "Alice Student", "Bruno Entrepreneur", "Chen Researcher"}),
    ({"station": "milan", "kind": "researcher", "tag": "phd"}, {"Chen Researcher"}),
    ({"station": "hanoi", "q": "Alice"}, set()),
])
def test_contact_search_and_filters(app, client, login, world, query, expected):
    _add_contacts(app, world, "milan", CONTACTS)
    login("hq")
    if "station" in query:
        query = {**query, "station": str(world.stations[query["station"]])}
    assert _names(client.get("/contacts/", query_string=query), ALL) == expected


def test_tag_filter_matches_whole_tags(app, client, login, world):
    _add_contacts(app, world, "milan", [("Dai Tagged", "scholar", "AI, robotics"),
                                        ("Erin Other", "scholar", "retail, Shanghai alumni")])
    login("hq")
    assert _names(client.get("/contacts/", query_string={"tag": "AI"}), {"Dai Tagged", "Erin Other"}) == {"Dai Tagged"}


def test_contact_pagination(app, client, login, world):
    _add_contacts(app, world, "hanoi", [(f"Paged Person {n:02d}", "student", None) for n in range(30)])
    login("vol_hanoi")
    first = client.get("/contacts/").get_data(as_text=True)
    next_link = re.search(r'rel="next" href="([^"#]+)"', first)
    assert next_link and "after=" in next_link.group(1)  # keyset: the position travels in the link
    second = client.get(next_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    on_first = set(re.findall(r"Paged Person \d\d", first))
    on_second = set(re.findall(r"Paged Person \d\d", second))
    assert len(on_first) + ("Nguyen Van An" in first) == 25
    assert len(on_second) + ("Nguyen Van An" in second) == 6
    assert not on_first & on_second and len(on_first | on_second) == 30
    assert "31 results" in first
    for page in ("-1", "0", "abc", "2", "99"):  # old page numbers show the first page
        assert client.get(f"/contacts/?page={page}").get_data(as_text=True).count("Paged Person") == \
               first.count("Paged Person"), page


CONTACT = {"kind": "researcher", "name": "Wang Min", "name_zh": "王敏", "country": "VN", "email": "wang.min@example.org",
           "phone": "+84 28 3822 1111", "tags": "PhD， AI, PhD", "languages": "Chinese, English"}


def test_create_contact_is_idempotent(app, client, login, world):
    login("vol_hanoi")
    url = f"/contacts/new?station_id={world.stations['hanoi']}"
    form = client.get(url).get_data(as_text=True)
    token = re.search(r'name="submission_token" type="hidden" value="([0-9a-f]+)"', form).group(1)
    first = client.post(url, data={**CONTACT, "submission_token": token})
    second = client.post(url, data={**CONTACT, "submission_token": token})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, Contact, Contact.name == "Wang Min") == 1
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.name == "Wang Min"))
        assert first.headers["Location"] == f"/contacts/{contact.id}"
        assert (contact.station_id, contact.created_by_id) == (world.stations["hanoi"], world.users["vol_hanoi"])
        assert (contact.tags, contact.phone_e164, contact.email_normalized) == ("PhD, AI", "+842838221111",
                                                                               "wang.min@example.org")
    # A new form (a new token) is a new contact — after the duplicate warning.
    third = client.post(url, data={**CONTACT, "submission_token": "another-token"})
    assert third.status_code == 200 and "already has a contact" in third.get_data(as_text=True)


def test_edit_contact(app, client, login, world):
    login("vol_hanoi")
    contact = world.contacts["hanoi"]
    response = client.post(f"/contacts/{contact}/edit", data={**CONTACT, "email": "an.new@example.org",
                                                              "phone": "", "name": "Nguyen Van An"})
    assert response.status_code == 302
    saved = get(app, Contact, contact)
    assert (saved.email_normalized, saved.phone, saved.updated_by_id) == ("an.new@example.org", None,
                                                                          world.users["vol_hanoi"])


def test_a_contact_changed_since_the_form_was_opened_is_not_overwritten(app, client, login, world):
    """Two people edit the same contact: the second save, from a form opened before the first was
    saved, changes nothing and says so (contacts carry the last change's time they showed)."""
    import re

    login("vol_hanoi")
    contact = world.contacts["hanoi"]
    page = client.get(f"/contacts/{contact}/edit").get_data(as_text=True)
    seen = re.search(r'name="seen" type="hidden" value="([^"]*)"', page).group(1)
    assert seen
    first = client.post(f"/contacts/{contact}/edit", data={**CONTACT, "seen": seen, "organisation": "First save"})
    assert first.status_code == 302
    stale = client.post(f"/contacts/{contact}/edit", data={**CONTACT, "seen": seen, "organisation": "Second save"},
                        follow_redirects=True)
    assert "Someone else changed this record" in stale.get_data(as_text=True)
    assert get(app, Contact, contact).organisation == "First save"


# Leads -------------------------------------------------------------------------------------

LEAD = {"category": "return_startup", "field": "新能源汽车", "summary": "A battery engineer who wants to start up.",
        "wants": "Incubator space", "offer": "Start-up grant", "priority": "3"}


def _lead_token(client, contact_id) -> str:
    form = client.get(f"/leads/new?contact_id={contact_id}").get_data(as_text=True)
    return re.search(r'name="submission_token" type="hidden" value="([0-9a-f]+)"', form).group(1)


@pytest.mark.parametrize("button,status", [("save", "draft"), ("save_and_submit", "submitted")])
def test_create_lead(app, client, login, world, button, status):
    login("vol_hanoi")
    contact = world.contacts["hanoi"]
    token = _lead_token(client, contact)
    response = client.post(f"/leads/new?contact_id={contact}", data={**LEAD, "submission_token": token, button: "1"})
    assert response.status_code == 302
    with app.app_context():
        lead = db.session.scalar(select(TalentLead).where(TalentLead.submission_token == token)
                                 .options(selectinload(TalentLead.events)))
        assert response.headers["Location"] == f"/leads/{lead.id}"
        assert (lead.status, lead.category, lead.priority, lead.field) == (status, "return_startup", 3, "新能源汽车")
        assert (lead.station_id, lead.submitter_id) == (world.stations["hanoi"], world.users["vol_hanoi"])
        assert (lead.submitted_at is not None) == (status == "submitted")
        assert [e.kind for e in lead.events] == (["created"] if status == "draft" else ["created", "status"])


@pytest.mark.parametrize("button", ["save", "save_and_submit"])
def test_create_lead_is_idempotent(app, client, login, world, button):
    login("vol_hanoi")
    contact = world.contacts["hanoi"]
    token = _lead_token(client, contact)
    before = count(app, TalentLead)
    responses = [client.post(f"/leads/new?contact_id={contact}", data={**LEAD, "submission_token": token, button: "1"})
                 for _ in range(3)]
    assert {r.status_code for r in responses} == {302}
    assert len({r.headers["Location"] for r in responses}) == 1
    assert count(app, TalentLead) == before + 1
    with app.app_context():
        lead = db.session.scalar(select(TalentLead).where(TalentLead.submission_token == token))
        assert db.session.scalar(select(func.count()).select_from(LeadEvent).where(
            LeadEvent.lead_id == lead.id)) == (1 if button == "save" else 2)


def test_edit_draft_and_submit(app, client, login, world):
    login("vol_hanoi")
    lead = world.leads["hanoi_draft"]
    version = get(app, TalentLead, lead).version
    response = client.post(f"/leads/{lead}/edit", data={**LEAD, "version": str(version), "save_and_submit": "1"})
    assert response.status_code == 302
    saved = get(app, TalentLead, lead)
    assert (saved.status, saved.summary, saved.category) == ("submitted", LEAD["summary"], "return_startup")
    assert saved.submitted_at is not None


@pytest.mark.parametrize("status,editable", [
    ("draft", True), ("needs_info", True), ("submitted", False), ("under_review", False), ("accepted", False),
    ("referred", False), ("landed", False), ("rejected", False), ("withdrawn", False),
])
def test_leads_are_edited_only_as_draft_or_needs_info(app, client, login, world, status, editable):
    with app.app_context():
        lead = make_lead(world, "hanoi", status)
    login("vol_hanoi")
    version = get(app, TalentLead, lead).version
    response = client.get(f"/leads/{lead}/edit")
    assert response.status_code == (200 if editable else 302)
    response = client.post(f"/leads/{lead}/edit", data={**LEAD, "summary": "Edited", "version": str(version),
                                                        "save": "1"}, follow_redirects=True)
    saved = get(app, TalentLead, lead)
    assert (saved.summary == "Edited") is editable
    assert saved.status == status
    if not editable:
        assert "Only drafts and leads that need more information can be edited." in response.get_data(as_text=True)
        assert f'href="/leads/{lead}/edit"' not in client.get(f"/leads/{lead}").get_data(as_text=True)


def test_comment(app, client, login, world):
    lead = world.leads["hanoi_submitted"]
    for actor in ("vol_hanoi", "hq"):
        login(actor)
        response = client.post(f"/leads/{lead}/comment", data={"text": f"  Called the candidate ({actor}).  "})
        assert response.status_code == 302 and response.headers["Location"].endswith("#timeline")
    page = client.get(f"/leads/{lead}").get_data(as_text=True)
    assert "Called the candidate (vol_hanoi)." in page and "Called the candidate (hq)." in page
    with app.app_context():
        texts = db.session.scalars(select(LeadEvent.text).where(LeadEvent.lead_id == lead,
                                                                LeadEvent.kind == "comment")).all()
    assert sorted(texts) == ["Called the candidate (hq).", "Called the candidate (vol_hanoi)."]
    login("vol_bangkok")
    assert client.post(f"/leads/{lead}/comment", data={"text": "hi"}).status_code == 404


def test_comment_does_not_bump_the_version(app, client, login, world):
    lead = world.leads["hanoi_submitted"]
    version = get(app, TalentLead, lead).version
    login("vol_hanoi")
    client.post(f"/leads/{lead}/comment", data={"text": "a remark"})
    assert get(app, TalentLead, lead).version == version


def test_assign_reviewer(app, client, login, world):
    lead = world.leads["hanoi_submitted"]
    login("hq")
    response = client.post(f"/leads/{lead}/assign", data={"reviewer_id": str(world.users["hq2"])})
    assert response.status_code == 302
    assert get(app, TalentLead, lead).reviewer_id == world.users["hq2"]
    assert "Reviewer: Hq2" in client.get(f"/leads/{lead}").get_data(as_text=True)
    client.post(f"/leads/{lead}/assign", data={"reviewer_id": "0"})
    assert get(app, TalentLead, lead).reviewer_id is None
    assert count(app, LeadEvent, LeadEvent.lead_id == lead, LeadEvent.kind == "assigned") == 2


@pytest.mark.parametrize("actor", ["vol_hanoi", "asean_admin"])
def test_only_hq_assigns(app, client, login, world, actor):
    lead = world.leads["hanoi_submitted"]
    login(actor)
    assert client.post(f"/leads/{lead}/assign", data={"reviewer_id": str(world.users["hq"])}).status_code == 403
    assert client.post("/review/assign", data={"lead_ids": [str(lead)],
                                               "reviewer_id": str(world.users["hq"])}).status_code == 403
    assert get(app, TalentLead, lead).reviewer_id is None


def test_bulk_assign(app, client, login, world):
    leads = [world.leads["hanoi_submitted"], world.leads["milan_submitted"]]
    login("hq")
    back = "/review/?station=&reviewer=none"
    response = client.post("/review/assign", data={"lead_ids": [str(i) for i in leads],
                                                   "reviewer_id": str(world.users["hq2"]), "next": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    assert re.search(r"Reviewer saved for 2 lead", client.get(back).get_data(as_text=True))
    assert [get(app, TalentLead, i).reviewer_id for i in leads] == [world.users["hq2"]] * 2
    assert get(app, TalentLead, world.leads["bangkok_submitted"]).reviewer_id is None
    # Again: nothing changes, and the count says so.
    client.post("/review/assign", data={"lead_ids": [str(i) for i in leads], "reviewer_id": str(world.users["hq2"])})
    assert re.search(r"Reviewer saved for 0 lead", client.get("/review/").get_data(as_text=True))
    # Unassign, and an unsafe "next" goes back to the queue.
    response = client.post("/review/assign", data={"lead_ids": [str(leads[0])], "reviewer_id": "0",
                                                   "next": "//evil.example"})
    assert response.headers["Location"] == "/review/"
    assert get(app, TalentLead, leads[0]).reviewer_id is None


# The review queue --------------------------------------------------------------------------

@pytest.fixture
def queue(app, world):
    """Four leads with known dates, priorities, categories and reviewers, besides the world's.

    Submission times are in UTC and fall on the same calendar day in Beijing (UTC+8)."""
    specs = {
        # key: (station, status, category, priority, submitted, updated, reviewer, summary)
        "A": ("hanoi", "under_review", "project", 4, datetime(2024, 1, 10, 9), datetime(2024, 7, 1), "hq",
              "人工智能博士, back from Berlin"),
        "B": ("bangkok", "accepted", "flexible", 1, datetime(2024, 3, 5, 12, 0), datetime(2024, 9, 1), "hq2",
              "Thai language teacher"),
        "C": ("milan", "landed", "return_startup", 3, datetime(2024, 6, 20, 8), datetime(2024, 8, 1), None,
              "Fashion designer"),
        "D": ("milan", "rejected", "internship", 2, datetime(2023, 12, 31, 12), datetime(2024, 10, 1), "hq",
              "Summer intern"),
    }
    ids = {}
    with app.app_context():
        for key, (station, status, category, priority, submitted, updated, reviewer, summary) in specs.items():
            lead_id = make_lead(world, station, status, category=category, priority=priority, summary=summary)
            db.session.execute(update(TalentLead).where(TalentLead.id == lead_id).values(
                submitted_at=submitted, updated_at=updated,
                reviewer_id=world.users[reviewer] if reviewer else None))
            ids[key] = lead_id
        db.session.commit()
        db.session.remove()
    return ids


PERIOD = {"submitted_from": "2023-01-01", "submitted_to": "2024-12-31"}  # only the queue fixture's leads


@pytest.mark.parametrize("query,expected", [
    ({"status": "under_review"}, "A"),
    ({"status": "accepted"}, "B"),
    ({"status": "open"}, "AB"),
    ({"region": "ASEAN"}, "AB"),
    ({"region": "EUROPE"}, "CD"),
    ({"station": "bangkok"}, "B"),
    ({"category": "project"}, "A"),
    ({"category": "internship"}, "D"),
    ({"reviewer": "none"}, "C"),
    ({"reviewer": "me"}, "AD"),
    ({"reviewer": "hq2"}, "B"),
    ({"submitted_from": "2024-01-01", "submitted_to": "2024-03-31"}, "AB"),
    ({"submitted_from": "2024-03-05", "submitted_to": "2024-03-05"}, "B"),
    ({"submitted_from": "2024-03-06", "submitted_to": "2024-06-19"}, ""),
    ({"submitted_to": "2023-12-31"}, "D"),
    ({"q": "人工智能"}, "A"),
    ({"q": "阮文安"}, "A"),
    ({"q": "Nguyễn"}, "A"),
    ({"q": "Rossi"}, "CD"),
    ({"q": "thai LANGUAGE"}, "B"),
    ({"q": "#C"}, "C"),
    ({"q": "C"}, "C"),
    ({"region": "EUROPE", "reviewer": "me", "category": "internship"}, "D"),
])
def test_review_queue_filters(app, client, login, world, queue, query, expected):
    login("hq")
    query = {**PERIOD, **query}
    if "station" in query:
        query["station"] = str(world.stations[query["station"]])
    if query.get("reviewer") in world.users:
        query["reviewer"] = str(world.users[query["reviewer"]])
    if query.get("q") in ("#C", "C"):
        query["q"] = query["q"].replace("C", str(queue["C"]))
    found = lead_ids(client.get("/review/", query_string=query))
    assert sorted(found) == sorted(queue[k] for k in expected), query


def test_date_filters_use_the_users_days(app, client, login, world):
    """Submitted 2024-03-05 23:30 UTC = 2024-03-06 07:30 in Beijing, where the reviewer works."""
    with app.app_context():
        lead_id = make_lead(world, "hanoi", "submitted")
        db.session.execute(update(TalentLead).where(TalentLead.id == lead_id).values(
            submitted_at=datetime(2024, 3, 5, 23, 30)))
        db.session.get(User, world.users["hq"]).timezone = "Asia/Shanghai"
        db.session.commit()
    login("hq")
    page = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert "6 Mar 2024" in page  # as the reviewer sees it
    on_the_6th = {"submitted_from": "2024-03-06", "submitted_to": "2024-03-06"}
    on_the_5th = {"submitted_from": "2024-03-05", "submitted_to": "2024-03-05"}
    assert lead_ids(client.get("/review/", query_string=on_the_6th)) == [lead_id]
    assert lead_ids(client.get("/review/", query_string=on_the_5th)) == []
    report = client.get("/review/report", query_string={"date_from": "2024-03-06", "date_to": "2024-03-06"})
    assert _totals(report)[0] == 1


def test_review_queue_leaves_out_drafts(app, client, login, world, queue):
    login("hq")
    found = set(lead_ids(client.get("/review/")))
    drafts = {world.leads[f"{s}_draft"] for s in ("hanoi", "bangkok", "milan")}
    assert not found & drafts
    assert set(queue.values()) | {world.leads[f"{s}_submitted"] for s in ("hanoi", "bangkok", "milan")} == found
    assert not set(lead_ids(client.get("/review/", query_string={"status": "draft"}))) & drafts


@pytest.mark.parametrize("sort,expected", [
    ("-submitted", "CBAD"), ("submitted", "DABC"), ("-priority", "ACDB"), ("-updated", "DBCA"), ("bogus", "CBAD"),
    (None, "CBAD"),
])
def test_review_queue_sorts(app, client, login, world, queue, sort, expected):
    login("hq")
    query = {**PERIOD, **({"sort": sort} if sort else {})}
    assert lead_ids(client.get("/review/", query_string=query)) == [queue[k] for k in expected]


def test_review_queue_is_for_hq(client, login, world):
    for actor in ("vol_hanoi", "asean_admin"):
        login(actor)
        assert client.get("/review/").status_code == 403


# The report page ---------------------------------------------------------------------------

def _totals(response) -> list[int]:
    """The funnel's cards: submitted, accepted, referred, landed (the report of liaison.reports)."""
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    return [int(n.replace(",", "")) for n in re.findall(r'<div class="stat-number">([\d,]+)</div>', text)]


def _region_row(response, name) -> list[int]:
    text = response.get_data(as_text=True)
    match = re.search(rf"<tr><th scope=\"row\" class=\"fw-normal\">{name}</th>((?:<td class=\"text-end\">[\d,]+</td>)+)</tr>", text)
    return [int(n) for n in re.findall(r"([\d,]+)</td>", match.group(1))] if match else []


ALL_TIME = {"date_from": "2000-01-01"}  # the report's default period is this year


def test_report_figures(app, client, login, world, queue):
    login("hq")
    # submitted, accepted, referred, landed: all time (the world's three submitted leads too).
    response = client.get("/review/report", query_string=ALL_TIME)
    assert _totals(response) == [7, 2, 1, 1]
    assert _region_row(response, "Asean") == [4, 1, 0, 0]
    assert _region_row(response, "Europe") == [3, 1, 1, 1]
    # What landed counts by the landing date (the lead landed on 1 May 2025).
    text = response.get_data(as_text=True)
    assert re.search(r"<th scope=\"row\" class=\"fw-normal\">Hired</th><td class=\"text-end\">1</td>", text)
    # 2024 only: A, B, C.
    response = client.get("/review/report", query_string={"date_from": "2024-01-01", "date_to": "2024-12-31"})
    assert _totals(response) == [3, 2, 1, 1]
    assert _region_row(response, "Asean") == [2, 1, 0, 0]
    assert _region_row(response, "Europe") == [1, 1, 1, 1]
    # The last day is included.
    response = client.get("/review/report", query_string={"date_from": "2024-03-05", "date_to": "2024-03-05"})
    assert _totals(response) == [1, 1, 0, 0]
    # A period with nothing in it.
    response = client.get("/review/report", query_string={"date_from": "2020-01-01", "date_to": "2020-12-31"})
    assert _totals(response) == [0, 0, 0, 0]
    assert "Nothing to count in this period." in response.get_data(as_text=True)


def test_report_by_category(app, client, login, world, queue):
    login("hq")
    text = client.get("/review/report", query_string={"date_from": "2024-01-01"}).get_data(as_text=True)
    row = re.search(r"<tr><th scope=\"row\" class=\"fw-normal\">Return to start a business</th>"
                    r"((?:<td class=\"text-end\">\d+</td>)+)</tr>", text)
    assert re.findall(r"(\d+)</td>", row.group(1)) == ["1", "1", "1", "1"]


def test_report_with_a_bad_date_shows_the_error(app, client, login, world, queue):
    login("hq")
    response = client.get("/review/report", query_string={"date_from": "2024-13-01"})
    assert response.status_code == 200
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert _totals(response) == []  # no figures for a period the page could not read


# Exports -----------------------------------------------------------------------------------

def test_lead_export_with_filters(app, client, login, world, queue):
    login("hq")
    table = rows(client.get("/exports/leads.xlsx", query_string={**PERIOD, "region": "EUROPE"}))
    header, body = table[0], table[1:]
    assert header[:3] == ("Lead no.", "Status", "Category")
    assert sorted(row[0] for row in body) == sorted([queue["C"], queue["D"]])
    landed = next(row for row in body if row[0] == queue["C"])
    assert landed[header.index("Status")] == "Landed" and landed[header.index("What landed")] == "Hired"
    assert landed[header.index("Station")] == "Milan station"
    table = rows(client.get("/exports/leads.xlsx", query_string={**PERIOD, "reviewer": "me", "sort": "submitted"}))
    assert [row[0] for row in table[1:]] == [queue["D"], queue["A"]]
    table = rows(client.get("/exports/leads.xlsx", query_string={"q": "人工智能"}))
    assert [row[0] for row in table[1:]] == [queue["A"]]


def test_contact_export_with_filters(app, client, login, world):
    _add_contacts(app, world, "milan", CONTACTS)
    login("hq")
    table = rows(client.get("/exports/contacts.xlsx", query_string={"station": str(world.stations["milan"]),
                                                                    "tag": "PhD"}))
    assert table[0][:2] == ("Contact no.", "Name")
    assert sorted(row[1] for row in table[1:]) == ["Alice Student", "Chen Researcher"]
    table = rows(client.get("/exports/contacts.xlsx", query_string={"kind": "scholar"}))
    assert sorted(row[1] for row in table[1:]) == ["Marco Rossi", "Nguyen Van An", "Somchai Jaidee"]


@pytest.mark.parametrize("evil", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)"])
def test_exports_neutralise_formulas(app, client, login, world, evil):
    with app.app_context():
        db.session.add(Contact(station_id=world.stations["hanoi"], kind="scholar", name="Formula person",
                               organisation=evil))
        db.session.commit()
    login("vol_hanoi")
    table = rows(client.get("/exports/contacts.xlsx", query_string={"q": "Formula"}))
    header, row = table[0], table[1]
    assert row[header.index("Organisation")] == "'" + evil
