"""A believable demo data set: the district support service of a small town, as of today.

Everything is generated from fixed seeds (Faker for surnames and e-mails,
`random.Random` for the rest) with dates relative to `date.today()`, so the
demo looks current whenever it is loaded and has the same shape every time.
It is written through the ORM in one transaction and only once: when any demo
account already exists, `load_demo()` does nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from faker import Faker
from sqlalchemy import select

from models import (
    Appointment,
    Assessment,
    Case,
    Consent,
    CouncilMeeting,
    Department,
    District,
    EquipmentType,
    EquipmentUnit,
    Event,
    Family,
    Loan,
    LoanExtension,
    Partner,
    PartnerAgreement,
    Person,
    PlanActivity,
    PlanRevision,
    Programme,
    ProgrammeEnrolment,
    Reservation,
    Review,
    Service,
    Staff,
    SupportPlan,
    Task,
    TaskAssignment,
    User,
    Visit,
    db,
)
from models.base import plural
from models.cases import LIFE_DOMAIN
from models.terms import ADULT_AGE_MONTHS, SUPPORT_TERM_MONTHS
from workflows.dates import add_months, centre_today

from .reference import load_reference
from .snils import make_snils

DEMO_PASSWORD = "opora-demo-2026"
DEMO_SEED = 2026
FAMILY_COUNT = 80
TOWN = "г. Судогда"
MSK = dt.timezone(dt.timedelta(hours=3), "MSK")
STAFF_DOMAIN = "sudogda-kcson.ru"

# (name, what the territory is, streets) of the four districts of one town.
DISTRICTS: list[tuple[str, str, list[str]]] = [
    (
        "Участок № 1 (центр)",
        "Центральная часть города, СОШ № 1, районная больница",
        ["ул. Коммунистическая", "ул. Ленина", "ул. Советская", "ул. Набережная", "пер. Школьный"],
    ),
    (
        "Участок № 2 (Заречье)",
        "Заречная часть города, частный сектор, детский сад № 5, ТОС «Заречье»",
        ["ул. Заречная", "ул. Луговая", "ул. Муромская", "ул. Полевая", "ул. Лесная"],
    ),
    (
        "Участок № 3 (микрорайон Химиков)",
        "Многоквартирные дома микрорайона Химиков, СОШ № 2, ТОС «Химик»",
        ["ул. Химиков", "ул. Строителей", "ул. Молодёжная", "ул. Юбилейная", "ул. Мира"],
    ),
    (
        "Участок № 4 (Вокзальный)",
        "Район вокзала и западная окраина города",
        ["ул. Вокзальная", "ул. Гагарина", "ул. Садовая", "ул. Западная", "ул. Северная"],
    ),
]
DISTRICT_WEIGHTS = [24, 22, 18, 16]

# key, role, sex, position, department code, districts ("all", a district number or
# None), login (None: no account), active.
STAFF: list[tuple[str, str, str, str, str | None, str | int | None, str | None, bool]] = [
    ("admin", "admin", "m", "ведущий программист", None, None, "admin", True),
    ("viewer", "viewer", "f", "директор", None, None, "viewer", True),
    (
        "coordinator",
        "coordinator",
        "f",
        "заведующая ОССО, руководитель службы сопровождения",
        "ОССО",
        "all",
        "coordinator",
        True,
    ),
    ("head_osod", "viewer", "f", "заведующая ОСОД", "ОСОД", None, None, True),
    ("head_ososd", "viewer", "f", "заведующая ОСОСД", "ОСОСД", None, None, True),
    (
        "worker1",
        "district_worker",
        "f",
        "специалист по социальной работе",
        "ОССО",
        1,
        "worker",
        True,
    ),
    (
        "worker2",
        "district_worker",
        "f",
        "специалист по социальной работе",
        "ОССО",
        2,
        "worker2",
        True,
    ),
    ("worker3", "district_worker", "f", "специалист по социальной работе", "ОССО", 3, None, True),
    ("worker4", "district_worker", "m", "специалист по социальной работе", "ОССО", 4, None, True),
    (
        "psychologist1",
        "psychologist",
        "f",
        "педагог-психолог",
        "ОСОСД",
        "all",
        "psychologist",
        True,
    ),
    ("psychologist2", "psychologist", "f", "психолог", "ОСОСД", "all", None, True),
    (
        "pedagogue1",
        "social_pedagogue",
        "f",
        "социальный педагог",
        "ОСОСД",
        "all",
        "pedagogue",
        True,
    ),
    ("pedagogue2", "social_pedagogue", "m", "социальный педагог", "ОСОСД", "all", None, True),
    ("social1", "social_worker", "f", "социальный работник", "ОСОД", "all", "social", True),
    ("social2", "social_worker", "f", "социальный работник", "ОСОД", "all", None, True),
    ("social3", "social_worker", "f", "социальный работник", "ОСОД", "all", None, True),
    ("social_former", "social_worker", "f", "социальный работник", "ОСОД", "all", None, False),
    (
        "nurse",
        "nurse",
        "f",
        "медицинская сестра (по соглашению с ГБУЗ ВО «Судогодская ЦРБ»)",
        None,
        "all",
        "nurse",
        True,
    ),
    (
        "lawyer",
        "lawyer",
        "m",
        "юрист (по соглашению о взаимодействии)",
        None,
        "all",
        "lawyer",
        True,
    ),
    ("rental", "rental_clerk", "f", "специалист пункта проката ТСР", "ОССО", None, "rental", True),
]
DEMO_USERNAMES = [row[6] for row in STAFF if row[6]]

# Male first names with the patronymics they give (son, daughter).
MALE_NAMES: dict[str, tuple[str, str]] = {
    "Александр": ("Александрович", "Александровна"),
    "Алексей": ("Алексеевич", "Алексеевна"),
    "Андрей": ("Андреевич", "Андреевна"),
    "Антон": ("Антонович", "Антоновна"),
    "Артём": ("Артёмович", "Артёмовна"),
    "Василий": ("Васильевич", "Васильевна"),
    "Виктор": ("Викторович", "Викторовна"),
    "Владимир": ("Владимирович", "Владимировна"),
    "Денис": ("Денисович", "Денисовна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Евгений": ("Евгеньевич", "Евгеньевна"),
    "Иван": ("Иванович", "Ивановна"),
    "Игорь": ("Игоревич", "Игоревна"),
    "Илья": ("Ильич", "Ильинична"),
    "Константин": ("Константинович", "Константиновна"),
    "Максим": ("Максимович", "Максимовна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Никита": ("Никитич", "Никитична"),
    "Николай": ("Николаевич", "Николаевна"),
    "Олег": ("Олегович", "Олеговна"),
    "Павел": ("Павлович", "Павловна"),
    "Роман": ("Романович", "Романовна"),
    "Сергей": ("Сергеевич", "Сергеевна"),
    "Юрий": ("Юрьевич", "Юрьевна"),
}
FEMALE_NAMES = [
    "Алёна", "Анастасия", "Анна", "Валентина", "Галина", "Дарья", "Евгения", "Екатерина",
    "Елена", "Ирина", "Ксения", "Людмила", "Марина", "Мария", "Надежда", "Наталья",
    "Оксана", "Ольга", "Светлана", "Татьяна", "Юлия",
]  # fmt: skip
BOY_NAMES = [
    "Александр", "Артём", "Глеб", "Даниил", "Дмитрий", "Егор", "Иван", "Кирилл", "Лев",
    "Марк", "Матвей", "Максим", "Михаил", "Никита", "Роман", "Степан", "Тимофей", "Ярослав",
]  # fmt: skip
GIRL_NAMES = [
    "Алиса", "Анна", "Арина", "Варвара", "Василиса", "Вероника", "Дарья", "Ева", "Елизавета",
    "Ксения", "Мария", "Милана", "Полина", "София", "Таисия", "Ульяна", "Виктория",
]  # fmt: skip

# (health notes, needs mobility aids, how common) of disabled children.
DISABLED_NOTES: list[tuple[str, bool, int]] = [
    ("ДЦП, спастическая диплегия; передвигается с опорой", True, 5),
    ("ДЦП, спастический тетрапарез; не ходит", True, 4),
    ("ДЦП, гемипаретическая форма", True, 3),
    ("Спинальная мышечная атрофия II типа", True, 1),
    ("Миелодисплазия, нижний парапарез", True, 1),
    ("Артрогрипоз, контрактуры крупных суставов", True, 1),
    ("Расстройство аутистического спектра", False, 4),
    ("Синдром Дауна, задержка психоречевого развития", False, 3),
    ("Сахарный диабет 1 типа, помповая инсулинотерапия", False, 2),
    ("Двусторонняя тугоухость IV степени, кохлеарный имплант", False, 1),
    ("Эпилепсия, задержка психического развития", False, 2),
    ("Врождённый порок сердца, состояние после операции", False, 1),
]
MOBILITY_NOTES = frozenset(notes for notes, mobility, _ in DISABLED_NOTES if mobility)
# (health notes, the youngest age they fit) of children with ОВЗ.
OVZ_NOTES: list[tuple[str, int]] = [
    ("Тяжёлое нарушение речи (заключение ПМПК)", 4),
    ("Задержка психического развития, обучение по АООП", 7),
    ("Нарушение опорно-двигательного аппарата, плоско-вальгусная деформация стоп", 2),
    ("Слабовидение, сходящееся косоглазие", 1),
    ("Синдром дефицита внимания и гиперактивности", 6),
]
FAMILY_NOTES = [
    "Частный дом с печным отоплением, вода из колонки.",
    "Мать в отпуске по уходу за ребёнком.",
    "Ребёнок обучается на дому по адаптированной программе.",
    "Бабушка помогает с уходом за детьми.",
    "Семья переехала из другого района год назад.",
    "Отец работает вахтовым методом.",
]
CONSENT_SCOPE = (
    "Обработка персональных данных членов семьи, включая сведения о состоянии здоровья "
    "детей, в целях социального обслуживания и сопровождения; передача сведений "
    "участникам межведомственного взаимодействия."
)

ASSESSMENT_NOTES: dict[str, dict[str, str]] = {
    "medical": {
        "high": "Нужны регулярные курсы реабилитации и сопровождение к специалистам; "
        "подходит срок переосвидетельствования.",
        "medium": "Нуждается в содействии в записи к узким специалистам и в санаторно-курортном лечении.",
        "low": "Наблюдается у участкового педиатра, рекомендации выполняются.",
        "none": "Потребностей не выявлено.",
    },
    "psychological": {
        "high": "Высокая тревожность матери, напряжённые отношения в семье; нужна диагностика и коррекция.",
        "medium": "Трудности принятия диагноза ребёнка, признаки эмоционального выгорания родителя.",
        "low": "Климат в семье благоприятный, достаточно периодических консультаций.",
        "none": "Потребностей не выявлено.",
    },
    "pedagogical": {
        "high": "Ребёнок не посещает образовательную организацию; нужен подбор формы обучения по заключению ПМПК.",
        "medium": "Трудности в освоении адаптированной программы, нужна социально-педагогическая коррекция.",
        "low": "Обучается по АООП, нуждается в организации досуга.",
        "none": "Потребностей не выявлено.",
    },
    "legal": {
        "high": "Не оформлены пособия и льготы, документы об инвалидности требуют переоформления.",
        "medium": "Нужна консультация по правам семьи с ребёнком-инвалидом и по льготам.",
        "low": "Разовая консультация по вопросам законодательства.",
        "none": "Потребностей не выявлено.",
    },
    "social": {
        "high": "Ребёнку нужны технические средства реабилитации, семья изолирована, помощь по дому необходима.",
        "medium": "Нужны технические средства реабилитации и содействие в получении льгот.",
        "low": "Бытовые условия удовлетворительные.",
        "none": "Потребностей не выявлено.",
    },
    "material": {
        "high": "Доход ниже прожиточного минимума, задолженность по оплате ЖКУ.",
        "medium": "Семья малоимущая, нуждается в содействии в получении материальной помощи.",
        "low": "Материальное положение стабильное.",
        "none": "Потребностей не выявлено.",
    },
}
DOMAIN_KINDS: dict[str, list[str]] = {
    "medical": ["medical"],
    "psychological": ["psychological"],
    "pedagogical": ["pedagogical", "cultural"],
    "legal": ["legal"],
    "social": ["social"],
    "material": ["social"],
}
KIND_ROLE = {
    "medical": "nurse",
    "psychological": "psychologist",
    "pedagogical": "social_pedagogue",
    "legal": "lawyer",
    "cultural": "social_pedagogue",
}
KIND_RESULTS = {
    "social": "Заявление подано, документы переданы в управление соцзащиты.",
    "medical": "Ребёнок сопровождён на приём к неврологу, получено направление на реабилитацию.",
    "psychological": "Проведено занятие, родителям даны письменные рекомендации.",
    "pedagogical": "Проведена консультация, подготовлены документы на ПМПК.",
    "legal": "Консультация проведена, подготовлено заявление в ОСФР.",
    "cultural": "Семья приняла участие во встрече семейного клуба.",
}
GOALS = {
    "medical": "Повышение реабилитационного потенциала ребёнка, доступ к медицинской помощи и реабилитации.",
    "psychological": "Стабилизация психологического климата в семье, адаптация к жизни с ребёнком-инвалидом.",
    "pedagogical": "Включение ребёнка в образовательную среду и досуговую деятельность.",
    "legal": "Оформление положенных семье льгот, пособий и документов.",
    "social": "Обеспечение ребёнка техническими средствами реабилитации и помощь семье в быту.",
    "material": "Преодоление трудной жизненной ситуации: материальная помощь и меры социальной поддержки.",
}
CLOSURE_OUTCOMES = {
    "goal_achieved": "Цели ИПСС достигнуты: ребёнок получает реабилитацию и посещает "
    "образовательную организацию, семья оформила положенные выплаты.",
    "refused": "Семья письменно отказалась от дальнейшего сопровождения (сопровождение добровольное).",
    "moved": "Семья переехала в другой район; сведения переданы в КЦСОН по новому месту жительства.",
    "term_expired": "Истёк шестимесячный срок сопровождения; задачи выполнены частично, "
    "семье рекомендовано повторное обращение.",
}
VISIT_FINDINGS = [
    "Условия проживания удовлетворительные, рекомендации специалистов выполняются.",
    "Мать отмечает улучшение сна ребёнка после курса массажа.",
    "Ходунки стали малы по росту — передано в пункт проката.",
    "Семье нужна консультация юриста по оформлению пособия.",
    "Ребёнок охотно занимается, речевая активность выросла.",
    "Отец вышел на работу, материальное положение улучшилось.",
]
REVIEW_PROGRESS = [
    "Мероприятия ИПСС выполняются в срок.",
    "Часть мероприятий перенесена из-за болезни ребёнка.",
    "Выполнено большинство мероприятий, консультации юриста ещё впереди.",
]
REVIEW_FEEDBACK = [
    "Семья довольна работой специалистов.",
    "Мать просит увеличить число занятий с психологом.",
    "Замечаний нет.",
    "Просят перенести визиты на вторую половину дня.",
]

# (name, kind, address) of the partners; all in the same town.
PARTNERS: list[tuple[str, str, str]] = [
    ("МБОУ «Судогодская СОШ № 1»", "school", "ул. Коммунистическая, д. 4"),
    ("МБОУ «Судогодская СОШ № 2»", "school", "ул. Химиков, д. 11"),
    ("МБДОУ «Детский сад № 5 „Солнышко“»", "school", "ул. Заречная, д. 7"),
    ("ГБУЗ ВО «Судогодская центральная районная больница»", "clinic", "ул. Ленина, д. 34"),
    ("ОМВД России по Судогодскому району", "police", "ул. Советская, д. 20"),
    ("ТОС «Заречье»", "tos", "ул. Луговая, д. 3"),
    ("ТОС «Химик»", "tos", "ул. Строителей, д. 9"),
    ("Судогодская районная организация Всероссийского общества инвалидов", "ngo", "ул. Мира, д. 5"),
    ("Родительская ассоциация «Особые дети»", "ngo", "ул. Садовая, д. 14"),
    ("Волонтёрский отряд «Открытые сердца»", "volunteers", "ул. Молодёжная, д. 2"),
    (
        "Отдел опеки и попечительства управления образования администрации Судогодского района",
        "authority",
        "ул. Коммунистическая, д. 1",
    ),
    (
        "Комиссия по делам несовершеннолетних и защите их прав",
        "authority",
        "ул. Коммунистическая, д. 1",
    ),
    ("МБУК «Судогодская центральная библиотека»", "other", "ул. Советская, д. 8"),
]
AGREEMENT_SUBJECTS = {
    "school": "Взаимодействие по выявлению семей с детьми-инвалидами и детьми с ОВЗ, "
    "сопровождение обучения детей.",
    "clinic": "Медицинская сестра для медико-социальной реабилитации детей на дому, "
    "сопровождение семей в медицинские организации.",
    "police": "Обмен сведениями о семьях в социально опасном положении, совместные социальные рейды.",
    "tos": "Выявление нуждающихся семей на территории, участие в координационном совете.",
    "ngo": "Совместные мероприятия для семей с детьми-инвалидами, консультации юриста.",
    "volunteers": "Привлечение волонтёров к досуговым мероприятиям и помощи семьям на дому.",
    "authority": "Межведомственное взаимодействие по социальному сопровождению семей с детьми.",
    "other": "Мобильная библиотека: подбор и доставка книг семьям с детьми-инвалидами.",
}

# Equipment type name → statuses of its units in the demo.
UNIT_PLAN: dict[str, list[str]] = {
    "Кресло-коляска комнатная": ["on_loan", "on_loan", "available", "sanitising"],
    "Кресло-коляска прогулочная": ["on_loan", "on_loan", "on_loan", "available", "repair"],
    "Кресло-коляска детская (для детей с ДЦП)": ["on_loan", "on_loan", "on_loan", "reserved"],
    "Ходунки": ["on_loan", "on_loan", "available", "available"],
    "Трость опорная": ["on_loan", "available", "available"],
    "Костыли подмышечные (пара)": ["on_loan", "available", "written_off"],
    "Опора для ходьбы": ["on_loan", "available"],
    "Опора для стояния": ["on_loan", "on_loan"],
    "Вертикализатор": ["on_loan", "repair"],
    "Функциональная кровать": ["on_loan", "available", "sanitising"],
    "Противопролежневый матрас": ["on_loan", "available"],
    "Стул (сиденье) для купания": ["on_loan", "available", "sanitising", "written_off"],
    "Кресло-стул с санитарным оснащением": ["available"],
    "Велотренажёр реабилитационный детский": ["on_loan", "available"],
}
# Types whose units are all busy: the queue waits for them.
QUEUE_TYPES = ["Кресло-коляска детская (для детей с ДЦП)", "Опора для стояния", "Вертикализатор"]

# Case statuses of the demo, with the closure reason for closed ones.
CASE_PLAN: list[tuple[str, str | None]] = (
    [("application", None)] * 6
    + [("assessment", None)] * 7
    + [("active", None)] * 20
    + [("closed", "goal_achieved")] * 4
    + [("closed", "refused")] * 3
    + [("closed", "moved")] * 2
    + [("closed", "term_expired")] * 3
)


TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya".split(),
        strict=True,
    )
)


def latin(text: str) -> str:
    """Russian text in Latin letters for e-mail addresses (Наумова → naumova)."""
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower()).replace("_", "")


def feminine_surname(surname: str) -> str:
    """The feminine form of a Russian male surname (Иванов → Иванова, Лесной → Лесная)."""
    for male, female in (
        ("ский", "ская"),
        ("цкий", "цкая"),
        ("ой", "ая"),
        ("ый", "ая"),
        ("кий", "кая"),
        ("гий", "гая"),
        ("хий", "хая"),
        ("ий", "яя"),
        ("ов", "ова"),
        ("ев", "ева"),
        ("ёв", "ёва"),
        ("ин", "ина"),
        ("ын", "ына"),
    ):
        if surname.endswith(male):
            return surname[: -len(male)] + female
    return surname


@dataclass
class _FamilyInfo:
    family: Family
    adults: list[Person]
    children: list[Person]
    consent: Consent | None = None
    registered_on: dt.date | None = None
    case: Case | None = None
    with_consent: bool = True
    withdrawn: bool = False
    targeted: bool = False
    activities: list[PlanActivity] = field(default_factory=list)

    @property
    def applicant(self) -> Person:
        return self.adults[0]


class _DemoBuilder:
    """Builds the demo data set in the current session; nothing is committed here."""

    def __init__(self) -> None:
        self.today = centre_today()
        self.rng = random.Random(DEMO_SEED)
        self.fake = Faker("ru_RU")
        self.fake.seed_instance(DEMO_SEED)
        self.used_snils: set[str] = set()
        self.staff: dict[str, Staff] = {}
        self.users: dict[str, User] = {}
        self.districts: list[District] = []
        self.families: list[_FamilyInfo] = []
        self.cases: list[Case] = []
        self.tasks: list[Task] = []
        self.units: list[EquipmentUnit] = []
        self.loans: list[Loan] = []
        self.counts: dict[str, int] = {}
        self.programmes: dict[str, Programme] = {}
        self.enrolled: set[tuple[str, int]] = set()

    # --- small helpers -------------------------------------------------------------

    def ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)

    def ahead(self, days: int) -> dt.date:
        return self.today + dt.timedelta(days=days)

    def at(self, day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=MSK)

    def mobile(self) -> str:
        r = self.rng
        return f"+7 9{r.randint(0, 99):02d} {r.randint(100, 999)}-{r.randint(10, 99)}-{r.randint(10, 99)}"

    def office_phone(self) -> str:
        return f"+7 (49235) 2-{self.rng.randint(10, 99)}-{self.rng.randint(10, 99)}"

    def birth_date(self, age: int) -> dt.date:
        return self.today - dt.timedelta(days=age * 365 + self.rng.randint(1, 360))

    def snils(self, share: float = 0.9) -> str | None:
        return make_snils(self.rng, self.used_snils) if self.rng.random() < share else None

    def name(self, sex: str, surname: str | None = None) -> tuple[str, str, str]:
        male_surname = surname or self.fake.last_name_male()
        middle = MALE_NAMES[self.rng.choice(list(MALE_NAMES))]
        if sex == "f":
            return feminine_surname(male_surname), self.rng.choice(FEMALE_NAMES), middle[1]
        return male_surname, self.rng.choice(list(MALE_NAMES)), middle[0]

    def between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    # --- the centre -----------------------------------------------------------------

    def build_structure(self) -> None:
        departments = {d.code: d for d in db.session.scalars(select(Department))}
        for name, description, streets in DISTRICTS:
            district = db.session.scalar(select(District).where(District.name == name))
            if district is None:
                district = District(name=name)
                db.session.add(district)
            district.territory = f"{description}. {TOWN}: {', '.join(streets)}."
            self.districts.append(district)

        for key, role, sex, position, dept, covers, _login, active in STAFF:
            last, first, middle = self.name(sex)
            staff = Staff(
                last_name=last,
                first_name=first,
                middle_name=middle,
                position=position,
                role=role,
                # The id, not the relationship: Department.head and Staff.department
                # form a cycle that the unit of work cannot order.
                department_id=departments[dept].id if dept in departments else None,
                phone=self.office_phone(),
                email=f"{latin(last)}.{latin(first[0] + middle[0])}@{STAFF_DOMAIN}",
                active=active,
            )
            if covers == "all":
                staff.districts = list(self.districts)
            elif isinstance(covers, int):
                staff.districts = [self.districts[covers - 1]]
            db.session.add(staff)
            self.staff[key] = staff
        db.session.flush()

        for number, district in enumerate(self.districts, start=1):
            district.responsible_worker_id = self.staff[f"worker{number}"].id
        for code, key in (("ОССО", "coordinator"), ("ОСОД", "head_osod"), ("ОСОСД", "head_ososd")):
            if code in departments and departments[code].head_id is None:
                departments[code].head_id = self.staff[key].id

        first: User | None = None
        for key, role, *_rest, login, _active in STAFF:
            if login:
                user = User(username=login, role=role, staff=self.staff[key], active=True)
                if first is None:
                    user.set_password(DEMO_PASSWORD)
                    first = user
                else:
                    # scrypt takes ~0.15 s a call; the demo password is public anyway,
                    # so the accounts share one hash (and salt).
                    user.password_hash = first.password_hash
                    user.session_epoch = first.session_epoch
                db.session.add(user)
                self.users[login] = user
        db.session.flush()
        self.counts["сотрудников"] = len(self.staff)
        self.counts["учётных записей"] = len(self.users)

    def worker_of(self, district: District) -> Staff:
        return self.staff[f"worker{self.districts.index(district) + 1}"]

    def specialist(self, role: str, lead: Staff) -> Staff:
        """Who does an activity of `role`: the lead worker, or one specialist of the role."""
        if role == "district_worker":
            return lead
        pools = {
            "psychologist": (["psychologist1", "psychologist2"], [3, 2]),
            "social_pedagogue": (["pedagogue1", "pedagogue2"], [3, 2]),
            "social_worker": (["social1", "social2", "social3"], [2, 2, 1]),
            "nurse": (["nurse"], [1]),
            "lawyer": (["lawyer"], [1]),
        }
        keys, weights = pools[role]
        return self.staff[self.rng.choices(keys, weights)[0]]

    # --- families -------------------------------------------------------------------

    def build_families(self) -> None:
        rng = self.rng
        for _ in range(FAMILY_COUNT):
            district = rng.choices(self.districts, DISTRICT_WEIGHTS)[0]
            streets = DISTRICTS[self.districts.index(district)][2]
            structure = rng.choices(
                ["two_parents", "single_mother", "single_father", "guardian", "foster"],
                [58, 26, 3, 5, 8],
            )[0]
            surname = self.fake.last_name_male()
            adults: list[Person] = []
            father_name = rng.choice(list(MALE_NAMES))
            mother_age = rng.randint(25, 46)
            if structure in ("two_parents", "single_mother"):
                adults.append(self.adult("f", surname, "mother", mother_age))
            if structure == "two_parents":
                father_age = mother_age + rng.randint(-2, 7)
                adults.append(self.adult("m", surname, "father", father_age, father_name))
            if structure == "single_father":
                adults.append(self.adult("m", surname, "father", rng.randint(28, 50), father_name))
            if structure == "guardian":
                adults.append(self.adult("f", surname, "guardian", rng.randint(48, 66)))
            if structure == "foster":
                adults.append(self.adult("f", surname, "legal_representative", rng.randint(30, 50)))
                if rng.random() < 0.6:
                    adults.append(
                        self.adult("m", surname, "legal_representative", rng.randint(32, 55))
                    )

            child_surname = surname
            if structure == "foster" or (structure == "guardian" and rng.random() < 0.4):
                child_surname = self.fake.last_name_male()
            youngest_adult = min((self.today - a.birth_date).days // 365 for a in adults)
            oldest_child = min(17, youngest_adult - 20)
            count = rng.choices([1, 2, 3], [40, 35, 25])[0]
            ages = sorted((rng.randint(1, oldest_child) for _ in range(count)), reverse=True)
            children = [self.child(child_surname, father_name, age) for age in ages]

            targeted = rng.random() < 0.82
            if targeted:
                older = [c for c in children if c.birth_date <= self.ago(2 * 365)]
                self.give_disability(rng.choice(older or children))
            for child in children:
                if child.disability_status == "none" and rng.random() < 0.1:
                    self.give_ovz(child)

            single = structure in ("single_mother", "single_father", "guardian")
            dangerous = rng.random() < 0.06
            house = rng.randint(1, 48)
            address = f"{TOWN}, {rng.choice(streets)}, д. {house}"
            if rng.random() < 0.7:
                address += f", кв. {rng.randint(1, 90)}"
            family = Family(
                surname=surname,
                district=district,
                address=address,
                phone=adults[0].phone,
                is_large=count >= 3,
                is_low_income=rng.random() < (0.45 if single else 0.25),
                is_single_parent=single,
                is_foster=structure in ("guardian", "foster"),
                is_dangerous=dangerous,
                identified_by=(
                    rng.choice(["raid", "partner"])
                    if dangerous
                    else rng.choices(["self", "partner", "raid", "transfer"], [52, 26, 12, 10])[0]
                ),
                status="registered",
                notes=rng.choice(FAMILY_NOTES) if rng.random() < 0.25 else None,
            )
            family.members = adults + children
            db.session.add(family)
            self.families.append(_FamilyInfo(family, adults, children, targeted=targeted))
        self.counts["семей"] = len(self.families)
        self.counts["человек"] = sum(len(f.adults) + len(f.children) for f in self.families)

    def adult(
        self, sex: str, surname: str, relation: str, age: int, first_name: str | None = None
    ) -> Person:
        last, first, middle = self.name(sex, surname)
        return Person(
            last_name=last,
            first_name=first_name or first,
            middle_name=middle,
            birth_date=self.birth_date(age),
            sex=sex,
            relation=relation,
            snils=self.snils(),
            phone=self.mobile() if self.rng.random() < 0.92 else None,
            disability_status="none",
        )

    def child(self, surname: str, father_name: str, age: int) -> Person:
        sex = self.rng.choice("mf")
        son, daughter = MALE_NAMES[father_name]
        return Person(
            last_name=surname if sex == "m" else feminine_surname(surname),
            first_name=self.rng.choice(BOY_NAMES if sex == "m" else GIRL_NAMES),
            middle_name=son if sex == "m" else daughter,
            birth_date=self.birth_date(age),
            sex=sex,
            relation="child",
            snils=self.snils(0.93),
            disability_status="none",
        )

    def give_disability(self, child: Person) -> None:
        rng = self.rng
        if rng.random() < 0.58:
            notes = rng.choices(
                [n for n, _, _ in DISABLED_NOTES], [w for _, _, w in DISABLED_NOTES]
            )[0]
            child.disability_status = "disabled"
            child.disability_group = "child"
            child.health_notes = notes
            eighteen = add_months(child.birth_date, ADULT_AGE_MONTHS)
            if rng.random() < 0.3:
                child.disability_review_date = eighteen
            else:
                child.disability_review_date = min(eighteen, self.ahead(rng.randint(-20, 540)))
        else:
            self.give_ovz(child)

    def give_ovz(self, child: Person) -> None:
        age = (self.today - child.birth_date).days // 365
        notes = [note for note, min_age in OVZ_NOTES if age >= min_age]
        if notes:
            child.disability_status = "ovz"
            child.health_notes = self.rng.choice(notes)

    def needs_mobility(self, child: Person) -> bool:
        return child.disability_status == "disabled" and child.health_notes in MOBILITY_NOTES

    # --- consents and cases ---------------------------------------------------------

    def build_cases(self) -> None:
        rng = self.rng
        order = list(self.families)
        rng.shuffle(order)
        without_consent, withdrawn, rest = order[:4], order[4:7], order[7:]
        for info in without_consent:
            info.with_consent = False
            info.registered_on = self.ago(rng.randint(1, 20))
            info.family.identified_by = rng.choice(["partner", "raid"])
        for info in withdrawn:
            info.withdrawn = True

        candidates = [f for f in rest if f.targeted] + [f for f in rest if not f.targeted]
        for info, (status, reason) in zip(candidates, CASE_PLAN, strict=False):
            self.make_case(info, status, reason)
        self.number_contracts()

        for info in self.families:
            if info.registered_on is None:
                info.registered_on = self.ago(rng.randint(15, 600))
            info.family.created_at = self.at(info.registered_on, 9, rng.randint(0, 59))
            if not info.with_consent:
                continue
            given_on = info.registered_on
            consent = Consent(
                family=info.family,
                person=info.applicant,
                given_on=given_on,
                scope=CONSENT_SCOPE,
                created_at=self.at(given_on, 11),
            )
            if info.withdrawn:
                consent.withdrawn_on = min(
                    self.today, given_on + dt.timedelta(rng.randint(20, 200))
                )
                info.family.status = "deregistered"
            db.session.add(consent)
            info.consent = consent
        self.counts["случаев"] = len(self.cases)

    def make_case(self, info: _FamilyInfo, status: str, reason: str | None) -> None:
        rng = self.rng
        lead = self.worker_of(info.family.district)
        case = Case(
            family=info.family,
            applicant=info.applicant,
            lead_worker=lead,
            status=status,
            closure_reason=reason,
        )
        if status == "application":
            case.application_date = self.ago(0 if not self.cases else rng.randint(0, 7))
        elif status == "assessment":
            case.application_date = self.ago(rng.randint(8, 25))
        else:
            if status == "active":
                # One case is close to its six-month limit.
                back = 176 if not any(c.status == "active" for c in self.cases) else None
                case.start_date = self.ago(back or rng.randint(3, 170))
            else:
                case.start_date = self.ago(rng.randint(200, 420))
            case.application_date = case.start_date - dt.timedelta(rng.randint(10, 21))
            case.decision_date = case.start_date - dt.timedelta(rng.randint(1, 5))
            case.contract_date = case.start_date
            months = rng.choice([4, 5, 6, 6, 6])
            case.planned_end_date = add_months(case.start_date, months)
            if case.planned_end_date < self.ahead(3):
                case.planned_end_date = add_months(case.start_date, SUPPORT_TERM_MONTHS)
            if status == "closed":
                start, end = case.start_date, case.planned_end_date
                closed_on = {
                    "goal_achieved": start + dt.timedelta(rng.randint(90, 170)),
                    "refused": start + dt.timedelta(rng.randint(20, 60)),
                    "moved": start + dt.timedelta(rng.randint(30, 110)),
                    "term_expired": end,
                }[reason]
                case.closed_on = min(closed_on, end)
                case.outcome = CLOSURE_OUTCOMES[reason]
        case.created_at = self.at(case.application_date, 10, rng.randint(0, 59))

        partner_found = info.family.identified_by in ("partner", "raid", "transfer")
        lag = rng.randint(5, 60) if partner_found else 0
        info.registered_on = case.application_date - dt.timedelta(lag)
        info.family.status = {
            "application": "registered",
            "assessment": "supported",
            "active": "supported",
            "closed": "deregistered" if reason == "moved" else "registered",
        }[status]
        info.case = case
        db.session.add(case)
        self.cases.append(case)

    def number_contracts(self) -> None:
        """Contract numbers «СС-2026/017», in the order of contract dates within a year."""
        signed = sorted((c for c in self.cases if c.contract_date), key=lambda c: c.contract_date)
        per_year: dict[int, int] = {}
        for case in signed:
            year = case.contract_date.year
            per_year[year] = per_year.get(year, 0) + 1
            case.contract_number = f"СС-{year}/{per_year[year]:03d}"

    # --- assessment, ИПСС, tasks, visits, reviews -----------------------------------

    def build_support(self, services: list[Service]) -> None:
        by_kind: dict[str, list[Service]] = {}
        for service in services:
            by_kind.setdefault(service.kind, []).append(service)
        counts = {"оценок": 0, "мероприятий ИПСС": 0, "визитов": 0, "мониторингов": 0}
        for info in self.families:
            case = info.case
            if case is None or case.status == "application":
                continue
            levels = self.assess(case, counts)
            self.make_visits(case, counts)
            if case.status == "assessment":
                if self.rng.random() < 0.45:
                    self.make_plan(info, levels, by_kind, draft=True)
            else:
                self.make_plan(info, levels, by_kind, draft=False)
                self.make_reviews(case, counts)
        counts["мероприятий ИПСС"] = sum(len(f.activities) for f in self.families)
        self.counts.update(counts)
        self.pin_today_and_overdue()
        self.make_tasks()

    def assess(self, case: Case, counts: dict[str, int]) -> dict[str, str]:
        rng = self.rng
        domains = LIFE_DOMAIN.codes
        if case.status == "assessment":
            domains = domains[: rng.randint(2, 5)]
            window = (case.application_date + dt.timedelta(2), self.today)
        else:
            window = (case.application_date + dt.timedelta(2), case.decision_date)
        levels: dict[str, str] = {}
        for domain in domains:
            level = rng.choices(["none", "low", "medium", "high"], [12, 25, 38, 25])[0]
            levels[domain] = level
        if sum(level in ("medium", "high") for level in levels.values()) < 2:
            for domain in list(levels)[:2]:
                levels[domain] = "medium"
        assessors = {
            "medical": self.staff["nurse"],
            "psychological": self.specialist("psychologist", case.lead_worker),
            "pedagogical": self.specialist("social_pedagogue", case.lead_worker),
            "legal": self.staff["lawyer"],
        }
        for domain, level in levels.items():
            assessed_on = self.between(*window)
            db.session.add(
                Assessment(
                    case=case,
                    domain=domain,
                    need_level=level,
                    notes=ASSESSMENT_NOTES[domain][level],
                    assessed_on=assessed_on,
                    assessed_by=assessors.get(domain, case.lead_worker),
                    created_at=self.at(assessed_on, 15),
                )
            )
            counts["оценок"] += 1
        return levels

    def make_plan(
        self,
        info: _FamilyInfo,
        levels: dict[str, str],
        by_kind: dict[str, list[Service]],
        draft: bool,
    ) -> None:
        rng = self.rng
        case = info.case
        assert case is not None
        lead = case.lead_worker
        ranked = sorted(levels, key=lambda d: ["high", "medium", "low", "none"].index(levels[d]))
        plan = SupportPlan(
            case=case, goal=GOALS[ranked[0]], status="draft" if draft else "approved"
        )
        if not draft:
            plan.approved_on = case.start_date
            plan.approved_by = self.staff["coordinator"]
        db.session.add(plan)

        chosen: list[Service] = []
        visiting = [s for s in by_kind.get("social", []) if "визитирование" in s.name.lower()]
        chosen.extend(visiting[:1])
        for domain in ranked:
            if levels[domain] in ("none", "low") and len(chosen) >= 3:
                continue
            pool = [s for k in DOMAIN_KINDS[domain] for s in by_kind.get(k, []) if s not in chosen]
            if pool:
                chosen.extend(
                    rng.sample(pool, min(len(pool), 2 if levels[domain] == "high" else 1))
                )
        chosen = chosen[:7]

        if draft:
            start, end = self.ahead(7), self.ahead(60)
        else:
            start = case.start_date + dt.timedelta(3)
            end = (
                case.planned_end_date or add_months(case.start_date, SUPPORT_TERM_MONTHS)
            ) - dt.timedelta(5)
        for service in chosen:
            role = KIND_ROLE.get(service.kind) or (
                "social_worker" if service.guaranteed else "district_worker"
            )
            activity = PlanActivity(
                plan=plan,
                service=service,
                responsible_role=role,
                specialist=self.specialist(role, lead),
                planned_date=self.between(start, end),
            )
            self.set_activity_status(activity, case, draft)
            db.session.add(activity)
            info.activities.append(activity)

        revisions = [(plan.approved_on or self.ago(1), lead, "Проект ИПСС подготовлен.")]
        if not draft:
            revisions[0] = (plan.approved_on, lead, f"ИПСС утверждена: {len(chosen)} мероприятий.")
            last_day = case.closed_on or self.today
            if rng.random() < 0.45 and (last_day - plan.approved_on).days > 20:
                revisions.append(
                    (
                        self.between(plan.approved_on + dt.timedelta(14), last_day),
                        self.staff["psychologist1"],
                        "По итогам психологической диагностики добавлены коррекционные "
                        "занятия; сроки консультаций скорректированы.",
                    )
                )
            if rng.random() < 0.15 and (last_day - revisions[-1][0]).days > 10:
                revisions.append(
                    (
                        self.between(revisions[-1][0] + dt.timedelta(5), last_day),
                        lead,
                        "Перенесён срок сопровождения в медицинскую организацию "
                        "в связи с болезнью ребёнка.",
                    )
                )
        for number, (day, who, summary) in enumerate(revisions, start=1):
            db.session.add(
                PlanRevision(
                    plan=plan,
                    number=number,
                    changed_at=self.at(day, 12 + number),
                    changed_by=who,
                    summary=summary,
                )
            )
        self.counts["редакций ИПСС"] = self.counts.get("редакций ИПСС", 0) + len(revisions)

    def set_activity_status(self, activity: PlanActivity, case: Case, draft: bool) -> None:
        rng = self.rng
        day = activity.planned_date
        if draft:
            activity.status = "planned"
            return
        if case.status == "closed":
            if day > case.closed_on:
                activity.status = "cancelled"
            else:
                activity.status = rng.choices(["done", "cancelled"], [9, 1])[0]
        elif day < self.ago(10):
            activity.status = rng.choices(["done", "in_progress", "cancelled"], [91, 5, 4])[0]
        elif day < self.today:
            activity.status = rng.choices(["done", "in_progress", "planned"], [6, 3, 1])[0]
        else:
            activity.status = rng.choices(["planned", "in_progress"], [8, 2])[0]
        if activity.status == "done":
            activity.done_on = min(self.today, day + dt.timedelta(rng.randint(-3, 2)))
            activity.result = KIND_RESULTS[activity.service.kind]
        elif activity.status == "cancelled" and case.status == "closed":
            activity.result = "Отменено в связи с закрытием случая."

    def pin_today_and_overdue(self) -> None:
        """Make sure the task lists show work due today and work overdue, also for the psychologist."""
        open_plans = [
            a
            for f in self.families
            if f.case and f.case.status == "active" and f.case.start_date <= self.ago(10)
            for a in f.activities
        ]
        psychologist = self.staff["psychologist1"]
        mine = [a for a in open_plans if a.specialist is psychologist]
        others = [a for a in open_plans if a.specialist is not psychologist]
        for index, activity in enumerate(mine[:2] + others[:3]):
            activity.planned_date = self.today
            activity.status = "in_progress" if index % 2 == 0 else "planned"
            activity.done_on = activity.result = None
        for offset, activity in enumerate(mine[2:4] + others[3:6], start=2):
            activity.planned_date = self.ago(offset)
            activity.status = "planned"
            activity.done_on = activity.result = None

    def make_tasks(self) -> None:
        rng = self.rng
        coordinator_user = self.users["coordinator"]
        for info in self.families:
            case = info.case
            if case is None:
                continue
            approved = case.status in ("active", "closed")
            for activity in info.activities if approved else []:
                status = {
                    "planned": "assigned",
                    "in_progress": "in_progress",
                    "done": "done",
                    "cancelled": "cancelled",
                }[activity.status]
                if status == "assigned" and activity.planned_date > self.ahead(14):
                    if rng.random() < 0.35:
                        status = "new"
                        activity.specialist = None
                self.add_task(
                    info,
                    title=activity.service.name,
                    role=activity.responsible_role,
                    assignee=activity.specialist if status != "new" else None,
                    status=status,
                    due=activity.planned_date,
                    created=case.start_date,
                    activity=activity,
                    done_on=activity.done_on or case.closed_on or activity.planned_date,
                    result=activity.result,
                )
            if case.status == "application":
                self.add_task(
                    info,
                    title="Рассмотреть заявление, провести первичный визит в семью",
                    role="district_worker",
                    assignee=case.lead_worker,
                    status=rng.choice(["assigned", "in_progress"]),
                    due=case.application_date + dt.timedelta(5),
                    created=case.application_date,
                )
            if case.status == "assessment":
                self.add_task(
                    info,
                    title="Провести оценку индивидуальных потребностей семьи",
                    role="district_worker",
                    assignee=case.lead_worker,
                    status="in_progress",
                    due=case.application_date + dt.timedelta(14),
                    created=case.application_date,
                )
                psych_status = rng.choice(["new", "assigned", "done"])
                self.add_task(
                    info,
                    title="Психологическая диагностика семьи",
                    role="psychologist",
                    assignee=None if psych_status == "new" else self.staff["psychologist1"],
                    status=psych_status,
                    due=case.application_date + dt.timedelta(12),
                    created=case.application_date + dt.timedelta(1),
                    done_on=min(self.today, case.application_date + dt.timedelta(9)),
                    result="Диагностика проведена, заключение приложено к оценке."
                    if psych_status == "done"
                    else None,
                )
        # Tasks about families without a case: checking a partner's referral.
        for info in [f for f in self.families if not f.with_consent]:
            self.add_task(
                info,
                title="Проверить сведения о семье по сообщению партнёра, получить согласие на обработку ПДн",
                role="district_worker",
                assignee=self.worker_of(info.family.district),
                status="assigned",
                due=info.registered_on + dt.timedelta(7),
                created=info.registered_on,
            )
        for task in self.tasks:
            if task.assignee is None:
                continue
            start = task.created_at
            first = task.assignee
            pool = [s for s in self.staff.values() if s.role == task.role and s.active]
            if task.role != "district_worker" and len(pool) > 1 and rng.random() < 0.15:
                first = rng.choice([s for s in pool if s is not task.assignee])
            db.session.add(
                TaskAssignment(
                    task=task,
                    staff=first,
                    assigned_at=start + dt.timedelta(minutes=5),
                    assigned_by_id=None if task.activity else coordinator_user.id,
                    reason="Автоназначение: наименьшая загрузка"
                    if task.activity
                    else "Назначено руководителем службы",
                )
            )
            if first is not task.assignee:
                db.session.add(
                    TaskAssignment(
                        task=task,
                        staff=task.assignee,
                        assigned_at=max(
                            start + dt.timedelta(hours=1),
                            min(
                                start + dt.timedelta(days=rng.randint(1, 5)), self.at(self.today, 8)
                            ),
                        ),
                        assigned_by_id=coordinator_user.id,
                        reason=rng.choice(
                            [
                                "Перераспределение: отпуск специалиста",
                                "Перераспределение по загрузке",
                            ]
                        ),
                    )
                )
        self.counts["задач"] = len(self.tasks)

    def add_task(
        self,
        info: _FamilyInfo,
        *,
        title: str,
        role: str,
        assignee: Staff | None,
        status: str,
        due: dt.date,
        created: dt.date,
        activity: PlanActivity | None = None,
        done_on: dt.date | None = None,
        result: str | None = None,
    ) -> None:
        final = status in ("done", "cancelled")
        created = min(created, self.today)
        task = Task(
            family=info.family,
            case=info.case,
            activity=activity,
            title=title,
            role=role,
            assignee=assignee,
            status=status,
            due_date=due,
            result=result if final else None,
            closed_at=self.at(min(done_on or due, self.today), 16) if final else None,
            created_at=self.at(created, 9),
        )
        db.session.add(task)
        self.tasks.append(task)

    def make_visits(self, case: Case, counts: dict[str, int]) -> None:
        rng = self.rng
        last_day = min(self.today, case.closed_on or self.today)
        day = case.application_date + dt.timedelta(rng.randint(1, 4))
        visits: list[Visit] = []
        first = True
        while day <= last_day:
            staff = case.lead_worker
            purpose = (
                "Первичное обследование условий проживания семьи"
                if first
                else "Плановый патронаж семьи"
            )
            if not first and rng.random() < 0.2:
                staff = self.staff[rng.choice(["nurse", "psychologist1", "psychologist2"])]
                purpose = (
                    "Процедуры «Санатория на дому»"
                    if staff.role == "nurse"
                    else "Занятие с ребёнком на дому"
                )
            visits.append(
                Visit(
                    case=case,
                    visited_on=day,
                    staff=staff,
                    purpose=purpose,
                    findings=rng.choice(VISIT_FINDINGS),
                    created_at=self.at(day, 17),
                )
            )
            first = False
            if case.status == "assessment" or case.start_date is None:
                break
            day = max(day, case.start_date) + dt.timedelta(rng.randint(14, 30))
        for visit, following in zip(visits, visits[1:] + [None], strict=True):
            if following is not None:
                visit.next_visit_on = following.visited_on
            elif case.status != "closed":
                visit.next_visit_on = visit.visited_on + dt.timedelta(rng.randint(14, 28))
        db.session.add_all(visits)
        counts["визитов"] += len(visits)

    def make_reviews(self, case: Case, counts: dict[str, int]) -> None:
        rng = self.rng
        last_day = case.closed_on or self.today
        months = 2
        while True:
            due = add_months(case.start_date, months)
            if case.status == "closed" and due > case.closed_on:
                due = case.closed_on
            review = Review(case=case, due_on=due, created_at=self.at(case.start_date, 12))
            if due <= last_day and (case.status == "closed" or rng.random() < 0.85):
                review.held_on = min(self.today, due + dt.timedelta(rng.randint(0, 4)))
                review.reviewer = self.staff["coordinator"]
                review.plan_progress = rng.choice(REVIEW_PROGRESS)
                review.family_feedback = rng.choice(REVIEW_FEEDBACK)
                review.effectiveness = rng.choices(["high", "medium", "low", "none"], [4, 4, 1, 1])[
                    0
                ]
            db.session.add(review)
            counts["мониторингов"] += 1
            # A case has one scheduled review at a time: the next comes after this one is held.
            if review.held_on is None or due >= last_day or months >= SUPPORT_TERM_MONTHS:
                break
            months += 2

    # --- partners, council, events, appointments, programmes ------------------------

    def build_partners(self) -> list[Partner]:
        """Partners of every kind with agreements: in force, expiring, expired, draft, terminated."""
        rng = self.rng
        partners = []
        expiring = {1: 5, 5: 18, 9: 29}  # partner index → days until the agreement ends
        expired = {6: 12, 12: 45}  # partner index → days since it ended
        drafts = {6, 8, 9}  # a new agreement is being prepared
        new_partners = {8}  # no agreement in force yet, only the draft
        terminated = {7}  # an earlier agreement was replaced
        for index, (name, kind, address) in enumerate(PARTNERS):
            partner = db.session.scalar(select(Partner).where(Partner.name == name))
            if partner is None:
                partner = Partner(
                    name=name,
                    kind=kind,
                    address=f"{TOWN}, {address}",
                    phone=self.office_phone(),
                )
                db.session.add(partner)
            partners.append(partner)
            contact = " ".join(self.name(rng.choice("mf")))
            valid_from = self.ago(rng.randint(120, 700))
            valid_to = valid_from + dt.timedelta(3 * 365) if rng.random() < 0.7 else None
            if index in expiring:
                valid_to = self.ahead(expiring[index])
                valid_from = valid_to - dt.timedelta(2 * 365)
            elif index in expired:
                valid_to = self.ago(expired[index])
                valid_from = valid_to - dt.timedelta(2 * 365)
            agreements = [] if index in new_partners else [(valid_from, valid_to, "active")]
            if index in terminated:
                old_from = valid_from - dt.timedelta(3 * 365)
                agreements.append((old_from, valid_from - dt.timedelta(1), "terminated"))
            if index in drafts:
                draft_from = self.ahead(14)
                agreements.append((draft_from, draft_from + dt.timedelta(3 * 365), "draft"))
            for starts, ends, status in agreements:
                signed_on = (
                    self.today if status == "draft" else starts - dt.timedelta(rng.randint(0, 10))
                )
                db.session.add(
                    PartnerAgreement(
                        partner=partner,
                        number=f"{index + 1}/ВЗ-{starts.year}"
                        + ("-п" if status == "draft" else ""),
                        signed_on=signed_on,
                        valid_from=starts,
                        valid_to=ends,
                        subject=AGREEMENT_SUBJECTS[kind],
                        contact_person=contact,
                        status=status,
                    )
                )
        self.counts["партнёров"] = len(partners)
        return partners

    def build_council(self, partners: list[Partner]) -> None:
        by_kind = {p.kind: p for p in reversed(partners)}
        s = self.staff
        meetings = [
            (
                self.ago(74),
                self.districts[0],
                [s["coordinator"], s["worker1"], s["psychologist1"], s["pedagogue1"]],
                ["school", "clinic", "police", "tos"],
                "Формирование банка данных о семьях с детьми-инвалидами на участке; план социальных рейдов.",
                "Провести рейд по ул. Набережной и пер. Школьному; школе № 1 передать списки детей, "
                "обучающихся на дому.",
            ),
            (
                self.ago(33),
                self.districts[1],
                [s["coordinator"], s["worker2"], s["nurse"], s["lawyer"]],
                ["clinic", "tos", "ngo", "volunteers"],
                "Сопровождение семей в медицинские организации; участие волонтёров в досуге детей.",
                "Закрепить за тремя семьями волонтёров; медсестре согласовать график «Санатория на дому».",
            ),
            (
                self.ahead(12),
                None,
                [s["coordinator"], s["worker1"], s["worker2"], s["worker3"], s["worker4"]],
                ["authority", "school", "police", "other"],
                "Итоги полугодия работы участковой службы; продление соглашений о взаимодействии.",
                None,
            ),
        ]
        for held_on, district, staff, kinds, agenda, decisions in meetings:
            meeting = CouncilMeeting(
                held_on=held_on, district=district, agenda=agenda, decisions=decisions
            )
            meeting.staff = staff
            meeting.partners = [by_kind[k] for k in kinds if k in by_kind]
            db.session.add(meeting)
        self.counts["заседаний совета"] = len(meetings)

    def build_events(self) -> None:
        rng = self.rng
        s = self.staff
        pool = [f.family for f in self.families if f.with_consent and not f.withdrawn]
        events = [
            ("training", "Обучение специалистов и волонтёров современным технологиям сопровождения семей", self.ago(52), s["coordinator"], 0),
            ("info_campaign", "Буклет «Участковая социальная служба: куда обратиться семье»", self.ago(41), s["coordinator"], 0),
            ("info_campaign", "Рубрика об участковой службе на сайте учреждения", self.ago(20), s["pedagogue1"], 0),
            ("club", "Семейный клуб «Мы вместе»: мастер-класс по сенсорным играм", self.ago(13), s["pedagogue1"], 9),
            ("club", "Семейный клуб «Мы вместе»: встреча с логопедом", self.ahead(6), s["pedagogue2"], 6),
            ("holiday", "Праздник для семей «Солнечный круг»", self.ago(27), s["pedagogue1"], 14),
            ("excursion", "Выезд на природу: экологическая тропа в Судогодском лесничестве", self.ago(61), s["pedagogue2"], 7),
            ("other", "День открытых дверей пункта проката ТСР", self.ahead(19), s["rental"], 0),
        ]  # fmt: skip
        for kind, title, held_on, organiser, family_count in events:
            event = Event(kind=kind, title=title, held_on=held_on, organiser=organiser)
            event.families = rng.sample(pool, family_count)
            db.session.add(event)
        self.counts["мероприятий"] = len(events)

    def build_appointments(self) -> None:
        rng = self.rng
        s = self.staff
        today = self.today
        next_saturday = today + dt.timedelta((5 - today.weekday()) % 7 or 7)
        last_saturday = next_saturday - dt.timedelta(7)
        supported = [f for f in self.families if f.case and f.case.status != "closed"]
        applied = [f for f in self.families if f.case and f.case.status == "application"]

        def family_slot(info: _FamilyInfo | None) -> dict:
            if info is None:
                last, first, middle = self.name(rng.choice("mf"))
                return {"citizen_name": f"{last} {first} {middle}", "citizen_phone": self.mobile()}
            return {
                "family": info.family,
                "citizen_name": info.applicant.full_name,
                "citizen_phone": info.applicant.phone,
            }

        rows = [
            (s["coordinator"], today, 9, 30, "in_person", None, "Консультация о постановке на социальное сопровождение", None),
            (s["lawyer"], today, 11, 0, "phone", supported[0], "Консультация по оформлению пособия на ребёнка-инвалида", None),
            (s["psychologist1"], today, 14, 0, "in_person", supported[1], "Консультация матери по вопросам адаптации ребёнка", None),
            (s["worker1"], today, 15, 30, "phone", None, "Вопрос о пункте проката: нужна коляска для ребёнка", None),
            (s["nurse"], today, 16, 0, "in_person", supported[2], "Содействие в записи на МСЭ", None),
            (s["coordinator"], next_saturday, 10, 0, "in_person", None, "Приём работающих родителей: вопросы сопровождения", None),
            (s["lawyer"], next_saturday, 11, 0, "phone", supported[3], "Права семьи с ребёнком-инвалидом на льготы по ЖКУ", None),
            (s["coordinator"], last_saturday, 10, 30, "in_person", supported[4], "Жалоба на сроки выдачи ТСР", "Разъяснён порядок очереди, заявка получила повышенный приоритет."),
            (s["pedagogue1"], last_saturday, 12, 0, "phone", supported[5], "Запись в семейный клуб", "Семья записана на ближайшую встречу клуба."),
            (s["coordinator"], applied[0].case.application_date, 10, 15, "in_person", applied[0], "Обращение за социальным сопровождением", "Принято заявление на социальное сопровождение."),
            (s["worker2"], today - dt.timedelta(6), 14, 30, "phone", supported[6], "Перенос визита", "Визит перенесён по просьбе семьи."),
            (s["psychologist2"], today + dt.timedelta(2), 13, 0, "in_person", supported[7], "Повторная консультация психолога", None),
            (s["worker3"], today + dt.timedelta(3), 10, 0, "phone", None, "Консультация по оформлению инвалидности ребёнку", None),
        ]  # fmt: skip
        for specialist, day, hour, minute, channel, info, purpose, outcome in rows:
            slot = family_slot(info)
            appointment = Appointment(
                specialist=specialist,
                starts_at=dt.datetime.combine(day, dt.time(hour, minute)),
                channel=channel,
                purpose=purpose,
                outcome=outcome,
                **slot,
            )
            if info is not None and info in applied and outcome:
                appointment.case = info.case
            db.session.add(appointment)
        self.counts["записей на приём"] = len(rows)

    def enrol(self, name: str, info: _FamilyInfo, on: dt.date, left: dt.date | None = None) -> None:
        """Enrol a family in a programme once (a missing programme is skipped)."""
        programme = self.programmes.get(name)
        if programme is None or (name, id(info)) in self.enrolled:
            return
        self.enrolled.add((name, id(info)))
        on = min(on, self.today)
        db.session.add(
            ProgrammeEnrolment(
                programme=programme,
                family=info.family,
                enrolled_on=on,
                left_on=max(left, on) if left else None,
            )
        )

    def build_enrolments(self) -> None:
        rng = self.rng
        with_case = [f for f in self.families if f.case and f.case.start_date]
        for info in with_case:
            self.enrol(
                "Домашнее визитирование семей", info, info.case.start_date, info.case.closed_on
            )
        disabled = [
            f for f in with_case if any(c.disability_status == "disabled" for c in f.children)
        ]
        for info in disabled[:7]:
            start = info.case.start_date + dt.timedelta(10)
            self.enrol("«Санаторий на дому»", info, start, info.case.closed_on)
        for info in rng.sample(disabled, 6):
            start = info.case.start_date + dt.timedelta(7)
            self.enrol("Психолого-педагогическая помощь на дому", info, start, info.case.closed_on)
        consenting = [f for f in self.families if f.with_consent and not f.withdrawn]
        for info in rng.sample(consenting, 10):
            start = info.registered_on + dt.timedelta(rng.randint(5, 30))
            self.enrol("Мобильная библиотека", info, start)
        for info in rng.sample(consenting, 12):
            start = info.registered_on + dt.timedelta(rng.randint(5, 60))
            self.enrol("Семейный клуб", info, start)
        for info in rng.sample(consenting, 5):
            self.enrol("Телекоммуникационные формы общения", info, info.registered_on)

    # --- rental point ---------------------------------------------------------------

    def build_rental(self, types: dict[str, EquipmentType]) -> None:
        rng = self.rng
        clerk = self.staff["rental"]
        consenting = [f for f in self.families if f.with_consent and not f.withdrawn]
        mobile_children = [(f, c) for f in consenting for c in f.children if self.needs_mobility(c)]
        other_children = [
            (f, c)
            for f in consenting
            for c in f.children
            if c.disability_status != "none" and not self.needs_mobility(c)
        ]
        rng.shuffle(mobile_children)
        rng.shuffle(other_children)
        borrowers = mobile_children + other_children
        holders: dict[str, set[int]] = {}
        loans_of: dict[int, int] = {}
        number = 100
        loan_scenarios = ["normal", "normal", "overdue", "normal", "extended", "due_soon"]
        offered_unit: EquipmentUnit | None = None
        extensions = 0
        open_loans = 0

        def borrower_for(type_name: str) -> tuple[_FamilyInfo, Person]:
            """A child who never had this type, preferring those who need mobility aids."""
            used = holders.setdefault(type_name, set())
            for group in (mobile_children, other_children):
                free = [pair for pair in group if id(pair[1]) not in used]
                if free:
                    pair = min(free, key=lambda pair: loans_of.get(id(pair[1]), 0))
                    used.add(id(pair[1]))
                    loans_of[id(pair[1])] = loans_of.get(id(pair[1]), 0) + 1
                    return pair
            raise LookupError(type_name)

        for type_name, statuses in UNIT_PLAN.items():
            kind = types.get(type_name)
            if kind is None:
                continue
            for status in statuses:
                number += rng.randint(1, 9)
                unit = EquipmentUnit(
                    inventory_number=f"ТСР-{number:06d}",
                    type=kind,
                    size=kind.size_range,
                    components=kind.components,
                    condition={"repair": "poor", "written_off": "poor"}.get(
                        status, rng.choice(["new", "good", "good", "fair"])
                    ),
                    status=status,
                    acquired_on=self.ago(rng.randint(500, 1500)),
                )
                db.session.add(unit)
                self.units.append(unit)
                term = kind.loan_term_days

                # The loan that holds the unit now, if it is on loan.
                current_issue = None
                if status == "on_loan":
                    scenario = loan_scenarios[open_loans % len(loan_scenarios)]
                    open_loans += 1
                    info, child = borrower_for(type_name)
                    issued = {
                        "normal": self.ago(rng.randint(5, term - 15)),
                        "overdue": self.ago(term + rng.randint(3, 40)),
                        "extended": self.ago(term + rng.randint(10, 50)),
                        "due_soon": self.ago(term - rng.randint(1, 5)),
                    }[scenario]
                    loan = self.lend(unit, info, child, issued, issued + dt.timedelta(term), clerk)
                    if scenario == "extended" and kind.max_extensions > 0:
                        new_due = loan.due_on + dt.timedelta(term)
                        db.session.add(
                            LoanExtension(
                                loan=loan,
                                old_due_on=loan.due_on,
                                new_due_on=new_due,
                                reason="Продлено по заявлению матери: курс реабилитации не завершён.",
                                extended_at=self.at(loan.due_on - dt.timedelta(3), 11),
                                extended_by_id=clerk.id,
                            )
                        )
                        loan.due_on = new_due
                        loan.extensions = 1
                        extensions += 1
                    current_issue = issued

                # Earlier loans of the unit, all returned.
                history_end = current_issue or self.today
                if status == "sanitising":
                    returned = self.ago(rng.randint(0, 3))
                elif status in ("repair", "written_off"):
                    returned = self.ago(rng.randint(20, 90))
                elif rng.random() < 0.5:
                    returned = history_end - dt.timedelta(rng.randint(15, 60))
                else:
                    returned = None
                if returned is not None:
                    info, child = borrower_for(type_name)
                    issued = returned - dt.timedelta(rng.randint(40, term))
                    if issued > unit.acquired_on:
                        loan = self.lend(
                            unit, info, child, issued, issued + dt.timedelta(term), clerk
                        )
                        loan.returned_on = returned
                        loan.condition_on_return = {
                            "repair": "poor",
                            "written_off": "poor",
                        }.get(status, rng.choice(["good", "fair"]))
                        if status == "repair":
                            loan.notes = "Не работает тормоз, треснула подножка."
                        elif rng.random() < 0.15 and "насос" in (kind.components or ""):
                            loan.missing_components = "насос"
                if status == "written_off":
                    unit.written_off_on = self.ago(rng.randint(5, 15))
                    unit.write_off_reason = "Износ, ремонт нецелесообразен (акт списания)."
                if status == "reserved" and offered_unit is None:
                    offered_unit = unit
        self.counts["единиц ТСР"] = len(self.units)
        self.counts["выдач ТСР"] = len(self.loans)
        self.counts["продлений"] = extensions

        first_loans: dict[int, tuple[_FamilyInfo, dt.date]] = {}
        for info in self.families:
            for loan in sorted(
                (loan for loan in self.loans if loan.family is info.family),
                key=lambda loan: loan.issued_on,
            )[:1]:
                first_loans[id(info)] = (info, loan.issued_on)
        for info, issued_on in first_loans.values():
            self.enrol("Пункт проката технических средств реабилитации", info, issued_on)

        self.build_queue(types, offered_unit, borrowers)

    def lend(
        self,
        unit: EquipmentUnit,
        info: _FamilyInfo,
        child: Person,
        issued: dt.date,
        due: dt.date,
        clerk: Staff,
    ) -> Loan:
        loan = Loan(
            unit=unit,
            family=info.family,
            child=child,
            issued_by=clerk,
            issued_on=issued,
            due_on=due,
            extensions=0,
            condition_on_issue=unit.condition if unit.condition != "poor" else "fair",
            created_at=self.at(issued, 11),
        )
        db.session.add(loan)
        self.loans.append(loan)
        return loan

    def build_queue(
        self,
        types: dict[str, EquipmentType],
        offered_unit: EquipmentUnit | None,
        borrowers: list[tuple[_FamilyInfo, Person]],
    ) -> None:
        """The queue: an offer, families waiting for busy types, served and withdrawn requests."""
        holding = {
            (id(loan.child), loan.unit.type.name) for loan in self.loans if loan.returned_on is None
        }
        queue = [
            (QUEUE_TYPES[0], "offered", "1", 41),
            (QUEUE_TYPES[0], "waiting", "2", 30),
            (QUEUE_TYPES[0], "waiting", "3", 12),
            (QUEUE_TYPES[1], "waiting", "3", 25),
            (QUEUE_TYPES[2], "waiting", "1", 9),
            (QUEUE_TYPES[2], "waiting", "3", 55),
            ("Ходунки", "fulfilled", "3", 0),
            ("Функциональная кровать", "fulfilled", "2", 0),
            ("Кресло-коляска прогулочная", "cancelled", "3", 90),
        ]
        candidates = [p for p in borrowers if self.needs_mobility(p[1])] + [
            p for p in borrowers if not self.needs_mobility(p[1])
        ]
        rows = 0
        for type_name, status, priority, days_ago in queue:
            kind = types.get(type_name)
            if kind is None or (status == "offered" and offered_unit is None):
                continue
            requested_on = self.ago(days_ago)
            if status == "fulfilled":
                # A request served by one of the loans of this type.
                served = [loan for loan in self.loans if loan.unit.type is kind]
                if not served:
                    continue
                loan = min(served, key=lambda loan: loan.issued_on)
                pair = next(p for p in borrowers if p[1] is loan.child)
                requested_on = loan.issued_on - dt.timedelta(self.rng.randint(7, 30))
            else:
                pair = next(p for p in candidates if (id(p[1]), type_name) not in holding)
            if pair in candidates:
                candidates.remove(pair)
            info, child = pair
            reservation = Reservation(
                family=info.family,
                child=child,
                type=kind,
                requested_on=requested_on,
                priority=priority,
                status=status,
                created_at=self.at(requested_on, 12),
            )
            if status == "offered":
                reservation.offered_unit = offered_unit
                reservation.offer_expires_on = self.ahead(2)
                reservation.notes = "Семье позвонили, придут за коляской в течение двух дней."
            elif status == "cancelled":
                reservation.notes = "Семья получила коляску по ИПРА, заявка снята."
            db.session.add(reservation)
            rows += 1
        self.counts["заявок на ТСР"] = rows

    # --- everything -----------------------------------------------------------------

    def build(self) -> None:
        """Build the whole demo in the session (flushed, not committed)."""
        services = list(db.session.scalars(select(Service).order_by(Service.id)))
        self.programmes = {
            p.name: p for p in db.session.scalars(select(Programme).order_by(Programme.id))
        }
        types = {
            t.name: t for t in db.session.scalars(select(EquipmentType).order_by(EquipmentType.id))
        }
        self.build_structure()
        self.build_families()
        self.build_cases()
        self.build_support(services)
        partners = self.build_partners()
        self.build_council(partners)
        self.build_events()
        self.build_appointments()
        self.build_enrolments()
        self.build_rental(types)
        db.session.flush()
        self.counts["участий в программах"] = len(self.enrolled)


def demo_loaded() -> bool:
    """Whether any demo account exists already (then the demo is not loaded again)."""
    return (
        db.session.scalar(select(User.id).where(User.username.in_(DEMO_USERNAMES)).limit(1))
        is not None
    )


def load_demo() -> str:
    """Load the demo data set once; return a short Russian summary with the demo password."""
    if demo_loaded():
        return "Демонстрационные данные уже загружены (учётные записи есть) — ничего не добавлено."
    load_reference()
    builder = _DemoBuilder()
    try:
        builder.build()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    c = builder.counts
    return (
        "Демонстрационные данные загружены: "
        f"{plural(len(builder.districts), 'участок', 'участка', 'участков')}, "
        f"{plural(c['сотрудников'], 'сотрудник', 'сотрудника', 'сотрудников')}, "
        f"{plural(c['семей'], 'семья', 'семьи', 'семей')} "
        f"({plural(c['человек'], 'человек', 'человека', 'человек')}), "
        f"{plural(c['случаев'], 'случай', 'случая', 'случаев')} сопровождения, "
        f"{plural(c['задач'], 'задача', 'задачи', 'задач')}, "
        f"{plural(c['единиц ТСР'], 'единица', 'единицы', 'единиц')} ТСР, "
        f"{plural(c['выдач ТСР'], 'выдача', 'выдачи', 'выдач')}.\n"
        f"Учётные записи: {', '.join(DEMO_USERNAMES)}; пароль у всех: {DEMO_PASSWORD}"
    )
