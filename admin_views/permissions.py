"""Who may do what: the one permission matrix of the panel.

Keys are view endpoints; values are the actions a role may take there.
Row scope (which rows) lives in workflows/scope.py and the facts of each role
(health data, field limits, who dispatches…) in models/roles.py; this says which
screens and buttons. The README prints this table (`flask --app app permissions`).
"""

from __future__ import annotations

from models.roles import policy, reads_health, roles_that

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
    "partner_contact",
    "partner_agreement",
    "council_meeting",
    "required_document",
)
# The pilot's events, who took part in them and the volunteers' register: kept by the
# roles that run the events (models.roles `keeps_events`: the coordinator and the social
# pedagogue) and the administrator; read by those who work with the families.
EVENTS = ("event", "event_attendance", "volunteer")
# The pilot's complex of measures and its money (the project's own funds): the
# administrator keeps it, the coordinator reads it; the pilot report sums it up.
BUDGET = ("project_measure",)
FAMILY_DATA = ("family", "person", "consent", "programme_enrolment")
SUPPORT = (
    "assessment",
    "visit",
    "task",
    "review",
)
SUPPORT_HISTORY = ("plan_revision", "task_assignment")
# Referrals are made and moved only on the case's referral page (referrals), which
# keeps their statuses, dates and the overdue task in step; their table is for reading,
# and the admin and the coordinator archive («Удалить») one made in error.
REFERRALS = ("referral",)
REFERRAL_TABLE = READ_EXPORT | {"delete"}
# Incoming referrals and raids are registered and decided only on their page (channels)
# and at intake; their tables are for reading, and the admin and the coordinator archive
# one made in error.
CHANNELS = ("incoming_referral", "social_raid")
# The ИПСС and its activities are written only in the ИПСС editor (ipss), which keeps
# the revisions and the tasks in step; their tables are for reading.
PLAN = ("support_plan", "plan_activity")
RENTAL = ("equipment_type", "equipment_unit", "loan", "reservation")
RENTAL_HISTORY = ("loan_extension",)
ACCOUNTS = ("user",)
AUDIT = ("audit_record",)
# The child's ИПРА is health data: only a role that reads health has its tables and its
# page (the administrator reads no health data, as with МСЭ and ИПРА documents).
REHAB = ("rehab_programme", "rehab_measure", "rehab_tsr")
# A case is created only through «Новое обращение» and changes status only through
# its workflow pages, so no role has «create» on the case table itself.
CASE_RIGHTS = FULL - {"create"}
# Loans and queue places are made only at the rental desk, appointments only at
# reception (which keeps the slot grid, the opening days and one visitor per slot).
NO_CREATE = frozenset({"create"})
# «Удалить» archives, so only tables whose rows can be archived have it. A task is
# cancelled at the board, a review held in the ИПСС and a queue place cancelled at the
# desk, each with its reason; an account is disabled («Отключить»), never deleted.
NO_DELETE = frozenset({"delete"})
ENDED_BY_WORKFLOW = ("task", "review")

