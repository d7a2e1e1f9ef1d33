"""The outbox: the messages each event makes (once), to whom and what they say; the
family's choice and consent; quiet hours; delivery over a real SMTP server and a fake
SMS provider, retries and giving up; the offer's days counted from the delivery; two
workers at once deliver each message once."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import factories as f
import pytest
from conftest import make_user
from outbox_servers import sms_server, smtp_server
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Family, Message, db
from models.base import utcnow
from models.constraints import constraint_refusal
from models.terms import (
    LOAN_DUE_NOTICE_DAYS,
    MESSAGE_MAX_ATTEMPTS,
    OFFER_DAYS,
    OFFER_DELIVERY_GRACE_DAYS,
    QUIET_UNTIL,
    RETRY_FIRST_MINUTES,
)
from workflows import calls, delivery, notify, reception, rental
from workflows.errors import WorkflowError
from workflows.schedule import run_tick

TODAY = dt.date(2026, 3, 10)
MOSCOW = ZoneInfo("Europe/Moscow")
# A moment in the centre's working day, and one a day later (everything due by then).
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=MOSCOW).astimezone(dt.UTC)
LATER = utcnow() + dt.timedelta(days=2)


def reachable_family(channel="sms", surname="Орловы", **kw):
    """A family with a child, the chosen channel, a phone and an e-mail, and a consent
    that includes notifications."""
    fam = f.family(
        surname=surname,
        contact_channel=channel,
        phone="+7 900 000-00-01",
        email="orlovy@example.org",
        **kw,
    )
    mother = f.person(fam, "mother", last_name=surname[:-1] + "а")
    child = f.person(fam, "child", last_name=surname[:-1], first_name="Дмитрий")
    f.consent(fam, mother, notifications=True)
    return fam, child


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored moment as UTC (SQLite gives it back without its zone)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def messages() -> list[Message]:
    return list(db.session.scalars(select(Message).order_by(Message.id)))


@pytest.fixture
def offer_ready(app_ctx):
    """A wheelchair type, one unit on loan to another family, and a clerk."""
    kind = f.equipment_type(name="Кресло-коляска комнатная", loan_term_days=30)
    unit = f.equipment_unit(kind, inventory_number="КК-001")
    clerk = f.user("rental_clerk")
    other = f.family(surname="Зайцевы")
    other_child = f.person(other, "child", last_name="Зайцев")
    loan = rental.lend_unit(db.session, unit, other_child, clerk, TODAY)
    db.session.commit()
    return {"kind": kind, "unit": unit, "clerk": clerk, "loan": loan}


def make_offer(ready, child, day=TODAY):
    """Queue `child`, return the unit and release it: the offer goes to `child`'s family."""
    place = rental.enqueue(db.session, child, ready["kind"], "2", day, ready["clerk"], day)
    rental.return_loan(db.session, ready["loan"], day, "good", None, False, ready["clerk"], day)
    rental.release_unit(db.session, ready["unit"], "дезинфекция", day, ready["clerk"], day)
    db.session.commit()
    assert place.status == "offered"
    return place


# --- what each event makes ----------------------------------------------------------------


def test_an_offer_makes_one_message_with_only_what_the_family_needs(offer_ready):
    """Does the offer put one SMS in the outbox, in the offer's transaction, naming the
    equipment and its last day — and nothing of the child, the family or its health?"""
    fam, child = reachable_family("sms")
    db.session.commit()
    place = make_offer(offer_ready, child)
    [message] = messages()
    assert (message.family_id, message.channel, message.address) == (
        fam.id,
        "sms",
        "+7 900 000-00-01",
    )
    assert (message.event_kind, message.state, message.attempts) == ("offer", "pending", 0)
    expires = place.offer_expires_on
    assert message.body == (
        f"Для вас зарезервировано: Кресло-коляска комнатная, до {expires:%d.%m}. "
        "Приходите в пункт проката КЦСОН."
    )
    for personal in ("Дмитрий", "Орлов", "инвалид", "ребён"):
        assert personal not in message.body


