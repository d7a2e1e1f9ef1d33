"""`flask --app app seed --scale regional [--families N]`: a region's data set, bulk-loaded.

Seed 003 gives one region's volumes: 76,000 families with children, 111,000
children, 20,441 of them in low-income families, 2,357 disabled children and
363 minors in a socially dangerous situation. The regional preset reproduces
those five figures exactly; `--families N` scales every figure (and the staff,
districts, cases, rental point and audit trail) in proportion.

The figures follow the definitions shared with the regional report: over
non-archived families and persons, a child is a person with relation `child`
younger than 18 on the report date. Every generated minor is born at most 13
years before the load, so the figures hold for years; adult children, archived
children and archived families are generated too and never count.

Rows are built in Python with their ids assigned up front (no round trips) and
written table by table in chunks of families: COPY on PostgreSQL (psycopg 3),
executemany on SQLite. The database checks every constraint while loading.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from faker.providers.person.ru_RU import Provider as RussianNames
from sqlalchemy import func, select, text
from werkzeug.security import generate_password_hash

from models import (
    Department,
    EquipmentType,
    Family,
    Partner,
    Person,
    Programme,
    Service,
    db,
)
from models.figures import drop_triggers, triggers
from models.snils import format_snils, snils_checksum
from models.terms import OFFER_DAYS, REFERRAL_ANSWER_DAYS, SUPPORT_TERM_MONTHS
from workflows.dates import add_months

from .demo import (
    BOY_NAMES,
    FEMALE_NAMES,
    GIRL_NAMES,
    MALE_NAMES,
    PROJECT_MEASURES,
    feminine_surname,
)

SCALE_SEED = 3
SCALE_PASSWORD = "opora-scale-2026"
CHUNK_FAMILIES = 5_000
YOUNGEST_DAYS = 30  # the youngest generated child is a month old
OLDEST_CHILD_YEARS = 13  # so every generated minor stays under 18 for years


@dataclass(frozen=True)
class Figures:
    """The five seed-003 figures (the regional report's keys)."""

    families: int
    children: int
    low_income_children: int
    disabled_children: int
    dangerous_minors: int

    def scaled(self, families: int) -> Figures:
        """The same proportions for `families` families (exactly self at its own size)."""
        ratio = families / self.families
        return Figures(
            families=families,
            children=max(families, round(self.children * ratio)),
            low_income_children=round(self.low_income_children * ratio),
            disabled_children=round(self.disabled_children * ratio),
            dangerous_minors=round(self.dangerous_minors * ratio),
        )


REGIONAL = Figures(
    families=76_000,
    children=111_000,
    low_income_children=20_441,
    disabled_children=2_357,
    dangerous_minors=363,
)
PRESETS = {"regional": REGIONAL.families}
# Of 76,000 families 4,000 raise three children, the rest one or two.
LARGE_FAMILY_SHARE = 4_000 / 76_000


# A family member as the generator remembers it: id, relation, birth date, disability.
Member = tuple[int, str, dt.date, str]


@dataclass
class FamilyPlan:
    """What one family must contribute to the figures."""

    children: int
    low_income: bool = False
    dangerous: bool = False
    disabled: int = 0


def _pick_exact(plans: list[FamilyPlan], order: Sequence[int], total: int, flag: str) -> None:
    """Set `flag` on families (in `order`) whose children add up to exactly `total`."""
    left = total
    for index in order:
        if left == 0:
            break
        if plans[index].children <= left:
            setattr(plans[index], flag, True)
            left -= plans[index].children
    if left:
        raise ValueError(f"cannot reach {total} children for {flag}")


def plan_families(figures: Figures, rng: random.Random) -> list[FamilyPlan]:
    """One plan per family whose sums are exactly the five figures.

    Each family has one to three minors (three make it многодетная); low-income
    and dangerous families are chosen until their children add up exactly;
    disabled children are spread over random families.
    """
    families, children = figures.families, figures.children
    threes = min(round(families * LARGE_FAMILY_SHARE), max(0, (children - families) // 2))
    twos = children - families - 2 * threes
    ones = families - threes - twos
    if min(ones, twos, threes) < 0:
        raise ValueError("children per family must be between one and three on average")
    sizes = [1] * ones + [2] * twos + [3] * threes
    rng.shuffle(sizes)
    plans = [FamilyPlan(children=size) for size in sizes]
    order = list(range(families))
    rng.shuffle(order)
    _pick_exact(plans, order, figures.low_income_children, "low_income")
    rng.shuffle(order)
    _pick_exact(plans, order, figures.dangerous_minors, "dangerous")
    slots = [i for i, plan in enumerate(plans) for _ in range(plan.children)]
    for index in rng.sample(slots, figures.disabled_children):
        plans[index].disabled += 1
    return plans


def adult_cutoff(on: dt.date) -> dt.date:
    """A person born on or before this date is 18 or older on `on`."""
    try:
        return on.replace(year=on.year - 18)
    except ValueError:  # 29 February
        return on.replace(year=on.year - 18, day=28)


def count_figures(session, on: dt.date) -> Figures:
    """The five figures of the database by the shared definitions (all districts)."""
    minor = (
        select(Person.family_id, Person.disability_status)
        .join(Family, Family.id == Person.family_id)
        .where(
            Family.archived_at.is_(None),
            Person.archived_at.is_(None),
            Person.relation == "child",
            Person.birth_date > adult_cutoff(on),
        )
        .add_columns(Family.is_low_income, Family.is_dangerous)
        .subquery()
    )
    row = session.execute(
        select(
            func.count(func.distinct(minor.c.family_id)),
            func.count(),
            func.count().filter(minor.c.is_low_income),
            func.count().filter(minor.c.disability_status == "disabled"),
            func.count().filter(minor.c.is_dangerous),
        )
    ).one()
    return Figures(*row)


# --- bulk writing ---------------------------------------------------------------------


class BulkWriter:
    """Writes rows with known ids: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, session):
        self.session = session
        self.connection = session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.raw = self.connection.connection.driver_connection
        self.written: dict[str, int] = {}

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        rows = list(rows)
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            with (
                self.raw.cursor() as cursor,
                cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor = self.raw.cursor()
            cursor.executemany(
                f'INSERT INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608 - our names
                [tuple(map(_sqlite_value, row)) for row in rows],
            )
            cursor.close()
        self.written[table] = self.written.get(table, 0) + len(rows)

    def next_id(self, table: str) -> int:
        query = f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"'  # noqa: S608 - our names
        return self.connection.execute(text(query)).scalar()

    def set_aside_gin_indexes(self, tables: Iterable[str]) -> None:
        """Drop the GIN (trigram) indexes of `tables` until finish(): built once at the
        end they cost seconds, kept up to date row by row they cost most of the load.
        Inside the load's transaction, so a failed load gets them back."""
        self.gin_indexes: list[tuple[str, str]] = []
        if not self.postgres:
            return
        rows = self.connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = ANY(:tables) AND indexdef LIKE '% USING gin %'"
            ),
            {"tables": list(tables)},
        )
        self.gin_indexes = [(name, definition) for name, definition in rows]
        for name, _definition in self.gin_indexes:
            self.connection.execute(text(f'DROP INDEX "{name}"'))

    def set_aside_figure_triggers(self) -> None:
        """Drop the triggers that count changes for the kept district figures until
        finish(): the load goes into an empty database, which keeps no figures yet, and
        row by row they would cost most of the load."""
        self.dialect = self.connection.dialect.name
        for statement in drop_triggers(self.dialect):
            self.connection.execute(text(statement))

    def finish(self, tables: Iterable[str]) -> None:
        """Rebuild set-aside indexes and triggers, move PostgreSQL's id sequences past the
        written ids."""
        for statement in triggers(self.dialect):
            self.connection.execute(text(statement))
        if not self.postgres:
            self.connection.execute(text("ANALYZE"))
            return
        for _name, definition in self.gin_indexes:
            self.connection.execute(text(definition))
        for table in tables:
            sequence = f"pg_get_serial_sequence('\"{table}\"', 'id')"
            query = f'SELECT setval({sequence}, (SELECT coalesce(max(id), 1) FROM "{table}"))'  # noqa: S608
            self.connection.execute(text(query))


def _sqlite_value(value):
    # Stored the way SQLAlchemy stores them on SQLite.
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):  # SQLAlchemy's Numeric binds a float on SQLite
        return float(value)
    return value


