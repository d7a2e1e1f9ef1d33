"""«Звонки на сегодня»: the messages staff deliver by telephone, one click per outcome.

The list and every change come from workflows/calls.py; which channels are the call
list's depends on the providers configured (workflows/delivery.py).
"""

from __future__ import annotations

from flask import current_app, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from models import db
from models.notify import CALL_OUTCOME
from workflows import calls
from workflows.dates import centre_today
from workflows.delivery import call_list_channels, senders_from

from .forms import parse_id
from .pages import PageView

DONE = {
    "reached": "Записано: дозвонились, сообщение доставлено.",
    "refused": "Записано: семья отказалась; сообщение считается доставленным.",
    "not_reached": "Записано: не дозвонились. Звонок вернётся в список завтра.",
}


def _channels() -> tuple[str, ...]:
    return call_list_channels(senders_from(current_app.config))


class CallsView(PageView):
    """Today's calls of the families the user may see."""

    @expose("/")
    def index(self):
        return self.render(
            "admin/workflow/calls.html",
            calls=calls.calls_today(db.session, current_user, _channels()),
            outcomes=CALL_OUTCOME.pairs(),
            today=centre_today(),
            may_edit=self.may("edit"),
        )

    @expose("/<int:message_id>/", methods=("POST",))
    def record(self, message_id: int):
        self.require("edit")
        outcome = request.form.get("outcome", "")
        result = self.run(
            lambda: calls.record_call(
                db.session, current_user, parse_id(str(message_id)) or 0, outcome, _channels()
            )
        )
        self.tell(result, DONE.get(outcome, ""))
        return redirect(url_for(".index"))
