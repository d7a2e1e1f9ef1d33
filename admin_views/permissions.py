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
ACTIONS = ("list", "details", "create", "edit", "delete", "export", "approve", "review")

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
# The rental desk (admin_views/rental_desk.py): «list» opens its pages, «create» puts a
# child of a family the user may see in the queue (how a district worker asks for
# equipment), «edit» does the rest (lend, extend, return, release, write off, reorder).
# Loans are made only there.
RENTAL_DESK = "rental_desk"
DESK_REQUEST = frozenset({"list", "create"})
DESK_ACT = frozenset({"list", "create", "edit"})
NO_CREATE = frozenset({"create"})
ACCOUNTS = ("user",)
AUDIT = ("audit_record",)
SPECIALISTS = ("psychologist", "social_pedagogue", "social_worker", "lawyer", "nurse")
# A case is created only through «Новое обращение» (intake), and its status,
# contract and closure change only through the case_flow pages.
CASE = ("case",)
CASE_RIGHTS = FULL - {"create"}
# The workflow pages (admin_views/case_flow.py): reception's day view (list) and
# booking (create); intake registers families and applications (create);
# case_flow shows the printable contract (details) and runs the steps (edit).
RECEPTION_DESK = frozenset({"list", "create"})
INTAKE = frozenset({"create"})
CASE_FLOW = frozenset({"details", "edit"})

# The workflow pages (admin_views/workflow.py). «edit» there means: save the ИПСС,
# record a task's result, assign on the board; «approve» approves an ИПСС and
# «review» records a monitoring review.
PLAN_AUTHOR = frozenset({"list", "details", "edit", "approve", "review"})
WORKFLOW = {
    "admin": {"ipss": READ},
    "coordinator": {
        "ipss": PLAN_AUTHOR,
        "my_tasks": frozenset({"list", "edit"}),
        "board": frozenset({"list", "edit"}),
    },
    "district_worker": {"ipss": PLAN_AUTHOR, "my_tasks": frozenset({"list", "edit"})},
    # The psychologist analyses and amends the programme and judges its effectiveness.
    "psychologist": {"ipss": frozenset({"list", "details", "edit", "review"})},
    **{role: {"ipss": READ} for role in ("social_pedagogue", "social_worker", "lawyer", "nurse")},
}


def _grant(views, actions) -> dict[str, frozenset[str]]:
    return {view: frozenset(actions) for view in views}


MATRIX: dict[str, dict[str, frozenset[str]]] = {
    "admin": {
        **_grant(REFERENCE + FAMILY_DATA + SUPPORT + RENTAL + ACCOUNTS, FULL),
        **_grant(("loan", "reservation"), FULL - NO_CREATE),
        RENTAL_DESK: DESK_ACT,
        **_grant(CASE, CASE_RIGHTS),
        "case_flow": frozenset({"details"}),
        **_grant(SUPPORT_HISTORY + RENTAL_HISTORY, READ_EXPORT),
        **_grant(AUDIT, READ_EXPORT),
    },
    "coordinator": {
        **_grant(REFERENCE, READ_EXPORT),
        **_grant(FAMILY_DATA + SUPPORT, FULL),
        **_grant(CASE, CASE_RIGHTS),
        **_grant(SUPPORT_HISTORY + RENTAL + RENTAL_HISTORY, READ_EXPORT),
        RENTAL_DESK: DESK_REQUEST,
        "reception": RECEPTION_DESK,
        "intake": INTAKE,
        "case_flow": CASE_FLOW,
    },
    "district_worker": {
        **_grant(REFERENCE, READ),
        **_grant(FAMILY_DATA + SUPPORT, WRITE_EXPORT),
        **_grant(CASE, CASE_RIGHTS - {"delete"}),
        **_grant(SUPPORT_HISTORY, READ),
        **_grant(("loan", "reservation"), READ),
        RENTAL_DESK: DESK_REQUEST,
        "reception": RECEPTION_DESK,
        "intake": INTAKE,
        "case_flow": CASE_FLOW,
    },
    **{
        role: {
            **_grant(("district", "staff", "service", "programme", "partner", "event"), READ),
            **_grant(("family", "person", "case", "support_plan", "review"), READ),
            **_grant(("assessment", "plan_activity", "visit", "task", "appointment"), WRITE),
            **_grant(SUPPORT_HISTORY, READ),
            "reception": RECEPTION_DESK,
            "case_flow": frozenset({"details"}),
        }
        for role in SPECIALISTS
    },
    "rental_clerk": {
        **_grant(("family", "person"), READ),
        **_grant(("equipment_type", "equipment_unit"), WRITE_EXPORT),
        **_grant(("loan", "reservation"), WRITE_EXPORT - NO_CREATE),
        **_grant(RENTAL_HISTORY, READ),
        RENTAL_DESK: DESK_ACT,
    },
    "viewer": {},
}
for _role, _views in WORKFLOW.items():
    MATRIX[_role].update(_views)
for _role in SPECIALISTS:
    MATRIX[_role]["my_tasks"] = frozenset({"list", "edit"})

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
    short = {
        "list": "L",
        "details": "D",
        "create": "C",
        "edit": "E",
        "delete": "A",
        "export": "X",
        "approve": "P",
        "review": "M",
    }
    rows = []
    for role, views in MATRIX.items():
        for view, actions in sorted(views.items()):
            rows.append((role, view, "".join(short[a] for a in ACTIONS if a in actions)))
    return rows
