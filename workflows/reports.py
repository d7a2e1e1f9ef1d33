"""The five reports: every figure is one SQL aggregate, counted within the user's scope.

No report loads rows into Python to count them; the database groups and
counts, Python only arranges the few aggregated numbers into tables. Who may
open which report is the permission matrix's business (admin_views); which
rows a report counts is decided here by `report_scope`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    SQLColumnExpression,
    and_,
    case,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from models import (
    Case,
    CouncilMeeting,
    District,
    DistrictFigures,
    DistrictTally,
    EquipmentType,
    EquipmentUnit,
    Event,
    EventAttendance,
    Family,
    Loan,
    Partner,
    PartnerAgreement,
    Person,
    PlanActivity,
    Programme,
    ProgrammeEnrolment,
    ProjectMeasure,
    Referral,
    Reservation,
    Review,
    Service,
    Staff,
    SupportPlan,
    Task,
    User,
    Visit,
)
from models.accounts import ROLE
from models.base import full_name
from models.cases import CLOSURE_REASON, EFFECTIVENESS, OPEN_TASK_STATUSES
from models.declension import plural
from models.events import FUNDING_SOURCE, event_attendance_child, event_staff, event_volunteer
from models.figures import FIGURES
from models.people import IDENTIFIED_BY
from models.reference import (
    CAMPAIGN_CHANNEL,
    EVENT_KIND,
    PARTNER_KIND,
    SERVICE_KIND,
    staff_district,
)
from models.roles import counts_whole_centre
from models.terms import (
    ADULT_AGE_MONTHS,
    AGREEMENT_EXPIRY_WARNING_DAYS,
    DUE_SOON_DAYS,
)

from .council import council_figures
from .dates import add_months
from .kept import kept, scope_key
from .scope import where_visible

REPORTS = {
    "pilot": "Ход пилотного проекта",
    "regional": "Статистика по участкам",
    "agreements": "Соглашения с партнёрами",
    "rental": "Пункт проката",
    "workload": "Нагрузка и сроки специалистов",
}


def report_scope(model: type[Any], user: User) -> ColumnElement[bool]:
    """The WHERE clause limiting what a report counts for `user`."""
    return true() if counts_whole_centre(user.role) else where_visible(model, user)


@dataclass
class Params:
    """A report's parameters: the period, a district and a department (both optional)."""

    date_from: dt.date
    date_to: dt.date
    district_id: int | None = None
    department_id: int | None = None
    zone: str = "Europe/Moscow"


@dataclass
class Table:
    """One table of a report: a title, headers, rows of figures and an optional total."""

    title: str
    headers: list[str]
    rows: list[list[Any]]  # a label, then figures
    total: list[Any] | None = None


@dataclass
class Report:
    slug: str
    title: str
    params: Params
    tables: list[Table]
    notes: list[str] = field(default_factory=list)


