"""The outbox's pages: «Звонки на сегодня» (who sees which calls, one click per outcome,
the offer's days from the call), the templates the administrator edits (an unknown
placeholder refused by its field) and their preview; the family's channel on its form."""

from __future__ import annotations

import datetime as dt

import factories as f
from conftest import csrf_token, make_user, post_form, signed_in
from sqlalchemy import select

from models import Family, Message, MessageTemplate, Reservation, db
from models.terms import CALL_MAX_ATTEMPTS, OFFER_DAYS
from workflows import notify, rental
from workflows.dates import centre_today


def _offer_by_call(app, district_id=None):
    """A family of a district that chose calls, offered a unit today: its message waits
    in the call list. Returns (family id, reservation id, message id)."""
    with app.app_context():
        district = db.session.get(f.District, district_id) if district_id else f.district()
        fam = f.family(district, surname="Орловы", contact_channel="call", phone="+7 900 000-00-02")
        mother = f.person(fam, "mother", last_name="Орлова")
        child = f.person(fam, "child", last_name="Орлов")
        f.consent(fam, mother, notifications=True)
        kind = f.equipment_type(name="Ходунки детские")
        f.equipment_unit(kind)
        today = centre_today()
        place = rental.enqueue(db.session, child, kind, "2", today, None, today)
        db.session.commit()
        assert place.status == "offered"
        [message] = db.session.scalars(select(Message)).all()
        return fam.id, place.id, message.id, district.id


def test_the_clerk_calls_the_family_and_the_offer_counts_from_the_call(app):
    """Does the rental clerk see the call (family, phone, the text to read) and does one
    click «дозвонились» deliver the message and start the offer's days?"""
    _family_id, place_id, message_id, _district = _offer_by_call(app)
    with app.app_context():
        make_user("rental_clerk", "clerk")
    client = signed_in(app, "clerk")
    page = client.get("/calls/").get_data(as_text=True)
    assert "Звонки на сегодня" in page and "Орловы" in page and "+7 900 000-00-02" in page
    assert "Для вас зарезервировано: Ходунки детские" in page
    answer = post_form(client, f"/calls/{message_id}/", {"outcome": "reached"}, "/calls/")
    assert answer.status_code == 302
    after = client.get("/calls/").get_data(as_text=True)
    assert "дозвонились, сообщение доставлено" in after and "Звонить сегодня некому" in after
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert message.state == "sent" and message.provider_answer.startswith("звонок: дозвонились")
        assert message.called_by_id is not None
        place = db.session.get(Reservation, place_id)
        assert place.offer_expires_on == centre_today() + dt.timedelta(days=OFFER_DAYS)


def test_a_call_not_got_through_returns_tomorrow_and_is_given_up_at_last(app):
    """Does «не дозвонились» take the call off today's list until tomorrow, and is the
    message given up after CALL_MAX_ATTEMPTS such calls?"""
    _family_id, _place, message_id, district_id = _offer_by_call(app)
    with app.app_context():
        make_user("district_worker", "worker", districts=[district_id])
    client = signed_in(app, "worker")
    post_form(client, f"/calls/{message_id}/", {"outcome": "not_reached"}, "/calls/")
    assert "Звонить сегодня некому" in client.get("/calls/").get_data(as_text=True)
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert (message.state, message.attempts) == ("failed", 1)
        for _ in range(CALL_MAX_ATTEMPTS - 1):
            message.next_attempt_at = message.due_at  # the next day has come
            db.session.commit()
            # The token is read first: a form page in between would show the list.
            token = csrf_token(client, "/calls/")
            client.post(
                f"/calls/{message_id}/", data={"outcome": "not_reached", "csrf_token": token}
            )
            db.session.expire_all()
            message = db.session.get(Message, message_id)
        assert (message.state, message.attempts) == ("given_up", CALL_MAX_ATTEMPTS)


def test_calls_of_another_district_are_not_shown_nor_recorded(app):
    """Does a district worker of another district neither see the call nor record it?"""
    _family_id, _place, message_id, _district = _offer_by_call(app)
    with app.app_context():
        make_user("district_worker", "stranger", districts=[f.district().id])
    client = signed_in(app, "stranger")
    assert "Орловы" not in client.get("/calls/").get_data(as_text=True)
    post_form(client, f"/calls/{message_id}/", {"outcome": "reached"}, "/calls/")
    with app.app_context():
        assert db.session.get(Message, message_id).state == "pending"
    assert client.get("/calls/").status_code == 200


def test_only_the_clerk_and_the_district_worker_have_the_call_list(app):
    """Is the call list refused to a psychologist (the matrix)?"""
    with app.app_context():
        make_user("psychologist", "psy")
    assert signed_in(app, "psy").get("/calls/").status_code == 403


def test_templates_are_edited_by_the_admin_checked_and_previewed(app):
    """Does the preview show each message with sample values; is an unknown placeholder
    refused next to the field, and does a good edit change the next message?"""
    with app.app_context():
        notify.ensure_templates(db.session)
        db.session.commit()
        row_id = db.session.scalar(
            select(MessageTemplate.id).where(MessageTemplate.code == "offer")
        )
        make_user("admin", "boss")
    client = signed_in(app, "boss")
    preview = client.get("/message_preview/").get_data(as_text=True)
    assert "Для вас зарезервировано: Кресло-коляска детская, до 05.12." in preview
    url = f"/message_template/edit/?id={row_id}"
    form = client.get(url).get_data(as_text=True)
    assert "Тема письма" in form
    bad = post_form(
        client,
        url,
        {
            "subject": "Зарезервировано",
            "body": "Для {ребёнок}: {вид_ТСР} до {до}",
            "seen_version": "1",
        },
    ).get_data(as_text=True)
    assert "Неизвестная подстановка {ребёнок}" in bad
    good = post_form(
        client,
        url,
        {
            "subject": "Зарезервировано",
            "body": "Ждём вас до {до}: {вид_ТСР}. Пункт проката, тел. 8 (8162) 00-00-00.",
            "seen_version": "1",
        },
    )
    assert good.status_code == 302
    with app.app_context():
        template = notify.template_of(db.session, "offer")
        assert template.body.startswith("Ждём вас до {до}")


def test_the_family_form_asks_for_the_address_of_the_chosen_channel(app):
    """Is choosing SMS without a phone (or e-mail without an address) refused next to the
    channel, and a complete choice saved?"""
    with app.app_context():
        fam = f.family(surname="Орловы", phone=None)
        db.session.commit()
        family_id, version, district_id = fam.id, fam.version, fam.district_id
        make_user("coordinator", "coord")
    client = signed_in(app, "coord")
    url = f"/family/edit/?id={family_id}"
    base = {
        "surname": "Орловы",
        "district": str(district_id),
        "address": "Великий Новгород, ул. Ломоносова, д. 5, кв. 12",
        "identified_by": "self",
        "status": "registered",
        "seen_version": str(version),
    }
    refused = post_form(client, url, {**base, "contact_channel": "sms"}).get_data(as_text=True)
    assert "Для SMS-извещений укажите телефон семьи." in refused
    saved = post_form(
        client, url, {**base, "contact_channel": "email", "email": "orlovy@example.org"}
    )
    assert saved.status_code == 302
    with app.app_context():
        fam = db.session.get(Family, family_id)
        assert (fam.contact_channel, fam.email) == ("email", "orlovy@example.org")
