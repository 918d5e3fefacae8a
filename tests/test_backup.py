"""Backups are tested by restoring them: what was there comes back, what came later is gone."""
import shutil

import pytest
from sqlalchemy import func, select

from liaison.models import Contact, db


def _contacts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Contact))


def test_backup_and_restore_round_trip(app, runner, world, tmp_path, database_url):
    if database_url.startswith("postgres") and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore not installed")
    target = tmp_path / ("backup.sqlite" if database_url.startswith("sqlite") else "backup.dump")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and target.stat().st_size > 0
    before = _contacts(app)
    with app.app_context():
        db.session.add(Contact(station_id=world.stations["hanoi"], kind="student", name="After the backup"))
        db.session.commit()
    assert _contacts(app) == before + 1
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert _contacts(app) == before


def test_restore_refuses_a_missing_file(runner, tmp_path):
    result = runner.invoke(args=["restore", str(tmp_path / "nope.sqlite"), "--yes"])
    assert result.exit_code != 0
