"""Search keys: a normalised surname, name, address, contract, inventory and partner key

Revision ID: 0016_search
Revises: 0015_outbox

Each searched table gets its key (see models/keys.py): on PostgreSQL a stored
generated column (`translate(…)`), on SQLite a plain column kept by triggers after
every insert and every change of its sources, filled here by touching the sources.
A btree index per key serves prefix ranges (the keys compare bytewise: "C" on
PostgreSQL); a GIN trigram index serves the family's address and phone on PostgreSQL,
an FTS5 trigram table (`family_text`, external content, kept by the same triggers) on
SQLite. SQLite's statistics are refreshed (ANALYZE) for the new indexes.
Frozen: the expressions are copied here, not imported.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_search"
down_revision = "0015_outbox"
branch_labels = None
depends_on = None

UPPER = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯABCDEFGHIJKLMNOPQRSTUVWXYZ"
# One pair per letter to fold: upper → lower, «Ё» and «ё» → «е».
FOLDS: tuple[tuple[str, str], ...] = (
    *zip(UPPER, "абвгдеежзийклмнопрстуфхцчшщъыьэюяabcdefghijklmnopqrstuvwxyz", strict=True),
    ("ё", "е"),
)
_FOLD_TABLE = str.maketrans(dict(FOLDS))

# Surname endings and how many letters each loses (masculine, feminine, plural of a
# family): -ов/-ова/-овы, -ев, -ёв, -ин, -ын; -ский/-ская/-ские/-ской, -цкий…
# An ending is dropped only when at least two letters stay before it.
ENDINGS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (2, ("ская", "ский", "ские", "ской", "цкая", "цкий", "цкие", "цкой")),
    (1, ("ова", "ева", "ёва", "ина", "ына", "овы", "евы", "ёвы", "ины", "ыны")),
)
SEPARATOR = " "  # between the parts of a person's key
TEXT_SEPARATOR = "|"  # between a family's address and phone
SQUASHED = (" ", ",", ".")  # ignored in an address: «ул. Ленина, 1» = «ул Ленина 1»


def _forms(ending: str) -> tuple[str, str]:
    return ending, ending.upper()


FOLD_STEP = 15


def stem_sql(column: str) -> str:
    branches = []
    for drop, endings in ENDINGS:
        size = len(endings[0])
        likes = " OR ".join(
            f"{column} LIKE '%{form}'" for ending in endings for form in _forms(ending)
        )
        branches.append(
            f"WHEN length({column}) >= {size + 2} AND ({likes}) "
            f"THEN substr({column}, 1, length({column}) - {drop})"
        )
    return f"(CASE {' '.join(branches)} ELSE {column} END)"


def squash_sql(expression: str) -> str:
    for char in SQUASHED:
        expression = f"replace({expression}, '{char}', '')"
    return expression


def unfolded_sql(kind: str, columns: tuple[str, ...]) -> str:
    """The key's expression before its letters are folded."""
    if kind == "surname":
        (surname,) = columns
        return f"coalesce({stem_sql(surname)}, '')"
    if kind == "person":
        last, first, middle = columns
        return f" || '{SEPARATOR}' || ".join(
            (f"coalesce({stem_sql(last)}, '')", f"coalesce({first}, '')", f"coalesce({middle}, '')")
        )
    if kind == "text":
        address, phone = columns
        return (
            f"coalesce({squash_sql(address)}, '') || '{TEXT_SEPARATOR}' || "
            f"coalesce({squash_sql(phone)}, '')"
        )
    (value,) = columns
    return f"coalesce({value}, '')"


def postgresql_sql(kind: str, columns: tuple[str, ...]) -> str:
    sources = "".join(upper for upper, _lower in FOLDS)
    targets = "".join(lower for _upper, lower in FOLDS)
    return f"translate({unfolded_sql(kind, columns)}, '{sources}', '{targets}')"


def _fold_step(expression: str, step: int) -> str:
    for upper, lower in FOLDS[step * FOLD_STEP : (step + 1) * FOLD_STEP]:
        expression = f"replace({expression}, '{upper}', '{lower}')"
    return expression


# (table, key column) → (kind, source columns): every search key the database keeps.
KEYS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("family", "search_key"): ("surname", ("surname",)),
    ("family", "text_key"): ("text", ("address", "phone")),
    ("person", "search_key"): ("person", ("last_name", "first_name", "middle_name")),
    ("support_case", "contract_key"): ("fold", ("contract_number",)),
    ("equipment_unit", "inventory_key"): ("fold", ("inventory_number",)),
    ("partner", "name_key"): ("fold", ("name",)),
}


