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
