"""``flask --app liaison import contacts FILE --station ID [--mode create|update|skip] [--dry-run]
[--mapping JSON] [--as EMAIL]``: the web import's twin, for large files, with the same report."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from ..models import ImportBatch, Role, Station, User, db
from ..models.imports import ImportMode
from . import services
from .mapping import fold
from .parsing import FileRefused, notice_text


@click.group("import")
def import_cli():
    """Import records from a spreadsheet."""


def _actor(email: str | None) -> User:
    if email:
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"No account with the e-mail address {email}.")
        return user
    user = db.session.scalar(select(User).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id).limit(1))
    if user is None:
        raise click.ClickException("No administrator account: give --as EMAIL.")
    return user


def _mapping(batch: ImportBatch, text: str | None) -> dict[str, str]:
    """--mapping: {"header or column number": "field"}; the rest as recognised."""
    mapping = dict(batch.mapping)
    if not text:
        return mapping
    try:
        given = json.loads(text)
    except ValueError as exc:
        raise click.ClickException(f"--mapping is not valid JSON: {exc}") from None
    if not isinstance(given, dict):
        raise click.ClickException('--mapping must be a JSON object, e.g. {"姓名": "name", "3": "phone"}.')
    folded = {fold(h): str(i) for i, h in enumerate(batch.header)}
    for key, target in given.items():
        target = target or ""
        allowed = [t.key for t in services.targets(batch.record_type)]
        if target and target not in allowed:
            raise click.ClickException(f"Unknown field {target!r}; fields: {', '.join(allowed)}.")
        index = str(key) if str(key).isdigit() and int(key) < len(batch.header) else folded.get(fold(str(key)))
        if index is None:
            raise click.ClickException(f"No column {key!r} in the file.")
        mapping[index] = target
    return mapping


@import_cli.command("contacts")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--station", "station_id", type=int, required=True, help="The station's id.")
@click.option("--mode", type=click.Choice([m.value for m in ImportMode]), default=ImportMode.SKIP.value,
              show_default=True, help="What to do with rows that match a contact of the station.")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--mapping", "mapping_json", help='Column mapping as JSON, e.g. {"姓名": "name", "手机": "phone"}.')
@click.option("--leave-out-errors", is_flag=True, help="Import the good rows even if some have problems.")
@click.option("--as", "as_email", help="The acting user's e-mail (default: the first administrator).")
@with_appcontext
def import_contacts(path: Path, station_id: int, mode: str, dry_run: bool, mapping_json: str | None,
                    leave_out_errors: bool, as_email: str | None):
    """Import contacts from a CSV or XLSX file into a station."""
    _run("contacts", path, station_id, mode, dry_run, mapping_json, leave_out_errors, as_email)


@import_cli.command("leads")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--station", "station_id", type=int, required=True, help="The station's id.")
@click.option("--mode", type=click.Choice([m.value for m in ImportMode]), default=ImportMode.SKIP.value,
              show_default=True, help="create: a new contact for every row; update: a matching contact is updated; "
                                      "skip: a matching contact is used as it is.")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--mapping", "mapping_json", help='Column mapping as JSON, e.g. {"摘要": "lead_summary"}.')
@click.option("--leave-out-errors", is_flag=True, help="Import the good rows even if some have problems.")
@click.option("--as", "as_email", help="The acting user's e-mail (default: the first administrator).")
@with_appcontext
def import_leads(path: Path, station_id: int, mode: str, dry_run: bool, mapping_json: str | None,
                 leave_out_errors: bool, as_email: str | None):
    """Import leads with their contacts (each row: the person and a draft lead) into a station."""
    _run(services.LEADS, path, station_id, mode, dry_run, mapping_json, leave_out_errors, as_email)


def _run(record_type: str, path: Path, station_id: int, mode: str, dry_run: bool, mapping_json: str | None,
         leave_out_errors: bool, as_email: str | None) -> None:
    with force_locale("en"):
        actor = _actor(as_email)
        station = db.session.get(Station, station_id)
        if station is None:
            raise click.ClickException(f"No station {station_id}.")
        from ..permissions import acts_for_station

        if not acts_for_station(actor, station):
            raise click.ClickException(f"{actor.email} does not act for station {station_id} (or it is not active).")
        data = path.read_bytes()
        try:
            batch = services.stage(station, path.name, data, actor, max_rows=10**9, record_type=record_type)
        except FileRefused as exc:
            raise click.ClickException(str(exc.message)) from None
        batch.mapping = _mapping(batch, mapping_json)
        problems = services.set_mapping(batch, batch.mapping)
        if problems:
            services.discard(batch)
            raise click.ClickException(" ".join(problems))
        for notice in batch.notices:
            click.echo(("row %s: " % notice["row"] if notice.get("row") else "") + notice_text(notice))
        click.echo("Columns: " + ", ".join(f"{h} → {batch.mapping.get(str(i)) or '-'}" for i, h in enumerate(batch.header)))
        analysis = services.analyse(batch)
        for problem in analysis.problems[:200]:
            click.echo(f"row {problem.row}, {problem.column}: {problem.value!r}: {problem.reason}", err=True)
        if len(analysis.problems) > 200:
            click.echo(f"… and {len(analysis.problems) - 200} more problems", err=True)
        plan = analysis.planned(mode)
        duplicates = len(analysis.duplicate_rows)
        if dry_run:
            services.discard(batch)
            click.echo(f"Dry run: {plan['created']} would be created, {plan['updated']} updated, "
                       f"{plan['skipped']} left out; {plan['errors']} rows with problems, {duplicates} duplicates. "
                       "Nothing was written.")
            return
        with click.progressbar(length=len(analysis.rows), label="Importing") as bar:
            try:
                counts = services.commit(batch, mode, actor, leave_out_errors=leave_out_errors, progress=bar.update)
            except services.ImportRefused as exc:
                services.discard(db.session.get(ImportBatch, batch.id))
                raise click.ClickException(" ".join([str(exc.message), *exc.problems])) from None
        leads = f"{counts.get('leads', 0)} draft leads; contacts: " if record_type == services.LEADS else ""
        click.echo(f"Import #{batch.id}: {leads}{counts['created']} created, {counts['updated']} updated, "
                   f"{counts['skipped']} left out; {counts['errors']} rows with problems, {duplicates} duplicates.")


@import_cli.command("records")
@click.argument("type_key")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--station", "station_id", type=int, required=True, help="The station's id.")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--as", "as_email", help="The acting user's e-mail (default: the first administrator).")
@with_appcontext
def import_records(type_key: str, path: Path, station_id: int, dry_run: bool, as_email: str | None):
    """Import a plugin's record type (``liaison_import_types``), e.g. ``fixture_good.notes``."""
    with force_locale("en"):
        actor = _actor(as_email)
        station = db.session.get(Station, station_id)
        if station is None:
            raise click.ClickException(f"No station {station_id}.")
        try:
            batch, problems = services.import_records(type_key, station, path.name, path.read_bytes(), actor,
                                                      dry_run=dry_run)
        except (FileRefused, services.ImportRefused) as exc:
            raise click.ClickException(str(exc.message)) from None
        for problem in problems[:200]:
            click.echo(f"row {problem.row}, {problem.column}: {problem.value!r}: {problem.reason}", err=True)
        if problems:
            raise click.ClickException(f"{len(problems)} problems: nothing was written.")
        if batch is None:
            click.echo("Dry run: every row can be imported. Nothing was written.")
        else:
            click.echo(f"Import #{batch.id}: {batch.created_count} created.")