def test_notify_is_idempotent_and_the_database_holds_it(offer_ready):
    """Does a second notify() for the same event and family return the first message,
    and does the database refuse a second row when the check is bypassed?"""
    fam, child = reachable_family("email")
    db.session.commit()
    make_offer(offer_ready, child)
    [first] = messages()
    about = notify.About(first.event_kind, first.event_id, first.event_on)
    again = notify.notify(db.session, about, fam, {"вид_ТСР": "x", "до": "y"}, TODAY)
    assert again is not None and again.id == first.id
    assert len(messages()) == 1
    twin = Message(
        **{
            c: getattr(first, c)
            for c in ("family_id", "channel", "address", "template_code", "event_kind")
        },
        event_id=first.event_id,
        event_on=first.event_on,
        subject="s",
        body="b",
        due_at=first.due_at,
        next_attempt_at=first.due_at,
        state="pending",
        attempts=0,
    )
    db.session.add(twin)
    with pytest.raises(IntegrityError) as refused:
        db.session.flush()
    db.session.rollback()
    assert constraint_refusal(refused.value).message == (
        "Сообщение об этом событии этому адресату уже есть в очереди."
    )


@pytest.mark.parametrize(
    "setup",
    ["no_channel", "no_consent", "consent_without_notifications", "no_phone", "withdrawn"],
)
def test_no_message_without_a_channel_an_address_and_consent(offer_ready, setup):
    """Is no message made for a family that chose no channel, has no phone for SMS, or
    has no (active) consent to notifications — while the offer itself is made?"""
    fam = f.family(
        surname="Орловы",
        contact_channel="none" if setup == "no_channel" else "sms",
        phone=None if setup == "no_phone" else "+7 900 000-00-01",
    )
    mother = f.person(fam, "mother")
    child = f.person(fam, "child")
    if setup != "no_consent":
        f.consent(
            fam,
            mother,
            notifications=setup != "consent_without_notifications",
            withdrawn_on=dt.date(2026, 1, 1) if setup == "withdrawn" else None,
        )
    db.session.commit()
    place = make_offer(offer_ready, child)
    assert place.status == "offered"
    assert messages() == []


def test_an_appointment_booked_and_its_eve(app_ctx):
    """Does booking a family for a reception make one message with the day and hour (not
    the purpose), and the tick the eve's reminder once?"""
    fam, _child = reachable_family("email")
    specialist = f.staff("psychologist")
    clerk = f.user("coordinator")
    starts = dt.datetime(2026, 3, 12, 10, 30)
    appointment = reception.book_appointment(
        db.session,
        clerk,
        specialist=specialist,
        starts_at=starts,
        channel="phone",
        purpose="Консультация психолога по поводу тревожности",
        family=fam,
        today=TODAY,
    )
    db.session.commit()
    [booked] = messages()
    assert booked.body == "Вы записаны на приём в КЦСОН 12.03 в 10:30."
    assert booked.subject == "Вы записаны на приём" and booked.address == "orlovy@example.org"
    assert "психолог" not in booked.body
    eve = dt.date(2026, 3, 11)
    assert notify.remind_appointments_eve(db.session, TODAY) == 0  # two days ahead: not yet
    assert notify.remind_appointments_eve(db.session, eve) == 1
    assert notify.remind_appointments_eve(db.session, eve) == 0
    db.session.commit()
    reminder = messages()[-1]
    assert (reminder.event_kind, reminder.event_id) == ("appointment_eve", appointment.id)
    assert reminder.body == "Напоминаем: завтра, 12.03, в 10:30 вас ждут на приём в КЦСОН."