class days_between(FunctionElement[int]):
    """Whole days from `earlier` to `later` (two dates) on either database."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "postgresql")
def _days_between_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


# --- small building blocks ---------------------------------------------------------------


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _count(session: Session, model: type[Any], *conditions: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _in_district(
    family_id_column: SQLColumnExpression[Any], district_id: int | None
) -> ColumnElement[bool]:
    if district_id is None:
        return true()
    return family_id_column.in_(select(Family.id).where(Family.district_id == district_id))


def _case_in_district(
    case_id_column: SQLColumnExpression[Any], district_id: int | None
) -> ColumnElement[bool]:
    if district_id is None:
        return true()
    return case_id_column.in_(select(Case.id).where(_in_district(Case.family_id, district_id)))


def _of_department(
    staff_id_column: SQLColumnExpression[Any], department_id: int | None
) -> ColumnElement[bool]:
    if department_id is None:
        return true()
    return staff_id_column.in_(select(Staff.id).where(Staff.department_id == department_id))


def _between(column: SQLColumnExpression[Any], params: Params) -> ColumnElement[bool]:
    return column.between(params.date_from, params.date_to)


def child_condition(on: dt.date) -> ColumnElement[bool]:
    """A child: relation «child», born on or before `on` and younger than 18 on `on`."""
    cutoff = add_months(on, -ADULT_AGE_MONTHS)
    return and_(Person.relation == "child", Person.birth_date > cutoff, Person.birth_date <= on)


def _district_counts(
    on: dt.date,
    districts: Sequence[int] | None = None,
    person_scope: ColumnElement[bool] | None = None,
    family_scope: ColumnElement[bool] | None = None,
) -> Select[int, int, int, int, int, int, int, int]:
    """Per district (of `districts`, or all): its tally version and FIGURES on `on`.

    Children are persons «child» under 18 on `on`, not archived, of families not
    archived (within the scopes, if given). The version and the counts come from
    one statement, so from one snapshot: the counts are exact for that version.
    """
    in_districts = true() if districts is None else Family.district_id.in_(districts)
    children = (
        select(
            Person.family_id,
            func.count().label("children"),
            _count_if(Person.disability_status == "disabled").label("disabled"),
            _count_if(Person.disability_status == "ovz").label("ovz"),
        )
        .where(child_condition(on), Person.archived_at.is_(None))
        .where(true() if person_scope is None else person_scope)
        .where(
            true()
            if districts is None
            else Person.family_id.in_(select(Family.id).where(in_districts))
        )
        .group_by(Person.family_id)
        .subquery()
    )
    n = children.c.children
    return (
        select(
            District.id,
            func.coalesce(DistrictTally.version, 0),
            func.count(children.c.family_id),
            func.coalesce(func.sum(n), 0),
            func.coalesce(func.sum(case((Family.is_low_income, n), else_=0)), 0),
            func.coalesce(func.sum(children.c.disabled), 0),
            func.coalesce(func.sum(children.c.ovz), 0),
            func.coalesce(func.sum(case((Family.is_dangerous, n), else_=0)), 0),
        )
        .select_from(District)
        .outerjoin(DistrictTally, DistrictTally.district_id == District.id)
        .outerjoin(
            Family,
            and_(
                Family.district_id == District.id,
                Family.archived_at.is_(None),
                true() if family_scope is None else family_scope,
            ),
        )
        .outerjoin(children, children.c.family_id == Family.id)
        .where(true() if districts is None else District.id.in_(districts))
        .group_by(District.id, DistrictTally.version)
    )


def _named(values: Iterable[int]) -> dict[str, int]:
    return {key: int(value) for key, value in zip(FIGURES, values, strict=True)}


def _keep_figures(session: Session, on: dt.date, counted: Sequence[Sequence[int]]) -> None:
    """Store freshly counted figures (replacing any of the same date) and drop outdated ones."""
    rows = [
        {"district_id": district, "on_date": on, "version": version, **_named(values)}
        for district, version, *values in counted
    ]
    if not rows:
        return
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(DistrictFigures)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["district_id", "on_date"],
            set_={key: statement.excluded[key] for key in ("version", *FIGURES)},
        ),
        rows,
    )
    current = (
        select(DistrictTally.version)
        .where(DistrictTally.district_id == DistrictFigures.district_id)
        .scalar_subquery()
    )
    session.execute(
        delete(DistrictFigures).where(
            DistrictFigures.district_id.in_([row["district_id"] for row in rows]),
            DistrictFigures.version < current,
        )
    )


def district_figures(
    session: Session, on: dt.date, districts: list[int] | None = None
) -> dict[int, dict[str, int]]:
    """{district id: {figure: count}} on `on` over the whole centre (FIGURES).

    Figures kept for the district's current version are read; the others are
    counted (only those districts) and kept. The caller's commit keeps them.
    """
    kept_version = func.coalesce(DistrictTally.version, 0)
    kept = session.execute(
        select(DistrictFigures.district_id, *(getattr(DistrictFigures, k) for k in FIGURES))
        .outerjoin(DistrictTally, DistrictTally.district_id == DistrictFigures.district_id)
        .where(DistrictFigures.on_date == on, DistrictFigures.version == kept_version)
        .where(true() if districts is None else DistrictFigures.district_id.in_(districts))
    ).all()
    figures = {district: _named(values) for district, *values in kept}
    wanted = districts if districts is not None else session.scalars(select(District.id)).all()
    missing = [district for district in wanted if district not in figures]
    if missing:
        everything = districts is None and len(missing) == len(wanted)
        counted = session.execute(_district_counts(on, None if everything else missing)).all()
        _keep_figures(session, on, counted)
        figures.update({district: _named(values) for district, _version, *values in counted})
    return figures


def children_figures(
    session: Session, user: User, on: dt.date, district_id: int | None = None
) -> dict[int, dict[str, int]]:
    """{district id: {figure: count}} of the children `user` counts (see FIGURES).

    The whole-centre roles read the kept district figures; everybody else's
    figures are counted within their row scope.
    """
    districts = None if district_id is None else [district_id]
    if counts_whole_centre(user.role):
        return district_figures(session, on, districts)
    counted = session.execute(
        _district_counts(on, districts, report_scope(Person, user), report_scope(Family, user))
    )
    return {district: _named(values) for district, _version, *values in counted}


def _day_start(day: dt.date, zone: str) -> dt.datetime:
    """Midnight of `day` in the centre's zone, in UTC, as the timestamps are stored."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


# --- 2. regional statistics (seed 003) ---------------------------------------------------

REGIONAL_KEYS = (
    "families",
    "children",
    "low_income_children",
    "disabled_children",
    "dangerous_minors",
)


def regional_statistics(
    session: Session, user: User, on: dt.date, district_id: int | None = None
) -> dict[str, Any]:
    """Seed 003's figures per district and in total, on the date `on`.

    Over non-archived families and persons: families with children (≥1 child),
    children, children in low-income families, disabled children, and minors in
    a socially dangerous situation (children of families `is_dangerous`).
    Returns {"on", "rows": [{"district_id", "district", <keys>}], "total": {<keys>}}.
    """
    figures = children_figures(session, user, on, district_id)
    counted = [district for district, values in figures.items() if values["children"]]
    districts = select(District.id, District.name).order_by(District.name)
    if district_id is not None:
        districts = districts.where(District.id == district_id)
    elif not counts_whole_centre(user.role):
        own = (
            select(staff_district.c.district_id).where(staff_district.c.staff_id == user.staff_id)
            if user.staff_id
            else select(District.id).where(false())
        )
        districts = districts.where(or_(District.id.in_(own), District.id.in_(counted)))
    rows: list[dict[str, Any]] = []
    for district, name in session.execute(districts):
        values = figures.get(district, {})
        rows.append(
            {
                "district_id": district,
                "district": name,
                **{key: values.get(key, 0) for key in REGIONAL_KEYS},
            }
        )
    total = {key: sum(row[key] for row in rows) for key in REGIONAL_KEYS}
    return {"on": on, "rows": rows, "total": total}


