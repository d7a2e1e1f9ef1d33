"""«Поиск»: the navbar's one box — families, persons, cases, equipment and partner
agreements by any surname form, SNILS, address, a contract, case or inventory number.

The read model is workflows.search.search (one query per kind, within the row scope);
this page shows each kind the role's screens list, with links to the rows' pages.
`/search/?q=` is the results page (works without script); `/search/api?q=` answers the
box's few lines of static/opora.js as the user types.
"""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_admin import expose
from flask_login import current_user

from models import db
from models.declension import plural
from workflows import search as wf

from .forms import without_control_characters
from .pages import PageView
from .permissions import allowed

TITLES = {
    "family": "Семьи",
    "person": "Люди",
    "case": "Случаи сопровождения",
    "equipment_unit": "Единицы ТСР",
    "partner_agreement": "Соглашения с партнёрами",
}


def hint(short: bool = False) -> str:
    """What the box finds, in words; SNILS only for a role that may search by it."""
    snils = current_user.is_authenticated and wf.sees_snils(current_user)
    if short:
        return "Фамилия, СНИЛС, адрес, №…" if snils else "Фамилия, адрес, №…"
    return (
        "Фамилия в любой форме, "
        + ("СНИЛС, " if snils else "")
        + "адрес, номер договора, случая или инвентарный номер"
    )


class SearchView(PageView):
    """Open to every signed-in role; each kind only to a role that may list it."""

    menu_visible = False

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def kinds(self) -> tuple[str, ...]:
        role = current_user.role
        return tuple(kind for kind in wf.KINDS if allowed(role, kind, "list"))

    def link(self, kind: str, row_id: int) -> str | None:
        if not allowed(current_user.role, kind, "details"):
            return None
        return url_for(f"{kind}.details_view", id=row_id)

    def _found(self) -> wf.Found:
        text = without_control_characters(request.args.get("q"))[: wf.MAX_TEXT]
        return wf.search(db.session, current_user, text, self.kinds())

    @expose("/")
    def index(self):
        found = self._found()
        return self.render(
            "admin/search.html", found=found, titles=TITLES, hint=hint(), link=self.link
        )

    @expose("/api")
    def api(self):
        found = self._found()
        groups = [
            {
                "kind": kind,
                "title": TITLES[kind],
                "rows": [
                    {"title": hit.title, "detail": hit.detail, "url": self.link(kind, hit.id)}
                    for hit in hits
                ],
            }
            for kind, hits in found.groups.items()
            if hits
        ]
        total = sum(len(group["rows"]) for group in groups)
        words = plural(total, "совпадение", "совпадения", "совпадений") if total else ""
        return jsonify(
            text=found.text,
            groups=groups,
            summary=words or "Ничего не найдено",
            all_url=url_for(".index", q=found.text),
        )
