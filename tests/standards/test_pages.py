"""The Cohort builder and Standards pages in AppTest, on the seeded warehouse: they render,
build the brief's cohort with widgets, save it, and never show a suppressed number."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.access.scope import Scope
from core.cohorts import saved
from core.warehouse import db
from tests.conftest import run_page
from tests.standards.seed import seed

BUILDER = "app_pages/cohort_builder.py"
STANDARDS = "app_pages/standards.py"
ADMIN = Scope(username="ada", role="district_admin")


@pytest.fixture
def warehouse(db_path: Path) -> Path:
    with db.connect(db_path) as con:
        seed(con)
    return db_path


def page(path: str, scope: Scope = ADMIN, **state) -> AppTest:
    return run_page(path, scope, state=state)


def widget(elements, key: str):
    return next(e for e in elements if e.key == key)


def button(app: AppTest, label: str):
    return next(b for b in app.button if b.label == label)


def test_builder_builds_counts_and_saves_the_brief_cohort(warehouse: Path) -> None:
    app = page(BUILDER)
    assert not app.exception
    widget(app.multiselect, "builder:grade").set_value(["3"]).run()
    widget(app.multiselect, "builder:schools").set_value(["Lincoln Elementary"]).run()
    assert app.metric[0].value == "50"
    widget(app.multiselect, "builder:f:ell").set_value(["true"]).run()
    assert "Fewer than 10 students" in app.warning[0].value
    widget(app.multiselect, "builder:f:ell").set_value(["false"]).run()
    assert "complementary suppression" in app.warning[0].value and not app.metric
    widget(app.multiselect, "builder:f:ell").set_value([]).run()
    widget(app.multiselect, "builder:subject").set_value(["reading"]).run()
    widget(app.multiselect, "builder:season").set_value(["spring"]).run()
    app.text_input[-1].set_value("Grade 3 Lincoln reading")  # a form: value and submit together
    button(app, "Save as a new cohort").click()
    app.run()
    assert not app.exception
    with db.connect(warehouse) as con:
        stored = saved.get_cohort(con, ADMIN, "Grade 3 Lincoln reading")
    assert stored.spec.to_dict() == {
        "name": "Grade 3 Lincoln reading",
        "school_year": "2024-2025",
        "grade": "3",
        "subject": "reading",
        "season": "spring",
        "schools": ["Lincoln Elementary"],
    }
    assert '"grade": "3"' in app.code[0].value
    assert "python -m core standards --cohort" in app.code[1].value


def test_builder_loads_a_quick_cohort_and_hands_it_to_standards(warehouse: Path) -> None:
    app = page(BUILDER)
    button(app, "Load quick cohort").click().run()
    assert widget(app.multiselect, "builder:grade").value == ["K"]
    assert app.metric[0].value == "14"
    button(app, "See this cohort against the norms →").click().run()
    assert app.session_state["standards:pending"]["grade"] == "K"
    assert not app.exception


def test_standards_page_shows_table_verdicts_and_charts(warehouse: Path) -> None:
    app = page(STANDARDS)
    assert not app.exception
    widget(app.multiselect, "standards:grade").set_value(["3"]).run()
    table = app.dataframe[0].value
    assert set(table["school"]) == {"Lincoln Elementary", "Washington Elementary"}
    assert len(app.get("vega_lite_chart")) >= 2
    verdicts = [m.value for m in app.markdown if m.value.startswith("- Grade")]
    assert any("Lincoln Elementary" in v and "national norm" in v for v in verdicts)
    assert "NWEA MAP Growth 2020" in app.caption[0].value


def test_standards_page_hides_a_complement_suppressed_cohort(warehouse: Path) -> None:
    app = page(STANDARDS)
    for key, value in (
        ("standards:grade", ["3"]),
        ("standards:schools", ["Lincoln Elementary"]),
        ("standards:f:ell", ["false"]),
    ):
        widget(app.multiselect, key).set_value(value).run()
    table = app.dataframe[0].value
    assert table["suppressed"].all() and table["n"].isna().all() and table["mean"].isna().all()
    assert all("complementary suppression" in m.value for m in app.markdown if "- Grade" in m.value)
    assert not app.exception


def test_standards_page_all_quick_cohorts_for_a_principal(warehouse: Path) -> None:
    principal = Scope(username="pat", role="school_admin", schools=("Washington Elementary",))
    app = page(STANDARDS, principal, **{"standards:source": "All quick cohorts"})
    table = app.dataframe[0].value
    assert set(table["school"]) == {"Washington Elementary"}
    assert set(table["grade"]) == {"2", "3", "5"}
    assert table.loc[table["grade"] == "2", "suppressed"].all()


ADMIN_PAGE = "app_pages/standards_admin.py"


def test_standards_admin_is_for_district_admins(warehouse: Path) -> None:
    app = page(
        ADMIN_PAGE, Scope(username="pat", role="school_admin", schools=("Lincoln Elementary",))
    )
    assert [e.value for e in app.error] == ["Only a district admin can open this page."]


def test_norms_year_is_chosen_and_audited(warehouse: Path) -> None:
    from core.access import audit
    from core.warehouse import settings

    app = page(ADMIN_PAGE)
    assert not app.exception
    app.radio[0].set_value("2025").run()
    with db.connect(warehouse) as con:
        assert settings.get(con, "norms_year") == "2025"
        assert not audit.events(con, action="settings_change").empty
    standards = page(STANDARDS)
    assert "NWEA MAP Growth 2025" in standards.caption[0].value


def test_a_set_can_be_pinned_and_deleted(warehouse: Path) -> None:
    import pandas as pd

    from core.standards import norms

    table = pd.DataFrame({"subject": ["math"], "grade": ["3"], "season": ["spring"], "target": [1]})
    with db.connect(warehouse) as con:
        old = norms.save_standard_set(con, "targets", "Goal", "2023", table)
        norms.save_standard_set(con, "targets", "Goal", "2024", table)
    app = page(ADMIN_PAGE, **{"standards_admin:kind": "targets"})
    app.selectbox[0].set_value(old).run()
    button(app, "Use this set").click().run()
    with db.connect(warehouse) as con:
        assert norms.active_set(con, "targets").set_id == old
    button(app, "Delete this set").click().run()
    with db.connect(warehouse) as con:
        assert list(norms.list_standard_sets(con, "targets").source_year) == ["2024"]
