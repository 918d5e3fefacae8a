"""Free-text search (liaison.search): folded, literal, indexed, scoped and kept in sync."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from liaison import search
from liaison.contacts import services as contact_services
from liaison.leads.queries import LeadFilters, filtered_leads
from liaison.models import Contact, TalentLead, User, db

from .factories import make_lead

SPECIAL = ['%', '_', '%%%', '___', "'", "''", '"', '""', '"a', '*', 'a*', '***', 'NEAR', 'NEAR(a b)',
           'a OR b', 'a AND b', 'NOT a', '-a', '^a', 'name:a', '(', ')', '{a}', ':', '\\', '\\%',
           '#', '#x', '#0', '#99999999999999999999', '\x00', 'a\x00b', '   ', '\t', '\u200b',
           'ＮＥＡＲ', '"NEAR"', "a' OR '1'='1", '王', '王"', '%王%', 'x' * 500]


@pytest.mark.parametrize("raw, folded", [
    ("Nguyễn Văn An", "nguyen van an"),
    ("NGUYỄN", "nguyen"),
    ("Đặng Thị", "dang thi"),
    ("Ｔｓｉｎｇｈｕａ　ＵＮＩ", "tsinghua uni"),  # full-width letters and space
    ("Straße", "strasse"),
    ("Nguyễn\tVăn\x00", "nguyen van"),
    ("a\x00b\x1f  c", "ab c"),
    ("  Søren \t Kierkegaard ", "soren kierkegaard"),
    ("王明", "王明"),
    ("김민준", "김민준"),  # Hangul survives NFKD (recomposed)
    (None, ""),
])
def test_fold(raw, folded):
    assert search.fold(raw) == folded


def test_search_texts_and_keys():
    assert search.lead_search_text("Quantum  Computing", None) == "quantum computing"
    assert search.contact_search_text("Nguyen", "阮文安", "Nguyễn", "Hanoi Univ", "A@X.org") == \
        "nguyen\n阮文安\nnguyen\nhanoi univ\na@x.org"
    keys = search.contact_search_keys("Li Wei", "王明华", None, "Jean-Pierre Lab")
    assert {"li", "wei", "王明华", "明华", "华", "jean", "pierre", "lab"} <= set(keys)
    assert len(keys) == len(set(keys))


def _leads(user_id: int, q: str) -> set[int]:
    user = db.session.get(User, user_id)
    return set(db.session.scalars(filtered_leads(user, LeadFilters(q=q)).with_only_columns(TalentLead.id)))


def _contacts(user_id: int, q: str) -> set[int]:
    user = db.session.get(User, user_id)
    return set(db.session.scalars(contact_services.search(user, q=q).with_only_columns(Contact.id)))


def _contact(world, station: str, **fields) -> int:
    contact = Contact(station_id=world.stations[station], kind="scholar", **fields)
    db.session.add(contact)
    db.session.commit()
    return contact.id


def test_contact_search_folds_and_finds_names_in_any_script(app, world):
    with app.test_request_context():
        hq = world.users["hq"]
        hanoi, milan = world.contacts["hanoi"], world.contacts["milan"]
        wang = _contact(world, "hanoi", name="Wang Ming", name_zh="王明", organisation="清华大学")
        wang_hua = _contact(world, "milan", name="Wang Minghua", name_zh="王明华", organisation="ＥＴＨ Zürich")
        for q in ("nguyen", "NGUYỄN VĂN", "guyễ", "阮文安", "an@example", "hanoi univ"):
            assert hanoi in _contacts(hq, q), q
        assert _contacts(hq, "王明") == {wang, wang_hua}  # two characters: the name-key path
        assert _contacts(hq, "明华") == {wang_hua}  # inside a name written without spaces
        assert _contacts(hq, "王") == {wang, wang_hua}
        assert _contacts(hq, "王明华") == {wang_hua}  # three: the trigram path
        assert _contacts(hq, "清华") == {wang}  # organisation, two characters
        assert _contacts(hq, "eth zurich") == {wang_hua}  # full-width and diacritics folded
        assert _contacts(hq, "zu") == {wang_hua}  # a word's start
        assert _contacts(hq, "wa") == {wang, wang_hua}
        assert milan in _contacts(hq, "ross")
        assert _contacts(hq, "nguyen x") == set()


def test_lead_search_matches_own_text_contact_and_number(app, world):
    with app.test_request_context():
        hq = world.users["hq"]
        lead = make_lead(world, "hanoi", "submitted", summary="Expert in Quantum Computing, 50% faster",
                         field="Physique théorique")
        assert _leads(hq, "quantum comp") == {lead}
        assert _leads(hq, "THEORIQUE") == {lead}  # the lead's field, folded
        assert _leads(hq, "50%") == {lead}
        assert _leads(hq, "5%") == set()  # % is literal
        hanoi_leads = {v for k, v in world.leads.items() if k.startswith("hanoi")} | {lead}
        assert _leads(hq, "nguyễn") == hanoi_leads  # through the contact
        assert _leads(hq, "阮文安") == hanoi_leads
        assert _leads(hq, "阮文") == hanoi_leads  # short query, contact name keys
        assert _leads(hq, f"#{lead}") == {lead}
        assert _leads(hq, str(lead)) >= {lead}


def test_special_characters_are_literal_and_never_raise(app, world):
    with app.test_request_context():
        hq = world.users["hq"]
        tricky = make_lead(world, "milan", "submitted", summary='Say "NEAR" a OR b * it\'s 100%_done (x)')
        for q in SPECIAL:
            _leads(hq, q)
            _contacts(hq, q)
        assert _leads(hq, '"near"') == {tricky}
        assert _leads(hq, "a or b") == {tricky}
        assert _leads(hq, "b * it's") == {tricky}
        assert _leads(hq, "100%_done") == {tricky}
        assert _leads(hq, "100%x") == set()
        assert _leads(hq, "(x)") == {tricky}
        assert _leads(hq, "a OR zzzz") == set()  # OR is not an operator
        assert _leads(hq, "NEAR(a b)") == set()
        assert _leads(hq, "qua*") == set()  # * is not a prefix operator


def test_scope_still_applies(app, world):
    with app.test_request_context():
        hanoi_volunteer, milan_volunteer = world.users["vol_hanoi"], world.users["vol_milan"]
        assert world.contacts["hanoi"] in _contacts(hanoi_volunteer, "nguyen")
        assert _contacts(milan_volunteer, "nguyen") == set()
        assert _contacts(milan_volunteer, "阮文") == set()
        assert _leads(milan_volunteer, "nguyen") == set()
        assert _leads(milan_volunteer, f"#{world.leads['hanoi_submitted']}") == set()
        assert _leads(hanoi_volunteer, f"#{world.leads['hanoi_submitted']}") == {world.leads["hanoi_submitted"]}


def test_updates_and_deletes_keep_the_index_in_sync(app, world):
    with app.test_request_context():
        hq = world.users["hq"]
        contact_id = _contact(world, "bangkok", name="Old Name", name_zh="李雷")
        assert _contacts(hq, "old name") == {contact_id}
        assert _contacts(hq, "李雷") == {contact_id}
        contact = db.session.get(Contact, contact_id)
        contact.name, contact.name_zh = "Han Meimei", "韩梅梅"
        db.session.commit()
        assert _contacts(hq, "old name") == set()
        assert _contacts(hq, "李雷") == set()
        assert _contacts(hq, "meimei") == {contact_id}
        assert _contacts(hq, "梅梅") == {contact_id}
        contact.notes = "not searched"  # a change that leaves the search text as it was
        db.session.commit()
        assert _contacts(hq, "meimei") == {contact_id}

        lead_id = make_lead(world, "bangkok", "submitted", summary="Robotics lab")
        lead = db.session.get(TalentLead, lead_id)
        lead.summary = "Marine biology"
        db.session.commit()
        assert _leads(hq, "robotics") == set()
        assert _leads(hq, "marine bio") == {lead_id}

        db.session.delete(db.session.get(Contact, contact_id))
        db.session.commit()
        assert _contacts(hq, "meimei") == set()
        assert _contacts(hq, "梅梅") == set()
        from liaison.models.contact import contact_search_keys as keys

        assert db.session.scalar(select(keys.c.key).where(keys.c.contact_id == contact_id)) is None
        if db.engine.dialect.name == "sqlite":
            for fts in search.FTS_TABLES:  # the FTS index agrees with its table, row for row
                db.session.execute(text(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)"))


def test_search_uses_the_trigram_index_on_postgresql(app, world):
    """On PostgreSQL the folded column is served by the pg_trgm GIN index."""
    with app.test_request_context():
        if db.engine.dialect.name != "postgresql":
            names = {row[0] for row in db.session.execute(text(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')"))}
            assert {"leads_fts", "contacts_fts", "leads_fts_ai", "leads_fts_au", "leads_fts_ad",
                    "contacts_fts_ai", "contacts_fts_au", "contacts_fts_ad"} <= names
            return
        # Plans from the table's statistics: the test's few rows make any scan cheap, and after
        # earlier tests the statistics may be stale. With plain scans off, the planner says
        # whether the trigram index can serve the condition at all — what this test is about.
        # The suite empties tables with DELETE (tests/conftest.py): the GIN indexes' pending lists
        # (fastupdate) grow from test to test, which the planner counts as a cost of using them.
        # Autovacuum flushes them in production; flush them here, as it would.
        for index in search.TRIGRAM_INDEXES:
            db.session.execute(text("SELECT gin_clean_pending_list(CAST(:index AS regclass))"), {"index": index})
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        db.session.execute(text("SET LOCAL enable_indexscan = off"))
        for statement in (select(Contact.id).where(search.contact_condition("nguyen")),
                          select(TalentLead.id).where(search.lead_condition("quantum"))):
            compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
            plan = "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}")))
            assert "search_trgm" in plan, plan
        keys = select(Contact.id).where(search.contact_condition("王明"))
        compiled = keys.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}")))
        assert "ix_contact_search_keys_key" in plan, plan


def test_migration_backfills_and_survives_a_batch_table_copy(tmp_path):
    """Rows written before 0003 are searchable after it; a later batch migration that copies
    the leads table (dropping its triggers) is repaired by migrations/env.py."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from flask_migrate import upgrade

    from liaison import create_app

    from .conftest import _test_config

    app = create_app(_test_config("sqlite:///" + str(tmp_path / "old.sqlite")))
    with app.app_context():
        upgrade(revision="0002_sort_keys")
        now = "2026-01-01 00:00:00"
        with db.engine.begin() as connection:
            for sql in (
                f"INSERT INTO regions (id, code, name, created_at, updated_at) VALUES (1, 'R', 'R', '{now}', '{now}')",
                "INSERT INTO stations (id, name, country, city, region_id, host_organisation, host_kind, status, "
                f"sort_key, created_at, updated_at) VALUES (1, 'S', 'VN', 'Hanoi', 1, 'H', 'other', 'active', 's', '{now}', '{now}')",
                "INSERT INTO contacts (id, station_id, kind, name, name_zh, organisation, sort_key, created_at, updated_at) "
                f"VALUES (1, 1, 'scholar', 'Nguyễn Thị Lan', '王明华', 'Viện Vật lý', 'x', '{now}', '{now}')",
                "INSERT INTO leads (id, contact_id, station_id, category, summary, field, priority, status, "
                f"status_changed_at, version, created_at, updated_at) VALUES (1, 1, 1, 'project', 'Solar Énergie', "
                f"'Physics', 2, 'draft', '{now}', 1, '{now}', '{now}')",
            ):
                connection.exec_driver_sql(sql)
        upgrade(revision="heads")
        assert db.session.scalars(search.contact_ids_matching("NGUYEN THI")).all() == [1]
        assert db.session.scalars(search.contact_ids_matching("vat ly")).all() == [1]
        assert db.session.scalars(search.contact_ids_matching("明华")).all() == [1]
        assert db.session.scalars(select(TalentLead.id).where(search.lead_condition("solar energie"))).all() == [1]
        db.session.remove()

        with db.engine.begin() as connection:  # what a later migration's batch_alter_table does
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            with Operations(MigrationContext.configure(connection)).batch_alter_table(
                    "leads", recreate="always") as batch_op:
                batch_op.alter_column("summary", existing_type=sa_text_type())
            names = {row[0] for row in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
            assert "leads_fts_ai" not in names  # the copy dropped the triggers...
        upgrade(revision="heads")  # ...and env.py puts them back after any upgrade
        db.session.add(TalentLead(contact_id=1, station_id=1, category="project", summary="Wind turbines",
                                  priority=2, status="draft"))
        db.session.commit()
        assert db.session.scalars(select(TalentLead.id).where(search.lead_condition("turbine"))).all() == [2]
        db.session.remove()
        db.engine.dispose()


def sa_text_type():
    from sqlalchemy import Text

    return Text()
