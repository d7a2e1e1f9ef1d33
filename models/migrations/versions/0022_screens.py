"""A unit's size as a range: size_min and size_max, parsed from the size text

Revision ID: 0022_screens
Revises: 0021_events

«ширина сиденья 36–46 см» is found by «40» at the rental desk: the two bounds are kept
beside the text (both or neither, the lower not above the upper). Added in place, not by
a batch copy: SQLite's copy of `equipment_unit` would drop the search-key triggers on it
(0016). The existing sizes are parsed here where they name a number.
Frozen: the parsing is copied here, not imported.
"""

import re
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0022_screens"
down_revision = "0021_events"
branch_labels = None
depends_on = None

CHECK = (
    "(size_min IS NULL AND size_max IS NULL) OR "
    "(size_min IS NOT NULL AND size_max IS NOT NULL AND size_min <= size_max)"
)
RANGE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:[–—−-]|до)\s*(\d+(?:[.,]\d+)?)")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def bounds(size):
    found = RANGE.search(size or "")
    if found:
        low, high = (Decimal(part.replace(",", ".")) for part in found.groups())
        return min(low, high), max(low, high)
    number = NUMBER.search(size or "")
    if number:
        value = Decimal(number.group().replace(",", "."))
        return value, value
    return None, None


def upgrade():
    op.add_column("equipment_unit", sa.Column("size_min", sa.Numeric(6, 1), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("equipment_unit", sa.Column("size_max", sa.Numeric(6, 1), nullable=True))
        op.execute(
            "ALTER TABLE equipment_unit "
            f"ADD CONSTRAINT ck_equipment_unit_size_bounds CHECK ({CHECK})"
        )
    else:  # SQLite adds no constraint to a table but with a column: the CHECK is size_max's
        op.execute(
            "ALTER TABLE equipment_unit ADD COLUMN size_max NUMERIC(6, 1) "
            f"CONSTRAINT ck_equipment_unit_size_bounds CHECK ({CHECK})"
        )
    bind = op.get_bind()
    units = bind.execute(
        sa.text("SELECT id, size FROM equipment_unit WHERE size IS NOT NULL")
    ).fetchall()
    update = sa.text("UPDATE equipment_unit SET size_min = :low, size_max = :high WHERE id = :id")
    rows = [
        {"id": unit_id, "low": low, "high": high}
        for unit_id, size in units
        for low, high in [bounds(size)]
        if low is not None
    ]
    if rows:
        bind.execute(update, rows)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE equipment_unit DROP CONSTRAINT ck_equipment_unit_size_bounds")
    # On SQLite the CHECK is size_max's own, so it goes with it (then size_min is free).
    op.drop_column("equipment_unit", "size_max")
    op.drop_column("equipment_unit", "size_min")
