"""How a family reached the centre: a partner's incoming referral, a social raid, the
channel intake records («как выявлена»).

Plain functions over a session (no HTTP), each taking the acting user: a referral is
registered by the staff who do intake (`register_incoming_referral`), ends either with
the family it led to (`identification` hands it to intake, which takes it; or
`link_incoming_referral` for a family already in the bank) or «не подтвердилось»
(`decline_incoming_referral`); a raid is recorded after it was held (`record_raid`),
and each family it found starts its intake from it. Each change re-reads its row under
a row lock within the actor's row scope (the family's district, workflows/scope.py),
refuses in Russian what the rules forbid, and writes; the audit hook records it. The
caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Case,
    District,
    Family,
    IncomingReferral,
    Partner,
    PartnerContact,
    SocialRaid,
    Staff,
    User,
)
from models.channels import INCOMING_STATUS
from models.live import active_for_new_work, refuse_for_new_work
from models.people import IDENTIFIED_BY

from .cases import Identification, check_family_district, take_incoming_referral
from .errors import WorkflowError
from .scope import where_visible

REFERRAL_NOT_FOUND = "Направление партнёра не найдено."
RAID_NOT_FOUND = "Рейд не найден."
NO_STAFF_CARD = (
    "Ваша учётная запись не связана с карточкой сотрудника: записать, кто принял, нельзя."
)


def _text(value: str | None, field: str, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkflowError(missing, field)
    return value


def _past(value: dt.date | None, field: str, missing: str, today: dt.date) -> dt.date:
    if value is None:
        raise WorkflowError(missing, field)
    if value > today:
        raise WorkflowError("Дата не может быть в будущем.", field)
    return value


def _district(session: Session, actor: User, district_id: int | None) -> District:
    district = session.get(District, district_id) if district_id else None
    if district is None:
        raise WorkflowError("Выберите участок, где живёт семья.", "district")
    refuse_for_new_work(district, "district")
    check_family_district(session, actor, district)
    return district


def _partner_and_contact(
    session: Session, partner_id: int | None, contact_id: int | None
) -> tuple[Partner, PartnerContact | None]:
    partner = session.get(Partner, partner_id) if partner_id else None
    if partner is None:
        raise WorkflowError("Выберите организацию-партнёра.", "partner")
    refuse_for_new_work(partner, "partner")
    if not contact_id:
        return partner, None
    contact = session.get(PartnerContact, contact_id)
    if contact is None:
        raise WorkflowError("Выберите контактное лицо из списка.", "contact")
    refuse_for_new_work(contact, "contact")
    if contact.partner_id != partner.id:
        raise WorkflowError(
            f"{contact.full_name} — сотрудник другой организации, не «{partner.name}».", "contact"
        )
    return partner, contact


# --- incoming referrals ----------------------------------------------------------------


def register_incoming_referral(
    session: Session,
    actor: User,
    *,
    partner_id: int | None,
    contact_id: int | None,
    district_id: int | None,
    person_name: str | None,
    address: str | None,
    phone: str | None,
    referred_on: dt.date | None,
    received_on: dt.date | None,
    reason: str | None,
    today: dt.date,
) -> IncomingReferral:
    """A partner's referral of a family, as received: who, when, why, by whom (status
    «получено»). The district is where the family lives: the actor's own, for a worker."""
    if actor.staff_id is None:
        raise WorkflowError(NO_STAFF_CARD)
    partner, contact = _partner_and_contact(session, partner_id, contact_id)
    district = _district(session, actor, district_id)
    name = _text(person_name, "person_name", "Укажите, кого направили: фамилию, имя семьи.")
    referred = _past(referred_on, "referred_on", "Укажите дату направления.", today)
    received = _past(received_on, "received_on", "Укажите дату получения.", today)
    if received < referred:
        raise WorkflowError(
            "Направление не может быть получено раньше, чем отправлено.", "received_on"
        )
    referral = IncomingReferral(
        partner_id=partner.id,
        contact_id=contact.id if contact else None,
        district_id=district.id,
        person_name=name,
        address=(address or "").strip() or None,
        phone=(phone or "").strip() or None,
        referred_on=referred,
        received_on=received,
        reason=_text(reason, "reason", "Опишите, почему партнёр направил семью."),
        received_by_id=actor.staff_id,
        status="received",
    )
    session.add(referral)
    session.flush()
    return referral


