"""The issue's "done when": four demo accounts, one per role, see four different and correct
slices of the demo district, and the audit log shows what each did."""

from __future__ import annotations

import pandas as pd
import pytest

from core.access import audit, users
from core.cohorts.spec import CohortSpec, member_scores_sql
from core.warehouse import db
from tests.auth.conftest import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(demo_warehouse):
    return demo_warehouse


def _visible_rows(con, scope) -> pd.DataFrame:
    sql, params = member_scores_sql(CohortSpec(), scope)
    return con.execute(sql, params).df()


def _expected_rows(con, schools=None, sections=None) -> pd.DataFrame:
    """Independently: every test event, filtered in pandas by school and same-year section."""
    events = con.execute(
        "select a.student_id, a.subject, a.school_year, a.season, sc.name as school "
        "from assessments a join schools sc using (school_id)"
    ).df()
    if schools is not None:
        events = events[events["school"].isin(schools)]
    if sections is not None:
        enrolled = con.execute("select student_id, school_year, section from enrollments").df()
        enrolled = enrolled[enrolled["section"].isin(sections)][["student_id", "school_year"]]
        events = events.merge(enrolled.drop_duplicates(), on=["student_id", "school_year"])
    return events


def _keys(frame: pd.DataFrame) -> set[tuple]:
    return set(frame[["student_id", "subject", "school_year", "season"]].itertuples(index=False))


def test_four_roles_four_correct_slices(demo) -> None:
    with db.connect(demo) as con:
        accounts = {a["username"]: a for a in users.demo_accounts(con)}
        slices = {}
        for name, account in accounts.items():
            scope = users.scope_for_username(con, name)
            assert scope.role == account["role"]
            slices[name] = _keys(_visible_rows(con, scope))
            expected = _expected_rows(con, account.get("schools"), account.get("sections"))
            assert slices[name] == _keys(expected), name
    district, principal, teacher, viewer = (slices[n] for n in users.DEMO_USERNAMES)
    assert all(slices.values()) and len({frozenset(s) for s in slices.values()}) == 4
    assert teacher < principal < district and viewer < district
    assert not viewer & principal  # two different schools
    assert accounts["demo-principal"]["schools"] == [users.DEMO_PRINCIPAL_SCHOOL]
    assert accounts["demo-viewer"]["schools"] == [users.DEMO_VIEWER_SCHOOL]
    with db.connect(demo) as con:
        assert [users.scope_for_username(con, n).sees_students for n in users.DEMO_USERNAMES] == [
            True,
            True,
            True,
            False,
        ]


def test_audit_log_shows_what_each_did(demo) -> None:
    with db.connect(demo) as con:
        for name in users.DEMO_USERNAMES:
            assert users.verify_sign_in(con, name, PASSWORD).allowed
            audit.log(con, name, "export", {"what": "standards table", "cohort": {"grade": "3"}})
        events = audit.events(con, action="sign_in")
        assert set(events["username"]) == set(users.DEMO_USERNAMES)
        for name in users.DEMO_USERNAMES:
            mine = audit.events(con, username=name)
            assert list(mine["action"]) == ["export", "sign_in"]
        created = audit.events(con, action="user_change", username="test")
        assert len(created) == 4
