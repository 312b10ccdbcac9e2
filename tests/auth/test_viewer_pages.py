"""A viewer never receives a student's name or id from any page: every page a viewer may open
is run with AppTest as the demo viewer, and everything rendered (text, tables, chart data,
widget options) is searched for every student's id and full name."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from google.protobuf import text_format
from streamlit.testing.v1 import AppTest

from core.access import users
from core.warehouse import db
from ui import navigation

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def demo(demo_warehouse):
    with db.connect(demo_warehouse) as con:
        students = con.execute(
            "select student_id, first_name, last_name, first_name || ' ' || last_name in "
            "(select teacher from enrollments) as teachers_name from students"
        ).df()
    return demo_warehouse, students


def rendered_text(node) -> str:
    """Everything an element tree sends to the browser, strings decoded (tables as CSV)."""
    parts = []
    proto = getattr(node, "proto", None)
    if proto is not None:
        parts.append(text_format.MessageToString(proto, as_utf8=True))
    value = getattr(node, "value", None) if proto is not None else None
    if isinstance(value, pd.DataFrame):
        parts.append(value.to_csv())
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        parts += [rendered_text(child) for child in children.values()]
    return "\n".join(parts)


def student_pattern(students: pd.DataFrame) -> re.Pattern:
    ids = [re.escape(s) for s in students["student_id"]]
    names = [  # a student who shares a teacher's name cannot be told apart by name
        re.escape(f"{row.first_name} {row.last_name}")
        for row in students.itertuples()
        if not row.teachers_name
    ]
    return re.compile(r"(?<![\d.])(?:" + "|".join(ids) + r")(?!\d)|" + "|".join(names))


def signed_in_app(username: str, monkeypatch: pytest.MonkeyPatch, path: Path) -> AppTest:
    monkeypatch.setenv("YARDSTICK_DB", str(path))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.session_state["authentication_status"] = True  # as the library leaves it after sign-in
    app.session_state["username"] = username
    return app.run()


def test_viewer_pages_show_no_student(demo, monkeypatch) -> None:
    path, students = demo
    pattern = student_pattern(students)
    app = signed_in_app("demo-viewer", monkeypatch, path)
    assert not app.exception
    assert users.DEMO_VIEWER_SCHOOL in rendered_text(app._tree)  # home shows the viewer's slice
    viewer_pages = [e.path for e in navigation.PAGES if "viewer" in e.roles]
    assert len(viewer_pages) >= 2
    for page in viewer_pages:
        app.switch_page(page).run()
        assert not app.exception, (page, app.exception)
        text = rendered_text(app._tree)
        assert len(text) > 500, page  # the walk saw the page, not an empty tree
        leak = pattern.search(text)
        assert leak is None, f"{page} shows student {leak.group(0)!r} to a viewer"


def test_the_search_would_find_a_student(demo) -> None:
    """The check above is not vacuous: a name or an id in a table is found."""
    _, students = demo
    pattern = student_pattern(students)
    first = students.iloc[0]
    table = pd.DataFrame({"student": [f"{first.first_name} {first.last_name}"]})
    assert pattern.search(table.to_csv())
    assert pattern.search(f"id {first.student_id},")
    assert pattern.search("mean 201.5, n 57, p 0.0123456") is None
