"""Scope is enforced in core: no cohort spec, filter or crafted value reaches outside it.

Each role's scope comes from a real account (core.access.users), and every count is checked against
the seeded rows in tests/auth/conftest.py counted independently in Python.
"""

from __future__ import annotations

import pytest

from core.access import users
from core.cohorts.spec import CohortSpec, cohort_size, member_scores_sql
from tests.auth.conftest import PASSWORD, ROWS, SCHOOLS

INJECTIONS = [
    "x' or '1'='1",
    "'); drop table students; --",
    "L-3A' or 1=1 --",
    '" or ""="',
]


def _expected(school_ids=None, sections=None) -> set[str]:
    return {
        student
        for student, school_id, section, _teacher, _score in ROWS
        if (school_ids is None or school_id in school_ids)
        and (sections is None or section in sections)
    }


def _members(con, spec: dict, scope) -> set[str]:
    sql, params = member_scores_sql(CohortSpec.from_dict(spec), scope)
    return {row[0] for row in con.execute(f"select student_id from ({sql})", params).fetchall()}


@pytest.fixture
def scopes(district):
    users.add_user(district, "boss", "district_admin", PASSWORD)
    users.add_user(district, "pat", "school_admin", PASSWORD, schools=[SCHOOLS[0]])
    users.add_user(district, "tom", "teacher", PASSWORD, schools=[SCHOOLS[0]], sections=["L-3A"])
    users.add_user(district, "val", "viewer", PASSWORD, schools=[SCHOOLS[1]])
    return {
        name: users.scope_for_username(district, name) for name in ("boss", "pat", "tom", "val")
    }


def test_each_role_sees_its_own_slice(district, scopes) -> None:
    assert _members(district, {}, scopes["boss"]) == _expected()
    assert _members(district, {}, scopes["pat"]) == _expected(school_ids={1})
    assert _members(district, {}, scopes["tom"]) == _expected(sections={"L-3A"})
    assert _members(district, {}, scopes["val"]) == _expected(school_ids={2})
    assert [cohort_size(district, CohortSpec(), s) for s in scopes.values()] == [7, 5, 3, 2]


def test_school_admin_naming_another_school_gets_nothing(district, scopes) -> None:
    other = CohortSpec.from_dict({"schools": [SCHOOLS[1]], "grade": "3", "subject": "math"})
    assert cohort_size(district, other, scopes["pat"]) == 0
    both = CohortSpec.from_dict({"schools": list(SCHOOLS)})
    assert _members(district, both.to_dict(), scopes["pat"]) == _expected(school_ids={1})


def test_teacher_filtering_another_section_gets_nothing(district, scopes) -> None:
    for section in ("L-3B", "W-3A"):
        spec = CohortSpec.from_dict({"filters": {"section": section}})
        assert cohort_size(district, spec, scopes["tom"]) == 0
        assert cohort_size(district, spec, scopes["boss"]) == len(_expected(sections={section}))
    by_teacher = CohortSpec.from_dict({"filters": {"teacher": "Mr. Chen"}})
    assert cohort_size(district, by_teacher, scopes["tom"]) == 0
    own_and_other = CohortSpec.from_dict({"filters": {"section": ["L-3A", "L-3B"]}})
    assert _members(district, own_and_other.to_dict(), scopes["tom"]) == _expected(
        sections={"L-3A"}
    )


@pytest.mark.parametrize("payload", INJECTIONS)
def test_sql_in_a_value_is_data(district, scopes, payload: str) -> None:
    crafted = CohortSpec.from_dict(
        {
            "schools": [payload],
            "filters": {"section": payload, "teacher": payload, payload: payload},
        }
    )
    for scope in scopes.values():
        assert cohort_size(district, crafted, scope) == 0
    # a crafted filter name alone (an "extra attribute") is bound too
    named = CohortSpec.from_dict({"filters": {payload: "yes"}})
    assert cohort_size(district, named, scopes["boss"]) == 0
    tables = {
        r[0]
        for r in district.execute("select table_name from information_schema.tables").fetchall()
    }
    assert {"students", "assessments", "enrollments", "users", "audit_log"} <= tables
    assert district.execute("select count(*) from students").fetchone()[0] == len(ROWS)


def test_sql_in_an_account_assignment_is_data(district) -> None:
    users.add_user(district, "eve", "school_admin", PASSWORD, schools=["x' or '1'='1"])
    users.add_user(district, "mal", "teacher", PASSWORD, sections=["') or true --"])
    for name in ("eve", "mal"):
        scope = users.scope_for_username(district, name)
        assert cohort_size(district, CohortSpec(), scope) == 0


def test_viewer_never_sees_students(scopes) -> None:
    assert not scopes["val"].sees_students
    assert all(scopes[name].sees_students for name in ("boss", "pat", "tom"))
