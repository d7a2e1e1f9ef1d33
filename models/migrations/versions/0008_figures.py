"""Kept district figures for the reports; indexes for the board, the home page and the reports

Revision ID: 0008_figures
Revises: 0007_scale
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_figures"
down_revision = "0007_scale"
branch_labels = None
depends_on = None

# Everything below is literal, as it was when this migration was written: a later change
# of the models (models/figures.py, the partial indexes' conditions) needs a migration of
# its own and cannot change what this one does on a fresh install.
CHILD_ROWS = "relation = 'child' AND archived_at IS NULL"
OPEN_TASK_ROWS = "status IN ('new', 'assigned', 'in_progress')"
ACTIVE_CASE_ROWS = "status = 'active' AND archived_at IS NULL"
FIGURES = (
    "families",
    "children",
    "low_income_children",
    "disabled_children",
    "ovz_children",
    "dangerous_minors",
)

# The triggers that bump a district's tally when its families or members change.
POSTGRESQL_TRIGGERS = (
    """
    CREATE OR REPLACE FUNCTION district_tally_bump(target integer) RETURNS void AS $$
        INSERT INTO district_tally (district_id, version) SELECT target, 1 WHERE target IS NOT NULL ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1
    $$ LANGUAGE sql
    """,
    """
    CREATE OR REPLACE FUNCTION family_district_tally() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM district_tally_bump(NEW.district_id);
        ELSIF TG_OP = 'DELETE' OR OLD.district_id = NEW.district_id THEN
            PERFORM district_tally_bump(OLD.district_id);
        ELSE
            PERFORM district_tally_bump(LEAST(OLD.district_id, NEW.district_id));
            PERFORM district_tally_bump(GREATEST(OLD.district_id, NEW.district_id));
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION person_district_tally() RETURNS trigger AS $$
    DECLARE
        before_district integer;
        after_district integer;
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            before_district := (SELECT district_id FROM family WHERE id = OLD.family_id);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            after_district := (SELECT district_id FROM family WHERE id = NEW.family_id);
        END IF;
        IF before_district IS NOT DISTINCT FROM after_district
                OR before_district IS NULL OR after_district IS NULL THEN
            PERFORM district_tally_bump(COALESCE(before_district, after_district));
        ELSE
            PERFORM district_tally_bump(LEAST(before_district, after_district));
            PERFORM district_tally_bump(GREATEST(before_district, after_district));
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER family_district_tally
    AFTER INSERT OR DELETE OR UPDATE OF district_id, is_low_income, is_dangerous, archived_at ON family
    FOR EACH ROW EXECUTE FUNCTION family_district_tally()
    """,
    """
    CREATE TRIGGER person_district_tally
    AFTER INSERT OR DELETE OR UPDATE OF family_id, relation, birth_date, disability_status, archived_at ON person
    FOR EACH ROW EXECUTE FUNCTION person_district_tally()
    """,
)
DROP_POSTGRESQL_TRIGGERS = (
    "DROP TRIGGER IF EXISTS person_district_tally ON person",
    "DROP TRIGGER IF EXISTS family_district_tally ON family",
    "DROP FUNCTION IF EXISTS person_district_tally()",
    "DROP FUNCTION IF EXISTS family_district_tally()",
    "DROP FUNCTION IF EXISTS district_tally_bump(integer)",
)
SQLITE_TRIGGERS = (
    """CREATE TRIGGER family_tally_insert AFTER INSERT ON family BEGIN
INSERT INTO district_tally (district_id, version) SELECT NEW.district_id, 1 WHERE NEW.district_id IS NOT NULL ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1;
END""",
    """CREATE TRIGGER family_tally_delete AFTER DELETE ON family BEGIN
INSERT INTO district_tally (district_id, version) SELECT OLD.district_id, 1 WHERE OLD.district_id IS NOT NULL ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1;
END""",
    """CREATE TRIGGER family_tally_update AFTER UPDATE OF district_id, is_low_income, is_dangerous, archived_at ON family BEGIN
