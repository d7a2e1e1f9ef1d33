"""Reference data taken from the seed documents.

Departments from seed 002 §1.3, the catalogue of help from §3 (what each
specialist does), the centre's technologies from §2.2–2.3 and the usual
contents of a rental point of technical means of rehabilitation (ТСР).
`load_reference()` only adds what is missing, matching on the natural key, so
it can run on every deploy.
"""

from __future__ import annotations

from sqlalchemy import select

from models import Department, EquipmentType, Programme, Service, db
from workflows.notify import ensure_templates

# (code, name) — seed 002 §1.3.
DEPARTMENTS: list[tuple[str, str]] = [
    ("ОССО", "отделение срочного социального обслуживания"),
    ("ОСОД", "отделение социального обслуживания на дому граждан пожилого возраста и инвалидов"),
    ("ОСОСД", "отделение социального обслуживания семьи и детей"),
]

# (kind, name, in the guaranteed list) — seed 002 §3, specialist by specialist.
SERVICES: list[tuple[str, str, bool]] = [
    # Участковый социальный работник ОССО, социальный работник ОСОД.
    ("social", "Домашнее визитирование (патронаж) семьи", False),
    ("social", "Содействие в получении льгот и мер социальной поддержки", False),
    ("social", "Содействие в получении материальной помощи", False),
    ("social", "Обеспечение техническими средствами реабилитации через пункт проката", False),
    ("social", "Покупка и доставка на дом продуктов питания и товаров первой необходимости", True),
    ("social", "Содействие в оплате жилищно-коммунальных услуг", True),
    # Медицинская сестра (по согласованию).
    ("medical", "Медико-социальная реабилитация и социальная адаптация", False),
    ("medical", "Содействие в проведении медико-социальной экспертизы (МСЭ)", True),
    (
        "medical",
        "Содействие в получении медицинской помощи, сопровождение в медицинские организации",
        True,
    ),
    ("medical", "Содействие в направлении на специализированную медицинскую помощь", False),
    ("medical", "Медицинская реабилитация на дому («Санаторий на дому»)", False),
    ("medical", "Содействие в организации санаторно-курортного лечения", False),
    # Психолог (педагог-психолог) ОСОСД.
    ("psychological", "Психологическая диагностика (психологический климат в семье)", False),
    (
        "psychological",
        "Психологическое консультирование родителей по вопросам психолого-социальной адаптации",
        False,
    ),
    ("psychological", "Психологическая коррекция состояния и поведения членов семьи", False),
    ("psychological", "Психолого-педагогическая помощь ребёнку на дому", False),
    # Социальный педагог ОСОСД.
    ("pedagogical", "Социально-педагогическое консультирование детей и родителей", False),
    ("pedagogical", "Содействие в получении образования и профессионального обучения", False),
    ("pedagogical", "Социально-педагогическая коррекция", False),
    ("pedagogical", "Информационно-просветительская работа с родителями", False),
    # Юрист (по согласованию).
    ("legal", "Консультирование по социально-правовым вопросам", True),
    ("legal", "Помощь в оформлении документов", True),
    # Социокультурная реабилитация (ОССО совместно с ОСОСД).
    ("cultural", "Организация досуга: вечера, праздники, экскурсии, выезды на природу", False),
    ("cultural", "Семейные клубы по интересам и игровые программы", False),
    ("cultural", "Социокультурная реабилитация ребёнка", False),
]

# (name, description) — seed 002 §2.2 (technologies of ОССО), §2.3 and §3.
PROGRAMMES: list[tuple[str, str]] = [
    (
        "Домашнее визитирование семей",
        "Регулярные визиты участкового социального работника на дом к семье "
        "для наблюдения, оценки потребностей и помощи на месте.",
    ),
    (
        "Мобильная библиотека",
        "Доставка на дом книг, развивающих игр и информационной литературы "
        "по вопросам воспитания, обучения и реабилитации детей.",
    ),
    (
        "Телекоммуникационные формы общения",
        "Консультации специалистов и занятия с детьми по телефону и видеосвязи "
        "для семей, которым трудно выйти из дома.",
    ),
    (
        "«Санаторий на дому»",
        "Социально-медицинские услуги детям-инвалидам и детям с ОВЗ на дому: "
        "реабилитационные процедуры, ЛФК, массаж под наблюдением медицинской сестры.",
    ),
    (
        "Пункт проката технических средств реабилитации",
        "Бесплатная выдача во временное пользование ТСР, не входящих "
        "в гарантированный перечень средств социальной адаптации.",
    ),
    (
        "Семейный клуб",
        "Клубные встречи семей по интересам, игровые программы, праздники "
        "и выезды на природу под руководством социального педагога.",
    ),
    (
        "Психолого-педагогическая помощь на дому",
        "Занятия психолога и социального педагога с ребёнком на дому, "
        "включая социокультурную реабилитацию.",
    ),
]