# --- the data set ---------------------------------------------------------------------

MUNICIPALITIES = [
    "Великий Новгород", "Батецкий", "Боровичский", "Валдайский", "Волотовский", "Демянский",
    "Крестецкий", "Любытинский", "Маловишерский", "Маревский", "Мошенской", "Новгородский",
    "Окуловский", "Парфинский", "Пестовский", "Поддорский", "Солецкий", "Старорусский",
    "Хвойнинский", "Холмский", "Чудовский", "Шимский",
]  # fmt: skip
STREETS = [
    "ул. Ленина", "ул. Советская", "ул. Садовая", "ул. Мира", "ул. Молодёжная", "ул. Школьная",
    "ул. Лесная", "ул. Набережная", "ул. Заречная", "ул. Гагарина", "ул. Новая", "ул. Полевая",
    "ул. Первомайская", "ул. Строителей", "пер. Почтовый", "ул. Луговая",
]  # fmt: skip
SURNAMES = list(RussianNames.last_names_male)
MALE_FIRST_NAMES = list(MALE_NAMES)

# Staff per family of the region (at least one of each).
STAFF_RATIOS = {
    "psychologist": 3_000,
    "social_pedagogue": 4_000,
    "social_worker": 1_500,
    "nurse": 8_000,
    "lawyer": 10_000,
    "rental_clerk": 15_000,
    "coordinator": 20_000,
    "viewer": 40_000,
}
FAMILIES_PER_DISTRICT = 800
POSITIONS = {
    "admin": "ведущий программист",
    "coordinator": "руководитель службы сопровождения",
    "district_worker": "специалист по социальной работе",
    "psychologist": "педагог-психолог",
    "social_pedagogue": "социальный педагог",
    "social_worker": "социальный работник",
    "lawyer": "юрист (по соглашению о взаимодействии)",
    "nurse": "медицинская сестра (по соглашению)",
    "rental_clerk": "специалист пункта проката ТСР",
    "viewer": "заместитель директора",
}
LOGIN_PREFIX = {
    "district_worker": "worker",
    "social_pedagogue": "pedagogue",
    "social_worker": "social",
    "rental_clerk": "rental",
}
DEPARTMENT_OF_ROLE = {
    "coordinator": "ОССО",
    "district_worker": "ОССО",
    "rental_clerk": "ОССО",
    "psychologist": "ОСОСД",
    "social_pedagogue": "ОСОСД",
    "social_worker": "ОСОД",
}
ROLE_OF_SERVICE_KIND = {
    "social": "district_worker",
    "medical": "nurse",
    "psychological": "psychologist",
    "pedagogical": "social_pedagogue",
    "legal": "lawyer",
    "cultural": "social_pedagogue",
}
CASE_STATUS_WEIGHTS = {"application": 8, "assessment": 10, "active": 37, "closed": 45}
CASE_SHARE = 0.15
IPRA_MEASURES = (
    ("medical", "Восстановительная терапия, наблюдение специалистов."),
    ("psych_ped", "Психолого-педагогическая коррекция, занятия с логопедом."),
    ("social", "Социально-бытовая и социально-средовая адаптация."),
)
DOMAINS = ("medical", "psychological", "pedagogical", "legal", "social", "material")
CLOSURES = {
    "goal_achieved": "Цели ИПСС достигнуты, семья справляется самостоятельно.",
    "refused": "Семья отказалась от сопровождения (письменное заявление).",
    "moved": "Семья переехала в другой район.",
    "term_expired": "Истёк срок сопровождения; рекомендовано повторное обращение при нужде.",
}

