"""The Watch list page in AppTest on the (small) demo district, as its demo teacher sees it: the
summary sentence, only their section's students with the core numbers, the reason filter, the
audit of every view; a viewer gets no list."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.access import users
from core.access.scope import Scope, scope_for_user
from core.alerts.watch_list import (
    LOW_GROWTH_CAVEAT,
    growth_caveat,
    readable,
    summary_sentence,
    watch_list,
)
from core.cohorts.spec import CohortSpec
from core.demo.district import load_demo
from core.warehouse import db
from tests.conftest import run_page, serve_warehouse

YEAR = "2024-2025"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("watch") / "yardstick.duckdb"
    load_demo(path, 7, students_per_year=300, years=2)
    return path


@pytest.fixture
def warehouse(demo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return serve_warehouse(demo, monkeypatch)


def demo_scope(path: Path, username: str) -> Scope:
    with db.connect(path) as con:
        account = next(a for a in users.demo_accounts(con) if a["username"] == username)
    return scope_for_user(
        username, account["role"], account.get("schools"), account.get("sections")
    )


def open_page(scope: Scope) -> AppTest:
    return run_page("app_pages/watch_list.py", scope)


def views(path: Path, username: str) -> list[str]:
    with db.connect(path) as con:
        rows = con.execute(
            "select detail from audit_log where action = 'view_students' and username = ?",
            [username],
        ).fetchall()
    return [row[0] for row in rows]


def test_a_teacher_sees_their_students_who_need_help(warehouse: Path) -> None:
    teacher = demo_scope(warehouse, "demo-teacher")
    app = open_page(teacher)
    assert not app.exception
    with db.connect(warehouse) as con:
        spec = CohortSpec.from_dict({"school_year": YEAR, "subject": "math"})
        expected = watch_list(con, spec, teacher)
        roster = {
            row[0]
            for row in con.execute(
                "select student_id from enrollments where school_year = ? and "
                "list_contains(?, section)",
                [YEAR, list(teacher.sections)],
            ).fetchall()
        }
    assert app.selectbox(key="watch:year").value == YEAR
    assert app.selectbox(key="watch:subject").value == "math"
    assert summary_sentence(expected) in [m.value for m in app.markdown]
    assert expected.total == len(roster) and len(expected.students) > 0
    shown = app.dataframe[0].value
    assert shown.reset_index(drop=True).equals(readable(expected.students))
    assert set(shown["ID"]) <= roster
    assert set(shown["Section"]) == set(teacher.sections)
    assert shown["Student"].str.len().min() > 0  # names, for a role that may see them
    assert any('"page": "watch_list"' in detail for detail in views(warehouse, "demo-teacher"))

    app.multiselect(key="watch:reasons").set_value(["low_growth"]).run()
    assert not app.exception
    narrowed = app.dataframe[0].value
    assert len(narrowed) == expected.counts["low_growth"]
    assert narrowed["Why"].str.contains("Grew less than half the expected growth since fall").all()
    assert len(views(warehouse, "demo-teacher")) == 2  # every view is audited
    # growth flagged students: the regression-to-the-mean caveat is said, in plain words
    assert expected.counts["low_growth"] > 0 and growth_caveat(expected) == LOW_GROWTH_CAVEAT
    assert LOW_GROWTH_CAVEAT in [i.value for i in app.info]
    app.multiselect(key="watch:reasons").set_value(["missed_test"]).run()
    assert LOW_GROWTH_CAVEAT not in [i.value for i in app.info]  # not where growth is not shown

    app.selectbox(key="watch:subject").set_value("reading").run()
    assert not app.exception
    with db.connect(warehouse) as con:
        reading = watch_list(con, spec.replace(subject="reading"), teacher)
    assert summary_sentence(reading) in [m.value for m in app.markdown]


def test_a_viewer_gets_no_list(warehouse: Path) -> None:
    viewer = demo_scope(warehouse, "demo-viewer")
    assert viewer.role == "viewer"
    app = open_page(viewer)
    assert not app.exception
    assert not app.dataframe
    assert "not individual students" in app.info[0].value
    assert views(warehouse, "demo-viewer") == []
