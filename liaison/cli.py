"""Command-line interface: ``flask --app liaison <command>`` (or the ``liaison`` script)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from .models import Role, User, db


@click.group("demo")
def demo_cli():
    """Demo data for trying the app."""


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only load into a database without any account.")
@with_appcontext
def demo_load(if_empty: bool):
    """Load the demo data (idempotent) and print the demo accounts."""
    from . import demo

    if if_empty and not demo.is_empty():
        click.echo("The database already has accounts: demo data not loaded.")
        accounts = demo.existing_accounts()
    else:
        result = demo.load()
        added = ", ".join(f"{number} {what}" for what, number in result.created.items())
        click.echo(f"Demo data loaded ({added} added).")
        accounts = result.accounts
    if accounts:
        click.echo("\nDemo accounts (demo data only; every one has the same password):")
        for email, role, password in accounts:
            click.echo(f"  {email:32} {role:16} {password}")


@click.group("users")
def users_cli():
    """Manage accounts."""


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option(help="Asked for when not given.")
@with_appcontext
def create_admin(email: str, name: str, password: str):
    """Create an administrator account (the first account of a real installation)."""
    from .admin.services import email_taken
    from .auth.services import normalise_email
    from flask import current_app

    if len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
        raise click.BadParameter(f"use at least {current_app.config['PASSWORD_MIN_LENGTH']} characters", param_hint="password")
    if email_taken(email):
        raise click.BadParameter("an account with this e-mail address exists", param_hint="email")
    user = User(email=normalise_email(email), name=name, role=Role.ADMIN)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Administrator {user.email} created.")


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path | None):
    """Write a consistent copy of the database to PATH (default: instance/backups/)."""
    from flask import current_app

    from . import backup

    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    target = path or backup.default_path(current_app.instance_path, uri)
    try:
        backup.backup(uri, target)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {target}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool):
    """Replace the whole database with the backup at PATH (stop the app first)."""
    from flask import current_app

    from . import backup

    if not yes:
        click.confirm("This replaces every record in the database. Continue?", abort=True)
    db.engine.dispose()  # no pooled connection may hold the old database open
    try:
        backup.restore(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Database restored from {path}")
    click.echo("Now run `flask --app liaison privacy reapply-erasures`: erasures made after this backup "
               "must be applied again.")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from .privacy.retention import retention_cli

    app.cli.add_command(retention_cli)
    from .privacy.erasure import privacy_cli

    app.cli.add_command(privacy_cli)
    from .duplicates.cli import duplicates_cli

    app.cli.add_command(duplicates_cli)
    from .imports.cli import import_cli

    app.cli.add_command(import_cli)


def main() -> None:
    from . import create_app

    FlaskGroup(create_app=create_app)()