FAMILY_COLUMNS = (
    "id", "surname", "district_id", "address", "phone", "is_large", "is_low_income",
    "is_single_parent", "is_foster", "is_dangerous", "identified_by", "identified_partner_id",
    "social_raid_id", "status", "notes", "archived_at", "version", "created_at",
)  # fmt: skip
INCOMING_COLUMNS = (
    "id", "partner_id", "contact_id", "district_id", "person_name", "address", "phone",
    "referred_on", "reason", "received_on", "received_by_id", "status", "family_id",
    "decided_on", "decline_reason", "archived_at", "version", "created_at",
)  # fmt: skip
# How families were identified (weights), who refers them (by kind, weights), and why.
CHANNEL_WEIGHTS = {"self": 52, "partner": 26, "raid": 12, "transfer": 10}
PARTNERS_OF_A_MUNICIPALITY = (
    ("school", "МБОУ «Средняя школа № 1»", 34),
    ("clinic", "ГОБУЗ «Центральная районная больница»", 30),
    ("authority", "Отдел опеки и попечительства", 14),
    ("police", "ОМВД России", 10),
    ("tos", "ТОС «Центральный»", 8),
    ("ngo", "Общество инвалидов", 4),
)
REFERRAL_REASON = "Семья с ребёнком-инвалидом нуждается в оценке и социальном сопровождении."
RAIDS_PER_DISTRICT = 8
PERSON_COLUMNS = (
    "id", "family_id", "last_name", "first_name", "middle_name", "birth_date", "sex",
    "relation", "snils", "phone", "disability_status", "disability_group",
    "disability_review_date", "health_notes", "archived_at", "version",
)  # fmt: skip
CASE_COLUMNS = (
    "id", "family_id", "application_date", "applicant_id", "decision_date", "contract_number",
    "contract_date", "start_date", "planned_end_date", "lead_worker_id", "status",
    "closure_reason", "closed_on", "outcome", "archived_at", "version", "created_at",
)  # fmt: skip
REFERRAL_COLUMNS = (
    "id", "case_id", "partner_id", "service_id", "reason_kind", "reason", "health_reason",
    "status", "prepared_on", "sent_on", "answer_due", "accepted_on", "answered_on", "answer",
    "health_answer", "handled_by_id", "version", "created_at",
)  # fmt: skip
TABLE_COLUMNS = {
    "family": FAMILY_COLUMNS,
    "incoming_referral": INCOMING_COLUMNS,
    "person": PERSON_COLUMNS,
    "consent": ("id", "family_id", "person_id", "given_on", "scope", "withdrawn_on", "created_at"),
    "programme_enrolment": ("id", "programme_id", "family_id", "enrolled_on", "left_on", "notes"),
    "support_case": CASE_COLUMNS,
    "assessment": (
        "id",
        "case_id",
        "domain",
        "need_level",
        "notes",
        "assessed_on",
        "assessed_by_id",
        "created_at",
    ),
    "support_plan": (
        "id",
        "case_id",
        "status",
        "goal",
        "approved_on",
        "approved_by_id",
        "version",
    ),
    "plan_revision": ("id", "plan_id", "number", "changed_at", "changed_by_id", "summary"),
    "plan_activity": (
        "id",
        "plan_id",
        "service_id",
        "responsible_role",
        "specialist_id",
        "planned_date",
        "status",
        "result",
        "done_on",
        "version",
    ),
    "task": (
        "id",
        "family_id",
        "case_id",
        "activity_id",
        "title",
        "role",
        "assignee_id",
        "status",
        "due_date",
        "result",
        "closed_at",
        "version",
        "created_at",
    ),
    "task_assignment": ("id", "task_id", "staff_id", "assigned_at", "assigned_by_id", "reason"),
    "visit": (
        "id",
        "case_id",
        "visited_on",
        "staff_id",
        "purpose",
        "findings",
        "next_visit_on",
        "created_at",
    ),
    "review": (
        "id",
        "case_id",
        "due_on",
        "held_on",
        "reviewer_id",
        "plan_progress",
        "family_feedback",
        "effectiveness",
        "created_at",
    ),
    "loan": (
        "id",
        "unit_id",
        "family_id",
        "child_id",
        "issued_by_id",
        "issued_on",
        "due_on",
        "extensions",
        "condition_on_issue",
        "returned_on",
        "condition_on_return",
        "missing_components",
        "notes",
        "archived_at",
        "version",
        "created_at",
    ),
    "loan_extension": (
        "id",
        "loan_id",
        "old_due_on",
        "new_due_on",
        "reason",
        "extended_at",
        "extended_by_id",
    ),
    "reservation": (
        "id",
        "family_id",
        "child_id",
        "type_id",
        "requested_on",
        "priority",
        "status",
        "offered_unit_id",
        "offer_expires_on",
        "notes",
        "version",
        "created_at",
    ),
    # The disabled child's ИПРА (valid until the re-examination date), its measures, its ТСР.
    "rehab_programme": (
        "id",
        "child_id",
        "number",
        "issued_on",
        "valid_until",
        "bureau_id",
        "notes",
        "archived_at",
        "version",
        "created_at",
    ),
    "rehab_measure": (
        "id",
        "programme_id",
        "kind",
        "description",
        "activity_id",
        "archived_at",
        "version",
    ),
    "rehab_tsr": (
        "id",
        "programme_id",
        "name",
        "by_fund",
        "equipment_type_id",
        "reservation_id",
        "archived_at",
        "version",
    ),
    "audit_record": (
        "id",
        "at",
        "user_id",
        "username",
        "ip",
        "action",
        "table_name",
        "row_id",
        "changes",
    ),
}
# FK order: a table is written after every table it refers to.
# After the families, people and cases they name.
TABLE_COLUMNS.update(
    {
        "event_attendance": ("id", "event_id", "family_id"),
        "event_attendance_child": ("attendance_id", "person_id"),
        "referral": REFERRAL_COLUMNS,
    }
)
CHUNK_TABLES = tuple(TABLE_COLUMNS)
# Written once after the families (their ids are taken like the chunks' own).
COUNCIL_TABLES = ("council_meeting", "council_agenda_item", "council_decision")
COUNCIL_MONTHS = 6
COUNCIL_DONE_SHARE = 0.8
# Written once before the families, with their ids taken the same way.
CHANNEL_TABLES = (
    "staff", "district", "user_account", "equipment_unit", "partner", "partner_contact",
    "social_raid",
)  # fmt: skip
ID_TABLES = tuple(t for t in CHUNK_TABLES if "id" in TABLE_COLUMNS[t])
# Written once, before the families: partners, volunteers, events, the budget.
PILOT_TABLES = ("partner", "volunteer", "event", "project_measure")
# (partner kind, its name, reason of a referral to it, service kind, the reason's text).
PILOT_PARTNERS = (
    ("school", "Средняя школа", "education", "pedagogical", "Подбор формы обучения ребёнка"),
    ("clinic", "Детская поликлиника", "medical", "medical", "Консультация невролога"),
    ("mse", "Бюро медико-социальной экспертизы", "mse", "medical", "Освидетельствование"),
    ("pmpk", "Психолого-медико-педагогическая комиссия", "pmpk", "pedagogical", "Обследование"),
    ("authority", "Отдел социальной защиты", "social", "social", "Меры социальной поддержки"),
    ("ngo", "Общественная организация родителей", "leisure", "cultural", "Досуговая программа"),
)
HEALTH_REASONS = ("medical", "mse", "pmpk")
EVENT_TITLES = {
    "training": "Обучение специалистов и волонтёров",
    "info_campaign": "Материал информационной кампании",
    "club": "Семейный клуб",
    "holiday": "Праздник для семей",
    "excursion": "Экскурсия",
}
CAMPAIGN = (("booklet", 1000, 800), ("advertising", 50, 10000), ("media", 3000, 3000),
            ("website", None, 2500))  # fmt: skip
# Every table whose ids the generator takes, once each.
WRITTEN_TABLES = tuple(dict.fromkeys((*ID_TABLES, *COUNCIL_TABLES, *CHANNEL_TABLES, *PILOT_TABLES)))


@dataclass
class StaffMember:
    id: int
    role: str
    user_id: int | None
    district_id: int | None = None


