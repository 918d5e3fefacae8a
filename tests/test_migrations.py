"""Migrations: an empty database upgrades to exactly the models (core and plugin branches)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from liaison import create_app
from liaison.models import db
from liaison.search import include_object

from .conftest import _test_config


def test_session_database_built_by_migrations_matches_models(app):
    """The suite's database was built by ``db upgrade heads``; it must equal the models."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_empty_database_and_check(tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        # The PostgreSQL pass builds its scratch database with the same migrations already.
        url = database_url
    else:
        url = "sqlite:///" + str(tmp_path / "fresh.sqlite")
    app = create_app(_test_config(url))
    runner = app.test_cli_runner()
    if url != database_url:
        result = runner.invoke(args=["db", "upgrade", "heads"])
        assert result.exit_code == 0, result.output
    result = runner.invoke(args=["db", "check"])  # raises on any difference
    assert result.exit_code == 0 and result.exception is None, result.output
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        assert compare_metadata(context, db.metadata) == []


def test_student_service_programme_fields_become_rows_and_back(tmp_path, database_url):
    """0002_student_service carries a programme's comma-joined fields into rows (split on the
    separators Chinese and Western typing use) and joins them back on downgrade."""
    import os
    from contextlib import ExitStack

    from sqlalchemy import text

    from .conftest import _scratch_postgres

    with ExitStack() as stack:
        if database_url.startswith("sqlite"):
            url = "sqlite:///" + str(tmp_path / "programme_fields.sqlite")
        else:
            url = stack.enter_context(_scratch_postgres(
                os.environ.get("TEST_DATABASE_URL") or os.environ["DATABASE_URL"]))
        app = create_app(_test_config(url))
        runner = app.test_cli_runner()

        def migrate(*args):
            result = runner.invoke(args=["db", *args])
            assert result.exit_code == 0 and result.exception is None, result.output

        def rows(sql):
            with app.app_context(), db.engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql))]

        migrate("upgrade", "0001_student_service")
        with app.app_context(), db.engine.begin() as connection:
            for pid, fields in ((1, " AI，Robotics、ai; design ；"), (2, None), (3, " , "), (4, "x" * 130)):
                connection.execute(text("INSERT INTO student_service_programmes (id, kind, title, year, fields, "
                                        "created_at) VALUES (:id, 'internship', 'P', 2026, :fields, :now)"),
                                   {"id": pid, "fields": fields, "now": "2026-11-27 10:00:00"})
        migrate("upgrade", "0002_student_service")
        assert rows("SELECT programme_id, field, position FROM student_service_programme_fields "
                    "ORDER BY programme_id, position") == [
            (1, "AI", 0), (1, "Robotics", 1), (1, "design", 2), (4, "x" * 120, 0)]
        migrate("downgrade", "0001_student_service")
        assert rows("SELECT id, fields FROM student_service_programmes ORDER BY id") == [
            (1, "AI, Robotics, design"), (2, None), (3, None), (4, "x" * 120)]
        migrate("upgrade", "heads")
        assert rows("SELECT COUNT(*) FROM student_service_programme_fields") == [(4,)]
        migrate("check")
