"""Builders and page helpers for the security, scope, audit and archive tests.

`world()` builds one row of every table the panel shows (all tied to one
family in one district) so a test can walk every view with a real row;
the page helpers read what a browser would: form fields, row links, flashes.
Builders run inside an app context; requests must run outside one (a request
inside an app context would share `g` and the database session with the test).
Signing in and CSRF tokens are conftest's (signed_in, csrf_token).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import factories as f
from sqlalchemy import func, inspect, select

from admin_views import VIEWS
from models import District, Staff, db
from workflows.centre import centre_settings

MODELS = {endpoint: model for _view, model, _name, _category, endpoint in VIEWS}
ENDPOINTS = tuple(MODELS)

# Tables with personal data, limited by row scope (workflows/scope.py).
SCOPED = (
    "family",
    "person",
    "consent",
    "case",
    "assessment",
    "support_plan",
    "plan_activity",
    "visit",
    "task",
    "review",
    "loan",
    "reservation",
    "appointment",
    "referral",
    "incoming_referral",
    "social_raid",
)


def world(district: District, stem: str, assignee: Staff | None = None) -> dict:
    """One row of every panel table around the family `stem`+«ы» of `district`.

    Names, addresses and free texts carry `stem`, so a page that shows any of
    this family's data contains it. With `assignee`, the family's task is
    assigned to that staff member (a specialist then sees the case).
    Returns {endpoint: row id} plus "stem", "surname", "mother", "child".
    """
    family = f.family(
        district,
        surname=f"{stem}ы",
        address=f"г. Великий Новгород, ул. {stem}ская, д. 1",
        notes=f"Примечание о семье {stem}ых",
    )
    mother = f.person(family, "mother", last_name=f"{stem}а", health_notes=f"Диагноз {stem}")
    child = f.person(family, "child", last_name=f"{stem}", health_notes=f"Диагноз {stem}")
    consent = f.consent(family, mother, scope=f"Согласие {stem}ой")
    enrolment = f.programme_enrolment(family, notes=f"Участие {stem}ых")
    case = f.case(family, mother, outcome=f"Итог {stem}ых")
    assessment = f.assessment(case, notes=f"Заключение о {stem}ых")
    plan = f.support_plan(case, goal=f"Цель для {stem}ых")
    activity = f.plan_activity(plan, result=f"Результат {stem}ых")
    revision = f.plan_revision(plan, summary=f"Редакция ИПСС {stem}ых")
    visit = f.visit(case, purpose=f"Визит к {stem}ым")
    if assignee is not None:
        task = f.task(family, case, title=f"Задача {stem}ых", assignee=assignee, status="assigned")
    else:
        task = f.task(family, case, title=f"Задача {stem}ых")
    assignment = f.task_assignment(task, assignee or visit.staff, reason=f"Для {stem}ых")
    review = f.review(case, family_feedback=f"Отзыв {stem}ых")
    appointment = f.appointment(
        family=family, citizen_name=f"{stem}а Ольга", purpose=f"Приём {stem}ых"
    )
    kind = f.equipment_type()
    loan = f.loan(f.equipment_unit(kind), family, child, notes=f"Выдача {stem}ым")
    extension = f.loan_extension(loan)
    reservation = f.reservation(family, child, kind, notes=f"Очередь {stem}ых")
    partner = f.partner()
    contact = f.partner_contact(partner)
    referral = f.referral(case, partner, reason=f"Направление {stem}ых")
    incoming = f.incoming_referral(
        partner,
        district,
        person_name=f"{stem}а Ольга Петровна",
        reason=f"Направление {stem}ых от партнёра",
        address=f"г. Великий Новгород, ул. {stem}ская, д. 1",
    )
    raid = f.social_raid(district, area=f"ул. {stem}ская, д. 1–9")
    other_user = f.user("viewer")
    ipra = f.rehab_programme(child, notes=f"ИПРА {stem}ых")
    gathering = f.event(title=f"Праздник {stem}ых")
    rows = {
        "family": family,
        "person": mother,
        "consent": consent,
        "programme_enrolment": enrolment,
        "case": case,
        "task": task,
        "assessment": assessment,
        "support_plan": plan,
        "plan_activity": activity,
        "plan_revision": revision,
        "visit": visit,
        "review": review,
        "task_assignment": assignment,
        "appointment": appointment,
        "equipment_unit": loan.unit,
        "loan": loan,
        "reservation": reservation,
        "equipment_type": kind,
        "loan_extension": extension,
        "department": f.department(),
        "district": f.district(),
        "staff": f.staff(),
        "service": f.service(),
        "programme": f.programme(),
        "partner": partner,
        "partner_contact": contact,
        "referral": referral,
        "rehab_programme": ipra,
        "rehab_measure": f.rehab_measure(ipra, description=f"Занятия {stem}ых"),
        "rehab_tsr": f.rehab_tsr(ipra, name=f"Ходунки {stem}ых"),
        "incoming_referral": incoming,
        "social_raid": raid,
        "partner_agreement": f.partner_agreement(partner),
        "council_meeting": f.council_meeting(district),
        "event": gathering,
        "event_attendance": f.attendance(gathering, family, [child]),
        "volunteer": f.volunteer(),
        "project_measure": f.project_measure(),
        "required_document": f.required_document(),
        "centre_settings": centre_settings(db.session),
        "user": other_user,
        "message": f.message(family, body=f"Сообщение {stem}ым"),
        "message_template": f.message_template(code=f"offer-{stem}", title=f"Шаблон {stem}"),
        "audit_record": f.audit_record(
            username=f"мир-{stem}", changes={"surname": {"old": "Смирнов", "new": f"{stem}ы"}}
        ),
    }
    assert set(rows) == set(ENDPOINTS), set(ENDPOINTS) ^ set(rows)
    ids = {endpoint: row.id for endpoint, row in rows.items()}
    ids.update(stem=stem, surname=family.surname, mother=mother.id, child=child.id)
    return ids


# --- reading the database from a test (each call in its own app context) -----------


def snapshot(app, model, row_id) -> dict | None:
    """Every column of one row as stored now, or None when the row is gone."""
    with app.app_context():
        row = db.session.get(model, row_id)
        if row is None:
            return None
        return {attr.key: getattr(row, attr.key) for attr in inspect(model).column_attrs}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- reading pages -----------------------------------------------------------------


def row_ids(body: str, endpoint: str) -> set[int]:
    """Ids of the rows a list page links to (details and edit links)."""
    pattern = rf"/{re.escape(endpoint)}/(?:details|edit)/\?id=(\d+)"
    return {int(i) for i in re.findall(pattern, body)}


def flashes(body: str) -> list[str]:
    """The texts of the flashed messages (Bootstrap alerts) on a page."""
    found = re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>|&times;", " ", text).split()) for text in found]


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select: str | None = None
        self._multiple = False
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"attrs": a, "fields": {}, "options": {}})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value", "y")
            elif kind not in ("submit", "button", "file", "image", "reset"):
                fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._options = name, []
            self._multiple = "multiple" in a
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            form = self.forms[-1]
            chosen = [v for v, sel in self._options if sel]
            if not chosen and not self._multiple:  # a browser sends a single select's first
                chosen = [v for v, _ in self._options[:1]]
            if chosen:
                form["fields"][self._select] = chosen[0]
            form["options"][self._select] = [v for v, _ in self._options]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._text  # HTML drops one newline right after <textarea>
            text = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
            self.forms[-1]["fields"][self._textarea] = text
            self._textarea = None


def admin_form(body: str) -> dict:
    """The create/edit form of a Flask-Admin page: {"fields": {name: value}, "options": {...}}.

    Fields hold what a browser would submit unchanged (checked boxes only,
    the selected option of each select); "options" lists each select's values.
    """
    parser = _Forms()
    parser.feed(body)
    for form in parser.forms:
        if "admin-form" in form["attrs"].get("class", ""):
            return form
    raise AssertionError("no admin form on the page")


def input_value(body: str, name: str) -> str | None:
    return admin_form(body)["fields"].get(name)