INSERT INTO district_tally (district_id, version) SELECT OLD.district_id, 1 WHERE OLD.district_id IS NOT NULL ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1;
INSERT INTO district_tally (district_id, version) SELECT NEW.district_id, 1 WHERE NEW.district_id IS NOT NULL ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1;
END""",
    """CREATE TRIGGER person_tally_insert AFTER INSERT ON person BEGIN
INSERT INTO district_tally (district_id, version) SELECT (SELECT district_id FROM family WHERE id = NEW.family_id), 1 WHERE (SELECT district_id FROM family WHERE id = NEW.family_id) IS NOT NULL ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1;
END""",
    """CREATE TRIGGER person_tally_delete AFTER DELETE ON person BEGIN
INSERT INTO district_tally (district_id, version) SELECT (SELECT district_id FROM family WHERE id = OLD.family_id), 1 WHERE (SELECT district_id FROM family WHERE id = OLD.family_id) IS NOT NULL ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1;
END""",
    """CREATE TRIGGER person_tally_update AFTER UPDATE OF family_id, relation, birth_date, disability_status, archived_at ON person BEGIN
INSERT INTO district_tally (district_id, version) SELECT (SELECT district_id FROM family WHERE id = OLD.family_id), 1 WHERE (SELECT district_id FROM family WHERE id = OLD.family_id) IS NOT NULL ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1;
INSERT INTO district_tally (district_id, version) SELECT (SELECT district_id FROM family WHERE id = NEW.family_id), 1 WHERE (SELECT district_id FROM family WHERE id = NEW.family_id) IS NOT NULL ON CONFLICT (district_id) DO UPDATE SET version = district_tally.version + 1;
END""",
)
DROP_SQLITE_TRIGGERS = (
    "DROP TRIGGER IF EXISTS family_tally_insert",
    "DROP TRIGGER IF EXISTS family_tally_delete",
    "DROP TRIGGER IF EXISTS family_tally_update",
    "DROP TRIGGER IF EXISTS person_tally_insert",
    "DROP TRIGGER IF EXISTS person_tally_delete",
    "DROP TRIGGER IF EXISTS person_tally_update",
)


def triggers(dialect: str) -> tuple[str, ...]:
    return POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS


def drop_triggers(dialect: str) -> tuple[str, ...]:
    return DROP_POSTGRESQL_TRIGGERS if dialect == "postgresql" else DROP_SQLITE_TRIGGERS


PARTIAL_INDEXES = (
    ("ix_person_child_family", "person", ["family_id", "birth_date", "disability_status"],
     CHILD_ROWS),
    ("ix_task_new_role_due", "task", ["role", "due_date", "id"], "status = 'new'"),
    ("ix_task_open_assignee", "task", ["assignee_id", "due_date"], OPEN_TASK_ROWS),
    ("ix_support_case_active_end", "support_case", ["planned_end_date", "id"], ACTIVE_CASE_ROWS),
    ("ix_task_done_closed", "task", ["closed_at", "assignee_id"], "status = 'done'"),
    ("ix_support_case_live_applied", "support_case", ["application_date"], "archived_at IS NULL"),
    ("ix_support_case_live_closed", "support_case", ["closed_on", "closure_reason"],
     "archived_at IS NULL"),
    ("ix_family_live_status", "family", ["status"], "archived_at IS NULL"),
)  # fmt: skip
PLAIN_INDEXES = (
    ("ix_plan_activity_planned", "plan_activity",
     ["planned_date", "service_id", "specialist_id", "status"]),
    ("ix_review_held_on", "review", ["held_on"]),
)  # fmt: skip


def upgrade():
    op.create_table(
        "district_tally",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name="fk_district_tally_district_id_district",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("district_id", name="pk_district_tally"),
    )
    op.create_table(
        "district_figures",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name="fk_district_figures_district_id_district",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("district_id", "on_date", name="pk_district_figures"),
    )
    for name, table, columns, where in PARTIAL_INDEXES:
        op.create_index(
            name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
        )
    for name, table, columns in PLAIN_INDEXES:
        op.create_index(name, table, columns)
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    for name, table, *_definition in (*PARTIAL_INDEXES, *PLAIN_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("district_figures")
    op.drop_table("district_tally")
