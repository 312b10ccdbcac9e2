"""The comparison pages in AppTest on a seeded warehouse: they render the core numbers, follow an
alert's evidence link, switch views, and show students only to roles that may see them."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.access.scope import Scope
from core.alerts.detect import current_alerts, evidence_query
from core.warehouse import db
from tests.compare.conftest import PLANTED
from tests.compare.district import build
from tests.conftest import run_page, serve_warehouse

BADGES = {"critical": "🔴 Critical", "warning": "🟠 Warning", "info": "🟢 Good news"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "yardstick.duckdb"
    with db.connect(path) as con:
        build(con, PLANTED)
    return path


@pytest.fixture
def warehouse(built: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return serve_warehouse(built, monkeypatch)


def page(name: str, role: str = "district_admin", **query: str) -> AppTest:
    return run_page(f"app_pages/{name}", Scope(username="ada", role=role), query=query)


def text(app: AppTest) -> str:
    return " ".join(str(m.value) for m in [*app.markdown, *app.caption, *app.info])


def test_prior_cohorts_views(warehouse) -> None:
    app = page("prior_cohorts.py")
    assert not app.exception
    assert "this year's mean" in text(app)
    assert len(app.get("vega_lite_chart")) == 1 and len(app.dataframe) == 1
    for view, expected in (
        ("Trend", "Dashed line"),
        ("Same students", "Pick one season"),
        ("Any two cohorts", "Cohort A is the one above"),
    ):
        app.segmented_control(key="prior:view").set_value(view).run()
        assert not app.exception, view
        assert expected in text(app), view
    app.multiselect(key="prior:season").set_value(["spring"])
    app.segmented_control(key="prior:view").set_value("Same students").run()
    assert not app.exception
    assert "The same students in spring 2023-2024" in text(app)
    # All grades pooled: grade 3 has only a few students with last spring's score (they repeated
    # it), so the pooled growth minus grades 4 and 5 would give theirs — not shown (issue 15).
    assert "split by grade" in text(app) and "fewer than 10 students" in text(app)
    app.multiselect(key="prior:grade").set_value(["4"]).run()
    assert "against the norm their standing moved" in text(app)


def test_an_alert_link_opens_its_evidence(warehouse) -> None:
    with db.connect(warehouse) as con:
        alerts = current_alerts(con, Scope())
    decline = alerts[alerts["title"].str.contains("at Lincoln declined")].iloc[0]
    app = page("prior_cohorts.py", **evidence_query(decline))
    assert not app.exception
    assert app.multiselect(key="prior:schools").value == ["Lincoln"]
    assert app.multiselect(key="prior:grade").value == ["4"]
    assert "decline" in text(app)
    gap = alerts[alerts["kind"] == "widening gap"].iloc[0]
    app = page("subgroups.py", **evidence_query(gap))
    assert not app.exception
    assert app.selectbox(key="subgroups:trend").value == gap["focus"]


def test_growth_page_and_students_only_for_staff(warehouse) -> None:
    app = page("growth.py")
    assert not app.exception
    assert "students tested both times" in text(app)
    assert "missed at least one test" in text(app)
    assert len(app.get("vega_lite_chart")) == 2
    # growth against achievement: the regression-to-the-mean caveat sits under the chart
    assert "(regression to the mean)" in text(app)
    app.toggle(key="growth:students").set_value(True).run()
    assert not app.exception
    with db.connect(warehouse) as con:
        logged = con.execute(
            "select detail from audit_log where action = 'view_students' and username = 'ada'"
        ).fetchall()
        assert len(logged) == 1 and '"page": "growth"' in logged[0][0]
    app.segmented_control(key="growth:span").set_value("Year to year (spring → spring)").run()
    assert not app.exception and "spring 2023-2024 → spring 2024-2025" in text(app)
    viewer = page("growth.py", role="viewer")
    assert not viewer.exception and not [t for t in viewer.toggle if t.key == "growth:students"]


def test_subgroups_page(warehouse) -> None:
    app = page("subgroups.py")
    assert not app.exception
    assert "English learners are " in text(app) and "behind the rest" in text(app)
    assert len(app.dataframe) == 2 and len(app.get("vega_lite_chart")) == 2


def test_pages_say_so_when_nothing_is_in_scope(warehouse) -> None:
    for name in ("prior_cohorts.py", "growth.py", "subgroups.py"):
        app = run_page(
            f"app_pages/{name}", Scope(username="t", role="teacher", sections=("nobody",))
        )
        assert not app.exception, name
        assert app.info, name


def test_home_lists_one_alert_per_cohort_in_plain_words(warehouse) -> None:
    with db.connect(warehouse) as con:
        cells = current_alerts(con, Scope())
        grouped = current_alerts(con, Scope(), grouped=True)
    assert len(grouped) < len(cells)  # one alert for a cohort declining in several seasons
    app = page("home.py")
    assert not app.exception
    cards = [m.value for m in app.markdown if m.value.startswith("**") and " · " in m.value]
    assert cards == [f"**{BADGES[a.severity]} · {a.title}**" for a in grouped.itertuples()]
    specialist = [e for e in app.expander if e.label == "The statistics, for specialists"]
    assert [e.caption[0].value for e in specialist] == list(grouped["detail"])
    hidden = {e.caption[0].value for e in specialist}
    shown = [c.value for c in app.caption if c.value not in hidden]
    assert set(grouped["summary"]) <= set(shown)
    for text in shown:
        assert not [w for w in ("Hedges", "p-value", "BH-adjusted", "effect size") if w in text]


def test_prior_cohorts_in_the_first_year_says_so_and_keeps_any_two_cohorts(warehouse) -> None:
    """A cohort in the first school year loaded has scores but no earlier year: the page says
    that (not "no scores match") and still offers Any two cohorts."""
    app = page("prior_cohorts.py")
    app.multiselect(key="prior:school_year").set_value(["2021-2022"]).run()
    assert not app.exception
    assert "No earlier year is loaded to compare with" in text(app)
    assert "No scores match" not in text(app)
    assert "Any two cohorts" in app.segmented_control(key="prior:view").options
    app.segmented_control(key="prior:view").set_value("Any two cohorts").run()
    assert not app.exception
    assert "Cohort A is the one above" in text(app)
    app.multiselect(key="prior_b:school_year").set_value(["2022-2023"]).run()
    assert not app.exception
    assert len(app.dataframe) == 1 and "vs" in text(app)