def test_a_loan_due_soon_and_overdue_once_per_due_date(offer_ready):
    """Does the tick remind a family LOAN_DUE_NOTICE_DAYS before the due date, tell it once
    when the date has passed, and remind again after an extension moves the date?"""
    fam, child = reachable_family("sms")
    unit = f.equipment_unit(offer_ready["kind"])
    loan = rental.lend_unit(
        db.session, unit, child, offer_ready["clerk"], TODAY, due_on=TODAY + dt.timedelta(days=10)
    )
    db.session.commit()
    before = loan.due_on - dt.timedelta(days=LOAN_DUE_NOTICE_DAYS + 1)
    assert notify.remind_loans_due(db.session, before) == 0
    notice_day = loan.due_on - dt.timedelta(days=LOAN_DUE_NOTICE_DAYS)
    assert (
        dict(run_tick(db.session, notice_day))["Напоминания семьям о скором сроке возврата ТСР"]
        == 1
    )
    assert (
        dict(run_tick(db.session, notice_day))["Напоминания семьям о скором сроке возврата ТСР"]
        == 0
    )
    [due] = [m for m in messages() if m.family_id == fam.id]
    assert due.body.startswith(f"{loan.due_on:%d.%m} — срок возврата ТСР (Кресло-коляска")
    day_after = loan.due_on + dt.timedelta(days=1)
    assert notify.remind_overdue_loans(db.session, day_after) == 1
    assert notify.remind_overdue_loans(db.session, day_after) == 0
    rental.extend_loan(
        db.session,
        loan,
        loan.due_on + dt.timedelta(days=20),
        "Ждём своё кресло",
        offer_ready["clerk"],
        day_after,
    )
    db.session.commit()
    new_notice = loan.due_on - dt.timedelta(days=1)
    assert notify.remind_loans_due(db.session, new_notice) == 1
    kinds = [m.event_kind for m in messages() if m.family_id == fam.id]
    assert kinds == ["loan_due", "loan_overdue", "loan_due"]


def test_quiet_hours_hold_an_sms_until_the_morning(app_ctx):
    """Is an SMS made at 22:30 (the centre's time) due at QUIET_UNTIL next morning, one
    made at 07:00 at QUIET_UNTIL that day, one at noon at once?"""
    late = dt.datetime(2026, 3, 10, 22, 30, tzinfo=MOSCOW)
    early = dt.datetime(2026, 3, 10, 7, 0, tzinfo=MOSCOW)
    assert notify.out_of_quiet_hours(late) == dt.datetime(
        2026, 3, 11, QUIET_UNTIL, 0, tzinfo=MOSCOW
    )
    assert notify.out_of_quiet_hours(early) == dt.datetime(
        2026, 3, 10, QUIET_UNTIL, 0, tzinfo=MOSCOW
    )
    assert notify.out_of_quiet_hours(NOON) == NOON


def test_a_withdrawn_or_taken_offer_is_not_sent(offer_ready):
    """Is the message of an offer the family declined (or came for) before it was sent
    stopped, not sent?"""
    _fam, child = reachable_family("sms")
    db.session.commit()
    place = make_offer(offer_ready, child)
    rental.cancel_reservation(db.session, place, "Купили своё", offer_ready["clerk"], TODAY)
    db.session.commit()
    [message] = messages()
    assert message.state == "given_up" and "предложение снято" in message.provider_answer


# --- delivery ---------------------------------------------------------------------------------


def test_email_is_delivered_to_a_real_smtp_server(offer_ready):
    """Does the worker hand the message to a real SMTP server (subject, address, Russian
    text intact), mark it sent with the server's answer, and never send it again?"""
    _fam, child = reachable_family("email")
    db.session.commit()
    make_offer(offer_ready, child)
    with smtp_server() as server:
        senders = delivery.senders_from(
            {"OPORA_SMTP_HOST": "127.0.0.1", "OPORA_SMTP_PORT": server.port,
             "OPORA_SMTP_FROM": "prokat@kcson.example"}
        )  # fmt: skip
        tally = delivery.deliver(db.session, senders, now=LATER)
        again = delivery.deliver(db.session, delivery.senders_from(
            {"OPORA_SMTP_HOST": "127.0.0.1", "OPORA_SMTP_PORT": server.port}), now=LATER)  # fmt: skip
    assert (tally.sent, tally.failed, again.sent) == (1, 0, 0)
    [mail] = server.received
    assert mail["To"] == "orlovy@example.org" and mail["From"] == "prokat@kcson.example"
    assert mail["Subject"] == "Для вас зарезервировано ТСР"
    assert "Кресло-коляска комнатная" in mail.get_content()
    [message] = messages()
    assert message.state == "sent" and message.sent_at is not None
    assert message.provider_answer.startswith("SMTP: принято")


