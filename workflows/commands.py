"""Operator commands: `flask --app app create-user`, `backup`, `restore`, `tick`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import Flask

from models import ROLE, db

from .accounts import create_user
from .backup import backup, restore
from .dates import centre_today
from .schedule import run_tick


def init_commands(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLE.codes), required=True)
    @click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="Asked for when not given.",
    )
    @click.option("--staff-id", type=int, default=None)
    def create_user_command(username: str, role: str, password: str, staff_id: int | None) -> None:
        """Create a login account (the first administrator of a new install)."""
        try:
            user = create_user(username, role, password, staff_id)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Создана учётная запись {user.username} ({ROLE.label(user.role)}).")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(path: Path) -> None:
        """Write a backup of the whole database to PATH."""
        backup(db.engine, path)
        click.echo(f"Резервная копия записана: {path}")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(path: Path, yes: bool) -> None:
        """Replace the database with the backup at PATH."""
        if not yes:
            click.confirm("Все текущие данные будут заменены копией. Продолжить?", abort=True)
        restore(db.engine, path)
        click.echo(f"База восстановлена из {path}")

    @app.cli.command("tick")
    @click.option(
        "--date",
        "on",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Run as of this date (YYYY-MM-DD); today in the centre's time zone by default.",
    )
    def tick_command(on: dt.datetime | None) -> None:
        """Run the time-driven jobs once (idempotent; safe on several servers at once)."""
        today = on.date() if on else centre_today()
        for label, count in run_tick(db.session(), today):  # the scoped Session, not its proxy
            click.echo(f"{label}: {count}")
