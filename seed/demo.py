"""A believable demo data set: the district support service of a small town, as of today.

Everything is generated from fixed seeds (Faker for surnames and e-mails,
`random.Random` for the rest) with dates relative to `date.today()`, so the
demo looks current whenever it is loaded and has the same shape every time.

The centre, its families, partners and events are rows, as the panel's plain
tables create them. Everything with a life of its own goes through the workflows
that the pages call, on the day it happened: consents, applications (one through
reception), assessments, contracts, the ИПСС and its approval into tasks, tasks
taken, done (a home visit with its findings) or cancelled, reviews, closures,
appointments, and at the rental point every receipt, loan, extension, return,
sanitising, write-off and queue place. So the demo holds only states the panel
can reach; the scheduler's jobs run once at the end, as `flask tick` would.

It is written in one transaction and only once: when any demo account already
exists, `load_demo()` does nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from faker import Faker
from sqlalchemy import event, func, select

from models import (
    Case,
    Consent,
    CouncilMeeting,
    Department,
    District,
    EquipmentType,
    EquipmentUnit,
    Event,
    EventAttendance,
    Family,
    IncomingReferral,
    Loan,
    Partner,
    PartnerAgreement,
    PartnerContact,
    Person,
    PlanActivity,
    Programme,
    ProgrammeEnrolment,
    ProjectMeasure,
    RehabMeasure,
    RehabProgramme,
    RehabTsr,
    Reservation,
    Service,
    SocialRaid,
    Staff,
    Task,
    User,
    Volunteer,
    db,
)
from models.cases import LIFE_DOMAIN, OPEN_TASK_STATUSES
from models.declension import plural
from models.terms import ADULT_AGE_MONTHS, REFERRAL_ANSWER_DAYS, SUPPORT_TERM_MONTHS
from workflows import council
from workflows.cases import (
    close_case,
    open_case,
    record_assessment,
    sign_contract,
    take_incoming_referral,
)
from workflows.channels import (
    decline_incoming_referral,
    record_raid,
    register_incoming_referral,
)
from workflows.consent import record_consent
from workflows.dates import add_months, centre_today
from workflows.errors import WorkflowError
from workflows.plans import ActivityDraft, approve_plan, save_plan
from workflows.reception import SUNDAY, book_appointment
from workflows.referrals import (
    accept_referral,
    fulfil_referral,
    no_answer_referral,
    prepare_referral,
    refuse_referral,
    send_referral,
)
from workflows.rental import (
    cancel_reservation,
    enqueue,
    extend_loan,
    lend_from_queue,
    lend_unit,
    receive_unit,
    release_unit,
    return_loan,
    write_off_unit,
)
from workflows.reviews import hold_review, open_review
from workflows.schedule import JOBS
from workflows.tasks import (
    VisitRecord,
    cancel_task,
    complete_task,
    create_task,
    eligible_staff,
    is_visit_task,
    reassign_task,
    start_task,
)

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

# key, role, sex, position, department code, districts ("all", district numbers or
# None), login (None: no account), active. Every working specialist has a login: a
# task goes only to someone who can sign in. No social worker covers district 4 yet,
# so its home-service tasks wait unassigned on the coordinator's board.
STAFF: list[
    tuple[str, str, str, str, str | None, str | tuple[int, ...] | None, str | None, bool]
] = [
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
        (1,),
        "worker",
        True,
    ),
    (
        "worker2",
        "district_worker",
        "f",
        "специалист по социальной работе",
        "ОССО",
        (2,),
        "worker2",
        True,
    ),
    (
        "worker3",
        "district_worker",
        "f",
        "специалист по социальной работе",
        "ОССО",
        (3,),
        "worker3",
        True,
    ),
    (
        "worker4",
        "district_worker",
        "m",
        "специалист по социальной работе",
        "ОССО",
        (4,),
        "worker4",
        True,
    ),
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
    ("psychologist2", "psychologist", "f", "психолог", "ОСОСД", "all", "psychologist2", True),
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
    (
        "pedagogue2",
        "social_pedagogue",
        "m",
        "социальный педагог",
        "ОСОСД",
        "all",
        "pedagogue2",
        True,
    ),
    ("social1", "social_worker", "f", "социальный работник", "ОСОД", (1, 2), "social", True),
    ("social2", "social_worker", "f", "социальный работник", "ОСОД", (2, 3), "social2", True),
    ("social3", "social_worker", "f", "социальный работник", "ОСОД", (1, 3), "social3", True),
    ("social_former", "social_worker", "f", "социальный работник", "ОСОД", (4,), None, False),
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

# Who refers families (the kinds of partner, with weights): schools and the hospital most.
REFERRER_WEIGHTS = {"school": 34, "clinic": 30, "authority": 14, "police": 10, "tos": 8, "ngo": 4}
# Why partners refer a family, by kind of partner.
REFERRAL_REASONS = {
    "school": "Ребёнок с ОВЗ часто пропускает занятия, семье нужна помощь в организации обучения.",
    "clinic": "Ребёнку установлена инвалидность, семья нуждается в социальном сопровождении.",
    "authority": "Семья в трудной жизненной ситуации, просим оценить нуждаемость.",
    "police": "Семья выявлена при обходе участка: ребёнок-инвалид, условия проживания неудовлетворительные.",
    "tos": "Соседи сообщили: мать одна ухаживает за ребёнком-инвалидом, нужна помощь.",
    "ngo": "Родители обратились в организацию, просим принять семью на сопровождение.",
}
RAIDS_PER_DISTRICT = 5

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
    ("Бюро медико-социальной экспертизы № 7 (филиал)", "mse", "ул. Ленина, д. 34"),
    ("Территориальная психолого-медико-педагогическая комиссия", "pmpk", "ул. Советская, д. 3"),
]
# The pilot's complex of measures and its money (seed 003: «общий объем финансовых
# средств пилотного проекта составляет более 17 млн. рублей, в том числе грантовая
# поддержка Фонда 9,5 млн. рублей»): 9.5 mln of the grant, 7.2 mln of the region, 0.5 mln
# of other sources — 17.2 mln ₽ in all.
PROJECT_MEASURES = (
    ("Открытие службы участковых социальных работников", "fund_grant", "2100000", "1250000"),
    ("Открытие службы участковых социальных работников", "regional_budget", "3400000", "1700000"),
    ("Пункт проката ТСР: закупка технических средств", "fund_grant", "3600000", "2950000"),
    ("Пункт проката ТСР: закупка технических средств", "regional_budget", "1200000", "400000"),
    ("«Санаторий на дому» и мобильная библиотека", "fund_grant", "1900000", "600000"),
    ("«Санаторий на дому» и мобильная библиотека", "regional_budget", "1600000", "550000"),
    ("Обучение специалистов и волонтёров", "fund_grant", "1200000", "480000"),
    ("Обучение специалистов и волонтёров", "regional_budget", "500000", "120000"),
    ("Информационная кампания: буклеты, реклама, СМИ, сайт", "fund_grant", "700000", "310000"),
    ("Информационная кампания: буклеты, реклама, СМИ, сайт", "regional_budget", "500000", "180000"),
    ("Досуговые мероприятия для семей", "other", "500000", "145000"),
)
PROJECT_GRANT = Decimal("9500000")
# (partner kind, reason, service kind, the reason's text) of the demo's referrals.
DEMO_REFERRALS = (
    ("school", "education", "pedagogical", "Подбор формы обучения ребёнка, обучение на дому"),
    ("clinic", "medical", "medical", "Сопровождение на консультацию невролога"),
    ("mse", "mse", "medical", "Содействие в освидетельствовании ребёнка"),
    ("pmpk", "pmpk", "pedagogical", "Обследование ребёнка для выбора образовательного маршрута"),
    ("authority", "social", "social", "Оформление мер социальной поддержки семьи"),
    ("ngo", "leisure", "cultural", "Участие ребёнка в инклюзивной театральной студии"),
)
VOLUNTEERS = (
    ("Волкова", "Дарья", "Андреевна"),
    ("Голубева", "Полина", "Сергеевна"),
    ("Зайцев", "Артём", "Игоревич"),
    ("Лебедева", "Ксения", "Олеговна"),
    ("Соколов", "Илья", "Дмитриевич"),
    ("Морозова", "Алина", "Викторовна"),
    ("Кравцова", "Софья", "Романовна"),
)
PROJECT_TOTAL = Decimal("17200000")

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
    "mse": "Содействие семьям в прохождении медико-социальной экспертизы детей.",
    "pmpk": "Направление детей на обследование ПМПК, обмен заключениями для сопровождения.",
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
# (type, status, priority, days ago) of the queue places: the first is offered the unit
# freed yesterday, the rest wait; two were served by a loan, one was withdrawn.
QUEUE: list[tuple[str, str, str, int]] = [
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
# Timestamps the workflows write with the real time; the demo dates them to its day.
STAMPED_COLUMNS = ("created_at", "closed_at", "assigned_at", "changed_at", "extended_at")
UNSTAMPED_TABLES = frozenset({"family", "user_account", "audit_record", "login_attempt"})

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
        # One line that reads against the alphabet above; a 33-line list would not.
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya".split(),  # noqa: SIM905
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
    plan: _CasePlan | None = None
    with_consent: bool = True
    withdrawn: bool = False
    targeted: bool = False

    @property
    def case(self) -> Case | None:
        return self.plan.case if self.plan else None

    @property
    def applicant(self) -> Person:
        return self.adults[0]


@dataclass
class _CasePlan:
    """The dates of one case's steps, decided before any of them is taken."""

    info: _FamilyInfo
    status: str
    reason: str | None
    applied: dt.date = dt.date.min
    via_reception: bool = False
    assessed: dt.date | None = None
    decided: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    closed: dt.date | None = None
    contract_number: str = ""
    case: Case | None = None
    # (service id, planned date) of activities that must stay open: work due today or overdue.
    pinned: set[tuple[int, dt.date]] = field(default_factory=set)
    pinned_ids: set[int] = field(default_factory=set)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive (they are UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def task_day(builder: _DemoBuilder, task: Task) -> dt.date:
    """The demo day a task was created on."""
    return builder.task_days.get(task, builder.day)


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
        self.plans: list[_CasePlan] = []
        self.units: list[EquipmentUnit] = []
        self.loans: list[Loan] = []
        self.counts: dict[str, int] = {}
        self.programmes: dict[str, Programme] = {}
        self.enrolled: set[tuple[str, int]] = set()
        self.user_by_staff: dict[int, User] = {}
        self.served_by_queue: dict[str, tuple[str, int]] = {}
        # The simulated clock (see `on`): rows written at or after `started` are undated.
        self.started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        self.day: dt.date | None = None
        self.minute = 0
        self.task_days: weakref.WeakKeyDictionary[Task, dt.date] = weakref.WeakKeyDictionary()
        self.pins = {"psychologist": (2, 2), "others": (3, 3)}
        self.overdue_days = [self.ago(days) for days in (2, 3, 4, 5, 6)]

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
            elif covers:
                staff.districts = [self.districts[number - 1] for number in covers]
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
                db.session.add(user)
                self.users[login] = user
        db.session.flush()
        self.user_by_staff = {user.staff_id: user for user in self.users.values()}
        self.coordinator = self.users["coordinator"]
        self.counts["сотрудников"] = len(self.staff)
        self.counts["учётных записей"] = len(self.users)

    def worker_of(self, district: District) -> Staff:
        return self.staff[f"worker{self.districts.index(district) + 1}"]

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
            father_name = rng.choice(list(MALE_NAMES))
            adults = self.family_adults(structure, surname, father_name)

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
                # With no provider configured in a demo, every message is a call to make.
                contact_channel="call" if adults[0].phone else "none",
                is_large=count >= 3,
                is_low_income=rng.random() < (0.45 if single else 0.25),
                is_single_parent=single,
                is_foster=structure in ("guardian", "foster"),
                is_dangerous=dangerous,
                status="registered",
                notes=rng.choice(FAMILY_NOTES) if rng.random() < 0.25 else None,
            )
            self.identify(
                family,
                rng.choice(["raid", "partner"])
                if dangerous
                else rng.choices(["self", "partner", "raid", "transfer"], [52, 26, 12, 10])[0],
            )
            family.members = adults + children
            db.session.add(family)
            self.families.append(_FamilyInfo(family, adults, children, targeted=targeted))
        self.counts["семей"] = len(self.families)
        self.counts["человек"] = sum(len(f.adults) + len(f.children) for f in self.families)

    def family_adults(self, structure: str, surname: str, father_name: str) -> list[Person]:
        """The parents, guardian or foster parents a family of `structure` has."""
        rng = self.rng
        adults: list[Person] = []
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
                adults.append(self.adult("m", surname, "legal_representative", rng.randint(32, 55)))
        return adults

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

    # --- the simulated clock ----------------------------------------------------------

    def on(self, day: dt.date) -> None:
        """What follows happens on `day` (the workflows' rows get that day's time)."""
        if day != self.day:
            self.day = day
            self.minute = 0

    def redate(self, session, _context, _instances) -> None:
        """before_flush while the demo loads: the day's time instead of the real time.

        The workflows stamp rows with the real time (created_at, closed_at,
        assigned_at, changed_at, extended_at); the demo replays months of work in
        one transaction, so each row is dated to the demo day it was written on
        before it reaches the database (and the audit trail records that date).
        """
        if self.day is None:
            return
        self.minute = min(self.minute + 3, 8 * 60)
        when = self.at(self.day, 9).astimezone(dt.UTC) + dt.timedelta(minutes=self.minute)
        when = min(when, self.started - dt.timedelta(seconds=1))
        for obj in (*session.new, *session.dirty):
            if isinstance(obj, Task) and obj not in self.task_days:
                self.task_days[obj] = self.day
            table = getattr(obj, "__tablename__", None)
            if table is None or table in UNSTAMPED_TABLES:
                continue
            for name in STAMPED_COLUMNS:
                if not hasattr(type(obj), name):
                    continue
                value = getattr(obj, name)
                if (value is None and name == "created_at") or (
                    value is not None and _aware(value) >= self.started
                ):
                    setattr(obj, name, when)

    # --- consents and cases ---------------------------------------------------------

    def plan_cases(self) -> None:
        """Who gets a case, in which status, and the dates of each step (nothing written yet)."""
        rng = self.rng
        order = list(self.families)
        rng.shuffle(order)
        without_consent, withdrawn, rest = order[:4], order[4:7], order[7:]
        for info in without_consent:
            info.with_consent = False
            info.registered_on = self.ago(rng.randint(1, 20))
            self.identify(info.family, rng.choice(["partner", "raid"]))
        for info in withdrawn:
            info.withdrawn = True

        candidates = [f for f in rest if f.targeted] + [f for f in rest if not f.targeted]
        for info, (status, reason) in zip(candidates, CASE_PLAN, strict=False):
            self.plan_case(info, status, reason)
        signed = sorted((p for p in self.plans if p.start), key=lambda p: p.start)
        per_year: dict[int, int] = {}
        for plan in signed:
            year = plan.start.year
            per_year[year] = per_year.get(year, 0) + 1
            plan.contract_number = f"СС-{year}/{per_year[year]:03d}"

        for info in self.families:
            if info.registered_on is None:
                info.registered_on = self.ago(rng.randint(15, 600))
            info.family.created_at = self.at(info.registered_on, 9, rng.randint(0, 59))

    def plan_case(self, info: _FamilyInfo, status: str, reason: str | None) -> None:
        rng = self.rng
        plan = _CasePlan(info=info, status=status, reason=reason)
        if status == "application":
            if not self.plans:
                # This one came through reception, and there is no reception on Sunday.
                plan.applied = self.reception_day(self.today, forward=False)
                plan.via_reception = True
            else:
                plan.applied = self.ago(rng.randint(0, 7))
        elif status == "assessment":
            plan.applied = self.ago(rng.randint(8, 25))
            plan.assessed = self.between(plan.applied + dt.timedelta(2), self.today)
        else:
            if status == "active":
                # One case is close to its six-month limit.
                back = 176 if not any(p.status == "active" for p in self.plans) else None
                plan.start = self.ago(back or rng.randint(3, 170))
            else:
                plan.start = self.ago(rng.randint(200, 420))
            plan.applied = plan.start - dt.timedelta(rng.randint(10, 21))
            plan.decided = plan.start - dt.timedelta(rng.randint(1, 5))
            plan.assessed = self.between(plan.applied + dt.timedelta(2), plan.decided)
            plan.end = add_months(plan.start, rng.choice([4, 5, 6, 6, 6]))
            if plan.end < self.ahead(3):
                plan.end = add_months(plan.start, SUPPORT_TERM_MONTHS)
            if status == "closed":
                closed_on = {
                    "goal_achieved": plan.start + dt.timedelta(rng.randint(90, 170)),
                    "refused": plan.start + dt.timedelta(rng.randint(20, 60)),
                    "moved": plan.start + dt.timedelta(rng.randint(30, 110)),
                    "term_expired": plan.end,
                }[reason]
                plan.closed = min(closed_on, plan.end)
        partner_found = info.family.identified_by in ("partner", "raid", "transfer")
        lag = rng.randint(5, 60) if partner_found else 0
        info.registered_on = plan.applied - dt.timedelta(lag)
        info.plan = plan
        self.plans.append(plan)

    def build_consents(self) -> None:
        """Consents through the workflow; a withdrawal is an edit of the consent."""
        rng = self.rng
        for info in self.families:
            if not info.with_consent:
                continue
            self.on(info.registered_on)
            consent = record_consent(
                db.session,
                info.family,
                info.applicant,
                info.registered_on,
                scope=CONSENT_SCOPE,
                today=info.registered_on,
                notifications=True,
            )
            if info.withdrawn:
                withdrawn_on = min(
                    self.today, info.registered_on + dt.timedelta(rng.randint(20, 200))
                )
                self.on(withdrawn_on)
                consent.withdrawn_on = withdrawn_on
                info.family.status = "deregistered"
            info.consent = consent

    # --- how families were identified: partners' referrals and social raids ------------

    def build_raids(self, partners: list[Partner]) -> None:
        """Social raids over each district's streets, through the workflow: the district
        worker with the police's inspector and a ТОС's chair (seed 002 §2.1)."""
        rng = self.rng
        team: list[PartnerContact] = []
        for partner in partners:
            if partner.kind in ("police", "tos"):
                last, first, middle = self.name("f" if partner.kind == "tos" else "m")
                contact = PartnerContact(
                    partner=partner,
                    last_name=last,
                    first_name=first,
                    middle_name=middle,
                    position="участковый уполномоченный полиции"
                    if partner.kind == "police"
                    else "председатель ТОС",
                    phone=self.office_phone(),
                )
                db.session.add(contact)
                team.append(contact)
        db.session.flush()
        police = [c for c in team if c.partner.kind == "police"][:1]
        chairs = [c for c in team if c.partner.kind == "tos"]
        self.raids: dict[int, list[SocialRaid]] = {}
        for index, district in enumerate(self.districts):
            worker = self.worker_of(district)
            user = self.user_by_staff.get(worker.id, self.coordinator)
            streets = DISTRICTS[index][2]
            for back in sorted(rng.sample(range(10, 640), RAIDS_PER_DISTRICT), reverse=True):
                day = self.ago(back)
                self.on(day)
                raid = record_raid(
                    db.session,
                    user,
                    held_on=day,
                    district_id=district.id,
                    area=", ".join(rng.sample(streets, 2)),
                    notes=None,
                    staff_ids=[worker.id],
                    contact_ids=[c.id for c in police + rng.sample(chairs, min(1, len(chairs)))],
                    today=self.today,
                )
                self.raids.setdefault(district.id, []).append(raid)
        self.referrers = [p for p in partners if p.kind in REFERRER_WEIGHTS]
        self.counts["рейдов"] = sum(len(r) for r in self.raids.values())

    def identify(self, family: Family, channel: str) -> None:
        """«Как выявлена» with its partner or raid (the raid's date is matched later)."""
        family.identified_by = channel
        family.identified_partner = None
        family.social_raid = None
        if channel == "partner":
            weights = [REFERRER_WEIGHTS[p.kind] for p in self.referrers]
            family.identified_partner = self.rng.choices(self.referrers, weights)[0]
        elif channel == "raid":
            family.social_raid = self.raids[family.district.id][0]

    def date_raid_families(self) -> None:
        """A family found in a raid was registered on the raid's day or a few days after."""
        for info in self.families:
            if info.family.identified_by != "raid":
                continue
            raids = self.raids[info.family.district.id]
            assert info.registered_on is not None
            held = [r for r in raids if r.held_on <= info.registered_on]
            raid = held[-1] if held else raids[0]
            info.family.social_raid = raid
            info.registered_on = max(info.registered_on, raid.held_on)
            info.family.created_at = self.at(info.registered_on, 9, self.rng.randint(0, 59))

    def build_incoming_referrals(self) -> None:
        """Each family a partner referred came with its referral, registered by the district
        worker a day or two before the family; three wait for intake, one did not hold."""
        rng = self.rng
        made = 0
        for info in self.families:
            family = info.family
            if family.identified_by != "partner":
                continue
            assert info.registered_on is not None and family.identified_partner is not None
            received = info.registered_on - dt.timedelta(rng.randint(0, 2))
            referral = self.referral_of(
                family.identified_partner,
                family.district,
                " ".join(
                    [
                        info.applicant.last_name,
                        info.applicant.first_name,
                        info.applicant.middle_name or "",
                    ]
                ).strip(),
                family.address,
                received,
            )
            take_incoming_referral(db.session, referral, family, info.registered_on)
            made += 1
        for back in (1, 3, 6, 40):
            district = rng.choice(self.districts)
            last, first, middle = self.name("f")
            streets = DISTRICTS[self.districts.index(district)][2]
            referral = self.referral_of(
                rng.choice(self.referrers),
                district,
                f"{last} {first} {middle}",
                f"{TOWN}, {rng.choice(streets)}, д. {rng.randint(1, 48)}",
                self.ago(back),
            )
            made += 1
            if back == 40:
                decided = self.ago(back - 5)
                self.on(decided)
                decline_incoming_referral(
                    db.session,
                    self.user_by_staff.get(self.worker_of(district).id, self.coordinator),
                    referral.id,
                    decided_on=decided,
                    reason="По адресу семья не проживает, соседи сообщили о переезде.",
                    today=self.today,
                )
        self.counts["направлений от партнёров"] = made

    def referral_of(
        self, partner: Partner, district: District, name: str, address: str, received: dt.date
    ) -> IncomingReferral:
        worker = self.worker_of(district)
        self.on(received)
        return register_incoming_referral(
            db.session,
            self.user_by_staff.get(worker.id, self.coordinator),
            partner_id=partner.id,
            contact_id=None,
            district_id=district.id,
            person_name=name,
            address=address,
            phone=None,
            referred_on=received - dt.timedelta(self.rng.randint(1, 5)),
            received_on=received,
            reason=REFERRAL_REASONS[partner.kind],
            today=self.today,
        )

    def user_of(self, staff: Staff | None) -> User:
        assert staff is not None and staff.id in self.user_by_staff, staff
        return self.user_by_staff[staff.id]

    def build_cases(self, services: list[Service]) -> None:
        """Every case walks its life through the workflows, on the days it happened."""
        by_kind: dict[str, list[Service]] = {}
        for service in services:
            by_kind.setdefault(service.kind, []).append(service)
        for plan in self.plans:
            self.run_case(plan, by_kind)
        # Tasks about families without a case: checking a partner's referral.
        for info in [f for f in self.families if not f.with_consent]:
            self.on(info.registered_on)
            create_task(
                db.session,
                family_id=info.family.id,
                title="Проверить сведения о семье по сообщению партнёра, "
                "получить согласие на обработку ПДн",
                role="district_worker",
                due_date=info.registered_on + dt.timedelta(7),
                today=info.registered_on,
                assignee=self.worker_of(info.family.district),
                actor=self.coordinator,
            )
        self.give_psychologist_todays_work()
        self.counts["случаев"] = len(self.plans)

    def run_case(self, plan: _CasePlan, by_kind: dict[str, list[Service]]) -> None:
        rng = self.rng
        info = plan.info
        lead = self.worker_of(info.family.district)
        lead_user = self.user_of(lead)
        session = db.session

        # Reception and the application.
        self.on(plan.applied)
        appointment = None
        if plan.via_reception:
            appointment = book_appointment(
                session,
                self.coordinator,
                specialist=self.staff["coordinator"],
                starts_at=dt.datetime.combine(plan.applied, dt.time(11, 30)),
                channel="in_person",
                purpose="Обращение за социальным сопровождением",
                family=info.family,
                citizen_name=info.applicant.full_name,
                citizen_phone=info.applicant.phone,
                today=plan.applied,
            )
        case = open_case(
            session,
            self.coordinator,
            family=info.family,
            applicant=info.applicant,
            application_date=plan.applied,
            appointment=appointment,
            today=plan.applied,
        )
        case.lead_worker = lead  # the case form's one editable choice
        session.flush()
        plan.case = case
        first_visit = create_task(
            session,
            family_id=info.family.id,
            case_id=case.id,
            title="Рассмотреть заявление, провести первичный визит в семью",
            role="district_worker",
            due_date=plan.applied + dt.timedelta(5),
            today=plan.applied,
            assignee=lead,
            actor=self.coordinator,
        )
        if plan.status == "application":
            if rng.random() < 0.5:
                start_task(session, first_visit.id, lead_user)
            return
        visited = plan.applied + dt.timedelta(rng.randint(1, 2))
        self.on(visited)
        complete_task(
            session,
            first_visit.id,
            lead_user,
            "Заявление рассмотрено, семья посещена, условия проживания обследованы.",
            visited,
            VisitRecord(visited, rng.choice(VISIT_FINDINGS)),
        )
        self.counts["визитов"] = self.counts.get("визитов", 0) + 1

        # The needs assessment.
        self.on(plan.assessed)
        levels = self.levels()
        record_assessment(
            session,
            lead_user,
            case,
            levels={d: (level, ASSESSMENT_NOTES[d][level]) for d, level in levels.items()},
            assessed_on=plan.assessed,
            today=plan.assessed,
        )
        self.counts["оценок"] = self.counts.get("оценок", 0) + len(levels)
        if plan.status == "assessment":
            self.assessment_tasks(plan)
            return

        # The decision, the contract and the ИПСС.
        self.on(plan.start)
        sign_contract(
            session,
            self.coordinator,
            case,
            decision_date=plan.decided,
            contract_number=plan.contract_number,
            contract_date=plan.start,
            start_date=plan.start,
            planned_end_date=plan.end,
            lead_worker=lead,
            today=plan.start,
        )
        ranked = sorted(levels, key=lambda d: ["high", "medium", "low", "none"].index(levels[d]))
        drafts = self.activity_drafts(plan, ranked, levels, by_kind)
        save_plan(session, case.id, lead_user, GOALS[ranked[0]], drafts, plan.start)
        approve_plan(session, case.id, self.coordinator, plan.start)
        activities = session.scalars(
            select(PlanActivity).where(PlanActivity.plan_id == case.plan.id)
        ).all()
        for activity in activities:
            if (activity.service_id, activity.planned_date) in plan.pinned:
                plan.pinned_ids.add(activity.id)
        self.counts["мероприятий ИПСС"] = self.counts.get("мероприятий ИПСС", 0) + len(drafts)
        self.shuffle_some_tasks(plan)
        self.live_case(plan, by_kind)

        if plan.status == "closed":
            self.on(plan.closed)
            close_case(
                session,
                lead_user,
                case,
                reason=plan.reason,
                closed_on=plan.closed,
                outcome=CLOSURE_OUTCOMES[plan.reason],
                cancel_open_tasks=True,
                cancel_reason="Отменено в связи с закрытием случая.",
                today=plan.closed,
            )

    def levels(self) -> dict[str, str]:
        rng = self.rng
        levels = {
            domain: rng.choices(["none", "low", "medium", "high"], [12, 25, 38, 25])[0]
            for domain in LIFE_DOMAIN.codes
        }
        if sum(level in ("medium", "high") for level in levels.values()) < 2:
            for domain in list(levels)[:2]:
                levels[domain] = "medium"
        return levels

    def assessment_tasks(self, plan: _CasePlan) -> None:
        """A case in assessment: the worker is on it, the psychologist's diagnosis too."""
        session = db.session
        case = plan.case
        lead = case.lead_worker
        self.on(plan.applied)
        task = create_task(
            session,
            family_id=case.family_id,
            case_id=case.id,
            title="Провести оценку индивидуальных потребностей семьи",
            role="district_worker",
            due_date=plan.applied + dt.timedelta(14),
            today=plan.applied,
            assignee=lead,
            actor=self.coordinator,
        )
        start_task(session, task.id, self.user_of(lead))
        self.on(plan.applied + dt.timedelta(1))
        psychologist = self.staff["psychologist1"]
        diagnosis = create_task(
            session,
            family_id=case.family_id,
            case_id=case.id,
            title="Психологическая диагностика семьи",
            role="psychologist",
            due_date=plan.applied + dt.timedelta(12),
            today=plan.applied + dt.timedelta(1),
            assignee=psychologist if self.rng.random() < 0.5 else None,
            actor=self.coordinator,
        )
        if self.rng.random() < 0.4:
            done_on = min(self.today, plan.applied + dt.timedelta(9))
            self.on(done_on)
            complete_task(
                session,
                diagnosis.id,
                self.user_of(diagnosis.assignee),
                "Диагностика проведена, заключение приложено к оценке.",
                done_on,
            )

    def activity_drafts(
        self,
        plan: _CasePlan,
        ranked: list[str],
        levels: dict[str, str],
        by_kind: dict[str, list[Service]],
    ) -> list[ActivityDraft]:
        rng = self.rng
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
        start, end = plan.start + dt.timedelta(3), plan.end - dt.timedelta(5)
        drafts = []
        for service in chosen:
            role = self.role_for(service)
            day = self.between(start, end)
            if plan.status == "active" and plan.start <= self.ago(10):
                day = self.pin(role, day)
                if day in (self.today, *self.overdue_days):
                    plan.pinned.add((service.id, day))
            drafts.append(ActivityDraft(None, service.id, role, day))
        return drafts

    def role_for(self, service: Service) -> str:
        return KIND_ROLE.get(service.kind) or (
            "social_worker" if service.guaranteed else "district_worker"
        )

    def pin(self, role: str, day: dt.date) -> dt.date:
        """Some activities fall due today and some a few days ago, so the task lists show
        work for today and overdue work, the psychologist's too."""
        mine = role == "psychologist"
        key = "psychologist" if mine else "others"
        today_left, overdue_left = self.pins[key]
        if today_left:
            self.pins[key] = (today_left - 1, overdue_left)
            return self.today
        if overdue_left:
            self.pins[key] = (today_left, overdue_left - 1)
            return self.overdue_days[overdue_left % len(self.overdue_days)]
        return day

    def shuffle_some_tasks(self, plan: _CasePlan) -> None:
        """The coordinator hands a few tasks to a colleague (a holiday, the workload)."""
        session = db.session
        day = min(self.today, plan.start + dt.timedelta(self.rng.randint(1, 5)))
        tasks = session.scalars(select(Task).where(Task.case_id == plan.case.id).order_by(Task.id))
        for task in tasks.all():
            if task.status != "assigned" or task.role == "district_worker":
                continue
            if self.rng.random() >= 0.12:
                continue
            district = plan.info.family.district_id
            pool = set(session.scalars(eligible_staff(task.role, district))) - {task.assignee_id}
            if not pool:
                continue
            self.on(day)
            reassign_task(
                session,
                task.id,
                session.get(Staff, min(pool)),
                self.coordinator,
                self.rng.choice(
                    ["Перераспределение: отпуск специалиста", "Перераспределение по загрузке"]
                ),
            )

    def live_case(self, plan: _CasePlan, by_kind: dict[str, list[Service]]) -> None:
        """The months of support, in date order: tasks done, visits made, reviews held,
        the ИПСС revised once in a while."""
        rng = self.rng
        session = db.session
        case = plan.case
        last_day = plan.closed or self.today
        decided: set[int] = set()
        revise_on = None
        if rng.random() < 0.45 and (last_day - plan.start).days > 30:
            revise_on = self.between(plan.start + dt.timedelta(14), last_day - dt.timedelta(10))
        reviews_stopped = False
        while True:
            tasks = session.scalars(
                select(Task)
                .where(
                    Task.case_id == case.id,
                    Task.status.in_(OPEN_TASK_STATUSES),
                    Task.id.not_in(decided or {0}),
                )
                .order_by(Task.due_date, Task.id)
            ).all()
            task = next(iter(tasks), None)
            review = None if reviews_stopped else open_review(session, case.id)
            events = []
            if task is not None:
                events.append((task.due_date, 1, "task"))
            if review is not None and review.due_on <= last_day:
                events.append((review.due_on, 0, "review"))
            if revise_on is not None:
                events.append((revise_on, 2, "revise"))
            if not events:
                break
            _day, _, kind = min(events)
            if kind == "revise":
                self.revise_plan(plan, revise_on, by_kind)
                revise_on = None
            elif kind == "review":
                held = plan.status == "closed" or rng.random() < 0.85
                if not held:
                    reviews_stopped = True  # missed: the scheduler makes a task of it
                    continue
                held_on = min(last_day, review.due_on + dt.timedelta(rng.randint(0, 4)))
                self.on(held_on)
                hold_review(
                    session,
                    case.id,
                    self.coordinator,
                    held_on,
                    rng.choice(REVIEW_PROGRESS),
                    rng.choice(REVIEW_FEEDBACK),
                    rng.choices(["high", "medium", "low", "none"], [4, 4, 1, 1])[0],
                    held_on,
                )
                self.counts["мониторингов"] = self.counts.get("мониторингов", 0) + 1
            else:
                decided.add(task.id)
                self.carry_out(plan, task, last_day)

    def revise_plan(self, plan: _CasePlan, day: dt.date, by_kind: dict[str, list[Service]]) -> None:
        """The psychologist adds correction sessions after the diagnosis."""
        case = plan.case
        used = {a.service_id for a in case.plan.activities}
        pool = [s for s in by_kind.get("psychological", []) if s.id not in used]
        first, last = day + dt.timedelta(3), plan.end - dt.timedelta(5)
        if not pool or first > last:
            return
        self.on(day)
        draft = ActivityDraft(None, pool[0].id, "psychologist", self.between(first, last))
        save_plan(
            db.session,
            case.id,
            self.user_of(self.staff["psychologist1"]),
            case.plan.goal,
            [draft],
            day,
        )
        self.counts["мероприятий ИПСС"] = self.counts.get("мероприятий ИПСС", 0) + 1

    def carry_out(self, plan: _CasePlan, task: Task, last_day: dt.date) -> None:
        """What became of one task by the case's last day (or today)."""
        rng = self.rng
        session = db.session
        due = task.due_date
        if task.status == "new":
            return  # nobody may take it: it waits on the coordinator's board
        worker = self.user_of(task.assignee)
        pinned = task.activity_id in plan.pinned_ids
        if due >= self.today or (plan.status == "active" and pinned):
            if task.status == "assigned" and rng.random() < 0.3:
                self.on(max(task_day(self, task), min(self.today, due)))
                start_task(session, task.id, worker)
            return
        fate = self.task_fate(plan, due, last_day)
        if fate is None or fate == "assigned":
            return
        if fate == "in_progress":
            self.on(due)
            if task.status == "assigned":
                start_task(session, task.id, worker)
            return
        if fate == "cancelled":
            self.on(due)
            cancel_task(session, task.id, self.coordinator, "Семья отказалась от мероприятия.")
            return
        self.complete(plan, task, worker, last_day)

    def task_fate(self, plan: _CasePlan, due: dt.date, last_day: dt.date) -> str | None:
        """What became of a task due in the past: done, in progress, cancelled or still
        assigned; None if the case closed before it was due (the closure cancels it)."""
        rng = self.rng
        if plan.status == "closed":
            if due > last_day:
                return None
            return rng.choices(["done", "cancelled"], [9, 1])[0]
        if due < self.ago(10):
            return rng.choices(["done", "in_progress", "cancelled"], [91, 5, 4])[0]
        return rng.choices(["done", "in_progress", "assigned"], [6, 3, 1])[0]

    def complete(self, plan: _CasePlan, task: Task, worker: User, last_day: dt.date) -> None:
        """A done task: completed around its due date (not after the case's last day), a
        visit task with its findings and the next visit."""
        rng = self.rng
        due = task.due_date
        earliest = task_day(self, task) + dt.timedelta(1)
        done_on = max(earliest, min(last_day, due + dt.timedelta(rng.randint(-3, 2))))
        if done_on > last_day:
            return
        self.on(done_on)
        visit = None
        if is_visit_task(task):
            following = done_on + dt.timedelta(rng.randint(14, 30))
            if plan.status == "closed" and following > last_day:
                following = None
            visit = VisitRecord(done_on, rng.choice(VISIT_FINDINGS), following)
            self.counts["визитов"] = self.counts.get("визитов", 0) + 1
        service = task.activity.service.kind if task.activity is not None else "social"
        complete_task(db.session, task.id, worker, KIND_RESULTS[service], done_on, visit)

    def give_psychologist_todays_work(self) -> None:
        """The demo's psychologist has open work due today and overdue: the coordinator
        hands over what the other psychologist holds, if needed."""
        session = db.session
        mine = self.staff["psychologist1"]
        open_psych = session.scalars(
            select(Task)
            .where(Task.role == "psychologist", Task.status.in_(("assigned", "in_progress")))
            .order_by(Task.due_date, Task.id)
        ).all()
        held = [t for t in open_psych if t.assignee_id == mine.id]
        others = [t for t in open_psych if t.assignee_id != mine.id and t.status == "assigned"]
        due = [t for t in others if t.due_date <= self.today]
        wanted = not any(t.due_date <= self.today for t in held)
        self.on(self.today)
        for task in due[:1] if wanted else []:
            reassign_task(session, task.id, mine, self.coordinator, "Перераспределение по загрузке")
            held.append(task)
        for task in [t for t in others if t not in held][: max(0, 3 - len(held))]:
            reassign_task(session, task.id, mine, self.coordinator, "Перераспределение по загрузке")

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
        self.build_council_work(by_kind["clinic"])

    def build_council_work(self, clinic: Partner) -> None:
        """Two meetings of the council as the workflows record them (seed 000): cases of
        the district on the agenda, decisions that became tasks and referrals, most of
        them carried out since, one still in hand and one referral unanswered."""
        s = self.staff
        doctor = PartnerContact(
            partner=clinic, last_name="Громова", first_name="Наталья", middle_name="Сергеевна",
            position="заведующая педиатрическим отделением", phone="+7 4922 32-15-40",
        )  # fmt: skip
        db.session.add(doctor)
        service = db.session.scalar(
            select(Service).where(Service.name.like("Содействие в направлении на специализ%"))
        )
        # (days ago, district, recorder, staff, [(what, executor key or "clinic", days to do,
        #   carried out after so many days or None)])
        plans = [
            (60, 0, "worker1", [s["worker1"], s["psychologist1"], s["pedagogue1"]], [
                ("Провести консультацию родителей по развитию ребёнка", "psychologist1", 14, 9),
                ("Подобрать кружок для ребёнка по месту жительства", "pedagogue1", 21, 15),
                ("Осмотр невролога и рекомендации по реабилитации", "clinic", 20, 12),
            ]),
            (26, 1, "coordinator", [s["coordinator"], s["worker2"], s["nurse"], s["psychologist1"]], [
                ("Сопроводить семью на приём в детскую поликлинику", "nurse", 10, 6),
                ("Диагностика эмоционального состояния ребёнка", "psychologist1", 30, None),
                ("Консультация педиатра по питанию ребёнка", "clinic", 14, None),
            ]),
        ]  # fmt: skip
        made = 0
        for ago, district_index, recorder, staff, decisions in plans:
            held_on = self.ago(ago)
            district = self.districts[district_index]
            self.on(held_on)
            meeting = council.record_meeting(
                db.session, self.user_by_staff[s[recorder].id], held_on=held_on,
                district_id=district.id,
                agenda="Рассмотрение случаев сопровождения семей участка, требующих "
                "межведомственного взаимодействия.",
                staff_ids=[x.id for x in staff], contact_ids=[doctor.id], today=held_on,
            )  # fmt: skip
            cases = db.session.scalars(
                select(Case)
                .join(Family, Family.id == Case.family_id)
                .where(
                    Family.district_id == district.id,
                    Case.status == "active",
                    Case.start_date <= held_on,
                )
                .order_by(Case.id)
                .limit(2)
            ).all()
            for case in cases:
                council.add_agenda_case(
                    db.session, None, meeting.id, case_id=case.id, note="Межведомственная помощь"
                )
            for n, (what, who, days, done_after) in enumerate(decisions):
                case = cases[n % len(cases)]
                due = held_on + dt.timedelta(days=days)
                if who == "clinic":
                    decision = council.Decision(
                        case.id, what, due, partner_id=clinic.id, contact_id=doctor.id,
                        service_id=service.id if service else None, reason_kind="medical",
                    )  # fmt: skip
                else:
                    decision = council.Decision(case.id, what, due, staff_id=s[who].id)
                row = council.decide(db.session, None, meeting.id, decision, today=held_on)
                made += 1
                self.carry_out_decision(row, held_on, done_after)
        self.counts["решений совета"] = made

    def carry_out_decision(self, row, held_on: dt.date, done_after: int | None) -> None:
        """What became of a decision: its task done, or its referral sent (and answered)."""
        if row.referral_id is not None:
            sent = held_on + dt.timedelta(days=1)
            self.on(sent)
            send_referral(db.session, None, row.referral_id, sent_on=sent,
                          answer_due=sent + dt.timedelta(days=14), today=sent)  # fmt: skip
            if done_after is None:
                return  # unanswered: the tick gives the lead worker a task
            answered = held_on + dt.timedelta(days=done_after)
            self.on(answered)
            accept_referral(db.session, None, row.referral_id, accepted_on=answered,
                            today=answered)  # fmt: skip
            fulfil_referral(db.session, None, row.referral_id, answered_on=answered,
                            answer="Ребёнок осмотрен, рекомендации переданы семье.",
                            today=answered)  # fmt: skip
            return
        if done_after is None:
            return
        done = held_on + dt.timedelta(days=done_after)
        self.on(done)
        task = db.session.get_one(Task, row.task_id)
        actor = self.user_by_staff[task.assignee_id]
        complete_task(db.session, task.id, actor, "Выполнено по решению совета.", done)

    def build_events(self, partners: list[Partner]) -> None:
        """Trainings with staff and volunteers, campaign items with their channel and reach,
        clubs, holidays and excursions with families and their children, the volunteers'
        register and the project's budget. Its own random stream, so the rest of the demo
        draws what it drew before."""
        rng = random.Random(DEMO_SEED + 14)
        s = self.staff
        group = next(p for p in partners if p.kind == "volunteers")
        volunteers = [
            Volunteer(
                last_name=last,
                first_name=first,
                middle_name=middle,
                phone=f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-"
                f"{rng.randint(10, 99)}",
                group=group,
            )
            for last, first, middle in VOLUNTEERS
        ]
        db.session.add_all(volunteers)
        pool = [f for f in self.families if f.with_consent and not f.withdrawn and f.children]
        listeners = [s[k] for k in ("worker1", "worker2", "worker3", "psychologist1", "pedagogue1")]
        events = [
            ("training", "Обучение специалистов и волонтёров современным технологиям сопровождения семей", self.ago(52), s["coordinator"], 0),
            ("training", "Семинар для волонтёров: общение с ребёнком с ОВЗ", self.ago(18), s["pedagogue1"], 0),
            ("info_campaign", "Буклет «Участковая социальная служба: куда обратиться семье»", self.ago(41), s["coordinator"], 0),
            ("info_campaign", "Рубрика об участковой службе на сайте учреждения", self.ago(20), s["pedagogue1"], 0),
            ("info_campaign", "Статья о пункте проката ТСР в районной газете", self.ago(35), s["coordinator"], 0),
            ("info_campaign", "Социальная реклама службы на остановках", self.ago(70), s["coordinator"], 0),
            ("club", "Семейный клуб «Мы вместе»: мастер-класс по сенсорным играм", self.ago(13), s["pedagogue1"], 9),
            ("club", "Семейный клуб «Мы вместе»: встреча с логопедом", self.ahead(6), s["pedagogue2"], 0),
            ("holiday", "Праздник для семей «Солнечный круг»", self.ago(27), s["pedagogue1"], 14),
            ("excursion", "Выезд на природу: экологическая тропа в Судогодском лесничестве", self.ago(61), s["pedagogue2"], 7),
            ("other", "День открытых дверей пункта проката ТСР", self.ahead(19), s["rental"], 0),
        ]  # fmt: skip
        campaign = {
            "Буклет": ("booklet", 1000, 850),
            "Рубрика": ("website", None, 2300),
            "Статья": ("media", 3500, 3500),
            "Социальная": ("advertising", 40, 12000),
        }
        for kind, title, held_on, organiser, family_count in events:
            event = Event(kind=kind, title=title, held_on=held_on, organiser=organiser)
            if kind == "info_campaign":
                event.channel, event.print_run, event.reach = campaign[title.split()[0]]
            if kind == "training":
                event.staff = rng.sample(listeners, rng.randint(3, len(listeners)))
                event.volunteers = rng.sample(volunteers, rng.randint(4, len(volunteers)))
            db.session.add(event)
            for info in rng.sample(pool, min(family_count, len(pool))):
                came = [c for c in info.children if rng.random() < 0.8] or info.children[:1]
                db.session.add(EventAttendance(event=event, family=info.family, children=came))
        self.counts["мероприятий"] = len(events)
        self.counts["волонтёров"] = len(volunteers)
        self.build_budget()

    def build_referrals(self, partners: list[Partner]) -> None:
        """Referrals of the open cases to partners, moved through their workflow: most are
        answered within days (accepted, then fulfilled), some refused, a few waiting or
        left without an answer. Its own random stream (see build_events)."""
        rng = random.Random(DEMO_SEED + 15)
        by_kind = {p.kind: p for p in partners}
        services = {
            kind: db.session.scalars(select(Service.id).where(Service.kind == kind)).first()
            for kind in ("pedagogical", "medical", "social", "legal", "cultural")
        }
        open_plans = [p for p in self.plans if p.case is not None and p.start and not p.closed]
        made = 0
        for plan in rng.sample(open_plans, min(18, len(open_plans))):
            kind, reason_kind, service_kind, text = rng.choice(DEMO_REFERRALS)
            partner, service_id = by_kind.get(kind), services.get(service_kind)
            earliest = max(plan.start, self.today - dt.timedelta(150))
            if partner is None or service_id is None or earliest >= self.today:
                continue
            sent = self.between(earliest, self.today)
            actor = self.user_by_staff.get(plan.case.lead_worker_id, self.coordinator)
            try:
                self.referral_story(rng, plan.case.id, actor, partner.id, service_id,
                                    reason_kind, text, sent)  # fmt: skip
            except WorkflowError:
                continue  # a step the workflow refuses is simply not in the demo
            made += 1
        self.counts["направлений партнёрам"] = made

    def referral_story(self, rng, case_id, actor, partner_id, service_id, kind, text, sent):
        """One referral prepared and sent on `sent`, then answered as partners answer."""
        self.on(sent)
        referral = prepare_referral(db.session, actor, case_id, partner_id=partner_id,
                                    contact_id=None, service_id=service_id, reason_kind=kind,
                                    reason=text, today=sent)  # fmt: skip
        due = sent + dt.timedelta(REFERRAL_ANSWER_DAYS)
        send_referral(db.session, actor, referral.id, sent_on=sent, answer_due=due, today=sent)
        fate = rng.random()
        first = sent + dt.timedelta(rng.randint(2, 12))
        if first > self.today or fate >= 0.85:
            if due < self.today and fate >= 0.93:
                self.on(due + dt.timedelta(1))
                no_answer_referral(db.session, actor, referral.id, today=due + dt.timedelta(1))
            return
        self.on(first)
        if fate < 0.15:
            refuse_referral(db.session, actor, referral.id, answered_on=first,
                            answer="Отказано: нет свободных мест", today=first)  # fmt: skip
            return
        accept_referral(db.session, actor, referral.id, accepted_on=first, today=first)
        done = first + dt.timedelta(rng.randint(3, 20))
        if fate < 0.7 and done <= self.today:
            self.on(done)
            fulfil_referral(db.session, actor, referral.id, answered_on=done,
                            answer="Исполнено: помощь оказана", today=done)  # fmt: skip

    def build_budget(self) -> None:
        """The pilot's complex of measures (seed 003: more than 17 mln ₽, 9.5 mln of it the
        Fund's grant), a third of the way through its term."""
        for name, source, planned, spent in PROJECT_MEASURES:
            db.session.add(
                ProjectMeasure(
                    name=name,
                    funding_source=source,
                    planned=Decimal(planned),
                    spent=Decimal(spent),
                )
            )
        self.counts["мероприятий комплекса"] = len(PROJECT_MEASURES)

    def reception_day(self, day: dt.date, forward: bool = True) -> dt.date:
        """`day`, or the nearest reception day to it: there is no reception on Sunday."""
        if day.weekday() != SUNDAY:
            return day
        return day + dt.timedelta(1 if forward else -1)

    def build_appointments(self) -> None:
        """Appointments booked at reception; those already held have their outcome noted."""
        rng = self.rng
        s = self.staff
        today = self.reception_day(self.today)
        next_saturday = self.today + dt.timedelta((5 - self.today.weekday()) % 7 or 7)
        last_saturday = next_saturday - dt.timedelta(7)
        supported = [f for f in self.families if f.case and f.case.status != "closed"]
        back = self.reception_day(self.today - dt.timedelta(6), forward=False)
        later = self.reception_day(self.today + dt.timedelta(2))
        further = self.reception_day(self.today + dt.timedelta(3))

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
            (s["worker2"], back, 14, 30, "phone", supported[6], "Перенос визита", "Визит перенесён по просьбе семьи."),
            (s["psychologist2"], later, 12, 30, "in_person", supported[7], "Повторная консультация психолога", None),
            (s["worker3"], further, 10, 0, "phone", None, "Консультация по оформлению инвалидности ребёнку", None),
        ]  # fmt: skip
        for specialist, day, hour, minute, channel, info, purpose, outcome in rows:
            booked_on = min(day, self.today) - dt.timedelta(rng.randint(0, 3))
            self.on(booked_on)
            if info is None:
                last, first, middle = self.name(rng.choice("mf"))
                who = {"citizen_name": f"{last} {first} {middle}", "citizen_phone": self.mobile()}
            else:
                who = {
                    "family": info.family,
                    "citizen_name": info.applicant.full_name,
                    "citizen_phone": info.applicant.phone,
                }
            appointment = book_appointment(
                db.session,
                self.coordinator,
                specialist=specialist,
                starts_at=dt.datetime.combine(day, dt.time(hour, minute)),
                channel=channel,
                purpose=purpose,
                today=booked_on,
                **who,
            )
            appointment.outcome = outcome  # noted on the appointment's form after it
        self.counts["записей на приём"] = len(rows) + 1

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
        """Units received, lent, extended, returned, sanitised, repaired and written off,
        and the queue, all through the rental workflows in date order."""
        rng = self.rng
        clerk = self.user_of(self.staff["rental"])
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
        desk = _RentalDesk(self, clerk, mobile_children, other_children)
        self.counts["продлений"] = 0
        for type_name, statuses in UNIT_PLAN.items():
            kind = types.get(type_name)
            if kind is None:
                continue
            for status in statuses:
                desk.add_unit(type_name, kind, status)
        db.session.flush()
        self.plan_queue(types, borrowers, desk.holding, desk.act, clerk)
        desk.run()
        offered = db.session.scalars(select(Reservation).where(Reservation.status == "offered"))
        for reservation in offered:
            reservation.notes = "Семье позвонили, придут за коляской в течение двух дней."
        self.counts["единиц ТСР"] = len(self.units)
        self.counts["выдач ТСР"] = len(self.loans)
        self.enrol_borrowers()

    def enrol_borrowers(self) -> None:
        """Each family that borrowed enrols in the rental programme on its first loan's day."""
        first_loans: dict[int, tuple[_FamilyInfo, dt.date]] = {}
        for info in self.families:
            for loan in sorted(
                (loan for loan in self.loans if loan.family_id == info.family.id),
                key=lambda loan: loan.issued_on,
            )[:1]:
                first_loans[id(info)] = (info, loan.issued_on)
        for info, issued_on in first_loans.values():
            self.enrol("Пункт проката технических средств реабилитации", info, issued_on)

    def plan_queue(self, types, borrowers, holding, act, clerk) -> None:
        """The queue: families waiting for busy types (the first gets yesterday's freed
        unit), requests served by a loan, and one withdrawn."""
        self.counts["заявок на ТСР"] = 0
        candidates = [p for p in borrowers if self.needs_mobility(p[1])] + [
            p for p in borrowers if not self.needs_mobility(p[1])
        ]
        for type_name, status, priority, days_ago in QUEUE:
            kind = types.get(type_name)
            if kind is None:
                continue
            if status == "fulfilled":
                # Served by the first loan of the type that finds it the first free unit.
                self.served_by_queue[type_name] = (priority, self.rng.randint(7, 30))
                continue
            pair = next(p for p in candidates if (id(p[1]), type_name) not in holding)
            candidates.remove(pair)
            _info, child = pair
            requested_on = self.ago(days_ago)

            def queue(child=child, kind=kind, priority=priority, on=requested_on, status=status):
                place = enqueue(db.session, child, kind, priority, on, clerk, on)
                self.counts["заявок на ТСР"] += 1
                if status == "cancelled":
                    cancel_reservation(
                        db.session,
                        place,
                        "Семья получила коляску по ИПРА, заявка снята.",
                        clerk,
                        on,
                    )

            act(requested_on, queue)

    # --- everything -----------------------------------------------------------------

    def build_ipra(self, partners: list[Partner], types: dict[str, EquipmentType]) -> None:
        """An ИПРА for each disabled child: issued by the МСЭ bureau, valid until the
        child's re-examination date; the measures it recommends and the ТСР it lists
        (some not provided by the Social Fund, of a type of the rental point)."""
        rng = random.Random(DEMO_SEED + 17)  # its own: the rest of the demo draws as before
        bureau = next((p for p in partners if p.kind == "mse"), None)
        if bureau is None:
            return
        self.on(self.today)
        made = 0
        for info in self.families:
            for child in info.children:
                if child.disability_status != "disabled":
                    continue
                made += 1
                issued = self.ago(rng.randint(90, 700))
                review = child.disability_review_date
                until = review if review and review > issued + dt.timedelta(days=60) else None
                programme = RehabProgramme(
                    child=child,
                    number=f"{1200 + made * 7}.7.33/{issued.year}",
                    issued_on=issued,
                    valid_until=until or issued + dt.timedelta(days=rng.choice((365, 730))),
                    bureau=bureau,
                )
                for kind, share, text in IPRA_MEASURES:
                    if rng.random() < share:
                        programme.measures.append(RehabMeasure(kind=kind, description=text))
                self.ipra_tsr(rng, programme, child, types)
                db.session.add(programme)
        db.session.flush()
        self.counts["ИПРА"] = made

    def ipra_tsr(self, rng, programme, child: Person, types) -> None:
        items = list(IPRA_TSR_MOBILITY[: rng.randint(1, 2)]) if self.needs_mobility(child) else []
        if rng.random() < 0.45:
            items.append(rng.choice(IPRA_TSR_OUTSIDE))
        for name, by_fund, type_name in items:
            programme.tsr_items.append(
                RehabTsr(name=name, by_fund=by_fund, equipment_type=types.get(type_name or ""))
            )
        if items:
            programme.measures.append(
                RehabMeasure(kind="tsr", description="Обеспечение ТСР по перечню ИПРА")
            )

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
        partners = self.build_partners()
        self.build_raids(partners)
        self.build_families()
        self.plan_cases()
        self.date_raid_families()
        db.session.flush()
        self.build_incoming_referrals()
        self.build_consents()
        self.build_cases(services)
        self.build_council(partners)
        self.build_events(partners)
        self.build_referrals(partners)
        self.build_appointments()
        self.build_enrolments()
        self.build_rental(types)
        self.build_ipra(partners, types)
        # The scheduler's jobs, once, as `flask tick` would run them this morning.
        self.on(self.today)
        for _label, job in JOBS:
            job(db.session, self.today)
        self.counts["задач"] = db.session.scalar(select(func.count()).select_from(Task))
        self.counts["участий в программах"] = len(self.enrolled)