def test_sms_through_the_http_provider_with_retries_and_giving_up(offer_ready):
    """Does the SMS go to the provider as JSON with the token and the message's id as an
    idempotency key; is a refusal retried after a doubling wait and given up after
    MESSAGE_MAX_ATTEMPTS, with the provider's answer kept?"""
    _fam, child = reachable_family("sms")
    db.session.commit()
    make_offer(offer_ready, child)
    [message] = messages()
    with sms_server() as fake:
        senders = delivery.senders_from(
            {"OPORA_SMS_URL": fake.url, "OPORA_SMS_TOKEN": "secret-token"}
        )
        fake.status = 503
        moment = LATER
        delivery.deliver(db.session, senders, now=moment)
        db.session.refresh(message)
        assert (message.state, message.attempts) == ("failed", 1)
        assert aware(message.next_attempt_at) == moment + dt.timedelta(minutes=RETRY_FIRST_MINUTES)
        assert "503" in message.provider_answer
        # Not due yet: nothing is sent before the back-off has passed.
        assert delivery.deliver(db.session, senders, now=moment).failed == 0
        for attempt in range(2, MESSAGE_MAX_ATTEMPTS + 1):
            moment = aware(message.next_attempt_at)
            delivery.deliver(db.session, senders, now=moment)
            db.session.refresh(message)
            assert message.attempts == attempt
            if attempt < MESSAGE_MAX_ATTEMPTS:
                wait = RETRY_FIRST_MINUTES * 2 ** (attempt - 1)
                assert aware(message.next_attempt_at) == moment + dt.timedelta(minutes=wait)
        assert message.state == "given_up" and message.next_attempt_at is None
        assert len(fake.requests) == MESSAGE_MAX_ATTEMPTS
        assert delivery.deliver(db.session, senders, now=moment + dt.timedelta(days=9)).sent == 0
    first = fake.requests[0]
    assert first["authorised"] and first["to"] == "+7 900 000-00-01"
    assert first["id"] == str(message.id) and first["key"] == f"opora-message-{message.id}"
    assert "Кресло-коляска" in first["text"]


def test_sms_delivered_when_the_provider_takes_it(offer_ready):
    """Is a message the provider takes marked sent, and is an unreachable provider a
    failure to retry (the workflow that made the message long committed)?"""
    _fam, child = reachable_family("sms")
    db.session.commit()
    make_offer(offer_ready, child)
    [message] = messages()
    down = delivery.senders_from({"OPORA_SMS_URL": "http://127.0.0.1:9/nowhere"})
    assert delivery.deliver(db.session, down, now=LATER).failed == 1
    db.session.refresh(message)
    with sms_server() as fake:
        senders = delivery.senders_from(
            {"OPORA_SMS_URL": fake.url, "OPORA_SMS_TOKEN": "secret-token"}
        )
        assert delivery.deliver(db.session, senders, now=LATER + dt.timedelta(hours=1)).sent == 1
    db.session.refresh(message)
    assert (message.state, message.attempts) == ("sent", 1)
    assert message.provider_answer.startswith("SMS: 200")


def test_a_batch_delivers_what_is_due_and_retries_what_failed(app_ctx):
    """Does a worker taking ten messages a transaction send the due ones, retry the one the
    provider refused and leave the one not yet due?"""
    fam, _child = reachable_family("email")
    for n in range(12):
        due = LATER + dt.timedelta(days=1) if n == 11 else NOON
        f.message(
            fam, channel="email", address=f"x{n}@example.org", due_at=due, next_attempt_at=due
        )
    db.session.commit()

    class RefusesOne(Counting):
        def send(self, message):
            if message.address == "x3@example.org":
                raise delivery.DeliveryError("SMTP: 550 нет такого ящика")
            return super().send(message)

    sender = RefusesOne()
    tally = delivery.deliver(db.session, {"email": sender}, now=LATER, batch=10)
    assert (tally.sent, tally.failed) == (10, 1)
    states = [m.state for m in messages()]
    assert states.count("sent") == 10 and states[3] == "failed" and states[11] == "pending"


