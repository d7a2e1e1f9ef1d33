"""Do the panel's logs carry no personal data, in a form an operator can ship?

The logs are captured as they are written (JSON lines on stderr) while a coordinator of
the demo searches for a family by SNILS and surname, searches the lists, has a save
refused and meets a 500 whose SQL refused the person's SNILS. Neither the SNILS, nor
the surname, nor the address, nor any query string may appear in them.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import urllib.request
from urllib.parse import quote, quote_plus

import pytest
from conftest import Auth, post_form
from sqlalchemy import select
from variant_apps import variant_app
from werkzeug.serving import make_server

from admin_views.logs import JsonFormatter, redact, request_id_for
from models import Family, Person, db
from seed.demo import DEMO_PASSWORD

# The ports this suite's helper servers may use (5179 is the closed port of test_error_pages).
PORTS = range(5171, 5179)


def log_lines(captured: str) -> list[dict]:
    """Every line written to stderr, each of which must be one JSON object."""
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def forms_of(*values: str) -> set[str]:
    """A value as it may show in a log: as is, URL-encoded, SNILS digits only."""
    forms = set()
    for value in values:
        forms |= {value, quote(value), quote_plus(value)}
        digits = "".join(c for c in value if c.isdigit())
        if len(digits) == 11:
            forms.add(digits)
    return forms


def _duplicate_snils():
    """A programming error: a second person with a SNILS already in the bank (a 500)."""
    person = db.session.scalars(
        select(Person).where(Person.snils.is_not(None)).order_by(Person.id)
    ).first()
    copy = {
        c: getattr(person, c)
        for c in ("family_id", "last_name", "first_name", "birth_date", "sex", "relation", "snils")
    }
    db.session.add(Person(**copy, disability_status="none"))
    db.session.commit()


@pytest.fixture
def demo_person(app, runner):
    """The demo data bank, and the first person with a SNILS in it: (snils, names, address)."""
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        person = db.session.scalars(
            select(Person).where(Person.snils.is_not(None)).order_by(Person.id)
        ).first()
        family = db.session.get(Family, person.family_id)
        return {
            "snils": person.snils,
            "last_name": person.last_name,
            "first_name": person.first_name,
            "surname": family.surname,
            "address": family.address,
            "family_id": family.id,
        }


def test_a_working_session_leaves_no_personal_data_in_the_logs(app, client, demo_person, capsys):
    """Sign-in, the intake search by SNILS, surname and address, the list searches, a
    refused save and a 500 from the database: is every log line JSON, is each request
    logged once with its route, and does no line carry the person's data?"""
    p = demo_person
    capsys.readouterr()  # the seeding's own output is not the panel's log
    auth = Auth(client)
    assert auth.login("coordinator", DEMO_PASSWORD).status_code == 302
    searches = (
        ("/intake/", {"snils": p["snils"]}),
        ("/intake/", {"surname": p["surname"]}),
        ("/intake/", {"surname": p["surname"], "address": p["address"]}),
        ("/family/", {"search": p["surname"]}),
        ("/person/", {"search": p["snils"]}),
        ("/person/", {"search": f"{p['last_name']} {p['first_name']}"}),
    )
    for url, query in searches:
        page = client.get(url, query_string=query)
        assert page.status_code == 200, url
    assert p["surname"] in client.get("/intake/", query_string={"snils": p["snils"]}).text
    refused = post_form(
        client,
        f"/family/edit/?id={p['family_id']}",
        {"surname": p["surname"], "address": p["address"], "phone": "позвоните соседке"},
    )
    assert refused.status_code == 200 and "Изменения не сохранены" in refused.text

    with variant_app(
        app.config["SQLALCHEMY_DATABASE_URI"], (("/test/duplicate", _duplicate_snils),)
    ) as production:
        browser = production.test_client()
        assert Auth(browser).login("coordinator", DEMO_PASSWORD).status_code == 302
        assert browser.get("/test/duplicate", query_string={"snils": p["snils"]}).status_code == 500

    captured = capsys.readouterr().err
    lines = log_lines(captured)
    for leak in forms_of(p["snils"], p["surname"], p["last_name"], p["first_name"], p["address"]):
        assert leak not in captured, f"{leak!r} in the log"
    for query in ("snils=", "surname=", "search=", "address="):
        assert query not in captured

    access = [line for line in lines if line["logger"] == "opora.access"]
    intake = [line for line in access if line["route"] == "/intake/"]
    assert len(intake) == 4 and {line["status"] for line in intake} == {200}
    assert all(isinstance(line["user_id"], int) for line in intake)
    assert all(line["method"] == "GET" and line["duration_ms"] >= 0 for line in intake)
    assert len({line["request_id"] for line in access}) == len(access)
    assert {"time", "level", "logger", "message"} <= set(intake[0])

    failure = next(line for line in lines if "exception" in line)
    assert failure["level"] == "ERROR" and failure["route"] == "/test/duplicate"
    assert "IntegrityError" in failure["exception"]
    assert "hide_parameters=True" in failure["exception"]  # the SQL is there, its values not
    assert any(line["route"] == "/test/duplicate" and line["status"] == 500 for line in access)


def test_request_id_is_taken_from_the_balancer_or_made(client):
    """Is a well-formed X-Request-ID echoed, and a hostile one replaced by a new id?"""
    kept = client.get("/login", headers={"X-Request-ID": "lb-7f3a.42:1"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.42:1"
    for hostile in ('x" injected="1', "a" * 200, "снилс", "a\tb", ""):
        made = client.get("/login", headers={"X-Request-ID": hostile})
        assert made.headers["X-Request-ID"] != hostile
        assert made.headers["X-Request-ID"] == request_id_for(made.headers["X-Request-ID"])


def test_only_the_listed_fields_reach_a_line():
    """Does an `extra=` carrying a person stay out of the line?"""
    record = logging.LogRecord("opora", logging.INFO, __file__, 1, "saved", (), None)
    record.surname = "Смирнова"
    record.user_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert line["user_id"] == 7 and "surname" not in line and "Смирнова" not in str(line)


def test_postgresql_detail_values_are_cut():
    """Are the row values PostgreSQL quotes in DETAIL lines cut from a message?"""
    message = (
        'duplicate key value violates unique constraint "uq_person_snils"\n'
        "DETAIL:  Key (snils)=(123-456-789 64) already exists.\n"
        "[SQL: INSERT INTO person (snils) VALUES (%(snils)s)]"
    )
    cut = redact(message)
    assert "123-456-789 64" not in cut and "uq_person_snils" in cut and "[SQL:" in cut


def test_engine_hides_sql_parameters(app):
    """Is the engine built with hide_parameters (no values in errors or engine logs)?"""
    with app.app_context():
        assert db.engine.hide_parameters is True


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.skip("no free port in 5171-5178")


def test_development_server_logs_no_query_string(app, capsys):
    """Does `flask run`'s server (Werkzeug) log the request without its query string,
    leaving the app's own access line as the one record of it?"""
    server = make_server("127.0.0.1", _free_port(), app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.port}/login?snils={quote_plus('123-456-789 64')}"
        with urllib.request.urlopen(url) as response:  # our own local server
            assert response.status == 200
    finally:
        server.shutdown()
        thread.join(5)
    captured = capsys.readouterr().err
    # The SNILS's digits as sent («123-456-789+64»), not a bare «123»: a line's random
    # request id can hold that.
    assert "snils" not in captured and "123-456" not in captured
    access = [line for line in log_lines(captured) if line["logger"] == "opora.access"]
    assert [(line["route"], line["status"]) for line in access] == [("/login", 200)]
