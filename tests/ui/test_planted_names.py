"""Names from the data read literally on every page that shows them (AppTest): a school, teacher,
student, attribute or cohort named with Markdown or HTML never becomes a link, an image or HTML
in any Markdown the page sends — text, captions, alerts, narratives, widget, tab and expander
labels — and reads as the name itself. The browser tier (tests/browser/test_planted_names.py)
checks what a person's browser then draws."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.access.scope import Scope
from core.warehouse import db
from tests.conftest import run_page, serve_warehouse
from tests.ui.planted import ATTRIBUTE, COHORT, LINKED, SCHOOL, VALUE, live_markup, plant, reads

ADMIN = Scope(username="ada")
PRINCIPAL = Scope(username="pat", role="school_admin", schools=(SCHOOL,))
MARKDOWN_TYPES = ("markdown", "alert", "exception", "toast")  # elements whose body is Markdown


@pytest.fixture(scope="module")
def planted_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("planted") / "yardstick.duckdb"
    with db.connect(path) as con:
        plant(con)
    return path


@pytest.fixture
def warehouse_file(planted_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return serve_warehouse(planted_file, monkeypatch)


def _walk(node: object) -> Iterator[object]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def markdown_sources(app: AppTest) -> list[str]:
    """Every Markdown source the page sent: element bodies and every label (widget, metric,
    tab, expander labels are Markdown too). Widget options and values are plain text."""
    found = []
    for node in _walk(app._tree):
        if getattr(node, "type", "") in MARKDOWN_TYPES and isinstance(
            getattr(node, "value", None), str
        ):
            found.append(node.value)
        label = getattr(node, "label", None)
        if isinstance(label, str):
            found.append(label)
    return found


def assert_literal(app: AppTest, *planted: str) -> str:
    """No live markup anywhere on the page; returns what the page's Markdown reads as."""
    assert not app.exception, [e.value for e in app.exception]
    sources = markdown_sources(app)
    live = [(text, live_markup(text)) for text in sources if live_markup(text)]
    assert not live, live
    text = "\n".join(reads(s) for s in sources)
    for name in planted:
        assert name in text, f"{name!r} not shown literally"
    return text


def test_home_shows_the_school_and_its_alert_literally(warehouse_file: Path) -> None:
    for scope in (ADMIN, PRINCIPAL):
        text = assert_literal(run_page("app_pages/home.py", scope, timeout=120), SCHOOL)
        assert f"at {SCHOOL} declined" in text  # the alert's title names it


def test_insights_alerts_and_narratives_read_literally(warehouse_file: Path) -> None:
    app = run_page("app_pages/insights.py", ADMIN, timeout=180)
    assert_literal(app, SCHOOL)
    app.button[0].click().run()  # write every cohort's narrative: they name the school
    text = assert_literal(app, SCHOOL)
    assert f"📝 Grade 3 · {SCHOOL} · 2024-2025" in text  # a narrative titled by the school


@pytest.mark.parametrize(
    ("page", "picker"),
    [("standards", "standards"), ("prior_cohorts", "prior"), ("growth", "growth")],
)
def test_a_linked_cohort_name_and_the_data_read_literally(
    warehouse_file: Path, page: str, picker: str
) -> None:
    """A `?spec=` link carrying a cohort name, on the pages that draw the cohort picker (its
    attribute filter labels) and the cohort's narrative (names of schools and groups)."""
    app = run_page(f"app_pages/{page}.py", ADMIN, timeout=180, query={"spec": json.dumps(LINKED)})
    assert_literal(app)
    loaded = app.session_state[f"{picker}:loaded"]
    assert loaded.name == COHORT  # the link's name reached the page, and nothing shows it live


def test_a_linked_name_never_reaches_the_shared_narratives(warehouse_file: Path) -> None:
    run_page("app_pages/standards.py", ADMIN, timeout=180, query={"spec": json.dumps(LINKED)})
    with db.connect(warehouse_file) as con:
        stored = con.execute("select cohort_label, spec::varchar, content::varchar from narratives")
        rows = stored.fetchall()
    assert rows
    assert not [row for row in rows if "evil.example/cohort" in " ".join(row)]
    insights = run_page("app_pages/insights.py", ADMIN, timeout=180)
    assert "evil.example/cohort" not in "\n".join(markdown_sources(insights))


def test_an_attribute_and_its_value_read_literally(warehouse_file: Path) -> None:
    """The planted attribute's filter label on the picker, its value on Subgroups."""
    app = run_page("app_pages/standards.py", ADMIN, timeout=180)
    labels = [reads(m.label) for m in app.multiselect]
    assert ATTRIBUTE in labels
    assert_literal(app)
    subgroups = run_page("app_pages/subgroups.py", ADMIN, timeout=180)
    assert_literal(subgroups)
    assert VALUE in "\n".join(reads(s) for s in markdown_sources(subgroups))