def test_a_reminder_of_a_day_past_is_neither_sent_nor_called_and_the_tick_gives_it_up(app_ctx):
    """Is a message about an appointment (or a due date) whose day has passed left unsent
    by the worker and off the call list — while an overdue notice, past by design, still
    goes — and does the tick give it up with the reason?"""
    fam, _child = reachable_family("email")
    now = utcnow()
    today = now.astimezone(MOSCOW).date()
    past = today - dt.timedelta(days=1)
    stale = f.message(fam, channel="email", event_kind="appointment", event_on=past)
    stale_call = f.message(fam, channel="call", event_kind="appointment_eve", event_on=past)
    overdue = f.message(fam, channel="email", event_kind="loan_overdue", event_on=past)
    ahead = f.message(fam, channel="email", event_kind="loan_due", event_on=today)
    coordinator = make_user("coordinator")
    db.session.commit()
    sender = Counting()
    assert delivery.deliver(db.session, {"email": sender}, now=now).sent == 2
    assert sorted(sender.sent) == sorted([overdue.id, ahead.id])
    assert calls.calls_today(db.session, coordinator, ("call",), now) == []
    assert notify.give_up_past_events(db.session, today) == 2
    db.session.commit()
    for row in (stale, stale_call):
        db.session.refresh(row)
        assert (row.state, row.provider_answer) == ("given_up", notify.PAST_EVENT)


def test_the_rental_clerk_calls_only_about_the_rental_points_events(offer_ready):
    """Does the rental clerk's call list hold only the rental point's calls (an offer) and
    not an appointment, while the family's district worker and the coordinator see both —
    and is the appointment's call refused to the clerk?"""
    fam = offer_ready["loan"].family  # a family the rental point serves
    today = utcnow().astimezone(MOSCOW).date()
    offer = f.message(fam, channel="call", event_kind="offer", event_on=today)
    visit = f.message(fam, channel="call", event_kind="appointment", event_on=today)
    clerk = offer_ready["clerk"]
    worker = make_user("district_worker", "worker", districts=[fam.district_id])
    coordinator = make_user("coordinator", "coord")
    db.session.commit()

    def listed(user):
        return {call.id for call in calls.calls_today(db.session, user, ("call",))}

    assert listed(clerk) == {offer.id}
    assert listed(worker) == {offer.id, visit.id}
    assert listed(coordinator) == {offer.id, visit.id}
    with pytest.raises(WorkflowError, match="Этого звонка уже нет в списке"):
        calls.record_call(db.session, clerk, visit.id, "reached", ("call",))


def test_a_channel_without_a_provider_is_left_for_the_call_list(offer_ready):
    """Does the worker leave an SMS alone when no SMS provider is configured (it waits in
    the call list)?"""
    _fam, child = reachable_family("sms")
    db.session.commit()
    make_offer(offer_ready, child)
    with smtp_server() as server:
        senders = delivery.senders_from(
            {"OPORA_SMTP_HOST": "127.0.0.1", "OPORA_SMTP_PORT": server.port}
        )
        assert delivery.deliver(db.session, senders, now=LATER).sent == 0
    assert delivery.call_list_channels(senders) == ("call", "sms")
    assert messages()[0].state == "pending"


# --- the offer's days count from the delivery ----------------------------------------------


def test_the_offer_holds_from_the_delivery_not_from_the_release(offer_ready):
    """Does an offer whose message is still undelivered stay past its days from the
    release, and count OFFER_DAYS from the day the message was delivered?"""
    _fam, child = reachable_family("sms")
    db.session.commit()
    place = make_offer(offer_ready, child)
    assert place.offer_expires_on == TODAY + dt.timedelta(days=OFFER_DAYS)
    past = TODAY + dt.timedelta(days=OFFER_DAYS + 1)
    assert rental.expire_offers(db.session, past) == 0  # the family has not been told yet
    db.session.commit()
    delivered_on = TODAY + dt.timedelta(days=2)
    with sms_server() as fake:
        senders = delivery.senders_from(
            {"OPORA_SMS_URL": fake.url, "OPORA_SMS_TOKEN": "secret-token"}
        )
        moment = dt.datetime.combine(delivered_on, dt.time(12), tzinfo=dt.UTC)
        assert delivery.deliver(db.session, senders, now=moment).sent == 1
    db.session.refresh(place)
    assert place.offer_expires_on == delivered_on + dt.timedelta(days=OFFER_DAYS)
    last_day = place.offer_expires_on
    assert rental.expire_offers(db.session, last_day) == 0
    assert rental.expire_offers(db.session, last_day + dt.timedelta(days=1)) == 1
    db.session.commit()
    assert place.status == "cancelled"


