"""Backups and restores with the database's own tools.

SQLite: the online backup API (a consistent copy while the app runs). PostgreSQL: ``pg_dump``
in the custom format and ``pg_restore``. Restoring replaces the whole database: stop the app
first.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def default_path(instance_path: str, database_uri: str) -> Path:
    suffix = "sqlite" if database_uri.startswith("sqlite") else "dump"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(instance_path) / "backups" / f"liaison-{stamp}.{suffix}"


def backup(database_uri: str, target: Path) -> Path:
    url = make_url(database_uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
        finally:
            source.close()
            destination.close()
    elif url.get_backend_name() == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)])
    else:
        raise BackupError(f"no backup method for {url.get_backend_name()}")
    return target


def restore(database_uri: str, source: Path) -> None:
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    url = make_url(database_uri)
    if url.get_backend_name() == "sqlite":
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(url.database)
        try:
            with live:
                backup_db.backup(live)
        finally:
            backup_db.close()
            live.close()
    elif url.get_backend_name() == "postgresql":
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq_url(url)}", str(source)])
    else:
        raise BackupError(f"no restore method for {url.get_backend_name()}")


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or f"{command[0]} failed")
