"""Operator commands: `flask --app app create-user`, `backup`, `restore`, `tick`,
`audit seal`, `audit verify`, `db grant-app-role` and `notify deliver`."""

from __future__ import annotations

import datetime as dt
import subprocess
import tarfile
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate.cli import db as migrate_group
from sqlalchemy.exc import SQLAlchemyError

from models import ROLE, db
from models.declension import plural

from . import audit_chain
from .accounts import create_user
from .backup import (
    Discarded,
    backup,
    backup_documents,
    documents_archive_path,
    lost_since,
    restore,
    restore_documents,
    safety_backup_path,
)
from .dates import centre_today
from .db_roles import RoleError, grant_app_role
from .delivery import deliver, senders_from
from .schedule import run_tick
from .staff_notices import send_digests
from .storage import LocalStore


def _audit_key() -> bytes:
    try:
        return audit_chain.audit_key(
            Path(current_app.instance_path),
            current_app.config.get("PRODUCTION", False),
            current_app.config.get("OPORA_AUDIT_KEY"),
        )
    except audit_chain.ChainKeyError as error:
        raise click.ClickException(str(error)) from error


def _utc(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return f"{moment:%d.%m.%Y %H:%M} UTC"


def describe_discarded(lost: Discarded) -> str:
    """What a restore throws away, in words for the operator."""
    if not lost.audit_rows:
        return "После этой копии в базе ничего не записано: восстановление ничего не отбросит."
    rows = plural(lost.audit_rows, "запись", "записи", "записей")
    assert lost.newest_at is not None  # set whenever there are newer audit rows
    lines = [
        f"После этой копии (последняя запись журнала в ней — № {lost.backup_newest_id}) "
        f"в журнале аудита базы {rows}, последняя — {_utc(lost.newest_at)}. "
        "Восстановление их отбросит."
    ]
    if lost.rows_by_table:
        counts = ", ".join(f"{table} — {n}" for table, n in lost.rows_by_table.items())
        total = plural(sum(lost.rows_by_table.values()), "строка", "строки", "строк")
        lines.append(f"Из них созданы, изменены или удалены {total}: {counts}.")
    else:
        lines.append("Изменений данных среди них нет: только входы, просмотры и выгрузки.")
    return "\n".join(lines)


def _seal_line(result: audit_chain.SealResult) -> str:
    if not result.settled:
        return (
            "Журнал аудита: транзакция открыта дольше, чем ждёт запечатывание; "
            "записи запечатаются при следующем запуске."
        )
    head = f"; голова цепочки {result.head}" if result.head else ""
    return f"Запечатано записей журнала аудита: {result.sealed}{head}"


@click.command("grant-app-role")
@click.option("--role", required=True, help="The app's login, e.g. opora_app.")
@with_appcontext
def grant_app_role_command(role: str) -> None:
    """Give the app's login its privileges (run as the schema's owner after each upgrade)."""
    try:
        with db.engine.begin() as connection:
            statements = grant_app_role(connection, role)
    except RoleError as error:
        raise click.ClickException(str(error)) from error
    for statement in statements:
        click.echo(statement)
    click.echo(
        f"Права роли {role} выставлены: журнал аудита ей доступен только для чтения и добавления."
    )


@click.command("create-user")
@with_appcontext
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


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write a backup of the whole database to PATH (readable by its owner only)."""
    try:
        backup(db.engine, path)
        store = current_app.extensions["document_store"]
        files = None
        if isinstance(store, LocalStore):  # an S3 store is kept by its own versioning
            files = backup_documents(store, documents_archive_path(path))
    except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
        raise click.ClickException(f"Резервная копия не записана: {error}") from error
    click.echo(f"Резервная копия записана: {path}")
    if files is not None:
        click.echo(f"Файлы документов ({files}): {documents_archive_path(path)}")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--safety-backup",
    "safety",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to keep what is replaced; beside PATH, named by the time, by default.",
)
def restore_command(path: Path, yes: bool, safety: Path | None) -> None:
    """Replace the database with the backup at PATH, after a safety backup of it."""
    try:
        click.echo(describe_discarded(lost_since(db.engine, path)))
    except (OSError, RuntimeError, subprocess.CalledProcessError, SQLAlchemyError) as error:
        raise click.ClickException(f"Копия не прочитана: {error}") from error
    if not yes:
        click.confirm("Все текущие данные будут заменены копией. Продолжить?", abort=True)
    safety = safety or safety_backup_path(path)
    try:
        restore(db.engine, path, safety)
    except (OSError, ValueError, RuntimeError, subprocess.CalledProcessError) as error:
        kept = f" Страховочная копия: {safety}." if safety.exists() else ""
        raise click.ClickException(f"База не восстановлена: {error}.{kept}") from error
    click.echo(f"Страховочная копия заменённых данных: {safety}")
    click.echo(f"База восстановлена из {path}")
    store, archive = current_app.extensions["document_store"], documents_archive_path(path)
    if isinstance(store, LocalStore) and archive.exists():
        try:
            files = restore_documents(store, archive, documents_archive_path(safety))
        except (OSError, tarfile.TarError) as error:
            raise click.ClickException(f"Файлы документов не восстановлены: {error}") from error
        click.echo(f"Файлы документов восстановлены ({files}) из {archive}")


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """The audit trail's hash chain."""


@audit_group.command("seal")
@click.option(
    "--settle-timeout",
    type=float,
    default=audit_chain.SETTLE_TIMEOUT,
    show_default=True,
    help="Seconds to wait for open transactions (PostgreSQL).",
)
def audit_seal_command(settle_timeout: float) -> None:
    """Link the new audit rows to the hash chain (the tick does this too)."""
    click.echo(_seal_line(audit_chain.seal(db.engine, _audit_key(), settle_timeout)))


@audit_group.command("verify")
@click.option(
    "--expect-head",
    default=None,
    help="A head printed by an earlier verify or seal (ID:HASH), kept outside the database.",
)
def audit_verify_command(expect_head: str | None) -> None:
    """Recompute the hash chain; exit 1 naming the first broken link."""
    try:
        expected = audit_chain.Head.parse(expect_head) if expect_head else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--expect-head") from error
    verdict = audit_chain.verify(db.engine, _audit_key(), expected)
    if not verdict.ok:
        click.echo(f"Журнал аудита повреждён. {verdict.problem}", err=True)
        raise SystemExit(1)
    checked = plural(verdict.checked, "запись", "записи", "записей")
    click.echo(
        f"Журнал аудита цел: проверено {checked} с печатью, ещё не запечатано — {verdict.unsealed}."
    )
    if verdict.head:
        click.echo(
            f"Голова цепочки: {verdict.head} "
            "(сохраните её вне базы и передайте в --expect-head при следующей проверке)."
        )


@click.command("tick")
@with_appcontext
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
    click.echo(str(deliver(db.session(), senders_from(current_app.config))))
    click.echo(_seal_line(audit_chain.seal(db.engine, _audit_key())))


@click.group("notify", cls=AppGroup)
def notify_group() -> None:
    """Messages to families: the outbox."""


@notify_group.command("deliver")
@click.option("--limit", type=int, default=None, help="At most this many messages.")
@click.option(
    "--loop",
    type=float,
    default=None,
    help="Keep delivering, waking every this many seconds (a Procfile process).",
)
@click.option(
    "--batch",
    type=int,
    default=1,
    show_default=True,
    help="Messages per transaction (more: faster; a crash may resend up to this many).",
)
def notify_deliver_command(limit: int | None, loop: float | None, batch: int) -> None:
    """Send the messages due (SKIP LOCKED: safe with several workers at once)."""
    senders = senders_from(current_app.config)
    while True:
        click.echo(str(deliver(db.session(), senders, limit=limit, batch=max(1, batch))))
        if loop is None:
            break
        time.sleep(loop)


@notify_group.command("digest")
@with_appcontext
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="As of this date (YYYY-MM-DD); today in the centre's time zone by default.",
)
def notify_digest_command(on: dt.datetime | None) -> None:
    """Put today's e-mail digest of notices in the outbox for each member of staff who
    asked for it (once a day; the tick does the same)."""
    session = db.session()
    made = send_digests(session, on.date() if on else centre_today())
    session.commit()
    click.echo(f"Сводок уведомлений поставлено в очередь: {made}")


def init_commands(app: Flask) -> None:
    """Register the operator commands on the app's CLI (`grant-app-role` under `db`)."""
    for command in (
        create_user_command,
        backup_command,
        restore_command,
        audit_group,
        tick_command,
        notify_group,
    ):
        app.cli.add_command(command)
    migrate_group.add_command(grant_app_role_command)