def _locked_referral(session: Session, actor: User, referral_id: int | None) -> IncomingReferral:
    """The referral under a row lock, within the actor's scope, still waiting for intake."""
    referral = session.scalar(
        select(IncomingReferral)
        .where(IncomingReferral.id == referral_id, where_visible(IncomingReferral, actor))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if referral is None:
        raise WorkflowError(REFERRAL_NOT_FOUND, "referral")
    refuse_for_new_work(referral, "referral")
    if referral.status != "received":
        raise WorkflowError(
            f"{referral} уже рассмотрено: «{INCOMING_STATUS.label(referral.status)}».", "referral"
        )
    return referral


def decline_incoming_referral(
    session: Session,
    actor: User,
    referral_id: int,
    *,
    decided_on: dt.date | None,
    reason: str | None,
    today: dt.date,
) -> IncomingReferral:
    """The family was not found or the need not confirmed: «получено → не подтвердилось»,
    with the reason (the partner is told it)."""
    referral = _locked_referral(session, actor, referral_id)
    decided = _past(decided_on, "decided_on", "Укажите дату решения.", today)
    if decided < referral.received_on:
        raise WorkflowError(
            f"Решение — не раньше получения направления ({referral.received_on:%d.%m.%Y}).",
            "decided_on",
        )
    referral.decline_reason = _text(reason, "decline_reason", "Укажите, что не подтвердилось.")
    referral.decided_on = decided
    referral.status = "declined"
    session.flush()
    return referral


def link_incoming_referral(
    session: Session, actor: User, referral_id: int, family: Family, today: dt.date
) -> IncomingReferral:
    """A referral of a family already in the data bank (found by intake's search) is linked
    to it; how the family was identified the first time stays as it was."""
    referral = _locked_referral(session, actor, referral_id)
    refuse_for_new_work(family, "family")
    return take_incoming_referral(session, referral, family, today)


# --- social raids ------------------------------------------------------------------------


def _rows(
    session: Session, model: type[Staff] | type[PartnerContact], ids: Sequence[int], field: str
) -> list[Any]:
    rows: list[Any] = list(session.scalars(select(model).where(model.id.in_(ids)))) if ids else []
    if len(rows) != len(set(ids)):
        raise WorkflowError("Выберите участников из списка.", field)
    for row in rows:
        refuse_for_new_work(row, field)
    return rows


def record_raid(
    session: Session,
    actor: User,
    *,
    held_on: dt.date | None,
    district_id: int | None,
    area: str | None,
    notes: str | None,
    staff_ids: Sequence[int],
    contact_ids: Sequence[int],
    today: dt.date,
) -> SocialRaid:
    """A social raid as held: the date, the district and the streets, the team (the centre's
    staff and partners' people); the families it found are registered from its page."""
    held = _past(held_on, "held_on", "Укажите дату рейда.", today)
    district = _district(session, actor, district_id)
    team = _rows(session, Staff, staff_ids, "staff")
    if not team:
        raise WorkflowError("Укажите хотя бы одного сотрудника центра в составе рейда.", "staff")
    raid = SocialRaid(
        held_on=held,
        district_id=district.id,
        area=_text(area, "area", "Укажите территорию рейда: улицы, дома."),
        notes=(notes or "").strip() or None,
        recorded_by_id=actor.staff_id,
        staff=team,
        contacts=_rows(session, PartnerContact, contact_ids, "contacts"),
    )
    session.add(raid)
    session.flush()
    return raid


def visible_raid(session: Session, actor: User, raid_id: int | None) -> SocialRaid:
    raid = session.scalar(
        select(SocialRaid).where(SocialRaid.id == raid_id, where_visible(SocialRaid, actor))
    )
    if raid is None:
        raise WorkflowError(RAID_NOT_FOUND, "social_raid")
    return raid


# --- what intake records ----------------------------------------------------------------------


def identification(
    session: Session,
    actor: User,
    *,
    channel: str | None,
    partner_id: int | None = None,
    raid_id: int | None = None,
    referral_id: int | None = None,
) -> Identification:
    """How a family being registered was identified, checked: by an incoming referral (its
    partner; the referral is locked, and taken when the family is saved), found in a raid
    (one the actor may see), or the channel chosen with its partner."""
    if referral_id:
        referral = _locked_referral(session, actor, referral_id)
        return Identification("partner", partner=referral.partner, referral=referral)
    if raid_id or channel == "raid":
        if not raid_id:
            raise WorkflowError("Выберите рейд, в котором выявлена семья.", "social_raid")
        raid = visible_raid(session, actor, raid_id)
        refuse_for_new_work(raid, "social_raid")
        return Identification("raid", raid=raid)
    if channel not in IDENTIFIED_BY.codes:
        raise WorkflowError("Укажите, как выявлена семья.", "identified_by")
    if channel == "partner":
        if not partner_id:
            raise WorkflowError("Выберите партнёра, который направил семью.", "identified_partner")
        partner = session.get(Partner, partner_id)
        if partner is None:
            raise WorkflowError("Выберите партнёра из списка.", "identified_partner")
        refuse_for_new_work(partner, "identified_partner")
        return Identification("partner", partner=partner)
    return Identification(channel)


def waiting_referrals(session: Session, actor: User) -> list[IncomingReferral]:
    """The referrals the actor may see that wait for intake, oldest first."""
    query = (
        select(IncomingReferral)
        .where(
            IncomingReferral.status == "received",
            where_visible(IncomingReferral, actor),
            active_for_new_work(IncomingReferral),
        )
        .order_by(IncomingReferral.received_on, IncomingReferral.id)
    )
    return list(session.scalars(query))


def raid_families(session: Session, raid: SocialRaid) -> list[tuple[Family, Case | None]]:
    """The families a raid found, each with its newest case (if any)."""
    families = list(
        session.scalars(
            select(Family).where(Family.social_raid_id == raid.id).order_by(Family.surname)
        )
    )
    cases: dict[int, Case] = {}
    if families:
        for case in session.scalars(
            select(Case)
            .where(Case.family_id.in_([f.id for f in families]), Case.archived_at.is_(None))
            .order_by(Case.application_date)
        ):
            cases[case.family_id] = case
    return [(family, cases.get(family.id)) for family in families]
