"""``flask --app liaison duplicates scan``: recompute name keys and candidate pairs."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("duplicates")
def duplicates_cli():
    """Duplicate contacts across stations."""


@duplicates_cli.command("scan")
@with_appcontext
def scan():
    """Recompute every contact's name keys and candidate pairs (after bulk inserts); dismissed
    pairs are kept."""
    from ..models import db
    from .matching import rebuild

    with db.engine.begin() as connection:
        count = rebuild(connection)
    click.echo(f"{count} contacts scanned.")
