"""Who may do what: the one permission matrix of the panel.

Keys are view endpoints; values are the actions a role may take there.
Row scope (which rows) lives in workflows/scope.py; this says which screens
and buttons. The README prints this table (`flask --app app permissions`).
"""

from __future__ import annotations

READ = frozenset({"list", "details"})
WRITE = READ | {"create", "edit"}
FULL = WRITE | {"delete", "export"}
READ_EXPORT = READ | {"export"}
WRITE_EXPORT = WRITE | {"export"}
ACTIONS = ("list", "details", "create", "edit", "delete", "export")

REFERENCE = (
    "department",
    "district",
    "staff",
    "service",
    "programme",
    "partner",
    "partner_agreement",
    "council_meeting",
    "event",
)
FAMILY_DATA = ("family", "person", "consent", "programme_enrolment")
SUPPORT = (
    "case",
    "assessment",
    "support_plan",
    "plan_activity",
    "visit",
    "task",
    "review",
    "appointment",
)
SUPPORT_HISTORY = ("plan_revision", "task_assignment")
RENTAL = ("equipment_type", "equipment_unit", "loan", "reservation")
RENTAL_HISTORY = ("loan_extension",)
ACCOUNTS = ("user",)
AUDIT = ("audit_record",)
SPECIALISTS = ("psychologist", "social_pedagogue", "social_worker", "lawyer", "nurse")
# The reports (L: open the page, X: download the .xlsx); figures within the user's scope.
REPORTS = (
    "report_pilot",
    "report_regional",
    "report_agreements",
    "report_rental",
    "report_workload",
)
REPORT = frozenset({"list", "export"})


def _grant(views, actions) -> dict[str, frozenset[str]]:
    return {view: frozenset(actions) for view in views}


MATRIX: dict[str, dict[str, frozenset[str]]] = {
    "admin": {
        **_grant(REFERENCE + FAMILY_DATA + SUPPORT + RENTAL + ACCOUNTS, FULL),
        **_grant(SUPPORT_HISTORY + RENTAL_HISTORY, READ_EXPORT),
        **_grant(AUDIT, READ_EXPORT),
        **_grant(REPORTS, REPORT),
    },
    "coordinator": {
        **_grant(REFERENCE, READ_EXPORT),
        **_grant(FAMILY_DATA + SUPPORT, FULL),
        **_grant(SUPPORT_HISTORY + RENTAL + RENTAL_HISTORY, READ_EXPORT),
        **_grant(REPORTS, REPORT),
    },
    "district_worker": {
        **_grant(REFERENCE, READ),
        **_grant(FAMILY_DATA + SUPPORT, WRITE_EXPORT),
        **_grant(SUPPORT_HISTORY, READ),
        **_grant(("loan", "reservation"), READ),
        **_grant(("report_pilot", "report_regional", "report_workload"), REPORT),
    },
    **{
        role: {
            **_grant(("district", "staff", "service", "programme", "partner", "event"), READ),
            **_grant(("family", "person", "case", "support_plan", "review"), READ),
            **_grant(("assessment", "plan_activity", "visit", "task", "appointment"), WRITE),
            **_grant(SUPPORT_HISTORY, READ),
        }
        for role in SPECIALISTS
    },
    "rental_clerk": {
        **_grant(("family", "person"), READ),
        **_grant(("equipment_type", "equipment_unit", "loan", "reservation"), WRITE_EXPORT),
        **_grant(RENTAL_HISTORY, READ),
        **_grant(("report_rental",), REPORT),
    },
    "viewer": _grant(REPORTS, REPORT),
}

# Roles that may read health data: disability, groups, assessments, medical notes.
HEALTH_ROLES = frozenset(
    {"coordinator", "district_worker", "psychologist", "social_pedagogue", "nurse"}
)


# Where a role may see only a few fields of a table, those fields (columns and
# relationships); every other field is hidden from it in lists, details and forms.
FIELD_LIMITS: dict[str, dict[str, frozenset[str]]] = {
    "rental_clerk": {
        "family": frozenset({"surname", "address", "phone", "district"}),
        "person": frozenset({"last_name", "first_name", "middle_name", "family", "phone"}),
    },
}


def allowed(role: str | None, view: str, action: str) -> bool:
    return action in MATRIX.get(role or "", {}).get(view, frozenset())


def may_read_health(role: str | None) -> bool:
    return role in HEALTH_ROLES


def hidden_fields(role: str | None, table: str, fields, health: set[str]) -> set[str]:
    """The fields of `table` that `role` must not see."""
    hidden = set() if may_read_health(role) else set(health)
    limit = FIELD_LIMITS.get(role or "", {}).get(table)
    if limit is not None:
        hidden |= {f for f in fields if f not in limit}
    return hidden


def matrix_rows() -> list[tuple[str, str, str]]:
    """(role, view, actions) rows, for the README and the matrix test."""
    short = {"list": "L", "details": "D", "create": "C", "edit": "E", "delete": "A", "export": "X"}
    rows = []
    for role, views in MATRIX.items():
        for view, actions in sorted(views.items()):
            rows.append((role, view, "".join(short[a] for a in ACTIONS if a in actions)))
    return rows
