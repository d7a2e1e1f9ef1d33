"""What a user is told when the database refuses a change: one map from the names of the
constraints to Russian messages, for the panel's tables and the workflows alike."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy.exc import IntegrityError

from .errors import WorkflowError
from .terms import SUPPORT_TERM_IN_WORDS


class Refusal(NamedTuple):
    """The message for a refused change, and the form field it belongs next to (if one)."""

    message: str
    field: str | None = None


_OPEN_LOAN = Refusal("Эта единица уже выдана: у неё есть незакрытая выдача.", "unit")
_OFFERED = Refusal("Эта единица уже предложена другой семье.", "unit")
_OPEN_CASE = Refusal("У семьи уже есть открытый случай.", "family")
_SLOT = Refusal("У специалиста уже есть запись на это время.", "starts_at")
_USERNAME = Refusal("Такой логин уже занят.", "username")
_ACCOUNT = Refusal("У этого сотрудника уже есть учётная запись.", "staff")
_OPEN_REFERRAL = Refusal(
    "По этому случаю уже есть незакрытое направление этому партнёру на эту услугу.", "service"
)
_SAME_DOCUMENT = Refusal("Этот файл уже приложен сюда.", "file")
_IN_PACKAGE = Refusal("Этот вид документа уже есть в пакете.", "doc_type")
_MESSAGE = Refusal("Сообщение об этом событии этому адресату уже есть в очереди.")
_PROPOSAL = Refusal("Это предложение по ИПРА уже подтверждено.")
_ATTENDED = Refusal("Эта семья уже записана участницей этого мероприятия.", "family")
_MEASURE = Refusal(
    "Это мероприятие комплекса с этим источником финансирования уже есть.", "funding_source"
)
_REVIEW = Refusal("У случая уже запланирован мониторинг: сначала проведите его.")

# Fragments of a refused constraint's name → the refusal; the first fragment found in the
# database's error wins, so the generic prefixes come last. PostgreSQL names the
# constraint; SQLite names the columns of a failed UNIQUE, so those are listed too.
CONSTRAINT_MESSAGES: dict[str, Refusal] = {
    "uq_loan_open_unit": _OPEN_LOAN,
    "loan.unit_id": _OPEN_LOAN,
    "uq_reservation_offered_unit": _OFFERED,
    "reservation.offered_unit_id": _OFFERED,
    "open_family": _OPEN_CASE,
    "support_case.family_id": _OPEN_CASE,
    "inventory_number": Refusal("Такой инвентарный номер уже есть.", "inventory_number"),
    "contract_number": Refusal("Договор с таким номером уже есть.", "contract_number"),
    "snils": Refusal(
        "Человек с таким СНИЛС уже есть в банке данных: найдите его семью поиском.", "snils"
    ),
    "six_months": Refusal(
        f"Плановое окончание — не позднее {SUPPORT_TERM_IN_WORDS} от начала сопровождения.",
        "planned_end_date",
    ),
    "specialist_id_starts_at": _SLOT,
    "appointment.specialist_id": _SLOT,
    "uq_user_account_username": _USERNAME,
    "user_account.username": _USERNAME,
    "uq_user_account_staff_id": _ACCOUNT,
    "user_account.staff_id": _ACCOUNT,
    "uq_required_document_doc_type": _IN_PACKAGE,
    "required_document.doc_type": _IN_PACKAGE,
    "_sha256": _SAME_DOCUMENT,
    "document.sha256": _SAME_DOCUMENT,
    "uq_review_open_case": _REVIEW,
    "review.case_id": _REVIEW,
    "uq_referral_open_case_partner_service": _OPEN_REFERRAL,
    "referral.case_id": _OPEN_REFERRAL,
    "size_bounds": Refusal("Нижняя граница размера не может быть больше верхней.", "size"),
    "referral_sent_order": Refusal("Дата отправки — не раньше подготовки направления.", "sent_on"),
    "referral_due_order": Refusal("Срок ответа — не раньше даты отправки.", "answer_due"),
    "referral_accepted_order": Refusal(
        "Партнёр не может принять направление раньше, чем оно отправлено.", "accepted_on"
    ),
    "referral_answered_order": Refusal("Ответ — не раньше даты отправки.", "answered_on"),
    "referral_answered_after_accepted": Refusal(
        "Ответ — не раньше, чем партнёр принял направление.", "answered_on"
    ),
    "partner_channel": Refusal(
        "«Направление партнёра»: укажите партнёра, который направил семью; "
        "при другом способе выявления партнёр не указывается.",
        "identified_partner",
    ),
    "raid_channel": Refusal(
        "«Социальный рейд»: укажите рейд, в котором выявлена семья; "
        "при другом способе выявления рейд не указывается.",
        "social_raid",
    ),
    "incoming_referral_received_order": Refusal(
        "Направление не может быть получено раньше, чем отправлено.", "received_on"
    ),
    "incoming_referral_decided_order": Refusal(
        "Решение — не раньше получения направления.", "decided_on"
    ),
    "ck_document_one_place": Refusal(
        "Документ прикладывается к одному месту: к семье, к члену семьи или к случаю."
    ),
    "centre_settings_hours_order": Refusal("Конец дня — позже его начала.", "closes_at"),
    "centre_settings_lunch_within_hours": Refusal(
        "Обеденный перерыв должен лежать внутри рабочего дня.", "lunch_starts_at"
    ),
    "centre_settings_one_row": Refusal("Реквизиты центра — одна запись."),
    "centre_settings_inn_length": Refusal("ИНН организации — 10 цифр.", "inn"),
    "centre_settings_ogrn_length": Refusal("ОГРН — 13 цифр.", "ogrn"),
    "centre_settings_kpp_length": Refusal("КПП — 9 знаков.", "kpp"),
    "document_consent_signed_only": Refusal(
        "К согласию прикладывается только его подписанный экземпляр.", "doc_type"
    ),
    "uq_message_family_event": _MESSAGE,
    "uq_message_user_event": _MESSAGE,
    "message.event_kind": _MESSAGE,
    "uq_message_template_code": Refusal("Шаблон с таким кодом уже есть.", "code"),
    "message_template.code": Refusal("Шаблон с таким кодом уже есть.", "code"),
    "rehab_programme_valid_order": Refusal(
        "Срок действия ИПРА — позже даты её выдачи.", "valid_until"
    ),
    "uq_rehab_programme_number": Refusal("ИПРА с таким номером уже есть.", "number"),
    "rehab_programme.number": Refusal("ИПРА с таким номером уже есть.", "number"),
    "rehab_tsr_queue_needs_rental": Refusal(
        "В очередь пункта проката ставят только по ТСР, которое не обеспечивает Социальный "
        "фонд, и только на вид ТСР пункта проката.",
        "equipment_type",
    ),
    "uq_rehab_measure_activity_id": _PROPOSAL,
    "rehab_measure.activity_id": _PROPOSAL,
    "uq_rehab_tsr_reservation_id": _PROPOSAL,
    "rehab_tsr.reservation_id": _PROPOSAL,
    # Events and the project's budget (models/events.py).
    "campaign_has_channel": Refusal(
        "Канал указывается у материала информационной кампании, и только у него.", "channel"
    ),
    "reach_of_campaign_only": Refusal(
        "Тираж и охват указываются только для информационной кампании.", "reach"
    ),
    "print_run_nonnegative": Refusal("Тираж не может быть отрицательным.", "print_run"),
    "reach_nonnegative": Refusal("Охват не может быть отрицательным.", "reach"),
    "planned_nonnegative": Refusal("Сумма не может быть отрицательной.", "planned"),
    "spent_nonnegative": Refusal("Сумма не может быть отрицательной.", "spent"),
    "uq_event_attendance_event_id_family_id": _ATTENDED,
    "event_attendance.event_id": _ATTENDED,
    "uq_project_measure_name_funding_source": _MEASURE,
    "project_measure.name": _MEASURE,
    "_order": Refusal("Дата окончания не может быть раньше даты начала."),
    "uq_": Refusal("Такая запись уже есть."),
    "ck_": Refusal("Значения полей противоречат друг другу."),
}
FOREIGN_KEY_MESSAGE = (
    "Запись связана с другими данными, поэтому её нельзя удалить или изменить так."
)
NOT_NULL_MESSAGE = "Не заполнено обязательное поле."
OTHER_MESSAGE = "База данных отклонила изменение: значения противоречат правилам."


def constraint_refusal(exc: IntegrityError) -> Refusal:
    """What to tell the user about the database's refusal `exc`."""
    text = str(exc.orig).lower()
    if "foreign key" in text:
        return Refusal(FOREIGN_KEY_MESSAGE)
    for fragment, refusal in CONSTRAINT_MESSAGES.items():
        if fragment in text:
            return refusal
    if "not null" in text:
        return Refusal(NOT_NULL_MESSAGE)
    return Refusal(OTHER_MESSAGE)


def integrity_message(exc: IntegrityError) -> str:
    """The Russian message for the database's refusal `exc`."""
    return constraint_refusal(exc).message


def refused_by_database(exc: IntegrityError) -> WorkflowError:
    """The database's refusal `exc` as the domain's refusal, next to its field."""
    message, field = constraint_refusal(exc)
    return WorkflowError(message, field)
