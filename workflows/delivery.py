"""The outbox's worker: send what is due, mark it sent or failed, retry, give up.

`deliver(session, senders, now)` takes one due message at a time — the oldest due
first, locked with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers (the
tick on each server, a Procfile process) never take the same message — sends it,
records the outcome and commits before the next: a message marked sent is never
sent again, and a crash loses at most the one message in hand (sent, not yet
marked: the provider's idempotency key — the message's id — lets it drop the
repeat). On SQLite (one server) the same query runs without the lock.

A failure is retried after RETRY_FIRST_MINUTES, twice as long each time, and given
up after MESSAGE_MAX_ATTEMPTS. A channel with no provider configured is not the
worker's: its messages wait in the call list (workflows/calls.py), the default
where nothing is configured.

Senders: e-mail over SMTP (smtplib, one connection kept for the run) and SMS through
`HttpSms`, a POST of JSON to one configurable address with a token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Message
from models.base import utcnow
from models.notify import still_timely
from models.terms import MESSAGE_MAX_ATTEMPTS, RETRY_FIRST_MINUTES

from .dates import centre_zone
from .rental import offer_delivered

TIMEOUT = 15.0  # seconds a provider may take to answer
ANSWER_LENGTH = 500  # of a provider's answer kept on the message


class DeliveryError(Exception):
    """The provider did not take the message; the text says why (kept on the message)."""


class Sender(Protocol):
    def send(self, message: Message) -> str:
        """Hand the message to the provider; its answer, or DeliveryError."""
        ...

    def close(self) -> None: ...


@dataclass
class Smtp:
    """E-mail over SMTP: STARTTLS when the server offers it, a login when one is given."""

    host: str
    port: int = 25
    sender: str = "opora@localhost"
    user: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT
    _connection: smtplib.SMTP | None = field(default=None, init=False, repr=False)

    def _connect(self) -> smtplib.SMTP:
        if self._connection is None:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            connection.ehlo()
            if connection.has_extn("starttls"):
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if self.user:
                connection.login(self.user, self.password or "")
            self._connection = connection
        return self._connection

    def send(self, message: Message) -> str:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        # One id per message: a receiver drops a repeat after a crash between send and mark.
        mail["Message-ID"] = make_msgid(idstring=f"opora-message-{message.id}")
        mail.set_content(message.body)
        try:
            refused = self._connect().send_message(mail)
        except (smtplib.SMTPException, OSError) as error:
            self.close()  # the next message starts on a new connection
            raise DeliveryError(f"SMTP: {error}") from error
        if refused:
            raise DeliveryError(f"SMTP: адрес отклонён: {refused}")
        return f"SMTP: принято ({mail['Message-ID']})"

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.quit()
            self._connection = None


@dataclass
class HttpSms:
    """SMS through a simple HTTP provider: POST {"to", "text", "id"} as JSON to `url`
    with `Authorization: Bearer <token>`; any 2xx is taken, the body kept as the answer."""

    url: str
    token: str = ""
    timeout: float = TIMEOUT

    def send(self, message: Message) -> str:
        payload = json.dumps(
            {"to": message.address, "text": message.body, "id": str(message.id)}
        ).encode()
        request = urllib.request.Request(
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": f"opora-message-{message.id}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                body = answer.read(ANSWER_LENGTH).decode("utf-8", "replace")
                return f"SMS: {answer.status} {body}".strip()
        except urllib.error.HTTPError as error:
            body = error.read(ANSWER_LENGTH).decode("utf-8", "replace")
            raise DeliveryError(f"SMS: {error.code} {body}".strip()) from error
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryError(f"SMS: {error}") from error

    def close(self) -> None:
        pass


def senders_from(config: Mapping[str, Any]) -> dict[str, Sender]:
    """The providers configured (OPORA_SMTP_*, OPORA_SMS_*): channel → sender. A channel
    left out goes to the call list."""
    senders: dict[str, Sender] = {}
    if config.get("OPORA_SMTP_HOST"):
        senders["email"] = Smtp(
            host=config["OPORA_SMTP_HOST"],
            port=int(config.get("OPORA_SMTP_PORT") or 25),
            sender=config.get("OPORA_SMTP_FROM") or "opora@localhost",
            user=config.get("OPORA_SMTP_USER") or None,
            password=config.get("OPORA_SMTP_PASSWORD") or None,
        )
    if config.get("OPORA_SMS_URL"):
        senders["sms"] = HttpSms(
            url=config["OPORA_SMS_URL"], token=config.get("OPORA_SMS_TOKEN") or ""
        )
    return senders


def call_list_channels(senders: Mapping[str, Sender]) -> tuple[str, ...]:
    """The channels whose messages are telephoned by staff: calls, and any channel
    without a provider."""
    return ("call", *(c for c in ("email", "sms") if c not in senders))


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failure: RETRY_FIRST_MINUTES, doubling."""
    return dt.timedelta(minutes=RETRY_FIRST_MINUTES * 2 ** (attempts - 1))