# (name, category, size range, age range, loan term in days, max extensions, components)
EQUIPMENT_TYPES: list[tuple[str, str, str | None, str | None, int, int, str | None]] = [
    (
        "Кресло-коляска комнатная",
        "mobility",
        "ширина сиденья 38–46 см",
        "с 12 лет",
        180,
        2,
        "подушка сиденья, подножки, ремень безопасности, насос",
    ),
    (
        "Кресло-коляска прогулочная",
        "mobility",
        "ширина сиденья 36–46 см",
        "с 10 лет",
        180,
        2,
        "подушка сиденья, подножки, ремни, насос, накидка от дождя",
    ),
    (
        "Кресло-коляска детская (для детей с ДЦП)",
        "mobility",
        "ширина сиденья 26–36 см",
        "3–14 лет",
        180,
        2,
        "подголовник, абдуктор, пятиточечные ремни, столик, капюшон, насос",
    ),
    (
        "Ходунки",
        "support",
        "рост 90–150 см",
        "3–16 лет",
        120,
        2,
        "тормоза, сиденье для отдыха",
    ),
    (
        "Трость опорная",
        "support",
        "высота 65–95 см",
        "с 7 лет",
        90,
        1,
        "упор (наконечник) запасной",
    ),
    (
        "Костыли подмышечные (пара)",
        "support",
        "рост 120–180 см",
        "с 8 лет",
        90,
        1,
        "наконечники, накладки на упоры",
    ),
    (
        "Опора для ходьбы",
        "support",
        "рост 80–140 см",
        "2–12 лет",
        120,
        2,
        "фиксаторы таза, ремни",
    ),
    (
        "Опора для стояния",
        "verticalization",
        "рост 80–150 см",
        "2–14 лет",
        180,
        2,
        "столик, упоры для коленей, ремни фиксации",
    ),
    (
        "Вертикализатор",
        "verticalization",
        "рост 100–160 см",
        "4–16 лет",
        180,
        1,
        "столик, упоры для коленей, ремни фиксации, колёса с тормозом",
    ),
    (
        "Функциональная кровать",
        "bed",
        "ложе 90×200 см",
        None,
        180,
        2,
        "боковые ограждения, пульт, подголовник с подъёмом",
    ),
    (
        "Противопролежневый матрас",
        "bed",
        "90×200 см",
        None,
        180,
        2,
        "компрессор, шланги, чехол",
    ),
    (
        "Стул (сиденье) для купания",
        "hygiene",
        "ширина сиденья 35–45 см",
        "с 3 лет",
        90,
        2,
        "ремень, подголовник",
    ),
    (
        "Кресло-стул с санитарным оснащением",
        "hygiene",
        "ширина сиденья 40–45 см",
        "с 7 лет",
        90,
        2,
        "ёмкость с крышкой, подножки",
    ),
    (
        "Велотренажёр реабилитационный детский",
        "other",
        "рост 95–150 см",
        "3–12 лет",
        90,
        1,
        "фиксаторы стоп, спинка, ремень",
    ),
]


# The types the rental point lends because the Social Fund does not provide them: not
# in the federal list of ТСР (seed 002 §2.2, «не включенными в гарантированный перечень»).
OUTSIDE_GUARANTEED = frozenset(
    {
        "Функциональная кровать",
        "Стул (сиденье) для купания",
        "Велотренажёр реабилитационный детский",
    }
)


def _existing(attribute) -> set[str]:
    return set(db.session.scalars(select(attribute)))


def load_reference() -> dict[str, int]:
    """Add the missing departments, services, programmes and equipment types.

    Returns the number of rows added per table (Russian names); a second run
    adds nothing.
    """
    added = {"отделения": 0, "услуги": 0, "программы": 0, "виды ТСР": 0, "шаблоны сообщений": 0}

    known = _existing(Department.code)
    for code, name in DEPARTMENTS:
        if code not in known:
            db.session.add(Department(code=code, name=name))
            added["отделения"] += 1

    known = _existing(Service.name)
    for kind, name, guaranteed in SERVICES:
        if name not in known:
            db.session.add(Service(kind=kind, name=name, guaranteed=guaranteed))
            added["услуги"] += 1

    known = _existing(Programme.name)
    for name, description in PROGRAMMES:
        if name not in known:
            db.session.add(Programme(name=name, description=description, active=True))
            added["программы"] += 1

    known = _existing(EquipmentType.name)
    for name, category, size_range, age_range, term, extensions, components in EQUIPMENT_TYPES:
        if name not in known:
            db.session.add(
                EquipmentType(
                    name=name,
                    category=category,
                    size_range=size_range,
                    age_range=age_range,
                    loan_term_days=term,
                    max_extensions=extensions,
                    components=components,
                    outside_guaranteed=name in OUTSIDE_GUARANTEED,
                )
            )
            added["виды ТСР"] += 1

    added["шаблоны сообщений"] = ensure_templates(db.session)
    db.session.commit()
    return added