# The workflow pages (admin_views/pages.py). The endpoint is the key; a role granted
# any action there may open the page, and each button asks for its own action:
# reception   L: the day view, C: book a slot
# intake      C: register a family and an application
# case_flow   D: the printable contract, E: assessment, decision and contract, closure
# ipss        L/D: read the plan, E: edit it, P: approve it, M: record a review
# my_tasks    L: one's tasks, E: start, record the result, complete
# board       L: the coordinator's board, E: assign, reassign, cancel
# rental_desk L: its pages, C: put a child of a family one may see in the queue
#             (how a district worker asks for equipment), E: lend, extend, return,
#             release, repair, write off, reorder the queue
# channels    D: the waiting referrals and the raids, each one's page, C: record an
#             incoming referral or a raid, E: mark a referral «не подтвердилось»
# referrals   D: a case's referrals and their letters, C: prepare one, E: mark it sent,
#             record the partner's answer (accepted, fulfilled with its result,
#             refused) or «нет ответа»
# council     L: the meetings one may see, D: a meeting's page and its protocol,
#             C: record a meeting, E: its participants, agenda cases and decisions
#             (the coordinator; a district worker for their own district's council)
# agreement_ledger D: an agreement's renewal pack (its referrals and council decisions)
# documents   L: the documents list and the «Документы» of the family's and the case's
#             pages, D: open a file, C: attach one, X: archive it, E: restore it
# report_*    L: the report's page, X: its .xlsx (figures within the user's scope)
# calls       L: «Звонки на сегодня» (families one may see), E: record a call's outcome
# message_preview L: the message templates with sample values
# ipra        D: an ИПРА's proposals, E: confirm an ИПСС activity or a rental queue place
RECEPTION = frozenset({"list", "create"})
INTAKE = frozenset({"create"})
CASE_FLOW = frozenset({"details", "edit"})
PLAN_AUTHOR = READ | {"edit", "approve", "review"}
MY_TASKS = frozenset({"list", "edit"})
BOARD = frozenset({"list", "edit"})
DESK_REQUEST = frozenset({"list", "create"})
DESK = frozenset({"list", "create", "edit"})
DOCUMENTS_ATTACH = READ | {"create"}
DOCUMENTS_KEEP = DOCUMENTS_ATTACH | {"delete"}
REPORTS = (
    "report_pilot",
    "report_regional",
    "report_agreements",
    "report_rental",
    "report_workload",
)
REPORT = frozenset({"list", "export"})
REFERRAL_PAGE = frozenset({"details", "create", "edit"})
COUNCIL = frozenset({"list", "details", "create", "edit"})
CHANNEL_PAGE = REFERRAL_PAGE
CALLS = frozenset({"list", "edit"})
IPRA_PAGE = frozenset({"details", "edit"})
# The outbox is written by the events and the worker only; the administrator reads it
# and edits the templates' texts (their codes are fixed).
OUTBOX = ("message",)
TEMPLATES = frozenset({"list", "details", "edit"})


def _grant(views, actions) -> dict[str, frozenset[str]]:
    return {view: frozenset(actions) for view in views}


