"""The role policy (models/roles.py): one row per role, and nobody else defines a role fact."""

from __future__ import annotations

import ast
from pathlib import Path

from admin_views.permissions import MATRIX
from models import ROLE
from models.roles import NOBODY, ROLES, hidden_fields, policy, roles_that

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("models", "workflows", "admin_views", "seed")


def test_every_role_has_one_row_in_the_order_of_the_code_list():
    """Does the policy hold exactly the roles of models.accounts.ROLE, in its order?"""
    assert list(ROLES) == ROLE.codes
    assert all(row.code == code for code, row in ROLES.items())
    assert ROLES["nurse"].label == "медицинская сестра"


def test_the_policy_answers_as_the_rules_say():
    """Do the facts of the roles say what the centre decided (the design brief's table)?"""
    assert roles_that("sees_all") == ("admin", "coordinator")
    assert roles_that("whole_centre") == ("admin", "coordinator", "viewer")
    assert roles_that("reads_health") == (
        "coordinator",
        "district_worker",
        "psychologist",
        "social_pedagogue",
        "nurse",
    )
    people_who_work_with_families = (
        "district_worker",
        "psychologist",
        "social_pedagogue",
        "social_worker",
        "lawyer",
        "nurse",
    )
    assert roles_that("works_cases") == people_who_work_with_families
    assert roles_that("takes_activities") == people_who_work_with_families
    assert roles_that("specialist") == people_who_work_with_families[1:]
    assert roles_that("dispatches") == ("admin", "coordinator")
    assert roles_that("district_bound") == ("district_worker", "social_worker")
    assert roles_that("receives_visitors") == ("coordinator", *people_who_work_with_families)
    assert [code for code, row in ROLES.items() if row.field_limits] == ["rental_clerk"]


def test_an_unknown_role_has_no_right():
    """Does a role the policy does not know (or no role) get nothing at all?"""
    assert policy(None) is NOBODY and policy("intruder") is NOBODY
    assert not any(
        getattr(NOBODY, fact)
        for fact in ("sees_all", "whole_centre", "reads_health", "works_cases", "dispatches")
    )
    assert hidden_fields(None, "person", ["snils", "disability_status"], {"disability_status"}) == {
        "disability_status"
    }


def test_hidden_fields_hide_health_data_and_what_a_limit_leaves_out():
    """Does a role without the health right lose the health fields, and the rental clerk
    every field of a family beyond the few lending needs?"""
    fields = ["surname", "address", "phone", "district", "categories", "is_large"]
    assert hidden_fields("coordinator", "family", fields, {"is_large"}) == set()
    assert hidden_fields("lawyer", "family", fields, {"is_large"}) == {"is_large"}
    assert hidden_fields("rental_clerk", "family", fields, set()) == {"categories", "is_large"}
    assert hidden_fields("rental_clerk", "loan", ["unit", "due_on"], set()) == set()


def test_the_screen_matrix_takes_its_specialists_from_the_policy():
    """Does every specialist of the policy have the specialists' screens, and only they?"""
    for code in roles_that("specialist"):
        assert MATRIX[code]["my_tasks"] == MATRIX["nurse"]["my_tasks"]
        assert "reception" in MATRIX[code]
    assert list(MATRIX) == ROLE.codes


def _role_collections(path: Path):
    """Literal sets, tuples and lists of two or more role codes in a module."""
    codes = set(ROLE.codes)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Set, ast.Tuple, ast.List)) and len(node.elts) >= 2:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(values) == len(node.elts) and set(values) <= codes:
                yield node.lineno, values


def test_no_module_keeps_its_own_set_of_roles():
    """Is every role fact defined once, in models/roles.py: does no other module of the
    application spell out a set of roles of its own?"""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {values}"
        for layer in LAYERS
        for path in sorted((ROOT / layer).rglob("*.py"))
        if "migrations" not in path.parts
        for line, values in _role_collections(path)
    ]
    assert found == []