class Ids:
    """The next free id of each table, taken once from the database."""

    def __init__(self, writer: BulkWriter, tables: Iterable[str]):
        self._next = {table: writer.next_id(table) for table in tables}

    def take(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value


def snils_for(number: int) -> str:
    body = f"{number:09d}"
    return format_snils(body + f"{snils_checksum(body):02d}")


class ScaleGenerator:
    """Builds and writes the data set for `figures`, one chunk of families at a time."""

    def __init__(self, session, figures: Figures, today: dt.date, seed: int = SCALE_SEED):
        self.session = session
        self.figures = figures
        self.today = today
        self.now = dt.datetime.combine(today, dt.time(9), tzinfo=dt.UTC)
        self.rng = random.Random(seed)
        # Before the ids are taken: making the bureau writes an audit row.
        self.bureau_id = self.mse_bureau(session)
        self.writer = BulkWriter(session)
        self.ids = Ids(
            self.writer,
            WRITTEN_TABLES,
        )
        # The pilot's events, partners and referrals draw from a stream of their own, so
        # the families, cases and loans are what they were before them.
        self.pilot_rng = random.Random(seed + 21)
        self.rows: dict[str, list[tuple]] = {table: [] for table in CHUNK_TABLES}
        # (case, family, start) of each district's active cases: the councils discuss them.
        self.active_cases: dict[int, list[tuple[int, int, dt.date]]] = {}
        self.used_snils = set(
            session.scalars(select(Person.snils).where(Person.snils.is_not(None)))
        )
        self.contract_prefix = f"М-{today:%y%m%d}"
        self.services = [
            tuple(row) for row in session.execute(select(Service.id, Service.kind, Service.name))
        ]
        self.programmes = list(session.scalars(select(Programme.id)))
        self.types = list(session.scalars(select(EquipmentType.id)))
        self.outside_types = list(
            session.scalars(select(EquipmentType.id).where(EquipmentType.outside_guaranteed))
        )
        # The ИПРА draw from their own generator: the rest of the set is as it was.
        self.ipra_rng = random.Random(seed + 1)
        self.departments = dict(session.execute(select(Department.code, Department.id)).all())
        if not self.services or not self.types or not self.programmes:
            raise RuntimeError("Сначала загрузите справочники: flask --app app seed")

    # --- helpers ---

    @staticmethod
    def mse_bureau(session) -> int:
        """The МСЭ bureau that issues the region's ИПРА (made once if there is none)."""
        bureau = session.scalar(select(Partner.id).where(Partner.kind == "mse").limit(1))
        if bureau is None:
            row = Partner(name="ФКУ «ГБ МСЭ по Новгородской области»", kind="mse")
            session.add(row)
            session.flush()
            bureau = row.id
        return bureau

    def add(self, table: str, row: dict) -> int:
        row_id = row.setdefault("id", self.ids.take(table))
        self.rows[table].append(tuple(row.get(c) for c in TABLE_COLUMNS[table]))
        return row_id

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(low, high))

    def at(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(8 + self.rng.randint(0, 9)), tzinfo=dt.UTC)

    def snils(self, person_id: int) -> str | None:
        value = snils_for(100_000_000 + person_id)
        if value in self.used_snils:
            return None
        return value

    def phone(self, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        return f"+7 (816) {rng.randint(200, 799)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"

    # --- staff, districts, accounts ---

    def build_staff(self) -> None:
        families = self.figures.families
        district_count = max(2, round(families / FAMILIES_PER_DISTRICT))
        counts = {"admin": 1, "district_worker": district_count}
        counts.update({role: max(1, families // per) for role, per in STAFF_RATIOS.items()})
        password_hash = generate_password_hash(SCALE_PASSWORD, method="scrypt")
        self.staff: dict[str, list[StaffMember]] = {}
        staff_rows, user_rows, link_rows = [], [], []
        self.district_ids = [self.ids.take("district") for _ in range(district_count)]
        self.municipality = {
            district_id: MUNICIPALITIES[index % len(MUNICIPALITIES)]
            for index, district_id in enumerate(self.district_ids)
        }
        self.district_worker: dict[int, StaffMember] = {}
        for role, count in counts.items():
            for n in range(1, count + 1):
                staff_id = self.ids.take("staff")
                user_id = self.ids.take("user_account")
                sex = "m" if self.rng.random() < 0.15 else "f"
                last, first, middle = self.adult_name(sex)
                department = self.departments.get(DEPARTMENT_OF_ROLE.get(role, ""))
                staff_rows.append(
                    (staff_id, last, first, middle, POSITIONS[role], role, department,
                     self.phone(), None, True)
                )  # fmt: skip
                login = f"{LOGIN_PREFIX.get(role, role)}{n}"
                user_rows.append(
                    (user_id, login, password_hash, role, staff_id, True, None, self.now)
                )
                member = StaffMember(staff_id, role, user_id)
                if role == "district_worker":
                    member.district_id = self.district_ids[n - 1]
                    self.district_worker[member.district_id] = member
                    link_rows.append((staff_id, member.district_id))
                elif role == "coordinator":
                    link_rows.extend((staff_id, d) for d in self.district_ids)
                self.staff.setdefault(role, []).append(member)
        district_rows = []
        for index, district_id in enumerate(self.district_ids):
            municipality = MUNICIPALITIES[index % len(MUNICIPALITIES)]
            number = index // len(MUNICIPALITIES) + 1
            district_rows.append(
                (district_id, f"{municipality} — участок № {number}",
                 f"{municipality} район, участок № {number}",
                 self.district_worker[district_id].id)
            )  # fmt: skip
        # The district refers to its worker and the worker's account to the staff row;
        # the staff rows go first, without districts, then the links.
        self.writer.write(
            "staff",
            ("id", "last_name", "first_name", "middle_name", "position", "role",
             "department_id", "phone", "email", "active"),
            staff_rows,
        )  # fmt: skip
        self.writer.write(
            "district", ("id", "name", "territory", "responsible_worker_id"), district_rows
        )
        self.writer.write("staff_district", ("staff_id", "district_id"), link_rows)
        self.writer.write(
            "user_account",
            ("id", "username", "password_hash", "role", "staff_id", "active", "last_login_at",
             "created_at"),
            user_rows,
        )  # fmt: skip
        self.coordinator = self.staff["coordinator"][0]

    def adult_name(
        self, sex: str, surname: str | None = None, rng: random.Random | None = None
    ) -> tuple[str, str, str]:
        rng = rng or self.rng
        surname = surname or rng.choice(SURNAMES)
        father = rng.choice(MALE_FIRST_NAMES)
        if sex == "f":
            return feminine_surname(surname), rng.choice(FEMALE_NAMES), MALE_NAMES[father][1]
        return surname, rng.choice(MALE_FIRST_NAMES), MALE_NAMES[father][0]

    # --- rental point ---

    # --- partners, raids, incoming referrals ---

    def build_channels(self) -> None:
        """The partners of each municipality that refer families (and the police inspector
        who goes on the raids), the district's social raids over the years."""
        rng = self.rng
        partner_rows, contact_rows, raid_rows, team_rows, contact_links = [], [], [], [], []
        self.referrers: dict[str, list[tuple[int, int]]] = {}  # municipality → (id, weight)
        police_of: dict[str, int] = {}
        for municipality in dict.fromkeys(self.municipality.values()):
            for kind, name, weight in PARTNERS_OF_A_MUNICIPALITY:
                partner_id = self.ids.take("partner")
                partner_rows.append(
                    (partner_id, f"{name} ({municipality})", kind, f"{municipality}", self.phone())
                )
                self.referrers.setdefault(municipality, []).append((partner_id, weight))
                if kind == "police":
                    contact_id = self.ids.take("partner_contact")
                    last, first, middle = self.adult_name("m")
                    contact_rows.append(
                        (contact_id, partner_id, last, first, middle,
                         "участковый уполномоченный полиции", self.phone(), 1)
                    )  # fmt: skip
                    police_of[municipality] = contact_id
        self.raids: dict[int, list[tuple[dt.date, int]]] = {}
        for district_id in self.district_ids:
            days = sorted(rng.sample(range(30, 1500), RAIDS_PER_DISTRICT - 1), reverse=True)
            for back in (1500, *days):
                raid_id, held = self.ids.take("social_raid"), self.today - dt.timedelta(back)
                raid_rows.append(
                    (raid_id, held, district_id, f"{rng.choice(STREETS)}, {rng.choice(STREETS)}",
                     self.district_worker[district_id].id, 1, self.at(held))
                )  # fmt: skip
                team_rows.append((raid_id, self.district_worker[district_id].id))
                contact_links.append((raid_id, police_of[self.municipality[district_id]]))
                self.raids.setdefault(district_id, []).append((held, raid_id))
        write = self.writer.write
        write("partner", ("id", "name", "kind", "address", "phone"), partner_rows)
        write(
            "partner_contact",
            ("id", "partner_id", "last_name", "first_name", "middle_name", "position", "phone",
             "version"),
            contact_rows,
        )  # fmt: skip
        write(
            "social_raid",
            ("id", "held_on", "district_id", "area", "recorded_by_id", "version", "created_at"),
            raid_rows,
        )
        write("social_raid_staff", ("raid_id", "staff_id"), team_rows)
        write("social_raid_contact", ("raid_id", "contact_id"), contact_links)

    def identified(self, family_id: int, district_id: int, surname: str, created: dt.date) -> dict:
        """The family's channel with its partner (and the referral it came by) or its raid."""
        rng = self.rng
        channel = rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]
        row: dict = {
            "identified_by": channel,
            "identified_partner_id": None,
            "social_raid_id": None,
        }
        if channel == "raid":
            held = [raid for raid in self.raids[district_id] if raid[0] <= created]
            row["social_raid_id"] = (held[-1] if held else self.raids[district_id][0])[1]
        elif channel == "partner":
            referrers = self.referrers[self.municipality[district_id]]
            partner_id = rng.choices(referrers, [w for _, w in referrers])[0][0]
            row["identified_partner_id"] = partner_id
            received = created - dt.timedelta(rng.randint(0, 2))
            self.add(
                "incoming_referral",
                {
                    "partner_id": partner_id, "district_id": district_id,
                    "person_name": f"{feminine_surname(surname)} (мать), семья {surname}",
                    "referred_on": received - dt.timedelta(rng.randint(0, 5)),
                    "reason": REFERRAL_REASON, "received_on": received,
                    "received_by_id": self.district_worker[district_id].id, "status": "taken",
                    "family_id": family_id, "decided_on": created, "version": 1,
                    "created_at": self.at(received),
                },
            )  # fmt: skip
        return row

    def build_units(self) -> None:
        """Units of equipment; some will be lent, reserved, repaired or written off."""
        count = max(10, self.figures.families // 40)
        self.units = []
        rows = []
        for _ in range(count):
            unit_id = self.ids.take("equipment_unit")
            type_id = self.rng.choice(self.types)
            self.units.append((unit_id, type_id))
            rows.append(
                [unit_id, f"ТСР-{unit_id:06d}", type_id, None, None,
                 self.rng.choice(("new", "good", "good", "fair")), "available",
                 self.days_ago(400, 2500), None, None, None, 1]
            )  # fmt: skip
        self.unit_rows = {row[0]: row for row in rows}
        self.free_units = [unit_id for unit_id, _ in self.units]
        self.rng.shuffle(self.free_units)
        # A share of the units is out of service; the rest can be lent.
        for unit_id in self.free_units[: count // 20]:
            self.unit_rows[unit_id][6] = self.rng.choice(("repair", "sanitising"))
        for unit_id in self.free_units[count // 20 : count // 10]:
            row = self.unit_rows[unit_id]
            row[6] = "written_off"
            row[8] = self.days_ago(10, 300)
            row[9] = "Износ, ремонт нецелесообразен (акт комиссии)."
        self.free_units = self.free_units[count // 10 :]
        self.loans_wanted = int(len(self.free_units) * 0.6)
        self.offers_wanted = max(1, count // 100)

    def write_units(self) -> None:
        self.writer.write(
            "equipment_unit",
            ("id", "inventory_number", "type_id", "size", "components", "condition", "status",
             "acquired_on", "written_off_on", "write_off_reason", "notes", "version"),
            [tuple(row) for row in self.unit_rows.values()],
        )  # fmt: skip

    # --- families ---

    def build_pilot(self) -> None:
        """Partners, volunteers, the year's events with their staff and volunteer listeners,
        and the pilot's budget (seed 003): written before the families attend them."""
        rng, families = self.pilot_rng, self.figures.families
        partner_rows, self.partners = [], []
        for kind, name, *referral in PILOT_PARTNERS:
            for n in range(1, max(2, families // 4000) + 1):
                partner_id = self.ids.take("partner")
                partner_rows.append((partner_id, f"{name} № {n}", kind, None, self.phone(rng)))
                self.partners.append((partner_id, kind, *referral))
        groups = [self.ids.take("partner") for _ in range(max(1, families // 20000))]
        partner_rows += [(g, f"Волонтёрский отряд № {n}", "volunteers", None, self.phone(rng))
                         for n, g in enumerate(groups, 1)]  # fmt: skip
        self.writer.write("partner", ("id", "name", "kind", "address", "phone"), partner_rows)
        volunteers = [
            (self.ids.take("volunteer"), *self.adult_name(rng.choice("mf"), rng=rng), self.phone(rng),
             rng.choice(groups), 1)
            for _ in range(max(5, families // 800))
        ]  # fmt: skip
        self.writer.write(
            "volunteer",
            ("id", "last_name", "first_name", "middle_name", "phone", "group_id", "version"),
            volunteers,
        )
        staff_ids = [m.id for members in self.staff.values() for m in members]
        events, listeners, learners, self.gatherings = [], [], [], []
        for _ in range(max(12, families // 250)):
            event_id = self.ids.take("event")
            kind = rng.choices(("training", "info_campaign", "club", "holiday", "excursion"),
                               (10, 15, 40, 20, 15))[0]  # fmt: skip
            held = self.today - dt.timedelta(days=rng.randint(0, 700))
            channel = run = reach = None
            if kind == "info_campaign":
                channel, run, reach = rng.choice(CAMPAIGN)
            if kind == "training":
                listeners += [(event_id, s) for s in rng.sample(staff_ids, min(8, len(staff_ids)))]
                learners += [
                    (event_id, v[0]) for v in rng.sample(volunteers, min(5, len(volunteers)))
                ]
            elif kind != "info_campaign":
                self.gatherings.append(event_id)
            events.append((event_id, kind, f"{EVENT_TITLES[kind]} № {event_id}", held,
                           self.coordinator.id, channel, run, reach))  # fmt: skip
        self.writer.write(
            "event",
            ("id", "kind", "title", "held_on", "organiser_id", "channel", "print_run", "reach"),
            events,
        )
        self.writer.write("event_staff", ("event_id", "staff_id"), listeners)
        self.writer.write("event_volunteer", ("event_id", "volunteer_id"), learners)
        self.writer.write(
            "project_measure",
            ("id", "name", "funding_source", "planned", "spent", "version"),
            [(self.ids.take("project_measure"), name, source, Decimal(planned), Decimal(spent), 1)
             for name, source, planned, spent in PROJECT_MEASURES],
        )  # fmt: skip

    def attend(self, family_id: int, children: list[int]) -> None:
        """A family at one or two of the gatherings, with most of its children."""
        rng = self.pilot_rng
        for event_id in rng.sample(self.gatherings, min(len(self.gatherings), rng.randint(1, 2))):
            attendance_id = self.add(
                "event_attendance", {"event_id": event_id, "family_id": family_id}
            )
            came = [c for c in children if rng.random() < 0.8] or children[:1]
            self.rows["event_attendance_child"] += [(attendance_id, c) for c in came]

    def build_referrals(self, case_id: int, lead_id: int, start: dt.date) -> None:
        """One or two referrals of an active case; partners answer most within days."""
        rng = self.pilot_rng
        for partner_id, _kind, reason_kind, service_kind, reason in rng.sample(
            self.partners, rng.randint(1, 2)
        ):
            sent = min(start + dt.timedelta(days=rng.randint(1, 60)), self.today)
            due = sent + dt.timedelta(days=REFERRAL_ANSWER_DAYS)
            first = sent + dt.timedelta(days=min(rng.randint(1, 12), rng.randint(1, 25)))
            fate = rng.random()
            row = {
                "case_id": case_id, "partner_id": partner_id, "reason_kind": reason_kind,
                "service_id": self.service_of(service_kind), "status": "sent",
                "prepared_on": sent, "sent_on": sent, "answer_due": due,
                "handled_by_id": lead_id, "version": 1, "created_at": self.at(sent),
            }  # fmt: skip
            health = reason_kind in HEALTH_REASONS
            row["health_reason" if health else "reason"] = reason
            answer = "health_answer" if health else "answer"
            if first > self.today or fate >= 0.8:
                if due < self.today and fate >= 0.9:
                    row["status"] = "no_answer"
            elif fate < 0.12:
                row.update(status="refused", answered_on=first, **{answer: "Отказано"})
            else:
                row.update(status="accepted", accepted_on=first)
                done = first + dt.timedelta(days=rng.randint(3, 20))
                if fate < 0.6 and done <= self.today:
                    row.update(status="fulfilled", answered_on=done, **{answer: "Исполнено"})
            self.add("referral", row)

    def service_of(self, kind: str) -> int:
        return next((sid for sid, k, _n in self.services if k == kind), self.services[0][0])

    def build_family(self, plan: FamilyPlan, archived: bool = False) -> None:
        rng = self.rng
        district_id = rng.choice(self.district_ids)
        surname = rng.choice(SURNAMES)
        family_id = self.ids.take("family")
        created = self.days_ago(30, 1500)
        two_parents = rng.random() < 0.62
        case_status, status = self.family_status(archived)
        members: list[Member] = []
        person = functools.partial(self.add_person, family_id, surname, members)
        mother = person("mother", "f", self.days_ago(365 * 24, 365 * 45))
        if two_parents:
            person("father", "m", self.days_ago(365 * 25, 365 * 50))
        disabled_left = plan.disabled
        for _ in range(plan.children):
            disability = "none"
            if disabled_left:
                disability, disabled_left = "disabled", disabled_left - 1
            elif rng.random() < 0.04:
                disability = "ovz"
            birth = self.days_ago(YOUNGEST_DAYS, 365 * OLDEST_CHILD_YEARS)
            person("child", rng.choice("mf"), birth, disability)
        # Members who never count: an adult son or daughter, a child who left the family.
        if rng.random() < 0.03:
            person("child", rng.choice("mf"), self.days_ago(365 * 19 + 5, 365 * 24))
        if rng.random() < 0.005:
            person("child", rng.choice("mf"), self.days_ago(365, 365 * 10),
                   archived_at=self.at(self.days_ago(1, 300)))  # fmt: skip
        self.add(
            "family",
            {
                "id": family_id, "surname": surname, "district_id": district_id,
                "address": f"{self.municipality[district_id]}, "
                f"{rng.choice(STREETS)}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 90)}",
                "phone": self.phone(), "is_large": plan.children >= 3,
                "is_low_income": plan.low_income, "is_single_parent": not two_parents,
                "is_foster": rng.random() < 0.02, "is_dangerous": plan.dangerous,
                **self.identified(family_id, district_id, surname, created),
                "status": status, "notes": None,
                "archived_at": self.at(self.days_ago(1, 200)) if archived else None,
                "version": 1, "created_at": self.at(created),
            },
        )  # fmt: skip
        self.audit("insert", "family", family_id, {"surname": {"new": surname}}, created)
        if not archived:
            self.family_support(family_id, mother, district_id, case_status, members)

    def family_status(self, archived: bool) -> tuple[str | None, str]:
        """The status of the family's case (None: no case) and the family's own status."""
        rng = self.rng
        case_status = None
        if not archived and rng.random() < CASE_SHARE:
            weights = CASE_STATUS_WEIGHTS
            case_status = rng.choices(list(weights), list(weights.values()))[0]
        if case_status in ("assessment", "active"):
            return case_status, "supported"
        return case_status, "deregistered" if rng.random() < 0.01 else "registered"

    def add_person(
        self,
        family_id: int,
        surname: str,
        members: list[Member],
        relation: str,
        sex: str,
        birth: dt.date,
        disability: str = "none",
        archived_at: dt.datetime | None = None,
        first: str | None = None,
    ) -> int:
        """One member of the family (a child with its father's patronymic), added to
        `members`; its id."""
        rng = self.rng
        person_id = self.ids.take("person")
        if relation == "child":
            given = first or rng.choice(BOY_NAMES if sex == "m" else GIRL_NAMES)
            father = rng.choice(MALE_FIRST_NAMES)
            middle = MALE_NAMES[father][0 if sex == "m" else 1]
            last = surname if sex == "m" else feminine_surname(surname)
        else:
            last, given, middle = self.adult_name(sex, surname)
        group = review = notes = None
        if disability == "disabled":
            group = "child"
            review = self.today + dt.timedelta(days=rng.randint(60, 900))
            notes = "Ребёнок-инвалид; ИПРА действует."
        elif disability == "ovz":
            notes = "Заключение ПМПК."
        self.add(
            "person",
            {
                "id": person_id, "family_id": family_id, "last_name": last,
                "first_name": given, "middle_name": middle, "birth_date": birth, "sex": sex,
                "relation": relation, "snils": self.snils(person_id),
                "phone": self.phone() if relation != "child" else None,
                "disability_status": disability, "disability_group": group,
                "disability_review_date": review, "health_notes": notes,
                "archived_at": archived_at, "version": 1,
            },
        )  # fmt: skip
        members.append((person_id, relation, birth, disability))
        if review is not None:
            self.add_ipra(person_id, review)
        return person_id

    def add_ipra(self, child_id: int, valid_until: dt.date) -> None:
        """The disabled child's ИПРА: issued a year or two before it ends, with its
        measures, and a ТСР (by the Social Fund, or a type of the rental point)."""
        rng = self.ipra_rng
        issued = valid_until - dt.timedelta(days=rng.choice((365, 730)))
        programme_id = self.add(
            "rehab_programme",
            {
                "child_id": child_id, "number": f"{child_id}.53.{issued:%m}/{issued.year}",
                "issued_on": issued, "valid_until": valid_until, "bureau_id": self.bureau_id,
                "version": 1, "created_at": self.at(min(issued, self.today)),
            },
        )  # fmt: skip
        for kind, text_ in IPRA_MEASURES:
            if kind == "medical" or rng.random() < 0.7:
                self.add(
                    "rehab_measure",
                    {"programme_id": programme_id, "kind": kind, "description": text_,
                     "version": 1},
                )  # fmt: skip
        if rng.random() < 0.4:
            outside = self.outside_types and rng.random() < 0.4
            self.add(
                "rehab_tsr",
                {
                    "programme_id": programme_id,
                    "name": "Функциональная кровать" if outside else "Кресло-коляска комнатная",
                    "by_fund": not outside,
                    "equipment_type_id": rng.choice(self.outside_types) if outside else None,
                    "version": 1,
                },
            )  # fmt: skip

    def family_support(
        self,
        family_id: int,
        mother: int,
        district_id: int,
        case_status: str | None,
        members: list[Member],
    ) -> None:
        """What a family on the register has besides its members: a case (or a consent
        alone), a programme, a loan of rehabilitation equipment for a disabled child."""
        rng = self.rng
        children = [m for m in members if m[1] == "child" and m[2] > adult_cutoff(self.today)]
        if case_status:
            self.build_case(family_id, mother, district_id, case_status)
        elif rng.random() < 0.75:
            given = self.days_ago(1, 700)
            withdrawn = None
            if rng.random() < 0.02:
                withdrawn = min(given + dt.timedelta(days=rng.randint(1, 25)), self.today)
            self.consent(family_id, mother, given, withdrawn)
        if rng.random() < 0.2:
            self.add(
                "programme_enrolment",
                {
                    "programme_id": rng.choice(self.programmes), "family_id": family_id,
                    "enrolled_on": self.days_ago(10, 700), "left_on": None, "notes": None,
                },
            )  # fmt: skip
        if children and self.gatherings and self.pilot_rng.random() < 0.08:
            self.attend(family_id, [m[0] for m in children])
        disabled = [m for m in children if m[3] == "disabled"]
        if disabled or (children and rng.random() < 0.01):
            self.build_rental(family_id, (disabled or children)[0][0])

    def consent(self, family_id, person_id, given, withdrawn=None) -> None:
        self.add(
            "consent",
            {
                "family_id": family_id, "person_id": person_id, "given_on": given,
                "scope": "Обработка персональных данных семьи для социального сопровождения.",
                "withdrawn_on": withdrawn, "created_at": self.at(given),
            },
        )  # fmt: skip

    def case_dates(self, status: str) -> tuple[dt.date, dt.date | None]:
        """When a case in `status` was applied for and, once under contract, started."""
        rng = self.rng
        if status == "application":
            return self.days_ago(0, 20), None
        if status == "assessment":
            return self.days_ago(5, 40), None
        start = self.days_ago(1, 170) if status == "active" else self.days_ago(200, 900)
        return start - dt.timedelta(days=rng.randint(10, 30)), start

    def close_case_row(self, row: dict, start: dt.date) -> None:
        """A closed case's reason, day and outcome (now and then archived a month later)."""
        rng = self.rng
        reason = rng.choice(list(CLOSURES))
        end = row["planned_end_date"]
        closed = (
            end
            if reason == "term_expired"
            else start + dt.timedelta(days=rng.randint(20, (end - start).days))
        )
        row.update(closure_reason=reason, closed_on=closed, outcome=CLOSURES[reason])
        if rng.random() < 0.05:
            row["archived_at"] = self.at(min(closed + dt.timedelta(days=30), self.today))

    def build_case(self, family_id, applicant, district_id, status) -> None:
        """A case in `status` with everything that status implies, after a consent."""
        rng = self.rng
        lead = self.district_worker[district_id]
        case_id = self.ids.take("support_case")
        row = {
            "id": case_id, "family_id": family_id, "applicant_id": applicant,
            "status": status, "version": 1, "lead_worker_id": lead.id,
        }  # fmt: skip
        applied, start = self.case_dates(status)
        self.consent(family_id, applicant, applied - dt.timedelta(days=rng.randint(0, 10)))
        row["application_date"] = applied
        row["created_at"] = self.at(applied)
        if start is not None:  # active or closed
            row.update(
                decision_date=applied + dt.timedelta(days=5),
                contract_number=f"{self.contract_prefix}-{case_id}",
                contract_date=start,
                start_date=start,
                planned_end_date=add_months(start, SUPPORT_TERM_MONTHS)
                - dt.timedelta(days=rng.randint(0, 20)),
            )
        if status == "closed":
            assert start is not None
            self.close_case_row(row, start)
        if status == "active":
            assert start is not None
            self.active_cases.setdefault(district_id, []).append((case_id, family_id, start))
        self.add("support_case", row)
        self.audit("insert", "support_case", case_id, {"status": {"new": status}}, applied)
        if status == "application":
            return
        assessed = applied + dt.timedelta(days=rng.randint(1, 4))
        for domain in DOMAINS:
            self.add(
                "assessment",
                {
                    "case_id": case_id, "domain": domain,
                    "need_level": rng.choice(("none", "low", "medium", "high")),
                    "notes": "Оценка на основании визита и документов.",
                    "assessed_on": assessed, "assessed_by_id": lead.id,
                    "created_at": self.at(assessed),
                },
            )  # fmt: skip
        if status == "assessment":
            return
        plan_id = self.add(
            "support_plan",
            {
                "case_id": case_id, "status": "approved",
                "goal": "Преодоление трудной жизненной ситуации семьи.",
                "approved_on": start, "approved_by_id": self.coordinator.id, "version": 1,
            },
        )  # fmt: skip
        self.add(
            "plan_revision",
            {
                "plan_id": plan_id, "number": 1, "changed_at": self.at(start),
                "changed_by_id": lead.id, "summary": "Первая редакция ИПСС.",
            },
        )  # fmt: skip
        for _ in range(3):
            self.build_activity(case_id, family_id, plan_id, lead, start, row)
        if status == "active" and self.pilot_rng.random() < 0.4:
            self.build_referrals(case_id, lead.id, start)
        visits = 2 if status == "active" else 3
        for n in range(visits):
            visited = min(start + dt.timedelta(days=20 * n + rng.randint(0, 10)), self.today)
            if status == "closed":
                visited = min(visited, row["closed_on"])
            self.add(
                "visit",
                {
                    "case_id": case_id, "visited_on": visited, "staff_id": lead.id,
                    "purpose": "Патронаж семьи, контроль выполнения ИПСС.",
                    "findings": "Состояние ребёнка стабильное, рекомендации выполняются.",
                    "next_visit_on": visited + dt.timedelta(days=30), "created_at": self.at(visited),
                },
            )  # fmt: skip
        due = start + dt.timedelta(days=90)
        held = due if due <= self.today else None
        if status == "closed":
            held = min(due, row["closed_on"])
        self.add(
            "review",
            {
                "case_id": case_id, "due_on": due, "held_on": held,
                "reviewer_id": self.coordinator.id,
                "plan_progress": "Мероприятия выполняются в срок." if held else None,
                "family_feedback": "Семья довольна помощью." if held else None,
                "effectiveness": rng.choice(("high", "medium", "low")) if held else None,
                "created_at": self.at(start),
            },
        )  # fmt: skip

    def build_activity(self, case_id, family_id, plan_id, lead, start, case_row) -> None:
        rng = self.rng
        service_id, kind, service_name = rng.choice(self.services)
        role = ROLE_OF_SERVICE_KIND[kind]
        specialist = lead if role == "district_worker" else rng.choice(self.staff[role])
        planned = start + dt.timedelta(days=rng.randint(5, 150))
        if case_row["status"] == "closed":
            planned = min(planned, case_row["closed_on"])
            status = rng.choice(("done", "done", "cancelled"))
        elif planned < self.today:
            status = rng.choice(("done", "done", "in_progress", "planned"))
        else:
            status = rng.choice(("planned", "planned", "in_progress"))
        done = min(planned, self.today) if status == "done" else None
        activity_id = self.add(
            "plan_activity",
            {
                "plan_id": plan_id, "service_id": service_id, "responsible_role": role,
                "specialist_id": specialist.id, "planned_date": planned, "status": status,
                "result": "Выполнено, семья получила помощь." if done else None,
                "done_on": done, "version": 1,
            },
        )  # fmt: skip
        task_status = {
            "done": "done",
            "cancelled": "cancelled",
            "in_progress": "in_progress",
            "planned": rng.choice(("assigned", "assigned", "new")),
        }[status]
        assignee = None if task_status == "new" else specialist
        closed_at = self.at(done or planned) if task_status in ("done", "cancelled") else None
        created = self.at(start)
        task_id = self.add(
            "task",
            {
                "family_id": family_id, "case_id": case_id, "activity_id": activity_id,
                "title": service_name, "role": role,  # as approving an ИПСС names it
                "assignee_id": assignee.id if assignee else None, "status": task_status,
                "due_date": planned, "result": "Выполнено." if task_status == "done" else None,
                "closed_at": closed_at, "version": 1, "created_at": created,
            },
        )  # fmt: skip
        if assignee:
            self.add(
                "task_assignment",
                {
                    "task_id": task_id, "staff_id": assignee.id, "assigned_at": created,
                    "assigned_by_id": self.coordinator.user_id, "reason": None,
                },
            )  # fmt: skip

    def build_rental(self, family_id, child_id) -> None:
        rng = self.rng
        if self.free_units and self.loans_wanted:
            unit_id = self.free_units.pop()
            self.loans_wanted -= 1
            issuer = rng.choice(self.staff["rental_clerk"])
            if rng.random() < 0.5:  # an earlier, returned loan of the same unit
                issued = self.days_ago(400, 700)
                self.add(
                    "loan",
                    {
                        "unit_id": unit_id, "family_id": family_id, "child_id": child_id,
                        "issued_by_id": issuer.id, "issued_on": issued,
                        "due_on": issued + dt.timedelta(days=90), "extensions": 0,
                        "condition_on_issue": "good",
                        "returned_on": issued + dt.timedelta(days=rng.randint(30, 90)),
                        "condition_on_return": "good", "version": 1,
                        "created_at": self.at(issued),
                    },
                )  # fmt: skip
            issued = self.days_ago(1, 150)
            due = issued + dt.timedelta(days=90)
            extended = rng.random() < 0.1
            loan_id = self.add(
                "loan",
                {
                    "unit_id": unit_id, "family_id": family_id, "child_id": child_id,
                    "issued_by_id": issuer.id, "issued_on": issued,
                    "due_on": due + dt.timedelta(days=60) if extended else due,
                    "extensions": 1 if extended else 0, "condition_on_issue": "good",
                    "version": 1, "created_at": self.at(issued),
                },
            )  # fmt: skip
            if extended:
                self.add(
                    "loan_extension",
                    {
                        "loan_id": loan_id, "old_due_on": due,
                        "new_due_on": due + dt.timedelta(days=60),
                        "reason": "Курс реабилитации продлён.", "extended_at": self.at(due),
                        "extended_by_id": issuer.id,
                    },
                )  # fmt: skip
            self.unit_rows[unit_id][6] = "on_loan"
            return
        status = rng.choice(("waiting", "waiting", "fulfilled", "cancelled"))
        offered = None
        if self.offers_wanted and self.free_units:
            status, offered = "offered", self.free_units.pop()
            self.offers_wanted -= 1
            self.unit_rows[offered][6] = "reserved"
        type_id = self.unit_rows[offered][2] if offered else rng.choice(self.types)
        self.add(
            "reservation",
            {
                "family_id": family_id, "child_id": child_id, "type_id": type_id,
                "requested_on": self.days_ago(1, 200), "priority": rng.choice("123"),
                "status": status, "offered_unit_id": offered,
                "offer_expires_on": self.today + dt.timedelta(days=OFFER_DAYS) if offered else None,
                "version": 1, "created_at": self.now,
            },
        )  # fmt: skip

    # --- the coordination council ---

    def build_councils(self) -> None:
        """Each district's council met once a month for half a year (seed 000): a few
        active cases on each agenda, one or two decisions per case, each a task for the
        district worker or a specialist; those due by now are mostly done."""
        rng = self.rng
        meetings, members, agenda, tasks, assignments, decisions = [], [], [], [], [], []
        specialists = self.staff.get("psychologist", []) + self.staff.get("social_pedagogue", [])
        for district_id, cases in self.active_cases.items():
            worker = self.district_worker[district_id]
            for month in range(COUNCIL_MONTHS):
                held_on = self.today - dt.timedelta(days=15 + 30 * month)
                open_then = [c for c in cases if c[2] <= held_on]
                if not open_then:
                    continue
                meeting_id = self.ids.take("council_meeting")
                meetings.append((meeting_id, held_on, district_id,
                                 "Рассмотрение случаев сопровождения семей участка.", None,
                                 worker.id))  # fmt: skip
                present = {worker.id, self.coordinator.id}
                for case_id, family_id, _start in rng.sample(open_then, min(3, len(open_then))):
                    agenda.append((self.ids.take("council_agenda_item"), meeting_id, case_id, None))
                    for _ in range(rng.randint(1, 2)):
                        member = rng.choice([worker, *specialists]) if specialists else worker
                        present.add(member.id)
                        due = held_on + dt.timedelta(days=rng.choice((7, 14, 21)))
                        done = due < self.today and rng.random() < COUNCIL_DONE_SHARE
                        task_id = self.ids.take("task")
                        created = self.at(held_on)
                        tasks.append((task_id, family_id, case_id, None,
                                      f"Решение совета от {held_on:%d.%m.%Y}: поручение",
                                      member.role, member.id, "done" if done else "assigned",
                                      due, "Выполнено." if done else None,
                                      self.at(due) if done else None, 1, created))  # fmt: skip
                        assignments.append((self.ids.take("task_assignment"), task_id, member.id,
                                            created, self.coordinator.user_id, None))  # fmt: skip
                        decisions.append((self.ids.take("council_decision"), meeting_id, case_id,
                                          "Поручение по решению совета", due, "staff", member.id,
                                          task_id, created))  # fmt: skip
                members.extend((meeting_id, staff_id) for staff_id in sorted(present))
        self.writer.write("council_meeting", ("id", "held_on", "district_id", "agenda",
                          "decisions", "recorded_by_id"), meetings)  # fmt: skip
        self.writer.write("council_meeting_staff", ("meeting_id", "staff_id"), members)
        self.writer.write("council_agenda_item", ("id", "meeting_id", "case_id", "note"), agenda)
        self.writer.write("task", TABLE_COLUMNS["task"], tasks)
        self.writer.write("task_assignment", TABLE_COLUMNS["task_assignment"], assignments)
        self.writer.write("council_decision", ("id", "meeting_id", "case_id", "what", "due_on",
                          "executor", "staff_id", "task_id", "created_at"), decisions)  # fmt: skip

    def audit(self, action, table, row_id, changes, day) -> None:
        self.add(
            "audit_record",
            {
                "at": self.at(day), "user_id": None, "username": "system:scale",
                "ip": None, "action": action, "table_name": table, "row_id": str(row_id),
                "changes": json.dumps(changes, ensure_ascii=False),
            },
        )  # fmt: skip

    # --- the run ---

    def flush(self) -> None:
        for table in CHUNK_TABLES:
            self.writer.write(table, TABLE_COLUMNS[table], self.rows[table])
            self.rows[table] = []

    def run(self, progress=None) -> dict[str, int]:
        plans = plan_families(self.figures, self.rng)
        self.writer.set_aside_gin_indexes(CHUNK_TABLES)
        self.writer.set_aside_figure_triggers()
        self.build_staff()
        self.build_channels()
        self.build_units()
        self.write_units()
        self.build_pilot()
        archived = [FamilyPlan(children=self.rng.randint(1, 2)) for _ in range(len(plans) // 100)]
        for start in range(0, len(plans), CHUNK_FAMILIES):
            for plan in plans[start : start + CHUNK_FAMILIES]:
                self.build_family(plan)
            self.flush()
            if progress:
                progress(min(start + CHUNK_FAMILIES, len(plans)), len(plans))
        for plan in archived:
            self.build_family(plan, archived=True)
        self.flush()
        self.build_councils()
        # Units are written before the loans; their final status is set now.
        self.session.execute(
            text("UPDATE equipment_unit SET status = :status WHERE id = :id"),
            [
                {"status": row[6], "id": unit_id}
                for unit_id, row in self.unit_rows.items()
                if row[6] in ("on_loan", "reserved")
            ],
        )
        self.writer.finish(WRITTEN_TABLES)
        return self.writer.written


def load_scale(families: int, today: dt.date | None = None, progress=None) -> dict[str, int]:
    """Generate and load the data set for `families` families with children.

    Needs the reference data (`flask seed`) and is meant for an otherwise empty
    database; returns the rows written per table.
    """
    today = today or dt.date.today()
    generator = ScaleGenerator(db.session, REGIONAL.scaled(families), today)
    written = generator.run(progress)
    db.session.commit()
    if generator.writer.postgres:
        # VACUUM too, as autovacuum would: it marks the pages all-visible, so that
        # the reports' counts are index-only scans from the start.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return written
