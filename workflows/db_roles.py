"""Two PostgreSQL logins: the owner runs the migrations, the app's login only reads and writes.

The owner login owns the schema (it runs `flask db upgrade`). The app's login (DATABASE_URL of
the web servers and the tick) owns nothing, so it can neither ALTER a table (no DISABLE
TRIGGER) nor drop one; it gets SELECT, INSERT, UPDATE, DELETE on the data tables and only
SELECT and INSERT on the audit trail and its hash chain — no UPDATE, DELETE or TRUNCATE there.
`flask db grant-app-role --role opora_app`, run as the owner after every upgrade, sets this.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# Written once, read for ever: the trail and its chain.
APPEND_ONLY_TABLES = ("audit_record", "audit_seal")
# The app reads the schema's version but never migrates.
READ_ONLY_TABLES = ("alembic_version",)


class RoleError(ValueError):
    """The role cannot serve as the app's login; the message is for the operator."""


def _check_role(connection: Connection, role: str) -> None:
    found = connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise RoleError(
            f"Роли {role} нет. Создайте её от имени администратора PostgreSQL: "
            f"CREATE ROLE {role} LOGIN PASSWORD '…';"
        )
    if found.rolsuper:
        raise RoleError(f"Роль {role} — суперпользователь: приложению нужна обычная роль.")
    owns = connection.execute(
        text(
            "SELECT pg_has_role(:role, tableowner, 'MEMBER') FROM pg_tables"
            " WHERE schemaname = current_schema() AND tablename = 'audit_record'"
        ),
        {"role": role},
    ).scalar()
    if owns is None:
        raise RoleError("В схеме нет таблицы audit_record: сначала выполните flask db upgrade.")
    if owns:
        raise RoleError(
            f"Роль {role} владеет таблицами (или входит в роль владельца): приложению нужна "
            "отдельная роль, которая ничем не владеет."
        )


def app_role_grants(connection: Connection, role: str) -> list[str]:
    """The statements that give `role` exactly the app's privileges, starting from none, so a
    second run changes nothing and a run after an upgrade covers the new tables."""
    quote = connection.dialect.identifier_preparer.quote
    name = quote(role)
    schema = quote(str(connection.execute(text("SELECT current_schema()")).scalar_one()))
    append_only = ", ".join(quote(t) for t in APPEND_ONLY_TABLES)
    read_only = ", ".join(quote(t) for t in READ_ONLY_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {name}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {name}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}",
        f"REVOKE UPDATE, DELETE ON {append_only} FROM {name}",
        f"REVOKE INSERT, UPDATE, DELETE ON {read_only} FROM {name}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {name}",
        # USAGE: nextval for new rows; SELECT: the sealer reads the audit sequence.
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}",
    ]


def grant_app_role(connection: Connection, role: str) -> list[str]:
    """Give the app's login `role` its privileges on every table of the schema, in one
    transaction of the caller's; returns the statements run. Idempotent; run as the owner."""
    if connection.dialect.name != "postgresql":
        raise RoleError("Роли входа бывают только в PostgreSQL; SQLite их не знает.")
    _check_role(connection, role)
    statements = app_role_grants(connection, role)
    for statement in statements:
        connection.execute(text(statement))
    return statements
