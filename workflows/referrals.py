"""Outgoing referrals (направление, межведомственный запрос) of a case to a partner.

`prepare → send → accept → fulfil`, or `refuse` (from sent or accepted) or
`no_answer` (sent, once its answer due date has passed): one function each, taking
(session, actor, referral, …, today). Each re-reads the referral under a row lock
(PostgreSQL), within the actor's row scope (the case's), refuses in Russian what the
rules forbid, and writes; the audit hook records the change and the closed-case
guard refuses a change of a closed case's referral. The database holds the rest
(models/referrals.py). The caller commits.

A sent referral whose answer is overdue becomes one task for the case's lead worker
(`task_overdue_referrals`, a job of the tick): the task's source key is the referral,
so two ticks make one task; an answer (accepted, refused) or «нет ответа» closes it.

A referral for a medical reason keeps its reason and answer in the health columns;
`reason_for` and `answer_for` give them only to a role that reads health data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, cast, exists, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from models import Case, Partner, PartnerContact, Referral, Service, Task, User
from models.live import refuse_for_new_work
from models.reference import PARTNER_KIND
from models.referrals import OPEN_REFERRAL_STATUSES, REFERRAL_REASON, REFERRAL_STATUS
from models.roles import reads_health
from models.terms import REFERRAL_ANSWER_DAYS, REFERRAL_OVERDUE_TASK_DAYS

from .cases import ensure_open
from .errors import WorkflowError
from .scope import where_visible
from .staff_notices import notify_staff
from .tasks import cancel_task, close_task_by_key, create_task

REFERRAL_KEY_PREFIX = "referral:"
NOT_FOUND = "Направление не найдено."
HIDDEN_REASON = "медицинские сведения — видны специалистам с доступом к ним"


def referral_task_key(referral_id: int) -> str:
    return f"{REFERRAL_KEY_PREFIX}{referral_id}"


def default_answer_due(sent_on: dt.date) -> dt.date:
    """The answer date the page offers: REFERRAL_ANSWER_DAYS after sending."""
    return sent_on + dt.timedelta(days=REFERRAL_ANSWER_DAYS)


# --- small pieces -----------------------------------------------------------------------


def _visible_case(session: Session, actor: User | None, case_id: int | None) -> Case:
    """The case under a row lock, if the actor may see it and it may still change."""
    query = select(Case).where(Case.id == case_id)
    if actor is not None:
        query = query.where(where_visible(Case, actor))
    case = session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if case is None:
        raise WorkflowError("Случай не найден.")
    ensure_open(case)
    return case


def _locked(session: Session, actor: User | None, referral_id: int) -> Referral:
    """The referral, re-read under a row lock within the actor's scope; its case open."""
    query = select(Referral).where(Referral.id == referral_id, Referral.archived_at.is_(None))
    if actor is not None:
        query = query.where(where_visible(Referral, actor))
    referral = session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if referral is None:
        raise WorkflowError(NOT_FOUND)
    ensure_open(session.get_one(Case, referral.case_id))
    return referral


def _status_word(referral: Referral) -> str:
    return f"«{REFERRAL_STATUS.label(referral.status)}»"


def _require(referral: Referral, statuses: tuple[str, ...], refused: str) -> None:
    """Refuse the step unless the referral is in one of `statuses` («…: принять его нельзя»)."""
    if referral.status not in statuses:
        raise WorkflowError(f"Направление в статусе {_status_word(referral)}: {refused}.")


def _date(
    value: dt.date | None,
    field: str,
    missing: str,
    today: dt.date,
    not_before: dt.date | None,
    too_early: str,
) -> dt.date:
    if value is None:
        raise WorkflowError(missing, field=field)
    if value > today:
        raise WorkflowError("Дата не может быть в будущем.", field=field)
    if not_before is not None and value < not_before:
        raise WorkflowError(too_early, field=field)
    return value