REGIONAL_HEADERS = (
    "Участок",
    "Семей с детьми",
    "Детей",
    "Детей в малоимущих семьях",
    "Детей-инвалидов",
    "Несовершеннолетних в СОП",
)


def regional_report(session: Session, user: User, params: Params) -> Report:
    stats = regional_statistics(session, user, params.date_to, params.district_id)
    table = Table(
        f"На {params.date_to:%d.%m.%Y}",
        list(REGIONAL_HEADERS),
        [[row["district"], *(row[k] for k in REGIONAL_KEYS)] for row in stats["rows"]],
        ["Итого", *(stats["total"][k] for k in REGIONAL_KEYS)],
    )
    notes = [
        "Ребёнок — член семьи со степенью родства «ребёнок», которому на дату отчёта нет 18 лет; "
        "семьи и люди в архиве не учитываются.",
        "Несовершеннолетние в СОП — дети семей, отмеченных «в социально опасном положении».",
    ]
    return Report("regional", REPORTS["regional"], params, [table], notes)


# --- 1. pilot project progress (seed 002 §2.3) -------------------------------------------


def _table_json(table: Table) -> dict[str, Any]:
    return {
        "title": table.title,
        "headers": table.headers,
        "rows": table.rows,
        "total": table.total,
    }


def _table_of(kept_table: dict[str, Any]) -> Table:
    return Table(
        kept_table["title"], kept_table["headers"], kept_table["rows"], kept_table["total"]
    )


def kept_tables(
    session: Session,
    user: User,
    part: str,
    params: Params,
    count: Callable[[], list[Table]],
    today: dt.date | None = None,
) -> list[Table]:
    """The tables `count()` gives, kept for the user's scope and `params` (workflows/kept.py).

    Their cells are numbers, text and None, so they come back from JSON as they were."""
    key = ":".join(
        str(value)
        for value in (
            part,
            scope_key(user),
            params.date_from,
            params.date_to,
            params.district_id,
            params.department_id,
            params.zone,
            today,
        )
    )
    return kept(
        session,
        key,
        count,
        encode=lambda tables: [_table_json(t) for t in tables],
        decode=lambda tables: [_table_of(t) for t in tables],
    )


def pilot_report(session: Session, user: User, params: Params) -> Report:
    """Families and cases, closures by reason, children, activities, visits, reviews, loans,
    then the tables of the council, the channels, the events, the referrals, the programmes,
    the effectiveness and the budget. Each part is kept (`kept_tables`) until its tables change."""

    def part(name: str, count: Callable[[], Table]) -> list[Table]:
        return kept_tables(session, user, f"pilot.{name}", params, lambda: [count()])

    tables = kept_tables(
        session, user, "pilot.main", params, lambda: pilot_main(session, user, params)
    )
    tables += [
        *part("council", lambda: council_table(session, user, params)),
        *part("channels", lambda: families_by_channel(session, user, params)),
        *part("events", lambda: events_by_kind(session, user, params)),
        *part("trainings", lambda: trainings_and_listeners(session, user, params)),
        *part("campaign", lambda: campaign_by_channel(session, params)),
        *part("referrals", lambda: referrals_by_partner_kind(session, user, params)),
        *part("programmes", lambda: programme_enrolments(session, user, params)),
        *part("effectiveness", lambda: effectiveness_spread(session, user, params)),
        *project_budget(session),
    ]
    notes = [
        "Период относится к датам заявления, закрытия, визита, мониторинга, выдачи и возврата "
        "и к плановым датам мероприятий; дети — на последний день периода; семьи по способу "
        "выявления — к дате их регистрации в банке данных.",
        "Мероприятия проекта — по их датам (отделение — отделение организатора, участок — "
        "участок семей-участниц); направления — по дате отправки, срок ответа — дни от "
        "отправки до первого ответа партнёра (принято, исполнено или отказано).",
        "Бюджет проекта — на весь срок пилотного проекта: это средства проекта, "
        "услуги семьям бесплатны.",
        "Отделение ограничивает случаи (по ведущему специалисту), визиты, мониторинг и "
        "мероприятия его сотрудниками.",
    ]
    return Report("pilot", REPORTS["pilot"], params, tables, notes)