def mark_delivered(session: Session, message: Message, answer: str, now: dt.datetime) -> None:
    """The message reached the family: sent, and what waits for it (an offer's days) starts."""
    message.state = "sent"
    message.sent_at = now
    message.next_attempt_at = None
    message.provider_answer = answer[:ANSWER_LENGTH]
    if message.event_kind == "offer":
        offer_delivered(session, message.event_id, now.date())


def mark_failed(
    session: Session,
    message: Message,
    answer: str,
    now: dt.datetime,
    max_attempts: int = MESSAGE_MAX_ATTEMPTS,
    retry_at: dt.datetime | None = None,
) -> None:
    """One more failed attempt: retried after the back-off, or given up after the last."""
    message.attempts += 1
    message.provider_answer = answer[:ANSWER_LENGTH]
    if message.attempts >= max_attempts:
        message.state = "given_up"
        message.next_attempt_at = None
    else:
        message.state = "failed"
        message.next_attempt_at = retry_at or now + retry_delay(message.attempts)


@dataclass
class Tally:
    sent: int = 0
    failed: int = 0
    given_up: int = 0

    def __str__(self) -> str:
        return (
            f"Доставлено сообщений: {self.sent}, не удалось (будет повтор): {self.failed}, "
            f"не доставлено (попытки исчерпаны): {self.given_up}"
        )


def _next_due(
    session: Session, channels: tuple[str, ...], now: dt.datetime, batch: int
) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.state.in_(("pending", "failed")),
                Message.channel.in_(channels),
                Message.next_attempt_at <= now,
                still_timely(now.astimezone(centre_zone()).date()),
            )
            .order_by(Message.next_attempt_at, Message.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )


def deliver(
    session: Session,
    senders: Mapping[str, Sender],
    now: dt.datetime | None = None,
    limit: int | None = None,
    batch: int = 1,
) -> Tally:
    """Send every message due by `now` (at most `limit`) through its channel's sender.
    Returns the counts.

    `batch` messages are taken, sent and marked in one transaction. With 1 (the
    default) a message is committed as sent before the next is sent; with more, a
    crash in the middle of a batch sends again the ones of it already sent (each
    carries its id for the provider to drop a repeat), for fewer commits.
    """
    tally = Tally()
    channels = tuple(senders)
    if not channels:
        return tally
    done = 0
    try:
        while limit is None or done < limit:
            moment = now or utcnow()
            size = batch if limit is None else min(batch, limit - done)
            messages = _next_due(session, channels, moment, size)
            if not messages:
                session.rollback()
                break
            for message in messages:
                try:
                    answer = senders[message.channel].send(message)
                except DeliveryError as error:
                    mark_failed(session, message, str(error), moment)
                    if message.state == "given_up":
                        tally.given_up += 1
                    else:
                        tally.failed += 1
                else:
                    mark_delivered(session, message, answer, moment)
                    tally.sent += 1
            session.commit()
            done += len(messages)
    except Exception:
        session.rollback()
        raise
    finally:
        for sender in senders.values():
            sender.close()
    return tally