def _text(value: str | None, field: str, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkflowError(missing, field=field)
    return value


def _handled(referral: Referral, actor: User | None) -> None:
    if actor is not None and actor.staff_id is not None:
        referral.handled_by_id = actor.staff_id


def _tell_of_answer(session: Session, actor: User | None, referral: Referral) -> None:
    """Who prepared the referral and who handled it before hear of the partner's answer
    (unless they recorded it themselves)."""
    word = REFERRAL_STATUS.label(referral.status)
    partner = session.get_one(Partner, referral.partner_id)
    me = actor.staff_id if actor is not None else None
    for staff_id in dict.fromkeys((referral.prepared_by_id, referral.handled_by_id)):
        if staff_id is None or staff_id == me:
            continue
        notify_staff(
            session,
            staff_id,
            "referral_answer",
            f"Ответ на направление № {referral.id} в «{partner.name}» "
            f"(случай № {referral.case_id}): {word}",
            f"referral_answer:{referral.id}:{referral.status}:{staff_id}",
            referral_id=referral.id,
        )


def _answer(referral: Referral, text: str) -> None:
    """The answer, in the health column for a medical referral."""
    if referral.is_health:
        referral.health_answer = text
    else:
        referral.answer = text


# --- the transitions ----------------------------------------------------------------------


def prepare_referral(
    session: Session,
    actor: User | None,
    case_id: int | None,
    *,
    partner_id: int | None,
    contact_id: int | None,
    service_id: int | None,
    reason_kind: str | None,
    reason: str | None,
    today: dt.date,
) -> Referral:
    """A new referral of the case's family to a partner (status «подготовлено»)."""
    case = _visible_case(session, actor, case_id)
    partner = session.get(Partner, partner_id) if partner_id else None
    if partner is None:
        raise WorkflowError("Выберите организацию-партнёра.", field="partner")
    refuse_for_new_work(partner, "partner")
    contact = None
    if contact_id:
        contact = session.get(PartnerContact, contact_id)
        if contact is None:
            raise WorkflowError("Выберите контактное лицо из списка.", field="contact")
        refuse_for_new_work(contact, "contact")
        if contact.partner_id != partner.id:
            raise WorkflowError(
                f"{contact.full_name} — сотрудник другой организации, не «{partner.name}».",
                field="contact",
            )
    service = session.get(Service, service_id) if service_id else None
    if service is None:
        raise WorkflowError("Выберите услугу, о которой просите партнёра.", field="service")
    refuse_for_new_work(service, "service")
    if reason_kind not in REFERRAL_REASON.codes:
        raise WorkflowError("Выберите основание направления.", field="reason_kind")
    text = _text(reason, "reason", "Опишите причину направления.")
    already = session.scalar(
        select(Referral.id).where(
            Referral.case_id == case.id,
            Referral.partner_id == partner.id,
            Referral.service_id == service.id,
            Referral.status.in_(OPEN_REFERRAL_STATUSES),
            Referral.archived_at.is_(None),
        )
    )
    if already is not None:
        raise WorkflowError(
            f"По этому случаю уже есть незакрытое направление № {already} в «{partner.name}» "
            "на эту услугу: ведите его.",
            field="service",
        )
    referral = Referral(
        case_id=case.id,
        partner_id=partner.id,
        contact_id=contact.id if contact else None,
        service_id=service.id,
        reason_kind=reason_kind,
        status="prepared",
        prepared_on=today,
    )
    if referral.is_health:
        referral.health_reason = text
    else:
        referral.reason = text
    _handled(referral, actor)
    referral.prepared_by_id = referral.handled_by_id
    session.add(referral)
    session.flush()
    return referral


def send_referral(
    session: Session,
    actor: User | None,
    referral_id: int,
    *,
    sent_on: dt.date | None,
    answer_due: dt.date | None,
    today: dt.date,
) -> Referral:
    """The letter went to the partner: «подготовлено → отправлено», with the answer's date."""
    referral = _locked(session, actor, referral_id)
    _require(referral, ("prepared",), "отправить его ещё раз нельзя")
    sent_on = _date(
        sent_on,
        "sent_on",
        "Укажите дату отправки.",
        today,
        referral.prepared_on,
        f"Дата отправки — не раньше подготовки направления ({referral.prepared_on:%d.%m.%Y}).",
    )
    if answer_due is None:
        raise WorkflowError("Укажите, до какого числа ждать ответа.", field="answer_due")
    if answer_due < sent_on:
        raise WorkflowError("Срок ответа — не раньше даты отправки.", field="answer_due")
    referral.status = "sent"
    referral.sent_on = sent_on
    referral.answer_due = answer_due
    _handled(referral, actor)
    session.flush()
    return referral


def accept_referral(
    session: Session,
    actor: User | None,
    referral_id: int,
    *,
    accepted_on: dt.date | None,
    today: dt.date,
) -> Referral:
    """The partner answered that it takes the family: «отправлено → принято»."""
    referral = _locked(session, actor, referral_id)
    _require(referral, ("sent",), "принять его нельзя")
    referral.accepted_on = _date(
        accepted_on,
        "accepted_on",
        "Укажите дату, когда партнёр принял направление.",
        today,
        referral.sent_on,
        "Партнёр не может принять направление раньше, чем оно отправлено.",
    )
    referral.status = "accepted"
    _tell_of_answer(session, actor, referral)
    _handled(referral, actor)
    session.flush()
    close_task_by_key(
        session,
        referral_task_key(referral.id),
        f"Партнёр принял направление {referral.accepted_on:%d.%m.%Y}.",
    )
    return referral


def fulfil_referral(
    session: Session,
    actor: User | None,
    referral_id: int,
    *,
    answered_on: dt.date | None,
    answer: str | None,
    today: dt.date,
) -> Referral:
    """The partner did what was asked, with its result: «принято → исполнено»."""
    referral = _locked(session, actor, referral_id)
    _require(referral, ("accepted",), "отметить его исполненным нельзя")
    referral.answered_on = _date(
        answered_on,
        "answered_on",
        "Укажите дату исполнения.",
        today,
        referral.accepted_on,
        "Исполнение — не раньше, чем партнёр принял направление.",
    )
    _answer(referral, _text(answer, "answer", "Опишите результат: что сделал партнёр."))
    referral.status = "fulfilled"
    _tell_of_answer(session, actor, referral)
    _handled(referral, actor)
    session.flush()
    return referral


def refuse_referral(
    session: Session,
    actor: User | None,
    referral_id: int,
    *,
    answered_on: dt.date | None,
    answer: str | None,
    today: dt.date,
) -> Referral:
    """The partner refused (before or after accepting), with its reason: «отказано»."""
    referral = _locked(session, actor, referral_id)
    _require(referral, ("sent", "accepted"), "записать по нему отказ нельзя")
    referral.answered_on = _date(
        answered_on,
        "answered_on",
        "Укажите дату отказа.",
        today,
        referral.accepted_on or referral.sent_on,
        "Отказ — не раньше отправки направления (и его принятия).",
    )
    _answer(referral, _text(answer, "answer", "Укажите, чем партнёр объяснил отказ."))
    referral.status = "refused"
    _tell_of_answer(session, actor, referral)
    _handled(referral, actor)
    session.flush()
    close_task_by_key(
        session,
        referral_task_key(referral.id),
        f"Партнёр ответил отказом {referral.answered_on:%d.%m.%Y}.",
    )
    return referral


def no_answer_referral(
    session: Session, actor: User | None, referral_id: int, *, today: dt.date
) -> Referral:
    """The answer never came: a sent referral past its answer date ends «нет ответа»."""
    referral = _locked(session, actor, referral_id)
    _require(referral, ("sent",), "закрыть его без ответа нельзя")
    assert referral.answer_due is not None  # a sent referral has it (ck_referral_sent_complete)
    if referral.answer_due >= today:
        raise WorkflowError(
            f"Срок ответа ещё не истёк: партнёр может ответить до {referral.answer_due:%d.%m.%Y}."
        )
    referral.status = "no_answer"
    _handled(referral, actor)
    session.flush()
    close_task_by_key(
        session,
        referral_task_key(referral.id),
        f"Партнёр не ответил: направление закрыто {today:%d.%m.%Y} без ответа.",
    )
    return referral


# --- the tick's job ---------------------------------------------------------------------------


def overdue_referrals_query(today: dt.date) -> Select[Any]:
    """Sent referrals of open cases whose answer is overdue and that have no task yet."""
    return (
        select(Referral)
        .join(Case, Case.id == Referral.case_id)
        .options(
            joinedload(Referral.partner),
            joinedload(Referral.case).joinedload(Case.lead_worker),
        )
        .where(
            Referral.status == "sent",
            Referral.answer_due < today,
            Referral.archived_at.is_(None),
            Case.status != "closed",
            Case.archived_at.is_(None),  # read-only: the closed-case guard refuses it
            ~exists().where(
                Task.source_key == literal(REFERRAL_KEY_PREFIX) + cast(Referral.id, String)
            ),
        )
        .order_by(Referral.id)
    )


def task_overdue_referrals(session: Session, today: dt.date) -> int:
    """Each sent referral whose answer is overdue becomes one task for the case's lead
    worker: get the answer, or close it «нет ответа». Idempotent; two servers at once
    make one task (the unique source key)."""
    made = 0
    for referral in session.scalars(overdue_referrals_query(today)).unique().all():
        case = referral.case
        assert referral.answer_due is not None  # the query asks for it
        lead = case.lead_worker
        try:
            with session.begin_nested():
                create_task(
                    session,
                    family_id=case.family_id,
                    case_id=case.id,
                    title=(
                        f"Нет ответа на направление № {referral.id} в «{referral.partner.name}» "
                        f"(срок был {referral.answer_due:%d.%m.%Y}): связаться с партнёром"
                    ),
                    role=lead.role if lead is not None else "district_worker",
                    due_date=today + dt.timedelta(days=REFERRAL_OVERDUE_TASK_DAYS),
                    today=today,
                    source_key=referral_task_key(referral.id),
                    prefer=lead,
                )
        except IntegrityError:
            continue  # another server made this task a moment ago
        if lead is not None:
            notify_staff(
                session,
                lead.id,
                "referral_overdue",
                f"Нет ответа на направление № {referral.id} в «{referral.partner.name}» "
                f"(случай № {case.id}): срок был {referral.answer_due:%d.%m.%Y}",
                f"referral_overdue:{referral.id}",
                referral_id=referral.id,
            )
        made += 1
    return made


def archive_referral(session: Session, referral: Referral) -> None:
    """A referral made in error goes to the archive: its task of an overdue answer goes
    with it (cancelled, nobody has to chase an answer to it any more)."""
    task = session.scalar(
        select(Task)
        .where(Task.source_key == referral_task_key(referral.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is not None and task.is_open:
        cancel_task(session, task.id, None, f"{referral} перенесено в архив.")


def open_referrals_of(session: Session, case_id: int, *, lock: bool = True) -> list[Referral]:
    """The live referrals of a case still waiting for their end (under a row lock for a
    change; without one for a page that lists them)."""
    query = (
        select(Referral)
        .options(joinedload(Referral.partner))
        .where(
            Referral.case_id == case_id,
            Referral.status.in_(OPEN_REFERRAL_STATUSES),
            Referral.archived_at.is_(None),
        )
        .order_by(Referral.id)
    )
    if lock:
        query = query.with_for_update(of=Referral)
    return list(session.scalars(query).unique().all())


def open_referrals_words(referrals: list[Referral]) -> str:
    """«№ 4 в «Поликлиника» (отправлено); № 7 …» for the closure's refusal."""
    return "; ".join(
        f"№ {r.id} в «{r.partner.name}» ({REFERRAL_STATUS.label(r.status)})" for r in referrals
    )


# --- what the pages read -------------------------------------------------------------------


def reason_for(referral: Referral, role: str | None) -> str | None:
    """The reason as `role` may read it: a medical one only with the health right."""
    if referral.is_health:
        return referral.health_reason if reads_health(role) else None
    return referral.reason


def answer_for(referral: Referral, role: str | None) -> str | None:
    if referral.is_health:
        return referral.health_answer if reads_health(role) else None
    return referral.answer


@dataclass(frozen=True)
class ReferralRow:
    """One referral as a page shows it to one role."""

    id: int
    version: int
    partner: str
    partner_kind: str
    contact: str
    service: str
    reason_kind: str
    reason: str | None  # None: hidden from this role (health data)
    hidden: bool
    status: str
    status_label: str
    prepared_on: dt.date
    sent_on: dt.date | None
    answer_due: dt.date | None
    accepted_on: dt.date | None
    answered_on: dt.date | None
    answer: str | None
    handled_by: str
    overdue: bool


def referral_row(referral: Referral, role: str | None, today: dt.date) -> ReferralRow:
    hidden = referral.is_health and not reads_health(role)
    return ReferralRow(
        id=referral.id,
        version=referral.version,
        partner=referral.partner.name,
        partner_kind=PARTNER_KIND.label(referral.partner.kind),
        contact=str(referral.contact) if referral.contact is not None else "",
        service=referral.service.name,
        reason_kind=REFERRAL_REASON.label(referral.reason_kind),
        reason=reason_for(referral, role),
        hidden=hidden,
        status=referral.status,
        status_label=REFERRAL_STATUS.label(referral.status),
        prepared_on=referral.prepared_on,
        sent_on=referral.sent_on,
        answer_due=referral.answer_due,
        accepted_on=referral.accepted_on,
        answered_on=referral.answered_on,
        answer=answer_for(referral, role),
        handled_by=str(referral.handled_by) if referral.handled_by is not None else "",
        overdue=referral.is_overdue(today),
    )


def case_referrals(session: Session, user: User, case_id: int, today: dt.date) -> list[ReferralRow]:
    """The live referrals of a case the user may see, newest first, as the user may read them."""
    referrals = session.scalars(
        select(Referral)
        .options(
            joinedload(Referral.partner),
            joinedload(Referral.contact),
            joinedload(Referral.service),
            joinedload(Referral.handled_by),
        )
        .where(
            Referral.case_id == case_id,
            Referral.archived_at.is_(None),
            where_visible(Referral, user),
        )
        .order_by(Referral.prepared_on.desc(), Referral.id.desc())
    ).all()
    return [referral_row(r, user.role, today) for r in referrals]


def visible_referral(session: Session, user: User, referral_id: int) -> Referral | None:
    return session.scalar(
        select(Referral).where(Referral.id == referral_id, where_visible(Referral, user))
    )
