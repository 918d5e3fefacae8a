"""Command-line interface: ``flask --app liaison <command>`` (or the ``liaison`` script)."""
from __future__ import annotations

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
        return
    result = demo.load()
    added = ", ".join(f"{number} {what}" for what, number in result.created.items())
    click.echo(f"Demo data loaded ({added} added).")
    click.echo("\nDemo accounts (demo data only; every one has the same password):")
    for email, role, password in result.accounts:
        click.echo(f"  {email:32} {str(role):20} {password}")


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


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)


def main() -> None:
    from . import create_app

    FlaskGroup(create_app=create_app)()