IPRA_MEASURES = (
    (
        "medical",
        1.0,
        "Восстановительная терапия, наблюдение невролога и ортопеда, "
        "санаторно-курортное лечение по медицинским показаниям",
    ),
    (
        "psych_ped",
        0.8,
        "Психолого-педагогическая коррекция, занятия с логопедом "
        "и дефектологом, консультирование родителей",
    ),
    (
        "social",
        0.7,
        "Социально-бытовая и социально-средовая адаптация, обучение семьи навыкам ухода",
    ),
)
# ТСР an ИПРА lists: (name, provided by the Social Fund, the rental type when it is not).
IPRA_TSR_MOBILITY = (
    ("Кресло-коляска с ручным приводом для детей-инвалидов комнатная", True, None),
    ("Опора для ползания для детей-инвалидов", True, None),
)
IPRA_TSR_OUTSIDE = (
    ("Функциональная кровать с регулировкой секций", False, "Функциональная кровать"),
    ("Сиденье для купания детское", False, "Стул (сиденье) для купания"),
    ("Велотренажёр для детей с ДЦП", False, "Велотренажёр реабилитационный детский"),
)


def demo_loaded() -> bool:
    """Whether any demo account exists already (then the demo is not loaded again)."""
    return (
        db.session.scalar(select(User.id).where(User.username.in_(DEMO_USERNAMES)).limit(1))
        is not None
    )


