"""Does hostile input ever answer 500, leak SQL, or change a row it was refused?

A seeded fuzzer signs in as the administrator, the coordinator, a district worker and
a rental clerk (and as nobody, at the sign-in form) and sends what an attacker or a
slipped finger sends: ids beyond the integer range, NUL bytes and other control
characters, impossible dates, absurd page numbers, sorts and filters, overlong texts.

Nothing is listed by hand: the table views and their list filters and pickers come
from the registered views, the workflow pages from the app's url_map, and the fields
of every form from the form each page renders — so a new view or field is fuzzed the
day it is added. A URL argument the fuzzer cannot fill fails the test (add it to
URL_ARGS).

It fails on any 500, on SQL or an English refusal shown to the user, on a text with a
control character that is accepted, and on any row changed by a refused submission
(a fingerprint of every data table before and after each refused POST). The seed is
fixed and each role gets a bounded number of requests, so a run is repeatable and
takes seconds; the counts are printed (pytest -s) for the notes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import factories as f
import pytest
from conftest import csrf_token, signed_in
from flask import got_request_exception
from security_factories import world

from admin_views.pages import PageView
from admin_views.permissions import allowed
from admin_views.reports import ReportsView
from models import EquipmentType, Family, db

SEED = 13
ROLES = ("admin", "coordinator", "district_worker", "rental_clerk", "anonymous")
# Per role, at most this many requests (the suite stays fast); the order is shuffled
# with the seed, so every kind of input still reaches every kind of page. OPORA_FUZZ_BUDGET
# sends more (0: the whole plan, some 2,000 requests a role).
BUDGET = int(os.environ.get("OPORA_FUZZ_BUDGET", "800"))
FORM_MUTATIONS = 8  # per form, unless deep

IDS = ("2147483648", "9223372036854775808", "-1", "0", "1e9", "abc", "１２", " 7 ")
URL_IDS = (2**31, 2**63, 0)  # Werkzeug's <int:…> takes digits only
CONTROL = ("a\x00b", "\x00", "строка\x01\x1b[0m", "\x7f\x08конец", "\x0b\x0c", "\x00" * 3)
DATES = (
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "99999-12-31",
    "2026-13-01",
    "0000-00-00",
    "1900-01-01T25:61",
)
NUMBERS = ("1e309", "NaN", "-0", "99999999999999999999", "-2147483649", "1,5")
LONG = ("Ж" * 300, "Ж" * 6000, "%_\\" * 20)
POOL = IDS + CONTROL + DATES + NUMBERS + LONG

LIST_PARAMS = (
    {"page": "-1"},
    {"page": str(10**9)},
    {"page": str(10**30)},
    {"page_size": str(10**9)},
    {"page_size": "-1"},
    {"sort": "999"},
    {"sort": "-5", "desc": "abc"},
    {"desc": "99999999999999999999"},
    {"search": "a\x00b"},
    {"search": "\x00"},
    {"search": "%_\\"},
    {"search": "Ж" * 3000},
    {"after": "abc"},
    {"after": "\x00"},
    {"archive": "\x00"},
)

# What fills a URL argument of a workflow page: world rows in different states, so that
# each page shows its forms (a free unit the lend form, a new task the board's).
URL_ARGS = {
    "case_id": ("case",),
    "family_id": ("family", "new_family"),
    "unit_id": ("equipment_unit", "free_unit", "dirty_unit", "broken_unit"),
    "loan_id": ("loan",),
    "reservation_id": ("reservation",),
    "task_id": ("task", "new_task"),
    "referral_id": ("referral",),
    "incoming_id": ("incoming_referral",),
    "raid_id": ("social_raid",),
    "message_id": ("message",),
    "programme_id": ("rehab_programme",),
    "measure_id": ("rehab_measure",),
    "tsr_id": ("rehab_tsr",),
    "meeting_id": ("council_meeting",),
    "agreement_id": ("partner_agreement",),
}
# Never sent: they end the fuzzer's own session.
SKIPPED_ENDPOINTS = {"auth.logout", "static", "admin.static"}
TEXT_KINDS = {"text", "textarea", "search", "password", "email", "tel", "url"}
DATE_KINDS = {"date", "datetime-local", "month", "time"}
# Tables the fingerprint leaves out: sign-in bookkeeping, the audit trail (a refused
# page may record that it was read) and the caches of counted figures (a page read after a
# refusal may keep what it counted: workflows/kept.py, models/figures.py).
NOT_FINGERPRINTED = {
    "user_session",
    "login_throttle",
    "audit_record",
    "district_figures",
    "kept_figures",
}
FAILURES_SHOWN = int(os.environ.get("OPORA_FUZZ_SHOWN", "80"))
LEAKS = ("[SQL:", "(psycopg", "sqlite3.", "Traceback", "Failed to ", "Internal Server Error")


# --- reading forms -----------------------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str  # an input's type, "textarea" or "select"
    value: str = ""


@dataclass
class PageForm:
    action: str
    method: str
    fields: list[FormField] = field(default_factory=list)

    def data(self) -> dict[str, str]:
        return {f.name: f.value for f in self.fields}


class FormParser(HTMLParser):
    """Every form on a page, with each field's kind and the value a browser would send."""

    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[PageForm] = []
        self.links: list[str] = []
        self._select: FormField | None = None
        self._first_option: str | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.url, a["href"]))
        if tag == "form":
            action = urljoin(self.url, a.get("action") or self.url)
            self.forms.append(PageForm(action, (a.get("method") or "get").lower()))
            return
        if not self.forms or not a.get("name"):
            if tag == "option" and self._select is not None:
                self._option(a)
            return
        form = self.forms[-1]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                form.fields.append(FormField(a["name"], kind, ""))
                return
            form.fields.append(FormField(a["name"], kind, a.get("value", "")))
        elif tag == "select":
            self._select = FormField(a["name"], "select")
            self._first_option = None
            form.fields.append(self._select)
        elif tag == "textarea":
            self._textarea = FormField(a["name"], "textarea")
            form.fields.append(self._textarea)

    def _option(self, a):
        if self._first_option is None:
            self._first_option = a.get("value", "")
            self._select.value = self._first_option
        if "selected" in a:
            self._select.value = a.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._textarea.value = self._textarea.value.removeprefix("\n")
            self._textarea = None