def pilot_main(session: Session, user: User, params: Params) -> list[Table]:
    """The pilot's main figures, closures by reason, and the activities by kind and by
    specialist."""
    d, dep, on = params.district_id, params.department_id, params.date_to
    case_where = (
        report_scope(Case, user),
        Case.archived_at.is_(None),
        _in_district(Case.family_id, d),
        _of_department(Case.lead_worker_id, dep),
    )
    children = children_figures(session, user, on, d).values()
    disabled = [
        sum(values[key] for values in children) for key in ("disabled_children", "ovz_children")
    ]
    main = [
        [
            "Семей на сопровождении (статус семьи)",
            _count(
                session,
                Family,
                Family.status == "supported",
                Family.archived_at.is_(None),
                report_scope(Family, user),
                true() if d is None else Family.district_id == d,
            ),
        ],
        [
            "Случаев на сопровождении (статус «сопровождение»)",
            _count(session, Case, Case.status == "active", *case_where),
        ],
        [
            "Новых заявлений за период",
            _count(session, Case, _between(Case.application_date, params), *case_where),
        ],
        [
            "Закрыто случаев за период",
            _count(session, Case, _between(Case.closed_on, params), *case_where),
        ],
        [f"Детей-инвалидов на {on:%d.%m.%Y}", disabled[0]],
        [f"Детей с ОВЗ на {on:%d.%m.%Y}", disabled[1]],
        [
            "Визитов за период",
            _count(
                session,
                Visit,
                Visit.archived_at.is_(None),
                _between(Visit.visited_on, params),
                report_scope(Visit, user),
                _case_in_district(Visit.case_id, d),
                _of_department(Visit.staff_id, dep),
            ),
        ],
        [
            "Проведено мониторингов за период",
            _count(
                session,
                Review,
                _between(Review.held_on, params),
                report_scope(Review, user),
                _case_in_district(Review.case_id, d),
                _of_department(Review.reviewer_id, dep),
            ),
        ],
        ["Выдано ТСР за период", _loans(session, user, params, Loan.issued_on)],
        ["Возвращено ТСР за период", _loans(session, user, params, Loan.returned_on)],
    ]
    reasons = dict(
        session.execute(
            select(Case.closure_reason, func.count())
            .where(_between(Case.closed_on, params), *case_where)
            .group_by(Case.closure_reason)
        ).all()
    )
    closures = [[label, reasons.get(code, 0)] for code, label in CLOSURE_REASON.pairs()]

    # One pass over the period's activities, by kind and specialist; both tables add it up.
    done = PlanActivity.status == "done"
    counted = session.execute(
        select(Service.kind, PlanActivity.specialist_id, func.count(), _count_if(done))
        .join(Service, PlanActivity.service_id == Service.id)
        .where(
            _between(PlanActivity.planned_date, params),
            report_scope(PlanActivity, user),
            true()
            if d is None
            else PlanActivity.plan_id.in_(
                select(SupportPlan.id).where(_case_in_district(SupportPlan.case_id, d))
            ),
            _of_department(PlanActivity.specialist_id, dep),
        )
        .group_by(Service.kind, PlanActivity.specialist_id)
    ).all()
    by_kind: dict[str, list[int]] = {}
    by_staff: dict[int | None, list[int]] = {}
    for kind, staff_id, total, made in counted:
        for row in (by_kind.setdefault(kind, [0, 0]), by_staff.setdefault(staff_id, [0, 0])):
            row[0] += int(total)
            row[1] += int(made)
    kinds = [[label, *by_kind.get(code, (0, 0))] for code, label in SERVICE_KIND.pairs()]
    names: dict[int | None, tuple[str | None, str | None, str]] = {
        staff_id: (last, first, full_name(last, first, middle))
        for staff_id, last, first, middle in session.execute(
            select(Staff.id, Staff.last_name, Staff.first_name, Staff.middle_name).where(
                Staff.id.in_([key for key in by_staff if key is not None])
            )
        )
    }
    unassigned = (None, None, "не назначен")
    specialists = [
        [names.get(staff_id, unassigned)[2], *sums]
        for staff_id, sums in sorted(
            by_staff.items(),
            key=lambda item: (item[0] is None, names.get(item[0], unassigned)[:2]),
        )
    ]
    tables = [
        Table("Основные показатели", ["Показатель", "Значение"], main),
        Table(
            "Закрытые за период случаи по причинам",
            ["Причина закрытия", "Случаев"],
            closures,
            ["Итого", sum(r[1] for r in closures)],
        ),
        Table(
            "Мероприятия ИПСС за период по видам помощи",
            ["Вид помощи", "Запланировано", "Выполнено"],
            kinds,
            ["Итого", sum(r[1] for r in kinds), sum(r[2] for r in kinds)],
        ),
        Table(
            "Мероприятия ИПСС за период по специалистам",
            ["Специалист", "Запланировано", "Выполнено"],
            specialists,
            ["Итого", sum(r[1] for r in specialists), sum(r[2] for r in specialists)],
        ),
    ]
    return tables


def council_table(session: Session, user: User, params: Params) -> Table:
    """«Заседания координационного совета» of the period: meetings held, cases discussed,
    decisions taken and carried out (within the user's scope of meetings)."""
    rows = council_figures(
        session,
        report_scope(CouncilMeeting, user),
        params.date_from,
        params.date_to,
        params.district_id,
    )
    return Table("Заседания координационного совета", ["Показатель", "Значение"], rows)


def families_by_channel(session: Session, user: User, params: Params) -> Table:
    """«Семьи по способу выявления»: the families registered in the period, by how they were
    identified, partner referrals also by the kind of the partner (one grouped count)."""
    start = _day_start(params.date_from, params.zone)
    end = _day_start(params.date_to + dt.timedelta(days=1), params.zone)
    counted = session.execute(
        select(Family.identified_by, Partner.kind, func.count())
        .select_from(Family)
        .outerjoin(Partner, Partner.id == Family.identified_partner_id)
        .where(
            Family.archived_at.is_(None),
            Family.created_at >= start,
            Family.created_at < end,
            report_scope(Family, user),
            true() if params.district_id is None else Family.district_id == params.district_id,
        )
        .group_by(Family.identified_by, Partner.kind)
    ).all()
    by_channel: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    for channel, kind, number in counted:
        by_channel[channel] = by_channel.get(channel, 0) + int(number)
        if channel == "partner" and kind is not None:
            by_kind[kind] = by_kind.get(kind, 0) + int(number)
    rows: list[list[Any]] = []
    for code, label in IDENTIFIED_BY.pairs():
        rows.append([label, by_channel.get(code, 0)])
        if code == "partner":
            rows += [
                [f"в т. ч. {kind_label}", by_kind[kind]]
                for kind, kind_label in PARTNER_KIND.pairs()
                if by_kind.get(kind)
            ]
    return Table(
        "Семьи по способу выявления (зарегистрированы за период)",
        ["Как выявлена", "Семей"],
        rows,
        ["Итого", sum(by_channel.values())],
    )


