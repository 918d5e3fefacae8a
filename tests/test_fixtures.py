"""The test fixtures themselves: a restored ``world`` is the world ``build_world`` makes."""
from __future__ import annotations

from sqlalchemy import select

from liaison.models import Contact, LeadStatus, TalentLead, db
from liaison.search import contact_condition, lead_condition

from .conftest import PASSWORD, _capture_rows, _empty_database, _restore_rows
from .factories import build_world, make_lead


def _by_table(captured):
    return {table.name: rows for table, rows in captured}


def test_restored_world_has_the_rows_ids_and_search_index_of_a_built_one(app):
    with app.app_context():
        built = build_world(PASSWORD)
        captured = _capture_rows()
        lead_ids = db.session.scalars(select(TalentLead.id).where(lead_condition("Lead of hanoi"))).all()
        contact_ids = db.session.scalars(select(Contact.id).where(contact_condition("Nguyen"))).all()
        _empty_database()
        assert _capture_rows() == []

        _restore_rows(captured)

        assert _by_table(_capture_rows()) == _by_table(captured)
        assert {"users", "stations", "leads", "contacts"} <= set(_by_table(captured))
        # The search index (SQLite FTS5 triggers, PostgreSQL trigram indexes) follows the rows.
        assert sorted(db.session.scalars(select(TalentLead.id).where(lead_condition("Lead of hanoi")))) \
            == sorted(lead_ids) == sorted(built.leads[k] for k in ("hanoi_draft", "hanoi_submitted"))
        assert db.session.scalars(select(Contact.id).where(contact_condition("Nguyen"))).all() \
            == contact_ids == [built.contacts["hanoi"]]
        # New rows continue after the restored ids (PostgreSQL sequences are set).
        new_id = make_lead(built, "milan", LeadStatus.DRAFT)
        assert new_id == max(built.leads.values()) + 1


def test_world_fixture_gives_a_fresh_copy_each_test(app, world):
    world.leads["extra"] = -1  # a test may change its World: the next test must not see it
    with app.app_context():
        assert db.session.get(TalentLead, world.leads["hanoi_draft"]).summary == "Lead of hanoi"


def test_world_fixture_gives_a_fresh_copy_each_test_again(app, world):
    assert "extra" not in world.leads
    with app.app_context():
        assert db.session.scalar(select(TalentLead.id).where(TalentLead.id == world.leads["milan_submitted"]))


def test_memoised_url_builders_are_shared_between_apps_and_build_each_rule_s_urls():
    from flask import Flask

    from .conftest import FAST_FIXTURES

    apps = []
    for _ in range(2):
        flask_app = Flask(__name__)
        flask_app.add_url_rule("/p/<int:page>", "page", lambda page: "")
        flask_app.add_url_rule("/p/", "first", lambda page: "", defaults={"page": 1})
        flask_app.add_url_rule("/q/<int:page>", "q", lambda page: "", defaults={"page": 7})
        flask_app.add_url_rule("/r/<name>", "r", lambda name: "")
        apps.append(flask_app)
    for flask_app in apps:
        adapter = flask_app.url_map.bind("localhost")
        assert adapter.build("page", {"page": 3}) == "/p/3"
        assert adapter.build("page", {"page": 3, "x": "y z"}) == "/p/3?x=y+z"
        assert adapter.build("first", {}) == "/p/"
        assert adapter.build("q", {}) == "/q/7"
        assert adapter.build("r", {"name": "a b/c"}) == "/r/a%20b/c"
    first, second = ({rule.endpoint: rule for rule in a.url_map.iter_rules()} for a in apps)
    assert (first["page"]._build.__func__ is second["page"]._build.__func__) is FAST_FIXTURES
    assert first["page"]._build.__func__ is not first["first"]._build.__func__