def parse_page(url: str, body: str) -> FormParser:
    parser = FormParser(url)
    parser.feed(body)
    return parser


# --- the fuzzer ----------------------------------------------------------------------


def fingerprint(app) -> dict[str, str]:
    """A hash of every data table's rows, table by table."""
    prints = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in NOT_FINGERPRINTED:
                continue
            rows = conn.execute(table.select()).all()
            digest = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
            prints[table.name] = digest
    return prints


def hostile_for(kind: str, rng: random.Random) -> list[str]:
    """Two hostile values for a field of this kind: one aimed at it, one at random."""
    if kind in TEXT_KINDS:
        aimed = CONTROL
    elif kind in DATE_KINDS:
        aimed = DATES
    else:
        aimed = IDS
    return [rng.choice(aimed), rng.choice(POOL)]


def has_control(value: str) -> bool:
    return any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in value)


class Fuzzer:
    def __init__(self, app, role: str, username: str, ids: dict):
        self.app = app
        self.role = role
        self.ids = ids
        self.rng = random.Random(f"{SEED}:{role}")
        self.client = signed_in(app, username) if username else app.test_client()
        self.posted: set[str] = set()
        self.token = csrf_token(self.client) if username else csrf_token(self.client, "/login")
        self.sent = 0
        self.server_errors = 0
        self.kinds: Counter[str] = Counter()
        self.failures: list[str] = []
        self.errors: list[BaseException] = []

    def _record(self, _sender, exception, **_extra):
        self.errors.append(exception)

    # --- sending ---

    def _check(self, method: str, url: str, response, data=None) -> str:
        self.sent += 1
        textual = response.mimetype.startswith("text/") or response.mimetype.endswith("json")
        body = response.get_data().decode("utf-8", "replace") if textual else ""
        where = f"{self.role} {method} {url}" + (f" {data!r}"[:300] if data else "")
        if response.status_code >= 500:
            self.server_errors += 1
            error = self.errors.pop() if self.errors else None
            self.failures.append(f"{response.status_code} {error!r:.160}: {where}")
        self.errors.clear()
        for leak in LEAKS:
            if leak in body:
                self.failures.append(f"shows {leak!r}: {where}")
        return body

    def get(self, url: str, params: dict | None = None) -> tuple[int, str]:
        full = url + ("?" + urlencode(params) if params else "")
        response = self.client.get(full)
        self.kinds["GET"] += 1
        return response.status_code, self._check("GET", full, response)

    def post(self, url: str, data: dict, hostile_text: bool) -> bool:
        """POST `data`; a refusal must leave every row as it was, and a text with a
        control character must be refused. True when the change was made."""
        data = dict(data)
        if self.token:
            data["csrf_token"] = self.token
        before = fingerprint(self.app)
        response = self.client.post(url, data=data)
        self.kinds["POST"] += 1
        self.posted.add(urlsplit(url).path)
        body = self._check("POST", url, response, data)
        refused = response.status_code < 300 or response.status_code >= 400
        if 300 <= response.status_code < 400:
            # A button without a form of its own says its refusal above the next page.
            landing = self.client.get(response.headers["Location"])
            refused = "alert-danger" in self._check("GET", response.headers["Location"], landing)
        if refused:
            after = fingerprint(self.app)
            changed = [t for t in before if before[t] != after[t]]
            if changed:
                self.failures.append(f"refused but changed {changed}: {self.role} POST {url}")
        elif hostile_text:
            self.failures.append(
                f"accepted a control character: {self.role} POST {url} {data!r}"[:400]
            )
        del body
        return not refused

    # --- what to send ---

    def plan(self) -> list:
        """Every request this role will send, as (callable, args), shuffled by the seed."""
        if self.role == "anonymous":
            jobs = [(self.fuzz_form_page, "/login", None) for _ in range(3)]
            return jobs + [(self.get, "/login", {"next": bad}) for bad in CONTROL + IDS]
        jobs: list = []
        admin = self.app.extensions["admin"][0]
        for view in admin._views:
            if getattr(view, "model", None) is not None:
                jobs += self.model_view_jobs(view)
        jobs += self.page_jobs(admin)
        self.rng.shuffle(jobs)
        return jobs

    def model_view_jobs(self, view) -> list:
        """Every request a role with the list right can make of one model view."""
        if not allowed(self.role, view.endpoint, "list"):
            return []
        return self.list_jobs(view) + self.row_jobs(view) + self.form_jobs(view)

    def list_jobs(self, view) -> list:
        """The list with hostile paging, sorting, search and filters; the ajax pickers."""
        base = f"/{view.endpoint}/"
        jobs = [(self.get, base, params) for params in self.some(LIST_PARAMS, 4)]
        for key in self.some(view._filter_args or {}, 3):
            value = self.rng.choice(POOL)
            jobs.append((self.get, base, {f"flt0_{key}": value}))
        for name in view._form_ajax_refs or {}:
            for query in (self.rng.choice(CONTROL), self.rng.choice(IDS)):
                params = {"name": name, "query": query}
                params.update(self.rng.choice(({}, {"offset": "-1"}, {"limit": str(10**30)})))
                jobs.append((self.get, f"{base}ajax/lookup/", params))
        return jobs

    def row_jobs(self, view) -> list:
        """Details, edit, delete and the archive actions of hostile row ids."""
        ep, role = view.endpoint, self.role
        base = f"/{ep}/"
        jobs: list = []
        for action, path in (("details", "details/"), ("edit", "edit/")):
            if allowed(role, ep, action):
                for bad in self.some(IDS, 3):
                    jobs.append((self.get, base + path, {"id": bad}))
        if allowed(role, ep, "delete"):
            for bad in self.some(IDS, 1):
                jobs.append((self.post, f"{base}delete/", {"id": bad}, False))
                action = self.rng.choice(("archive", "restore"))
                jobs.append((self.post, f"{base}action/", {"action": action, "rowid": bad}, False))
        return jobs

    def form_jobs(self, view) -> list:
        """The create and edit forms filled with hostile values; create with a hostile
        related id in the query."""
        ep, role = view.endpoint, self.role
        base = f"/{ep}/"
        jobs: list = []
        row = self.ids.get(ep)
        if allowed(role, ep, "create"):
            jobs.append((self.fuzz_form_page, f"{base}new/", None))
            for rel in self.some(("family", "case", "person"), 1):
                jobs.append((self.get, f"{base}new/", {rel: self.rng.choice(IDS)}))
        if allowed(role, ep, "edit") and row is not None:
            jobs.append((self.fuzz_form_page, f"{base}edit/?id={row}", None))
        return jobs

    def page_jobs(self, admin) -> list:
        """The workflow pages and the sign-in pages, from the url_map."""
        jobs: list = []
        views = {v.endpoint for v in admin._views if isinstance(v, (PageView, ReportsView))} | {
            "auth"
        }
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint in SKIPPED_ENDPOINTS or rule.endpoint.split(".")[0] not in views:
                continue
            args = [a for a in rule.arguments if a != "slug"]
            unknown = [a for a in args if a not in URL_ARGS]
            assert not unknown, f"{rule.rule}: add {unknown} to URL_ARGS"
            slugs = self._slugs() if "slug" in rule.arguments else [None]
            fillings = [
                {a: self.ids[URL_ARGS[a][i % len(URL_ARGS[a])]] for a in args}
                for i in range(max([len(URL_ARGS[a]) for a in args] or [1]))
            ]
            for slug, real in [(slug, real) for slug in slugs for real in fillings]:
                real = dict(real)
                if slug:
                    real["slug"] = slug
                url = self._build(rule, real)
                if "GET" in rule.methods:
                    jobs.append((self.fuzz_form_page, url, None))
                for arg in args:
                    for bad in URL_IDS:
                        bad_url = self._build(rule, {**real, arg: bad})
                        if "GET" in rule.methods:
                            jobs.append((self.get, bad_url, None))
                        else:
                            jobs.append((self.post, bad_url, {}, False))
        return jobs

    def _slugs(self) -> list[str]:
        from workflows.reports import REPORTS

        return list(REPORTS)

    def _build(self, rule, values: dict) -> str:
        with self.app.test_request_context():
            _, path = rule.build(values, append_unknown=False)
        return path

    def fuzz_form_page(self, url: str, _params=None) -> None:
        """Open the page, then send each of its forms back with one field made hostile
        at a time, and its links' query parameters the same way."""
        status, body = self.get(url)
        if status != 200:
            return
        page = parse_page(url, body)
        for form in page.forms:
            target = urlsplit(form.action)
            if target.path in ("/logout",) or target.path.startswith("/lang/"):
                continue
            mutations = [
                (fld, bad)
                for fld in form.fields
                if fld.name != "csrf_token"
                for bad in hostile_for(fld.kind, self.rng)
            ]
            for fld, bad in self.some(mutations, FORM_MUTATIONS):
                data = {**form.data(), fld.name: bad}
                if form.method != "post":
                    self.get(
                        target._replace(query="").geturl(),
                        {**dict(parse_qsl(target.query)), **data},
                    )
                    continue
                hostile_text = fld.kind in TEXT_KINDS and has_control(bad)
                if self.post(form.action, data, hostile_text):
                    # The change was made: go on from the page as it is now (a new
                    # version, the next step), or stop when the form is gone.
                    form = self._reloaded(url, form)
                    if form is None:
                        break
        path = urlsplit(url).path
        params = set()
        for link in page.links:
            parts = urlsplit(link)
            if parts.path == path:
                params |= {k for k, _ in parse_qsl(parts.query)}
        for name in self.some(sorted(params), 3):
            self.get(path, {name: self.rng.choice(POOL)})

    def _reloaded(self, url: str, form: PageForm) -> PageForm | None:
        status, body = self.get(url)
        if status != 200:
            return None
        same = [f for f in parse_page(url, body).forms if f.action == form.action]
        return same[0] if same else None

    def some(self, items, k: int) -> list:
        """All of `items` in a deep run; otherwise `k` of them, chosen by the seed."""
        items = list(items)
        return items if not BUDGET else self.rng.sample(items, min(k, len(items)))

    def run(self) -> None:
        """Send the plan with the app answering as in production: an exception is a
        500 page (recorded with its cause), not raised into the test."""
        jobs = self.plan()
        self.planned = len(jobs)
        propagate = self.app.config.get("PROPAGATE_EXCEPTIONS")
        self.app.config["PROPAGATE_EXCEPTIONS"] = False
        got_request_exception.connect(self._record, self.app)
        try:
            for job, *args in jobs:
                if BUDGET and self.sent >= BUDGET:
                    break
                job(*args)
        finally:
            got_request_exception.disconnect(self._record, self.app)
            self.app.config["PROPAGATE_EXCEPTIONS"] = propagate


