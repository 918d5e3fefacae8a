"""Merging two contacts, and undoing the merge, with every table that references a contact.

The referencing tables are found the way the merge finds them: every foreign key to
``contacts.id`` in the metadata (core, privacy, imports, plugins). ``_reference_everything``
gives the merged contact (and the survivor) at least one row in each of them — a known builder
for tables whose values are checked, a generic row otherwise — and the tests fail for a table
that did not get one, so a new referencing table is covered the day it appears.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text, func, insert, select
from sqlalchemy.types import JSON

from liaison.duplicates import services
from liaison.models import Contact, ContactMerge, DuplicatePair, LeadEvent, TalentLead, db, utcnow

from .factories import make_lead
from .helpers import snapshot

DERIVED = {"duplicate_pairs", "contact_merges"}  # recomputed on undo / the merge's own record
# Tables where both contacts get a row under the same unique key: the survivor keeps its own.
CLASHES = {"contact_tags", "contact_languages", "europe_school_partnership_contacts",
           "skills_alliance_member_contacts", "event_registrations", "demand_matches", "student_service_students"}


@pytest.fixture
def app_config():
    return {"PLUGINS_EXTRA": ["tests.plugins.good_plugin"]}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _contact(station_id, **fields) -> int:
    contact = Contact(station_id=station_id, kind=fields.pop("kind", "scholar"), **fields)
    db.session.add(contact)
    db.session.commit()
    return contact.id


# Rows for every referencing table -----------------------------------------------------------

def _known_rows(world, contact_id: int, tag: str) -> dict[str, dict]:
    """Rows for tables whose values the database checks (enumerations)."""
    now = utcnow()
    return {
        "contact_consents": dict(contact_id=contact_id, purpose="keep_in_touch", basis="consent", source="form",
                                 given_on=date(2025, 1, 1), recorded_at=now),
        "privacy_reveals": dict(user_id=world.users["hq"], contact_id=contact_id, reason="verify_identity",
                                created_at=now, expires_at=now + timedelta(hours=1)),
        "privacy_access_log": dict(user_id=world.users["hq"], contact_id=contact_id, action="view", created_at=now,
                                   record_count=1),
        "erasure_requests": dict(contact_id=contact_id, station_id=world.stations["hanoi"], status="rejected",
                                 requested_at=now, version=1),
        "contact_tags": dict(contact_id=contact_id, tag=tag, position=0),
        "contact_languages": dict(contact_id=contact_id, language=tag, position=0),
        "europe_school_partnership_contacts": None,  # generic, with a partnership shared by both contacts
        "skills_alliance_member_contacts": dict(member_id=_alliance_member(world)),  # shared by both: a clash
        # Both contacts registered for the same event (the first one): a clash the merge must resolve.
        "event_registrations": dict(status="registered", source="invitation", name=tag),
        "demand_matches": dict(demand_id=_demand(world), stage="introduced"),  # the same demand: a clash
        "student_service_students": dict(stage="abroad", level="master", school="Politecnico", field="design",
                                         country="IT", city="Milano", stage_since=date(2025, 1, 1)),
    }


def _demand(world) -> int:
    """A demand from home (its source, kind and status are checked), the same for both contacts."""
    from liaison.demands.models import Demand

    demand = db.session.scalar(select(Demand).where(Demand.title == "MERGE-1"))
    if demand is None:
        demand = Demand(title="MERGE-1", organisation="NEV Co.", source_kind="enterprise", kind="hire",
                        requirements="x", status="open")
        db.session.add(demand)
        db.session.flush()
    return demand.id


def _alliance_member(world) -> int:
    """A member of the skills alliance (its kind and status are checked), the same for both contacts."""
    from plugins.skills_alliance.models import Member

    member = db.session.scalar(select(Member).where(Member.certificate_no == "MERGE-1"))
    if member is None:
        member = Member(station_id=world.stations["hanoi"], name="Member", country="CN", kind="enterprise",
                        joined_on=date(2025, 1, 1), certificate_no="MERGE-1")
        db.session.add(member)
        db.session.flush()
    return member.id


def _value_for(column, connection, depth):
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column
        found = connection.execute(select(func.min(target))).scalar()
        return found if found is not None else _generic_row(target.table, connection, {}, depth + 1)
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, (Integer, Numeric)):
        return 1
    if isinstance(kind, DateTime):
        return utcnow()
    if isinstance(kind, Date):
        return date(2025, 1, 1)
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, (String, Text)):
        return "x"
    raise AssertionError(f"no generic value for {column}")


def _generic_row(table, connection, given: dict, depth: int = 0):
    assert depth < 4, f"cannot build a row of {table.name}"
    values = dict(given)
    for column in table.columns:
        if column.name in values or column.nullable or column.default is not None or column.server_default is not None:
            continue
        if column.primary_key and column.autoincrement in (True, "auto") and isinstance(column.type, Integer) \
                and len(table.primary_key.columns) == 1:
            continue
        values[column.name] = _value_for(column, connection, depth)
    result = connection.execute(insert(table).values(values))
    return (result.inserted_primary_key or [None])[0]


def _reference_everything(world, contact_id: int, tag: str) -> set[str]:
    """A row pointing at ``contact_id`` in every referencing table; returns the tables."""
    connection = db.session.connection()
    known = _known_rows(world, contact_id, tag)
    tables = set()
    for table, column in services.referencing_columns(connection):
        row = known.get(table.name) or {}
        _generic_row(table, connection, {**row, column.name: contact_id})
        tables.add(table.name)
    db.session.commit()
    return tables


def _counts(contact_id: int) -> dict[str, int]:
    connection = db.session.connection()
    counts = {}
    for table, column in services.referencing_columns(connection):
        counts[table.name] = counts.get(table.name, 0) + connection.execute(
            select(func.count()).select_from(table).where(column == contact_id)).scalar()
    return counts


@pytest.fixture
def pair(app, world):
    """A Hanoi contact and its Milan duplicate, each referenced by a row of every table, with a
    shared tag and a shared school partnership (unique keys: de-duplicated on merge)."""
    with app.app_context():
        survivor = _contact(world.stations["hanoi"], name="Wang Xiaoming", name_zh="王小明", email="wxm@example.org",
                            email_normalized="wxm@example.org", organisation="Politecnico di Milano", notes="Met in Hanoi")
        merged = _contact(world.stations["milan"], name="WANG Xiao Ming", phone="+393471234567",
                          phone_e164="+393471234567", organisation="Politecnico di Milano", notes="Met in Milan")
        tables = _reference_everything(world, survivor, "PhD")
        assert tables == _reference_everything(world, merged, "PhD")  # the same tag: a clash on (contact, tag)
        # A lead with a timeline of several entries, on the merged contact.
        lead = make_lead(world, "milan", "submitted")
        db.session.get(TalentLead, lead).contact_id = merged
        db.session.commit()
        # The europe plugin's association table: the same partnership for both (a clash) is
        # built by the generic row above (it picks the first partnership for both contacts).
        db.session.remove()
    return {"survivor": survivor, "merged": merged, "tables": tables, "lead": lead}


EXPECTED_TABLES = {"leads", "contact_consents", "privacy_reveals", "privacy_access_log", "erasure_requests",
                   "contact_tags", "contact_languages", "asean_language_title_applications",
                   "europe_school_partnership_contacts", "skills_alliance_member_contacts"}


def test_every_referencing_table_is_covered(app, pair):
    """The fixture referenced the contacts from every table with a foreign key to contacts.id —
    including these known ones (a rename or a lost foreign key would drop one silently)."""
    assert EXPECTED_TABLES <= pair["tables"]
    with app.app_context():
        names = {table.name for table, _column in services.referencing_columns()}
    assert names == pair["tables"]
    assert not names & services.SKIPPED_TABLES


def _merge_as(client, survivor, merged, **choices):
    data = {"confirm": "y", **{f"field_{k}": v for k, v in choices.items()}}
    return client.post(f"/duplicates/merge/{survivor}/{merged}", data=data)


def test_merge_moves_every_reference_and_undo_restores_everything(app, login, pair):
    survivor, merged = pair["survivor"], pair["merged"]
    with app.app_context():
        before_survivor, before_merged = _counts(survivor), _counts(merged)
        leads_before = db.session.scalar(select(func.count()).select_from(TalentLead))
        events_before = db.session.scalar(select(func.count()).select_from(LeadEvent))
        db.session.remove()
    client = login("hq")
    page = client.get(f"/duplicates/merge/{survivor}/{merged}").get_data(as_text=True)
    assert "Wang Xiaoming" in page and "WANG Xiao Ming" in page and 'name="field_phone"' in page
    database_before = snapshot(app)

    response = _merge_as(client, survivor, merged, phone="merged", name="survivor", notes="both")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert db.session.get(Contact, merged) is None
        after = _counts(survivor)
        for table in pair["tables"]:
            assert _counts(merged).get(table, 0) == 0, table
            # Rows the survivor already had under a unique key are removed (kept in the record).
            clash = table in CLASHES
            assert after[table] == before_survivor[table] + (0 if clash else before_merged[table]), table
        assert db.session.scalar(select(func.count()).select_from(TalentLead)) == leads_before
        assert db.session.scalar(select(func.count()).select_from(LeadEvent)) == events_before
        assert db.session.get(TalentLead, pair["lead"]).contact_id == survivor
        contact = db.session.get(Contact, survivor)
        assert (contact.name, contact.phone_e164, contact.email_normalized) == (
            "Wang Xiaoming", "+393471234567", "wxm@example.org")
        assert contact.notes == "Met in Hanoi\n\nMet in Milan"
        record = db.session.scalar(select(ContactMerge))
        assert record.merged_before["name"] == "WANG Xiao Ming" and record.survivor_before["phone_e164"] is None
        assert {entry["table"] for entry in record.removed} == CLASHES
        assert record.actor_id is not None and record.survivor_station_id != record.merged_station_id
        record_id = record.id
        db.session.remove()
    detail = client.get(f"/duplicates/merges/{record_id}").get_data(as_text=True)
    assert "Undo this merge" in detail

    response = client.post(f"/duplicates/merges/{record_id}/undo", follow_redirects=True)
    assert "The merge has been undone" in response.get_data(as_text=True)
    database_after = snapshot(app)
    for table in database_before:
        if table not in DERIVED:
            assert database_after[table] == database_before[table], table
    with app.app_context():
        assert _counts(merged) == before_merged and _counts(survivor) == before_survivor
        assert db.session.get(ContactMerge, record_id).undone_at is not None
        # The pair is found again (the two contacts are back).
        assert db.session.scalar(select(func.count()).select_from(DuplicatePair).where(
            DuplicatePair.contact_a_id == survivor, DuplicatePair.contact_b_id == merged)) == 1
    # Undone once: a second undo is refused with a reason.
    response = client.post(f"/duplicates/merges/{record_id}/undo", follow_redirects=True)
    assert "already been undone" in response.get_data(as_text=True)


def test_undo_is_refused_when_later_changes_would_be_lost(app, login, world, pair):
    survivor, merged = pair["survivor"], pair["merged"]
    client = login("hq")
    assert _merge_as(client, survivor, merged).status_code == 302
    with app.app_context():
        record_id = db.session.scalar(select(ContactMerge.id))
        db.session.get(Contact, survivor).position = "Professor"  # a later edit
        db.session.commit()
        db.session.remove()
    before = snapshot(app)
    page = client.get(f"/duplicates/merges/{record_id}").get_data(as_text=True)
    assert "edited since the merge" in page and "Undo this merge" not in page
    response = client.post(f"/duplicates/merges/{record_id}/undo", follow_redirects=True)
    assert "The merge was not undone" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_undo_is_refused_when_a_moved_record_changed(app, login, world, pair):
    client = login("hq")
    assert _merge_as(client, pair["survivor"], pair["merged"]).status_code == 302
    with app.app_context():
        record_id = db.session.scalar(select(ContactMerge.id))
        other = _contact(world.stations["milan"], name="Somebody Else")
        db.session.get(TalentLead, pair["lead"]).contact_id = other  # the lead moved on since
        db.session.commit()
        problems = services.undo_problems(db.session.get(ContactMerge, record_id))
        assert any("leads" in problem for problem in problems)


def test_survivor_merged_again_must_be_undone_first(app, login, world, pair):
    client = login("hq")
    assert _merge_as(client, pair["survivor"], pair["merged"]).status_code == 302
    with app.app_context():
        third = _contact(world.stations["hanoi"], name="Wang Xiaoming")
    assert _merge_as(client, third, pair["survivor"]).status_code == 302
    with app.app_context():
        first, second = db.session.scalars(select(ContactMerge).order_by(ContactMerge.id)).all()
        assert "Undo that first" in services.undo_problems(first)[0]
        assert services.undo_problems(second) == []


def test_merge_page_keeps_input_and_writes_nothing_on_bad_input(app, login, pair):
    client = login("hq")
    before = snapshot(app)
    url = f"/duplicates/merge/{pair['survivor']}/{pair['merged']}"
    response = client.post(url, data={"field_name": "merged"})  # not confirmed
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Tick this box to confirm the merge." in body
    assert re.search(r'<input[^>]*value="merged"[^>]*id="field_name-merged"[^>]*checked', body)  # input kept
    response = client.post(url, data={"confirm": "y", "field_name": "bogus"})
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_merge_with_itself_or_out_of_scope_is_404(app, login, world, pair):
    client = login("hq")
    assert client.get(f"/duplicates/merge/{pair['survivor']}/{pair['survivor']}").status_code == 404
    assert client.get(f"/duplicates/merge/{pair['survivor']}/999999").status_code == 404
    # A regional admin merges within the region only: Milan is not in ASEAN.
    client = login("asean_admin")
    assert client.get(f"/duplicates/merge/{pair['survivor']}/{pair['merged']}").status_code == 404
    assert client.get("/duplicates/merges/999999").status_code == 404
    for volunteer in ("vol_hanoi", "vol_milan"):
        client = login(volunteer)
        assert client.get(f"/duplicates/merge/{pair['survivor']}/{pair['merged']}").status_code == 403


def test_regional_admin_merges_and_undoes_within_the_region(app, login, world):
    with app.app_context():
        hanoi = _contact(world.stations["hanoi"], name="Nguyen Van An", phone="+66812345678", phone_e164="+66812345678")
        bangkok = _contact(world.stations["bangkok"], name="Nguyễn Văn An", phone="+66812345678",
                           phone_e164="+66812345678")
    client = login("asean_admin")
    assert _merge_as(client, bangkok, hanoi).status_code == 302
    with app.app_context():
        record_id = db.session.scalar(select(ContactMerge.id))
    assert login("europe_admin").get(f"/duplicates/merges/{record_id}").status_code == 404
    client = login("asean_admin")
    assert client.get("/duplicates/merges").status_code == 200
    assert client.post(f"/duplicates/merges/{record_id}/undo").status_code == 302
    with app.app_context():
        assert db.session.get(Contact, hanoi) is not None


def test_a_failing_plugin_refuses_the_merge(app, login, pair, monkeypatch):
    from .plugins import good_plugin

    monkeypatch.setattr(good_plugin, "FAIL_MERGE", True)
    client = login("hq")
    before = _without_plugin_errors(snapshot(app))
    response = _merge_as(client, pair["survivor"], pair["merged"])
    assert response.status_code == 302
    assert _without_plugin_errors(snapshot(app)) == before
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "could not move its records" in page


def _without_plugin_errors(tables: dict) -> dict:
    return {name: rows for name, rows in tables.items() if "plugin_error" not in name}


def test_plugins_hook_is_called_and_its_data_blocks_an_automatic_undo(app, login, pair, monkeypatch):
    from .plugins import good_plugin

    good_plugin.CALLS.clear()
    monkeypatch.setattr(good_plugin, "MERGE_RESULT", {"renamed_files": 2})
    assert _merge_as(login("hq"), pair["survivor"], pair["merged"]).status_code == 302
    assert ("merge_contacts", pair["survivor"], pair["merged"]) in good_plugin.CALLS
    with app.app_context():
        record = db.session.scalar(select(ContactMerge))
        assert record.plugin_data == {"fixture_good": {"renamed_files": 2}}
        assert "Fixture plugin" in services.undo_problems(record)[0]


def test_merge_pages_mask_personal_fields_for_hq_and_show_them_to_the_region(app, login, world):
    """HQ merges with masked values (it reveals them on the contacts' pages to compare); the merge
    record's before-images are masked the same way; the region's admin sees them in clear."""
    with app.app_context():
        hanoi = _contact(world.stations["hanoi"], name="Nguyen Van An", phone="+66812345678", phone_e164="+66812345678",
                         email="an.secret@example.org", email_normalized="an.secret@example.org")
        bangkok = _contact(world.stations["bangkok"], name="Nguyễn Văn An", phone="+66812345678",
                           phone_e164="+66812345678", notes="Allergic to peanuts")
    client = login("hq")
    page = client.get(f"/duplicates/merge/{hanoi}/{bangkok}").get_data(as_text=True)
    assert "Nguyen Van An" in page  # names stay visible
    for secret in ("an.secret@example.org", "Allergic to peanuts", "81 234 5678"):
        assert secret not in page, secret
    assert "a***@example.org" in page
    assert _merge_as(client, hanoi, bangkok, notes="both").status_code == 302
    with app.app_context():
        record_id = db.session.scalar(select(ContactMerge.id))
    detail = client.get(f"/duplicates/merges/{record_id}").get_data(as_text=True)
    for secret in ("an.secret@example.org", "Allergic to peanuts", "+66812345678"):
        assert secret not in detail, secret
    detail = login("asean_admin").get(f"/duplicates/merges/{record_id}").get_data(as_text=True)
    assert "an.secret@example.org" in detail and "Allergic to peanuts" in detail