# SQLite has no trigram index; an FTS5 table with the trigram tokenizer over the family's
# text key (external content: it stores only the index) serves `LIKE '%…%'` of three
# letters or more. The key triggers keep it in step.
FAMILY_TEXT = "family_text"
FAMILY_TEXT_DDL = (
    f"CREATE VIRTUAL TABLE {FAMILY_TEXT} USING fts5(text_key, content='family', "
    "content_rowid='id', tokenize='trigram', detail='none')"
)
# A row is in the FTS index once its key is set (a row the migration has yet to fill is
# not): FTS5 must never be told to delete what it does not hold, or its index breaks.
_FTS_DELETE = (
    f"INSERT INTO {FAMILY_TEXT}({FAMILY_TEXT}, rowid, text_key) "
    "SELECT 'delete', id, text_key FROM family WHERE id = NEW.id AND text_key IS NOT NULL;"
)
_FTS_INSERT = (
    f"INSERT INTO {FAMILY_TEXT}(rowid, text_key) SELECT id, text_key FROM family "
    "WHERE id = NEW.id;"
)
FAMILY_TEXT_DELETE_TRIGGER = (
    "CREATE TRIGGER tr_family_text_delete AFTER DELETE ON family BEGIN "
    f"INSERT INTO {FAMILY_TEXT}({FAMILY_TEXT}, rowid, text_key) "
    "SELECT 'delete', OLD.id, OLD.text_key WHERE OLD.text_key IS NOT NULL; END"
)


def sqlite_triggers(table: str) -> list[str]:
    """CREATE statements keeping the keys of `table` in step on SQLite (for the family,
    its FTS5 table first)."""
    keys = {key: spec for (name, key), spec in KEYS.items() if name == table}
    steps = -(-len(FOLDS) // FOLD_STEP)
    statements = []
    for step in range(steps):
        sets = ", ".join(
            f"{key} = {_fold_step(unfolded_sql(kind, cols) if step == 0 else key, step)}"
            for key, (kind, cols) in keys.items()
        )
        # Names and expressions are the constants of KEYS and FOLDS, never input.
        statements.append(f"UPDATE {table} SET {sets} WHERE id = NEW.id;")  # noqa: S608
    body = " ".join(statements)
    sources = sorted({c for _kind, cols in keys.values() for c in cols})
    on_insert, on_update, extra = body, body, []
    if table == "family":
        on_insert = f"{body} {_FTS_INSERT}"
        on_update = f"{_FTS_DELETE} {body} {_FTS_INSERT}"
        extra = [FAMILY_TEXT_DDL, FAMILY_TEXT_DELETE_TRIGGER]
    return [
        *extra,
        f"CREATE TRIGGER tr_{table}_keys_insert AFTER INSERT ON {table} BEGIN {on_insert} END",
        f"CREATE TRIGGER tr_{table}_keys_update AFTER UPDATE OF {', '.join(sources)} "
        f"ON {table} BEGIN {on_update} END",
    ]


INDEXES = (
    ("ix_family_search_key", "family", "search_key"),
    ("ix_family_text_key", "family", "text_key"),
    ("ix_person_search_key", "person", "search_key"),
    ("ix_support_case_contract_key", "support_case", "contract_key"),
    ("ix_equipment_unit_inventory_key", "equipment_unit", "inventory_key"),
    ("ix_partner_name_key", "partner", "name_key"),
)
TABLES = ("equipment_unit", "family", "partner", "person", "support_case")


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for (table, key), (kind, columns) in KEYS.items():
        if postgresql:
            column = sa.Column(
                key,
                sa.Text(collation="C"),
                sa.Computed(postgresql_sql(kind, columns), persisted=True),
                nullable=True,
            )
        else:
            column = sa.Column(key, sa.Text(), nullable=True)
        op.add_column(table, column)
    if not postgresql:
        for table in TABLES:
            for statement in sqlite_triggers(table):
                op.execute(statement)
            source = next(cols[0] for (name, _key), (_kind, cols) in KEYS.items() if name == table)
            op.execute(f"UPDATE {table} SET {source} = {source}")  # noqa: S608 (constants)
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])
    # Statistics for the new columns and indexes, so that the planner uses them at once
    # (PostgreSQL's autovacuum would come to it later; SQLite never does by itself).
    op.execute("ANALYZE" if not postgresql else "ANALYZE family, person, support_case, equipment_unit, partner")
    if postgresql:
        op.create_index(
            "ix_family_text_key_trgm",
            "family",
            [sa.text("text_key gin_trgm_ops")],
            postgresql_using="gin",
        )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.drop_index("ix_family_text_key_trgm", table_name="family")
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
    if not postgresql:
        for table in TABLES:
            op.execute(f"DROP TRIGGER tr_{table}_keys_insert")
            op.execute(f"DROP TRIGGER tr_{table}_keys_update")
        op.execute("DROP TRIGGER tr_family_text_delete")
        op.execute(f"DROP TABLE {FAMILY_TEXT}")
    for table, key in KEYS:
        op.drop_column(table, key)