def test_an_offer_nobody_could_be_told_of_passes_on_after_the_grace(offer_ready):
    """Does an offer whose message never gets through pass to the next family
    OFFER_DELIVERY_GRACE_DAYS after its days, its message stopped?"""
    _fam, child = reachable_family("sms")
    db.session.commit()
    place = make_offer(offer_ready, child)
    last = place.offer_expires_on
    assert (
        rental.expire_offers(db.session, last + dt.timedelta(days=OFFER_DELIVERY_GRACE_DAYS)) == 0
    )
    assert (
        rental.expire_offers(db.session, last + dt.timedelta(days=OFFER_DELIVERY_GRACE_DAYS + 1))
        == 1
    )
    db.session.commit()
    assert messages()[0].state == "given_up"


def test_an_offer_to_a_family_without_messages_counts_from_the_release(offer_ready):
    """Does an offer to a family that receives no messages hold OFFER_DAYS from the release,
    as before?"""
    fam = f.family(surname="Орловы")
    child = f.person(fam, "child")
    db.session.commit()
    make_offer(offer_ready, child)
    assert rental.expire_offers(db.session, TODAY + dt.timedelta(days=OFFER_DAYS + 1)) == 1


# --- two workers at once ------------------------------------------------------------------------


class Counting:
    """A sender that counts what it is given, slowly enough for two workers to overlap."""

    def __init__(self):
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def send(self, message):
        with self.lock:
            self.sent.append(message.id)
        threading.Event().wait(0.002)
        return "ok"

    def close(self):
        pass


@pytest.mark.parametrize("batch", [1, 10])
def test_two_workers_at_once_deliver_each_message_once(app, batch):
    """Do two workers on two connections, started together, deliver every message exactly
    once between them (FOR UPDATE SKIP LOCKED), one message or ten a transaction?"""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("two concurrent workers need PostgreSQL (SQLite: one server)")
        fam, _child = reachable_family("email")
        for n in range(200):
            db.session.add(
                Message(
                    family_id=fam.id, channel="email", address="a@example.org",
                    template_code="loan_due", event_kind="loan_due", event_id=n + 1,
                    event_on=LATER.date(), subject="s", body="b", due_at=NOON, next_attempt_at=NOON,
                    state="pending", attempts=0,
                )
            )  # fmt: skip
        db.session.commit()
        sender = Counting()
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker():
            try:
                with app.app_context(), Session(db.engine) as session:
                    start.wait()
                    delivery.deliver(session, {"email": sender}, now=LATER, batch=batch)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors
        assert len(sender.sent) == 200 and len(set(sender.sent)) == 200
        sent = db.session.scalar(select(func.count()).where(Message.state == "sent"))
        assert sent == 200


def test_the_command_and_the_tick_deliver_with_the_configured_provider(app, runner):
    """Does `flask notify deliver` send the due e-mail through the SMTP server of the
    configuration, and does the tick deliver too (and say so)?"""
    with app.app_context():
        fam, _child = reachable_family("email")
        f.message(fam, channel="email", address="a@example.org")
        db.session.commit()
        family_id = fam.id
    saved = {k: app.config.get(k) for k in ("OPORA_SMTP_HOST", "OPORA_SMTP_PORT")}
    try:
        with smtp_server() as server:
            app.config.update(OPORA_SMTP_HOST="127.0.0.1", OPORA_SMTP_PORT=server.port)
            result = runner.invoke(args=["notify", "deliver", "--batch", "5"])
            assert result.exit_code == 0, result.output
            assert "Доставлено сообщений: 1" in result.output
            with app.app_context():
                family = db.session.get(Family, family_id)
                f.message(family, channel="email", address="b@example.org")
                db.session.commit()
            tick = runner.invoke(args=["tick"])
            assert tick.exit_code == 0, tick.output
            assert "Доставлено сообщений: 1" in tick.output
        assert sorted(m["To"] for m in server.received) == ["a@example.org", "b@example.org"]
    finally:
        app.config.update(saved)