# --- 1a. the pilot's events, referrals, programmes, effectiveness and budget --------------
# Each table is its own function so that pilot_report only lists them.


def _live_events(params: Params) -> tuple[ColumnElement[bool], ...]:
    return (
        Event.archived_at.is_(None),
        _between(Event.held_on, params),
        _of_department(Event.organiser_id, params.department_id),
    )


def _attendances(user: User, params: Params) -> tuple[ColumnElement[bool], ...]:
    """The live attendances of families the report counts for `user` (row scope, district)."""
    return (
        EventAttendance.archived_at.is_(None),
        report_scope(EventAttendance, user),
        _in_district(EventAttendance.family_id, params.district_id),
    )


def _by_kind(session: Session, query: Select[str, int]) -> dict[str, int]:
    return {kind: int(n) for kind, n in session.execute(query).all()}


def events_by_kind(session: Session, user: User, params: Params) -> Table:
    """Events of the period by kind, with their attendees: families and children (within
    the user's scope), staff and volunteers."""
    where = _live_events(params)
    counted = _by_kind(session, select(Event.kind, func.count()).where(*where).group_by(Event.kind))
    families = _by_kind(
        session,
        select(Event.kind, func.count())
        .select_from(EventAttendance)
        .join(Event, EventAttendance.event_id == Event.id)
        .where(*where, *_attendances(user, params))
        .group_by(Event.kind),
    )
    children = _by_kind(
        session,
        select(Event.kind, func.count())
        .select_from(event_attendance_child)
        .join(EventAttendance, EventAttendance.id == event_attendance_child.c.attendance_id)
        .join(Event, EventAttendance.event_id == Event.id)
        .where(*where, *_attendances(user, params))
        .group_by(Event.kind),
    )
    listeners = [
        _by_kind(
            session,
            select(Event.kind, func.count())
            .select_from(link)
            .join(Event, Event.id == link.c.event_id)
            .where(*where)
            .group_by(Event.kind),
        )
        for link in (event_staff, event_volunteer)
    ]
    rows: list[list[Any]] = [
        [
            label,
            counted.get(code, 0),
            families.get(code, 0),
            children.get(code, 0),
            listeners[0].get(code, 0),
            listeners[1].get(code, 0),
        ]
        for code, label in EVENT_KIND.pairs()
    ]
    return Table(
        "Мероприятия проекта по видам",
        ["Вид мероприятия", "Мероприятий", "Семей", "Детей", "Сотрудников", "Волонтёров"],
        rows,
        ["Итого", *(sum(r[i] for r in rows) for i in range(1, 6))],
    )


def trainings_and_listeners(session: Session, user: User, params: Params) -> Table:
    """Trainings of the period and who attended: visits and distinct people."""
    where = (*_live_events(params), Event.kind == "training")
    rows: list[list[Any]] = [["Проведено обучений", _count(session, Event, *where)]]
    for link, column_, who in (
        (event_staff, event_staff.c.staff_id, "сотрудников"),
        (event_volunteer, event_volunteer.c.volunteer_id, "волонтёров"),
    ):
        visits, people = session.execute(
            select(func.count(), func.count(column_.distinct()))
            .select_from(link)
            .join(Event, Event.id == link.c.event_id)
            .where(*where)
        ).one()
        rows.append([f"Обучено {who} (посещений)", int(visits)])
        rows.append([f"Обучено {who} (человек)", int(people)])
    return Table("Обучение специалистов и волонтёров", ["Показатель", "Значение"], rows)


def campaign_by_channel(session: Session, params: Params) -> Table:
    """Items of the information campaign of the period by channel: their print run and reach."""
    counted = {
        channel: (int(n), int(run or 0), int(reach or 0))
        for channel, n, run, reach in session.execute(
            select(
                Event.channel,
                func.count(),
                func.coalesce(func.sum(Event.print_run), 0),
                func.coalesce(func.sum(Event.reach), 0),
            )
            .where(*_live_events(params), Event.kind == "info_campaign")
            .group_by(Event.channel)
        ).all()
    }
    rows: list[list[Any]] = [
        [label, *counted.get(code, (0, 0, 0))] for code, label in CAMPAIGN_CHANNEL.pairs()
    ]
    return Table(
        "Информационная кампания по каналам",
        ["Канал", "Материалов", "Тираж, экз.", "Охват, чел."],
        rows,
        ["Итого", *(sum(r[i] for r in rows) for i in range(1, 4))],
    )