class _RentalDesk:
    """The rental desk's history for the demo: each unit's story planned as dated steps
    (received, lent, extended, returned, released, written off), then run in date order
    through the rental workflows."""

    LOAN_SCENARIOS = ("normal", "normal", "overdue", "normal", "extended", "due_soon")
    SANITISED = "Дезинфекция поверхностей, стирка чехлов"

    def __init__(
        self,
        builder: _DemoBuilder,
        clerk: User,
        mobile_children: list[tuple[_FamilyInfo, Person]],
        other_children: list[tuple[_FamilyInfo, Person]],
    ) -> None:
        self.builder = builder
        self.rng = builder.rng
        self.clerk = clerk
        self.mobile_children = mobile_children
        self.other_children = other_children
        self.holders: dict[str, set[int]] = {}
        self.loans_of: dict[int, int] = {}
        self.holding: set[tuple[int, str]] = set()
        # The oldest waiting request of a queue type: its units were all out since then.
        self.busy_since = {
            name: max(
                days
                for kind, status, _p, days in QUEUE
                if kind == name and status in ("waiting", "offered")
            )
            + 5
            for name in QUEUE_TYPES
        }
        self.actions: list[tuple[dt.date, int, Callable[[], None]]] = []
        self.loans: dict[int, Loan] = {}
        self.number = 100
        self.open_loans = 0

    def act(self, day: dt.date, step: Callable[[], None]) -> None:
        self.actions.append((day, len(self.actions), step))

    def run(self) -> None:
        """Every planned step, in date order (then in the order planned)."""
        for day, _seq, step in sorted(self.actions, key=lambda a: (a[0], a[1])):
            self.builder.on(day)
            step()

    def borrower_for(self, type_name: str) -> tuple[_FamilyInfo, Person]:
        """A child who never had this type, preferring those who need mobility aids."""
        used = self.holders.setdefault(type_name, set())
        for group in (self.mobile_children, self.other_children):
            free = [pair for pair in group if id(pair[1]) not in used]
            if free:
                pair = min(free, key=lambda pair: self.loans_of.get(id(pair[1]), 0))
                used.add(id(pair[1]))
                self.loans_of[id(pair[1])] = self.loans_of.get(id(pair[1]), 0) + 1
                return pair
        raise LookupError(type_name)

    def add_unit(self, type_name: str, kind: EquipmentType, status: str) -> None:
        """One unit of `kind` that ends up in `status` today, with the loans behind it."""
        rng, builder, clerk = self.rng, self.builder, self.clerk
        self.number += rng.randint(1, 9)
        unit = EquipmentUnit(
            inventory_number=f"ТСР-{self.number:06d}",
            type=kind,
            size=kind.size_range,
            components=kind.components,
            condition=rng.choice(["new", "good", "good", "fair"]),
            status="available",
            acquired_on=builder.ago(rng.randint(500, 1500)),
        )
        db.session.add(unit)
        builder.units.append(unit)
        self.act(unit.acquired_on, lambda: receive_unit(db.session, unit, clerk, unit.acquired_on))
        oldest = builder.ago(self.busy_since.get(type_name, 0))
        # The loan that holds the unit now, if it is on loan.
        current_issue = None
        if status == "on_loan":
            current_issue = self.current_loan(type_name, kind, unit, oldest)
        returned = self.last_return(status, current_issue or builder.today)
        if returned is None:
            return
        self.earlier_loan(type_name, kind, unit, status, returned, oldest)
        self.after_return(unit, status, returned)

    def current_loan(
        self, type_name: str, kind: EquipmentType, unit: EquipmentUnit, oldest: dt.date
    ) -> dt.date:
        """The open loan of a unit on loan (normal, overdue, extended or due soon, in
        turn); the day it was issued."""
        rng, builder = self.rng, self.builder
        term = kind.loan_term_days
        scenario = self.LOAN_SCENARIOS[self.open_loans % len(self.LOAN_SCENARIOS)]
        self.open_loans += 1
        _info, child = self.borrower_for(type_name)
        self.holding.add((id(child), type_name))
        issued = {
            "normal": builder.ago(rng.randint(5, term - 15)),
            "overdue": builder.ago(term + rng.randint(3, 40)),
            "extended": builder.ago(term + rng.randint(10, 50)),
            "due_soon": builder.ago(term - rng.randint(1, 5)),
        }[scenario]
        issued = min(issued, oldest)
        key = self.lend(unit, child, issued)
        if scenario == "extended" and kind.max_extensions > 0:
            self.extend(key, issued + dt.timedelta(term), term)
        return issued

    def last_return(self, status: str, history_end: dt.date) -> dt.date | None:
        """When the unit's last earlier loan came back (before `history_end`), if it had one."""
        rng, builder = self.rng, self.builder
        if status == "sanitising":
            return builder.ago(rng.randint(0, 3))
        if status in ("repair", "written_off"):
            return builder.ago(rng.randint(20, 90))
        if status == "reserved":
            return builder.ago(rng.randint(4, 6))
        if rng.random() < 0.5:
            return history_end - dt.timedelta(rng.randint(15, 60))
        return None

    def earlier_loan(
        self,
        type_name: str,
        kind: EquipmentType,
        unit: EquipmentUnit,
        status: str,
        returned: dt.date,
        oldest: dt.date,
    ) -> None:
        """An earlier loan of the unit, returned on `returned`: broken if the unit is in
        repair or written off, now and then without its pump."""
        rng = self.rng
        _info, child = self.borrower_for(type_name)
        issued = returned - dt.timedelta(rng.randint(40, kind.loan_term_days))
        if type_name in self.busy_since:
            issued = min(issued, oldest)
        key = self.lend(unit, child, issued)
        broken = status in ("repair", "written_off")
        missing = None
        if not broken and rng.random() < 0.15 and "насос" in (kind.components or ""):
            missing = "насос"
        self.give_back(
            key,
            returned,
            "poor" if broken else rng.choice(["good", "fair"]),
            missing,
            repair=broken,
            notes="Не работает тормоз, треснула подножка." if status == "repair" else None,
        )

    def after_return(self, unit: EquipmentUnit, status: str, returned: dt.date) -> None:
        """Released after its return (a reserved unit yesterday, offered at once to the
        head of the queue), or written off."""
        builder, clerk = self.builder, self.clerk
        if status in ("available", "on_loan"):
            self.release(unit, min(returned + dt.timedelta(1), builder.today))
        elif status == "reserved":
            self.release(unit, builder.ago(1))
        elif status == "written_off":
            day = builder.ago(self.rng.randint(5, 15))
            reason = "Износ, ремонт нецелесообразен (акт списания)."
            self.act(day, lambda: write_off_unit(db.session, unit, reason, day, clerk, day))

    def lend(self, unit: EquipmentUnit, child: Person, issued: dt.date) -> int:
        """Plan a loan of `unit` to `child` (through the queue if the family had asked for
        the type and this is the first free unit); the key its loan is kept under."""
        key = len(self.actions)
        builder, clerk = self.builder, self.clerk

        def step() -> None:
            loan = None
            queued = builder.served_by_queue.get(unit.type.name)
            first_free = db.session.scalar(
                select(EquipmentUnit.id)
                .where(EquipmentUnit.type_id == unit.type_id, EquipmentUnit.status == "available")
                .order_by(EquipmentUnit.id)
                .limit(1)
            )
            if queued is not None and first_free == unit.id:
                # This family had asked for the type: the unit was offered to it, then lent.
                priority, wait = queued
                del builder.served_by_queue[unit.type.name]
                place = enqueue(
                    db.session,
                    child,
                    unit.type,
                    priority,
                    issued - dt.timedelta(wait),
                    clerk,
                    issued,
                )
                loan = lend_from_queue(db.session, place, clerk, issued)
                builder.counts["заявок на ТСР"] += 1
            loan = loan or lend_unit(db.session, unit, child, clerk, issued)
            self.loans[key] = loan
            builder.loans.append(loan)

        self.act(issued, step)
        return key

    def extend(self, key: int, due: dt.date, term: int) -> None:
        """Plan the extension of loan `key` by one term, asked for three days before `due`."""
        asked = due - dt.timedelta(3)

        def step() -> None:
            extend_loan(
                db.session,
                self.loans[key],
                due + dt.timedelta(term),
                "Продлено по заявлению матери: курс реабилитации не завершён.",
                self.clerk,
                asked,
            )
            self.builder.counts["продлений"] += 1

        self.act(asked, step)

    def give_back(
        self,
        key: int,
        returned: dt.date,
        condition: str,
        missing: str | None = None,
        repair: bool = False,
        notes: str | None = None,
    ) -> None:
        def step() -> None:
            loan = return_loan(
                db.session,
                self.loans[key],
                returned,
                condition,
                missing,
                repair,
                self.clerk,
                returned,
            )
            if notes:
                loan.notes = notes  # the clerk's note on the loan's form

        self.act(returned, step)

    def release(self, unit: EquipmentUnit, day: dt.date) -> None:
        self.act(day, lambda: release_unit(db.session, unit, self.SANITISED, day, self.clerk, day))


def load_demo() -> str:
    """Load the demo data set once; return a short Russian summary with the demo password."""
    if demo_loaded():
        return "Демонстрационные данные уже загружены (учётные записи есть) — ничего не добавлено."
    load_reference()
    builder = _DemoBuilder()
    session = db.session()
    event.listen(session, "before_flush", builder.redate)
    try:
        builder.build()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        event.remove(session, "before_flush", builder.redate)
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
