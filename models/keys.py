"""Search keys: the normalised text the database keeps beside a name, and the same
normalisation in Python for what a user types.

A key is a generated column (`GENERATED ALWAYS AS (…)`: virtual on SQLite, stored on
PostgreSQL), so every write path — panel, workflow, CLI, bulk COPY — keeps it in
step, and a search compares plain indexed text: no function runs per row in a
predicate. The expression is plain SQL both databases evaluate alike (`replace`,
`substr`, `length`, `LIKE`, `CASE`); `lower()` is avoided because SQLite's folds
ASCII only (and the app replaces it by a Python function) and PostgreSQL's follows
the database's locale.

What a key holds:
- letters folded to lower case (Cyrillic and Latin), «ё» read as «е»;
- a surname reduced to the stem its masculine, feminine and plural forms share:
  «Иванов», «Иванова», «Ивановы» → «иванов»; «Ковальский», «Ковальская»,
  «Ковальские» → «ковальск»; «Пушкина» → «пушкин». A search for a surname compares
  stems from the beginning, so any form finds every form;
- a person's key is the surname's stem, then the first name, then the patronymic:
  a surname search matches surnames only — «Иванов» does not find every «Иванович».
"""

# ruff: noqa: S608 — every SQL text here is built from the constants of this module.
from __future__ import annotations

import re

from sqlalchemy import DDL, Computed, Table, Text, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import MappedColumn, mapped_column
from sqlalchemy.sql.compiler import DDLCompiler

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


def fold(value: str | None) -> str:
    """Lower case for Cyrillic and Latin, «ё» as «е» (the database's fold, in Python)."""
    return (value or "").translate(_FOLD_TABLE)


def _forms(ending: str) -> tuple[str, str]:
    return ending, ending.upper()


def surname_stem(value: str | None) -> str:
    """The surname without the ending its genders and plural differ in (not folded)."""
    value = value or ""
    for drop, endings in ENDINGS:
        size = len(endings[0])
        if len(value) >= size + 2:
            tail = value[-size:]
            if any(tail in _forms(ending) for ending in endings):
                return value[:-drop]
    return value


def surname_key(value: str | None) -> str:
    """The key of a family's surname: «Емельяновы» → «емельянов»."""
    return fold(surname_stem(value))


def person_key(last: str | None, first: str | None, middle: str | None) -> str:
    """The key of a person: surname stem, first name, patronymic."""
    return fold(SEPARATOR.join((surname_stem(last), first or "", middle or "")))


def squash(value: str | None) -> str:
    for char in SQUASHED:
        value = (value or "").replace(char, "")
    return value or ""


def text_key(address: str | None, phone: str | None) -> str:
    """The key of a family's address and phone, searched anywhere within."""
    return fold(squash(address) + TEXT_SEPARATOR + squash(phone))


# --- what a user types --------------------------------------------------------------------


def query_person_key(text: str) -> str:
    """The key prefix a typed name must match: the first word is a surname (any
    form), the next ones the first name and patronymic. «иванова мар» → «иванов мар»."""
    words = text.split()
    if not words:
        return ""
    return fold(SEPARATOR.join((_typed_stem(words[0]), *words[1:])))


def query_surname_key(word: str) -> str:
    return fold(_typed_stem(word.strip()))


def _typed_stem(word: str) -> str:
    """A surname as typed, perhaps unfinished: «Ковальска» is on its way to «Ковальская»,
    so the letter after «ск»/«цк» goes as a whole ending would."""
    stem = surname_stem(word)
    if stem == word and len(word) >= 4 and re.search(r"[сц]к[аиоАИО]$|[СЦ]К[АИО]$", word):
        return word[:-1]
    return stem


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """[low, high) of the keys starting with `prefix`, for an index range scan."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


# --- the same in SQL ----------------------------------------------------------------------
#
# PostgreSQL: a stored generated column, `translate(…)` folding the letters.
# SQLite: a plain column kept by triggers after each insert and each change of its
# sources. SQLite has no translate() and its parser refuses sixty nested replace()
# calls, so a trigger folds in steps of FOLD_STEP letters, one UPDATE each.

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
    f"INSERT INTO {FAMILY_TEXT}(rowid, text_key) SELECT id, text_key FROM family WHERE id = NEW.id;"
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
        statements.append(f"UPDATE {table} SET {sets} WHERE id = NEW.id;")
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


class KeyComputed(Computed):
    """A search key: generated on PostgreSQL, a trigger-kept column on SQLite."""

    inherit_cache = True


@compiles(KeyComputed, "postgresql")
def _stored_on_postgresql(element: KeyComputed, compiler: DDLCompiler, **kw: object) -> str:
    text = compiler.sql_compiler.process(element.sqltext, include_table=False, literal_binds=True)
    return f"GENERATED ALWAYS AS ({text}) STORED"


@compiles(KeyComputed, "sqlite")
def _kept_by_triggers_on_sqlite(element: KeyComputed, compiler: DDLCompiler, **kw: object) -> str:
    return ""


# Keys compare bytewise: SQLite's BINARY, PostgreSQL's "C" (so that a prefix is a range).
KEY_TYPE = Text().with_variant(Text(collation="C"), "postgresql")


def key_column(table: str, key: str) -> MappedColumn[str | None]:
    """A search key, never loaded unless asked for (it is searched, not shown)."""
    kind, columns = KEYS[(table, key)]
    return mapped_column(
        KEY_TYPE,
        KeyComputed(postgresql_sql(kind, columns)),
        nullable=True,
        deferred=True,
        info={"label": "Ключ поиска"},
    )


def install_sqlite_triggers(table: Table) -> None:
    for statement in sqlite_triggers(table.name):
        ddl = DDL(statement.replace("%", "%%"))  # DDL text is a %-format
        event.listen(table, "after_create", ddl.execute_if(dialect="sqlite"))