def median(histogram: Iterable[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many times), None when there are none."""
    pairs = sorted((int(v), int(n)) for v, n in histogram if n)
    total = sum(n for _, n in pairs)
    if not total:
        return None
    wanted = ((total - 1) // 2, total // 2)  # the middle one, or the middle two
    found: list[int] = []
    seen = 0
    for value, n in pairs:
        found += [value for position in wanted if seen <= position < seen + n]
        seen += n
    return sum(found) / 2


def referrals_by_partner_kind(session: Session, user: User, params: Params) -> Table:
    """Referrals sent in the period by the partner's kind: answered, without an answer,
    and the median days from sending to the partner's first answer.

    The database gives each kind's answer times as a histogram (days → referrals), so
    the median is the same on both databases and no referral row comes to Python."""
    answered = func.coalesce(Referral.accepted_on, Referral.answered_on)
    where = (
        Referral.archived_at.is_(None),
        _between(Referral.sent_on, params),
        report_scope(Referral, user),
        _case_in_district(Referral.case_id, params.district_id),
        _of_department(Referral.handled_by_id, params.department_id),
    )
    counts = {
        kind: (int(sent), int(got), int(silent))
        for kind, sent, got, silent in session.execute(
            select(
                Partner.kind,
                func.count(),
                _count_if(answered.is_not(None)),
                _count_if(Referral.status == "no_answer"),
            )
            .join(Partner, Referral.partner_id == Partner.id)
            .where(*where)
            .group_by(Partner.kind)
        ).all()
    }
    histograms: dict[str, list[tuple[int, int]]] = {}
    waited = days_between(answered, Referral.sent_on)
    for kind, days, n in session.execute(
        select(Partner.kind, waited, func.count())
        .join(Partner, Referral.partner_id == Partner.id)
        .where(*where, answered.is_not(None))
        .group_by(Partner.kind, waited)
    ).all():
        histograms.setdefault(kind, []).append((days, n))
    rows: list[list[Any]] = [
        [label, *counts.get(code, (0, 0, 0)), median(histograms.get(code, ()))]
        for code, label in PARTNER_KIND.pairs()
    ]
    everything = [pair for pairs in histograms.values() for pair in pairs]
    return Table(
        "Направления партнёрам по типам партнёров",
        ["Тип партнёра", "Отправлено", "Получен ответ", "Нет ответа", "Медиана срока ответа, дней"],
        rows,
        ["Итого", *(sum(r[i] for r in rows) for i in range(1, 4)), median(everything)],
    )


def programme_enrolments(session: Session, user: User, params: Params) -> Table:
    """Per programme of the centre: families enrolled in the period and taking part at its end."""
    on = params.date_to
    taking_part = and_(
        ProgrammeEnrolment.enrolled_on <= on,
        or_(ProgrammeEnrolment.left_on.is_(None), ProgrammeEnrolment.left_on > on),
    )
    counted = {
        programme_id: (int(new), int(now))
        for programme_id, new, now in session.execute(
            select(
                ProgrammeEnrolment.programme_id,
                _count_if(_between(ProgrammeEnrolment.enrolled_on, params)),
                _count_if(taking_part),
            )
            .where(
                ProgrammeEnrolment.archived_at.is_(None),
                report_scope(ProgrammeEnrolment, user),
                _in_district(ProgrammeEnrolment.family_id, params.district_id),
            )
            .group_by(ProgrammeEnrolment.programme_id)
        ).all()
    }
    programmes = session.execute(
        select(Programme.id, Programme.name)
        .where(or_(Programme.archived_at.is_(None), Programme.id.in_(list(counted))))
        .order_by(Programme.name)
    ).all()
    rows = [[name, *counted.get(pid, (0, 0))] for pid, name in programmes]
    return Table(
        "Участие семей в программах",
        ["Программа", "Включено семей за период", f"Участвуют на {on:%d.%m.%Y}"],
        rows,
        ["Итого", sum(r[1] for r in rows), sum(r[2] for r in rows)],
    )


NOT_RATED = "не оценена"


def effectiveness_spread(session: Session, user: User, params: Params) -> Table:
    """Monitoring reviews held in the period by the effectiveness they found, with shares."""
    counted = dict(
        session.execute(
            select(Review.effectiveness, func.count())
            .where(
                _between(Review.held_on, params),
                report_scope(Review, user),
                _case_in_district(Review.case_id, params.district_id),
                _of_department(Review.reviewer_id, params.department_id),
            )
            .group_by(Review.effectiveness)
        ).all()
    )
    pairs = [*EFFECTIVENESS.pairs(), (None, NOT_RATED)]
    total = sum(int(n) for n in counted.values())
    rows = [
        [label, int(counted.get(code, 0)), _share(int(counted.get(code, 0)), total)]
        for code, label in pairs
    ]
    return Table(
        "Эффективность по итогам мониторинга",
        ["Эффективность", "Мониторингов", "Доля, %"],
        rows,
        ["Итого", total, 100.0 if total else None],
    )


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def project_budget(session: Session) -> list[Table]:
    """The pilot's complex of measures with planned and spent money, and the totals by
    funding source: the project's own funds for its whole term (not the period's)."""
    measures = session.execute(
        select(
            ProjectMeasure.name,
            ProjectMeasure.funding_source,
            ProjectMeasure.planned,
            ProjectMeasure.spent,
        )
        .where(ProjectMeasure.archived_at.is_(None))
        .order_by(ProjectMeasure.name, ProjectMeasure.funding_source)
    ).all()
    rows = [
        [name, FUNDING_SOURCE.label(source), Decimal(planned), Decimal(spent)]
        for name, source, planned, spent in measures
    ]
    sums = {
        source: (Decimal(planned), Decimal(spent))
        for source, planned, spent in session.execute(
            select(
                ProjectMeasure.funding_source,
                func.coalesce(func.sum(ProjectMeasure.planned), 0),
                func.coalesce(func.sum(ProjectMeasure.spent), 0),
            )
            .where(ProjectMeasure.archived_at.is_(None))
            .group_by(ProjectMeasure.funding_source)
        ).all()
    }
    zero = (Decimal(0), Decimal(0))
    by_source: list[list[Any]] = [
        [label, *sums.get(code, zero), sums.get(code, zero)[0] - sums.get(code, zero)[1]]
        for code, label in FUNDING_SOURCE.pairs()
    ]
    planned, spent = sum(r[1] for r in by_source), sum(r[2] for r in by_source)
    return [
        Table(
            "Бюджет проекта: мероприятия комплекса",
            [
                "Мероприятие комплекса",
                "Источник финансирования",
                "Запланировано, ₽",
                "Израсходовано, ₽",
            ],
            rows,
            ["Итого", "", planned, spent],
        ),
        Table(
            "Бюджет проекта по источникам финансирования",
            ["Источник финансирования", "Запланировано, ₽", "Израсходовано, ₽", "Остаток, ₽"],
            by_source,
            ["Итого", planned, spent, planned - spent],
        ),
    ]


def _loans(
    session: Session, user: User, params: Params, date_column: SQLColumnExpression[Any]
) -> int:
    return _count(
        session,
        Loan,
        _between(date_column, params),
        Loan.archived_at.is_(None),
        report_scope(Loan, user),
        _in_district(Loan.family_id, params.district_id),
    )


# --- 3. partner agreements ------------------------------------------------------------------


def agreement_states(on: dt.date) -> dict[str, ColumnElement[bool]]:
    """Conditions on PartnerAgreement for each state on the date `on`."""
    soon = on + dt.timedelta(days=AGREEMENT_EXPIRY_WARNING_DAYS)
    active = PartnerAgreement.status == "active"
    return {
        "active": and_(
            active,
            PartnerAgreement.valid_from <= on,
            or_(PartnerAgreement.valid_to.is_(None), PartnerAgreement.valid_to >= on),
        ),
        "expiring": and_(active, PartnerAgreement.valid_to.between(on, soon)),
        "expired": and_(active, PartnerAgreement.valid_to < on),
        "terminated": PartnerAgreement.status == "terminated",
    }


def agreements_report(session: Session, user: User, params: Params) -> Report:
    """Agreements active, expiring soon (AGREEMENT_EXPIRY_WARNING_DAYS), expired and terminated,
    by partner kind."""
    on = params.date_to
    states = agreement_states(on)
    counted = {
        kind: [int(v) for v in values]
        for kind, *values in session.execute(
            select(Partner.kind, *(_count_if(c) for c in states.values()))
            .select_from(PartnerAgreement)
            .join(Partner, PartnerAgreement.partner_id == Partner.id)
            .where(PartnerAgreement.archived_at.is_(None))
            .group_by(Partner.kind)
        )
    }
    rows: list[list[Any]] = [
        [label, *counted.get(code, [0] * len(states))] for code, label in PARTNER_KIND.pairs()
    ]
    total = ["Итого", *(sum(r[i] for r in rows) for i in range(1, len(states) + 1))]
    expiring = session.execute(
        select(Partner.name, PartnerAgreement.number, PartnerAgreement.valid_to)
        .join(Partner, PartnerAgreement.partner_id == Partner.id)
        .where(states["expiring"], PartnerAgreement.archived_at.is_(None))
        .order_by(PartnerAgreement.valid_to, Partner.name)
    ).all()
    tables = [
        Table(
            f"На {on:%d.%m.%Y} по типам партнёров",
            [
                "Тип партнёра",
                "Действуют",
                f"Истекают в {AGREEMENT_EXPIRY_WARNING_DAYS} дней",
                "Истекли",
                "Расторгнуты",
            ],
            rows,
            total,
        ),
        Table(
            f"Истекают в ближайшие {plural(AGREEMENT_EXPIRY_WARNING_DAYS, 'день', 'дня', 'дней')}",
            ["Партнёр", "Номер", "Действует по"],
            [list(r) for r in expiring],
        ),
    ]
    notes = [
        f"«Истекают» — действующие соглашения со сроком до {AGREEMENT_EXPIRY_WARNING_DAYS} дней "
        "от даты отчёта (входят в «Действуют»); «Истекли» — не расторгнутые, но со сроком "
        "раньше даты отчёта."
    ]
    return Report("agreements", REPORTS["agreements"], params, tables, notes)


# --- 4. rental point -------------------------------------------------------------------------


def rental_report(session: Session, user: User, params: Params, today: dt.date) -> Report:
    """Loans issued and returned in the period, utilisation, queue and overdue loans by type."""
    d = params.district_id
    loan_where = (
        Loan.archived_at.is_(None),
        report_scope(Loan, user),
        _in_district(Loan.family_id, d),
    )
    is_open = Loan.returned_on.is_(None)
    loans = {
        type_id: [int(v) for v in values]
        for type_id, *values in session.execute(
            select(
                EquipmentUnit.type_id,
                _count_if(_between(Loan.issued_on, params)),
                _count_if(_between(Loan.returned_on, params)),
                _count_if(is_open),
                _count_if(and_(is_open, Loan.due_on < today)),
            )
            .select_from(Loan)
            .join(EquipmentUnit, Loan.unit_id == EquipmentUnit.id)
            .where(*loan_where)
            .group_by(EquipmentUnit.type_id)
        )
    }
    units = dict(
        session.execute(
            select(EquipmentUnit.type_id, func.count())
            .where(EquipmentUnit.status != "written_off", EquipmentUnit.archived_at.is_(None))
            .group_by(EquipmentUnit.type_id)
        ).all()
    )
    queue = {
        type_id: (int(waiting), float(mean or 0))
        for type_id, waiting, mean in session.execute(
            select(
                Reservation.type_id,
                func.count(),
                func.avg(days_between(literal(today, Date), Reservation.requested_on)),
            )
            .where(
                Reservation.status == "waiting",
                report_scope(Reservation, user),
                _in_district(Reservation.family_id, d),
            )
            .group_by(Reservation.type_id)
        )
    }
    rows: list[list[Any]] = []
    for type_id, name in session.execute(
        select(EquipmentType.id, EquipmentType.name).order_by(EquipmentType.name)
    ):
        issued, returned, on_loan, overdue = loans.get(type_id, [0, 0, 0, 0])
        in_service = units.get(type_id, 0)
        waiting, mean = queue.get(type_id, (0, 0.0))
        share = round(100 * on_loan / in_service, 1) if in_service else 0
        rows.append(
            [name, in_service, on_loan, share, issued, returned, overdue, waiting, round(mean, 1)]
        )
    total_units = sum(r[1] for r in rows)
    total_on_loan = sum(r[2] for r in rows)
    total_waiting = sum(r[7] for r in rows)
    total = [
        "Итого",
        total_units,
        total_on_loan,
        round(100 * total_on_loan / total_units, 1) if total_units else 0,
        *(sum(r[i] for r in rows) for i in (4, 5, 6)),
        total_waiting,
        round(sum(r[7] * r[8] for r in rows) / total_waiting, 1) if total_waiting else 0,
    ]
    table = Table(
        "По видам ТСР",
        [
            "Вид ТСР",
            "Единиц в работе",
            "На руках",
            "Загрузка, %",
            "Выдано за период",
            "Возвращено за период",
            f"Просрочено на {today:%d.%m.%Y}",
            "В очереди",
            "Ожидание в очереди, дней (среднее)",
        ],
        rows,
        total,
    )
    notes = [
        "«Единиц в работе» — все единицы, кроме списанных; «Загрузка» — доля единиц на руках.",
        f"На руках, просрочено и очередь — на {today:%d.%m.%Y}; выдано и возвращено — за период.",
    ]
    return Report("rental", REPORTS["rental"], params, [table], notes)


# --- 5. workload and deadlines -------------------------------------------------------------


def workload_report(session: Session, user: User, params: Params, today: dt.date) -> Report:
    """Open, overdue, due-soon and done tasks per specialist (and those not yet assigned),
    kept (`kept_tables`) until the tasks or the staff change."""
    tables = kept_tables(
        session,
        user,
        "workload",
        params,
        lambda: [workload_table(session, user, params, today)],
        today,
    )
    notes = [
        "Открытые — новые, назначенные и в работе; просроченные — открытые со сроком раньше "
        "сегодняшнего дня. Отделение — отделение исполнителя."
    ]
    return Report("workload", REPORTS["workload"], params, tables, notes)


def workload_table(session: Session, user: User, params: Params, today: dt.date) -> Table:
    """The workload report's table, counted."""
    is_open = Task.status.in_(OPEN_TASK_STATUSES)
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    done_from = _day_start(params.date_from, params.zone)
    done_to = _day_start(params.date_to + dt.timedelta(days=1), params.zone)
    scope = (
        report_scope(Task, user),
        _in_district(Task.family_id, params.district_id),
        _of_department(Task.assignee_id, params.department_id),
    )
    # Two narrow aggregates (each an index range), not one pass over every task ever made.
    open_tasks = select(
        Task.assignee_id,
        func.count(),
        _count_if(Task.due_date < today),
        _count_if(Task.due_date.between(today, soon)),
    ).where(is_open, *scope)
    done_tasks = select(Task.assignee_id, func.count()).where(
        Task.status == "done", Task.closed_at >= done_from, Task.closed_at < done_to, *scope
    )
    counted: dict[int | None, list[int]] = {}
    for assignee, *values in session.execute(open_tasks.group_by(Task.assignee_id)):
        counted[assignee] = [*(int(v) for v in values), 0]
    for assignee, done in session.execute(done_tasks.group_by(Task.assignee_id)):
        counted.setdefault(assignee, [0, 0, 0, 0])[3] = int(done)
    people = session.execute(
        select(Staff.id, Staff.last_name, Staff.first_name, Staff.middle_name, Staff.role)
        .where(Staff.id.in_([k for k in counted if k is not None]))
        .order_by(Staff.last_name, Staff.first_name)
    ).all()
    rows: list[list[Any]] = [
        [full_name(last, first, middle), ROLE.label(role), *counted[staff_id]]
        for staff_id, last, first, middle, role in people
    ]
    if None in counted and any(counted[None][:3]):
        rows.append(["Не назначены", "—", *counted[None]])
    total = ["Итого", "", *(sum(r[i] for r in rows) for i in range(2, 6))]
    return Table(
        "По специалистам",
        [
            "Специалист",
            "Роль",
            "Открытых задач",
            f"Просрочено на {today:%d.%m.%Y}",
            f"Срок в ближайшие {DUE_SOON_DAYS} дней",
            "Выполнено за период",
        ],
        rows,
        total,
    )


def build_report(slug: str, session: Session, user: User, params: Params, today: dt.date) -> Report:
    """The report `slug` for `user` with `params`."""
    if slug == "pilot":
        return pilot_report(session, user, params)
    if slug == "regional":
        return regional_report(session, user, params)
    if slug == "agreements":
        return agreements_report(session, user, params)
    if slug == "rental":
        return rental_report(session, user, params, today)
    if slug == "workload":
        return workload_report(session, user, params, today)
    raise KeyError(slug)
