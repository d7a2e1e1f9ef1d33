"""The terms and windows (models/terms.py): what a page says and offers is what the rule counts
and accepts."""

from __future__ import annotations

import datetime as dt
import re

import factories as f
from conftest import make_user, post_form, signed_in
from security_factories import flashes

from models import Loan, db
from models.terms import AGREEMENT_EXPIRY_WARNING_DAYS, LOAN_EXTENSION_DEFAULT_DAYS
from workflows import rental
from workflows.dates import centre_today


def _lent(app, term_days: int) -> tuple[int, dt.date]:
    """A loan of a unit of a type lent for `term_days`; (loan id, due date)."""
    with app.app_context():
        kind = f.equipment_type(loan_term_days=term_days, max_extensions=2)
        unit = f.equipment_unit(kind)
        family = f.family()
        child = f.person(family, "child")
        make_user("rental_clerk", "clerk")
        loan = rental.lend_unit(db.session, unit, child, None, centre_today())
        db.session.commit()
        return loan.id, loan.due_on


def _offered_extension(client, loan_id: int) -> dt.date:
    page = client.get(f"/rental_desk/loan/{loan_id}/").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="new_due_on"[^>]*>', page).group(0)
    return dt.date.fromisoformat(re.search(r'value="([^"]+)"', field).group(1))


def test_the_desk_offers_an_extension_the_workflow_accepts_for_a_short_term(app):
    """For a type lent for 14 days, does the loan page offer due + 14 (not + 30, which
    extend_loan refuses), and is the offered date accepted as it stands?"""
    loan_id, due = _lent(app, 14)
    client = signed_in(app, "clerk")
    offered = _offered_extension(client, loan_id)
    assert offered == due + dt.timedelta(days=14)
    url = f"/rental_desk/loan/{loan_id}/"
    response = post_form(
        client, f"{url}extend/", {"new_due_on": str(offered), "reason": "Болезнь"}, form_url=url
    )
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Loan, loan_id).due_on == offered


def test_the_desk_offers_the_default_extension_when_the_term_allows_it(app):
    """For a type lent for 90 days, does the loan page offer the default extension?"""
    loan_id, due = _lent(app, 90)
    offered = _offered_extension(signed_in(app, "clerk"), loan_id)
    assert offered == due + dt.timedelta(days=LOAN_EXTENSION_DEFAULT_DAYS)


def test_the_home_page_names_the_agreement_window_it_counts(app):
    """Does the home page's agreement figure name the window it counts, count an agreement
    ending on its last day but not one a day later, and link to a list of the same window?"""
    today = centre_today()
    last_day = today + dt.timedelta(days=AGREEMENT_EXPIRY_WARNING_DAYS)
    with app.app_context():
        f.partner_agreement(valid_from=today - dt.timedelta(days=300), valid_to=last_day)
        f.partner_agreement(
            valid_from=today - dt.timedelta(days=300), valid_to=last_day + dt.timedelta(days=1)
        )
        make_user("coordinator", "boss")
        db.session.commit()
    body = signed_in(app, "boss").get("/").get_data(as_text=True)
    label = f"Соглашения с партнёрами истекают в {AGREEMENT_EXPIRY_WARNING_DAYS} дней"
    card = re.search(
        r'opora-figure-value">(\d+)</div>\s*<div class="small">\s*<a href="([^"]*)">\s*'
        + re.escape(label),
        body,
    )
    assert card is not None, "the figure does not name its window"
    assert int(card.group(1)) == 1
    assert f"{today} to {last_day}" in card.group(2).replace("+", " ").replace("%20", " ")
