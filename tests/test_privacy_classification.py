"""Classification completeness: every mapped column — the core's and every installed plugin's —
is declared personal or not in ``liaison.privacy.classification``, and nothing declared is gone."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import Date, String

from liaison.models import Sensitivity, db
from liaison.privacy import classification


def test_every_mapped_column_is_classified_and_every_classification_exists(app):
    with app.app_context():
        assert classification.problems() == []
        mapped = {f"{t.name}.{c.name}" for t in db.metadata.sorted_tables for c in t.columns}
        assert set(classification.fields()) == mapped


def _metadata(change):
    """The app's tables as (name, columns), with ``change(name, columns)`` applied."""
    tables = []
    for table in db.metadata.sorted_tables:
        columns = [SimpleNamespace(name=column.name, type=column.type) for column in table.columns]
        tables.append(SimpleNamespace(name=table.name, columns=change(table.name, columns)))
    return SimpleNamespace(sorted_tables=tables)


def test_a_new_column_without_a_classification_is_reported(app):
    with app.app_context():
        grown = _metadata(lambda name, columns: columns + [SimpleNamespace(name="birth_date", type=Date())]
                          if name == "contacts" else columns)
        assert classification.problems(grown) == ["not classified: contacts.birth_date"]


def test_a_classification_of_a_removed_column_is_reported(app):
    with app.app_context():
        shrunk = _metadata(lambda name, columns: [c for c in columns if c.name != "messaging"]
                           if name == "contacts" else columns)
        assert classification.problems(shrunk) == ["classified but no such column: contacts.messaging"]


def test_core_declaration_covers_the_core_tables_only(app):
    """The core declares its own tables; plugins declare theirs (prefixed with their name)."""
    with app.app_context():
        plugin_tables = {t.name for t in db.metadata.sorted_tables} - classification.CORE_TABLES
        assert plugin_tables, "the bundled plugins' tables are mapped"
        assert all(name.startswith(("asean_language_title_", "europe_school_partnership_", "student_service_",
                                       "skills_alliance_"))
                   for name in plugin_tables)
        assert all(isinstance(value, Sensitivity) for value in classification.fields().values())


def test_masked_fields_and_key_columns_are_personal(app):
    with app.app_context():
        personal = classification.personal_columns("contacts")
        for column in app.config["PRIVACY_MASKED_FIELDS"]:
            assert personal[column] in (Sensitivity.NORMAL, Sensitivity.SENSITIVE), column
        assert personal["notes"] == Sensitivity.SENSITIVE
        assert classification.sensitivity("users", "password_hash") == Sensitivity.SENSITIVE
        assert classification.sensitivity("contacts", "station_id") == Sensitivity.NONE
        assert "id" not in personal and "station_id" not in personal
        # What an erasure scans: text columns only, the contact's e-mail and the leads' summaries among them.
        scanned = classification.text_columns_of_people()
        assert ("contacts", "email") in scanned and ("leads", "summary") in scanned
        assert ("contacts", "erased_at") not in scanned
        assert all(isinstance(db.metadata.tables[t].c[c].type, (String, db.JSON)) for t, c in scanned)