@pytest.fixture
def fuzz_world(app):
    with app.app_context():
        district = f.district()
        staff = {
            role: f.staff(role=role, districts=[district] if role == "district_worker" else ())
            for role in ROLES[:-1]
        }
        # The world's task is the district worker's: «Мои задачи» shows its form.
        ids = world(district, "Фузз", assignee=staff["district_worker"])
        users = {"anonymous": None}
        for role, row in staff.items():
            users[role] = f.user(role, staff_row=row, username=f"fuzz_{role}").username
        family = db.session.get(Family, ids["family"])
        kind = db.session.get(EquipmentType, ids["equipment_type"])
        new_family = f.family(district, surname="Новиковы")
        f.person(new_family, "mother", last_name="Новикова")
        ids.update(
            new_family=new_family.id,
            new_task=f.task(family, None, title="Новая задача").id,
            free_unit=f.equipment_unit(kind).id,
            dirty_unit=f.equipment_unit(kind, status="sanitising").id,
            broken_unit=f.equipment_unit(kind, status="repair").id,
        )
        db.session.commit()
    return ids, users


@pytest.mark.parametrize("role", ROLES)
def test_hostile_input_never_answers_500(app, fuzz_world, role):
    ids, users = fuzz_world
    fuzzer = Fuzzer(app, role, users[role], ids)
    started = dt.datetime.now()
    fuzzer.run()
    seconds = (dt.datetime.now() - started).total_seconds()
    print(f"posted to {len(fuzzer.posted)} addresses: {sorted(fuzzer.posted)}")
    print(
        f"\nfuzz {role}: {fuzzer.sent} requests of {fuzzer.planned} planned ({dict(fuzzer.kinds)}) in {seconds:.1f} s, "
        f"{fuzzer.server_errors} answered 500, {len(fuzzer.failures)} failures"
    )
    assert not fuzzer.failures, "\n".join(sorted(set(fuzzer.failures))[:FAILURES_SHOWN])
