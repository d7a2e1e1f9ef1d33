"""The role policy: one row per role with every fact the domain knows about it.

"What may a nurse see?" has its answer here, in the nurse's row. Row scope
(workflows/scope.py), reports, task dispatching, the ИПСС, field visibility in
lists, forms, pickers and exports all ask this table; the screen matrix
(admin_views/permissions.py) says which screens and buttons a role has and takes
its specialists from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .accounts import ROLE


@dataclass(frozen=True)
class Role:
    """What the domain knows about one role."""

    code: str
    # Sees every family and case (no row scope).
    sees_all: bool = False
    # The reports count the whole centre for it, not only the rows it may see.
    whole_centre: bool = False
    # Reads health data: disability, groups, assessments, medical notes.
    reads_health: bool = False
    # Works with cases: sees those of its district or of its tasks and plan activities.
    works_cases: bool = False
    # May be made responsible for an ИПСС activity (and so for its task).
    takes_activities: bool = False
    # A specialist of the centre: reads families and cases, writes assessments,
    # visits and tasks, works from «Мои задачи».
    specialist: bool = False
    # Hands out tasks: assigns, reassigns and cancels them.
    dispatches: bool = False
    # Serves families at home, so takes only tasks of families of its own districts.
    district_bound: bool = False
    # Holds receptions: appointments may be booked with it.
    receives_visitors: bool = False
    # «Звонки на сегодня» holds only the rental point's calls (offers, loans), not the
    # district's (appointments and the rest), which the family's own workers make.
    rental_calls_only: bool = False
    # Records the district's coordination council (seed 000): one who sees every case
    # records any district's, any other only their own districts' councils.
    records_councils: bool = False
    # Runs the pilot's events (trainings, the campaign, clubs, holidays, excursions) and
    # records them with their participants and the volunteers (seed 002 §2.1, §3).
    keeps_events: bool = False
    # Where the role may see only a few fields of a table: table → those fields
    # (columns and relationships); every other field of it is hidden from the role.
    field_limits: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    # The role's everyday work: the screens (MATRIX endpoints) that lead its menu, in order.
    work: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return ROLE.label(self.code)


# Both go to the family's home: the district worker (участковый) serves the families
# of their district, the social worker (ОСОД) brings home services on a territory.
# Psychologists, social pedagogues, nurses and lawyers serve the whole centre.
_ROWS = (
    Role(
        "admin",
        sees_all=True,
        whole_centre=True,
        dispatches=True,
        work=("user", "staff"),
    ),
    Role(
        "coordinator",
        sees_all=True,
        whole_centre=True,
        reads_health=True,
        dispatches=True,
        receives_visitors=True,
        records_councils=True,
        keeps_events=True,
        work=("board", "intake"),
    ),
    Role(
        "district_worker",
        reads_health=True,
        works_cases=True,
        takes_activities=True,
        district_bound=True,
        receives_visitors=True,
        records_councils=True,
        work=("my_tasks", "intake"),
    ),
    Role(
        "psychologist",
        reads_health=True,
        works_cases=True,
        takes_activities=True,
        specialist=True,
        receives_visitors=True,
        work=("my_tasks", "reception"),
    ),
    Role(
        "social_pedagogue",
        reads_health=True,
        works_cases=True,
        takes_activities=True,
        specialist=True,
        receives_visitors=True,
        keeps_events=True,
        work=("my_tasks", "reception"),
    ),
    Role(
        "social_worker",
        works_cases=True,
        takes_activities=True,
        specialist=True,
        district_bound=True,
        receives_visitors=True,
        work=("my_tasks", "reception"),
    ),
    Role(
        "lawyer",
        works_cases=True,
        takes_activities=True,
        specialist=True,
        receives_visitors=True,
        work=("my_tasks", "reception"),
    ),
    Role(
        "nurse",
        reads_health=True,
        works_cases=True,
        takes_activities=True,
        specialist=True,
        receives_visitors=True,
        work=("my_tasks", "reception"),
    ),
    # The rental point sees of a family only what lending needs.
    Role(
        "rental_clerk",
        rental_calls_only=True,
        work=("rental_desk", "reservation"),
        field_limits=MappingProxyType(
            {
                "family": frozenset({"surname", "address", "phone", "district"}),
                "person": frozenset({"last_name", "first_name", "middle_name", "family", "phone"}),
            }
        ),
    ),
    # The management reads the whole centre's figures and no personal row anywhere.
    Role("viewer", whole_centre=True, work=("reports",)),
)

ROLES: Mapping[str, Role] = MappingProxyType({row.code: row for row in _ROWS})
# An unknown role (or nobody signed in) has no right at all.
NOBODY = Role("")

if list(ROLES) != ROLE.codes:
    raise RuntimeError("models/roles.py must have one row per role of models.accounts.ROLE")


def policy(role: str | None) -> Role:
    """The row of `role`; NOBODY for an unknown role."""
    return ROLES.get(role or "", NOBODY)


def roles_that(fact: str) -> tuple[str, ...]:
    """The roles for which `fact` (a field of Role) holds, in the order of ROLE."""
    return tuple(code for code, row in ROLES.items() if getattr(row, fact))


def sees_all(role: str | None) -> bool:
    return policy(role).sees_all


def counts_whole_centre(role: str | None) -> bool:
    return policy(role).whole_centre


def reads_health(role: str | None) -> bool:
    return policy(role).reads_health


def works_cases(role: str | None) -> bool:
    return policy(role).works_cases


def takes_activities(role: str | None) -> bool:
    return policy(role).takes_activities


def dispatches(role: str | None) -> bool:
    return policy(role).dispatches


def district_bound(role: str | None) -> bool:
    return policy(role).district_bound


def records_councils(role: str | None) -> bool:
    return policy(role).records_councils


def hidden_fields(
    role: str | None, table: str, fields: Iterable[str], health: set[str]
) -> set[str]:
    """The fields of `table` (its `fields`, the `health` ones among them) that `role` must not see."""
    row = policy(role)
    hidden = set() if row.reads_health else set(health)
    limit = row.field_limits.get(table)
    if limit is not None:
        hidden |= {f for f in fields if f not in limit}
    return hidden