def _events(role: str, otherwise: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """The events' rights of `role`: keeping them if it runs the events, else `otherwise`."""
    return _grant(EVENTS, FULL) if policy(role).keeps_events else otherwise


MATRIX: dict[str, dict[str, frozenset[str]]] = {
    "admin": {
        **_grant(REFERENCE + FAMILY_DATA + SUPPORT + RENTAL + EVENTS + BUDGET, FULL),
        **_grant(ENDED_BY_WORKFLOW, FULL - NO_DELETE),
        **_grant(ACCOUNTS, WRITE_EXPORT),
        **_grant(("loan", "appointment"), FULL - NO_CREATE),
        "reservation": FULL - NO_CREATE - NO_DELETE,
        "case": CASE_RIGHTS,
        **_grant(PLAN + SUPPORT_HISTORY + RENTAL_HISTORY, READ_EXPORT),
        **_grant(AUDIT, READ_EXPORT),
        **_grant(REFERRALS + CHANNELS, REFERRAL_TABLE),
        **_grant(OUTBOX, READ),
        "message_template": TEMPLATES,
        "message_preview": frozenset({"list"}),
        # One row, made on first reading: edited, never created or archived.
        "centre_settings": TEMPLATES,
        "case_flow": frozenset({"details"}),
        "ipss": READ,
        "referrals": frozenset({"details"}),
        "council": READ,
        "agreement_ledger": frozenset({"details"}),
        "rental_desk": DESK,
        "documents": DOCUMENTS_KEEP | {"edit"},
        **_grant(REPORTS, REPORT),
    },
    "coordinator": {
        **_grant(REFERENCE, READ_EXPORT),
        # The coordinator keeps the partners' people (the councils, the referrals).
        "partner_contact": FULL,
        **_events("coordinator", _grant(EVENTS, READ_EXPORT)),
        **_grant(BUDGET, READ_EXPORT),
        **_grant(FAMILY_DATA + SUPPORT, FULL),
        **_grant(ENDED_BY_WORKFLOW, FULL - NO_DELETE),
        "appointment": FULL - NO_CREATE,
        "case": CASE_RIGHTS,
        **_grant(PLAN + SUPPORT_HISTORY + RENTAL + RENTAL_HISTORY, READ_EXPORT),
        "reception": RECEPTION,
        "intake": INTAKE,
        "case_flow": CASE_FLOW,
        "ipss": PLAN_AUTHOR,
        **_grant(REFERRALS + CHANNELS, REFERRAL_TABLE),
        "referrals": REFERRAL_PAGE,
        "council": COUNCIL,
        "agreement_ledger": frozenset({"details"}),
        "channels": CHANNEL_PAGE,
        "my_tasks": MY_TASKS,
        "board": BOARD,
        "rental_desk": DESK_REQUEST,
        "documents": DOCUMENTS_KEEP,
        **_grant(REHAB, FULL),
        "ipra": IPRA_PAGE,
        **_grant(REPORTS, REPORT),
    },
    "district_worker": {
        **_grant(REFERENCE, READ),
        **_events("district_worker", _grant(EVENTS, READ)),
        **_grant(FAMILY_DATA + SUPPORT, WRITE_EXPORT),
        "appointment": WRITE_EXPORT - NO_CREATE,
        "case": CASE_RIGHTS - {"delete"},
        **_grant(PLAN, READ_EXPORT),
        **_grant(SUPPORT_HISTORY, READ),
        **_grant(("loan", "reservation"), READ),
        "reception": RECEPTION,
        "intake": INTAKE,
        "case_flow": CASE_FLOW,
        "ipss": PLAN_AUTHOR,
        **_grant(REFERRALS + CHANNELS, READ_EXPORT),
        "referrals": REFERRAL_PAGE,
        "council": COUNCIL,
        "channels": CHANNEL_PAGE,
        "my_tasks": MY_TASKS,
        "rental_desk": DESK_REQUEST,
        "documents": DOCUMENTS_ATTACH,
        **_grant(REHAB, WRITE_EXPORT),
        "ipra": IPRA_PAGE,
        "calls": CALLS,
        **_grant(("report_pilot", "report_regional", "report_workload"), REPORT),
    },
    **{
        role: {
            **_grant(
                (
                    "district",
                    "staff",
                    "service",
                    "programme",
                    "partner",
                    "partner_contact",
                ),
                READ,
            ),
            **_events(role, _grant(("event", "event_attendance"), READ)),
            **_grant(("family", "person", "case", "review", *PLAN), READ),
            **_grant(("assessment", "visit", "task"), WRITE),
            "appointment": WRITE - NO_CREATE,
            **_grant(SUPPORT_HISTORY, READ),
            "reception": RECEPTION,
            "case_flow": frozenset({"details"}),
            # The psychologist analyses and amends the programme and judges its effect.
            "ipss": READ | {"edit", "review"} if role == "psychologist" else READ,
            # The nurse escorts to clinics and supports the МСЭ, the lawyer and the
            # pedagogue refer to their partners: each records the referral and its result.
            **_grant(REFERRALS, READ),
            "referrals": REFERRAL_PAGE,
            "my_tasks": MY_TASKS,
            "documents": READ,
            # Those who read health data read the child's ИПРА and its proposals.
            **(
                {**_grant(REHAB, READ), "ipra": frozenset({"details"})}
                if reads_health(role)
                else {}
            ),
        }
        for role in roles_that("specialist")
    },
    "rental_clerk": {
        **_grant(("family", "person"), READ),
        **_grant(("equipment_type", "equipment_unit"), WRITE_EXPORT),
        **_grant(("loan", "reservation"), WRITE_EXPORT - NO_CREATE),
        **_grant(RENTAL_HISTORY, READ),
        "rental_desk": DESK,
        "documents": READ,
        "calls": CALLS,
        "report_rental": REPORT,
    },
    "viewer": _grant(REPORTS, REPORT),
}


def allowed(role: str | None, view: str, action: str) -> bool:
    return action in MATRIX.get(role or "", {}).get(view, frozenset())


LETTERS = dict(zip(ACTIONS, "LDCEAXPM", strict=True))


def matrix_table() -> str:
    """The matrix as the README's Markdown table: a row per section, a column per role."""
    roles = list(MATRIX)
    sections = list(dict.fromkeys(view for views in MATRIX.values() for view in views))
    lines = [
        "| раздел | " + " | ".join(roles) + " |",
        "|" + "---|" * (len(roles) + 1),
    ]
    for section in sections:
        cells = (
            "".join(LETTERS[a] for a in ACTIONS if a in MATRIX[role].get(section, ())) or "—"
            for role in roles
        )
        lines.append(f"| {section} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
