"""The benchmarks page in AppTest: state and year pickers, flag filters, views, the profile's
charts and numbers from core, the empty state, and the export bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from core.access.scope import DISTRICT, Scope
from core.districts.benchmarks import district_benchmarks
from core.districts.flags import FlagFilter
from core.exports.tables import csv_bytes, xlsx_bytes
from core.warehouse import db
from tests.benchmarks.conftest import fixed_districts, insert_districts
from tests.conftest import run_page, serve_warehouse


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "yardstick.duckdb"
    with db.connect(path) as con:
        insert_districts(con, fixed_districts())
    return path


@pytest.fixture
def warehouse(built: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return serve_warehouse(built, monkeypatch)


def page(role: str = "viewer") -> AppTest:
    return run_page("app_pages/benchmarks.py", Scope(username="sam", role=role))


def test_page_shows_a_state_and_the_profile(warehouse) -> None:
    app = page()
    assert not app.exception
    assert app.selectbox(key="bench:year").value == 2022
    app.selectbox(key="bench:state").set_value("CC").run()
    assert not app.exception
    assert len(app.dataframe) == 1 and len(app.dataframe[0].value) == 8
    assert len(app.get("vega_lite_chart")) == 3
    with db.connect(warehouse) as con:
        want = district_benchmarks(con, DISTRICT, state="CC", year=2022)
    first = app.selectbox(key="bench:district").value
    row = want.districts.set_index("district_id").loc[first]
    tiles = {m.label: m for m in app.metric}
    assert tiles["Math proficiency"].value == f"{row.math_proficiency:,.1f}%"
    assert tiles["Spending per pupil"].value == f"${row.expenditure_pp:,.0f}"
    assert tiles["Math proficiency"].delta == f"{row.math_proficiency_vs_state:+,.1f} pts vs state"
    spending = row.expenditure_pp_vs_state
    assert (
        tiles["Spending per pupil"].delta
        == f"{'-' if spending < 0 else '+'}${abs(spending):,.0f} vs state"
    )
    national = want.national_averages.iloc[0]
    captions = [c.value for c in app.caption]
    math = f"Nation {national.math_proficiency:,.1f}%"
    assert f"{math} · 3 years {row.math_proficiency_trend_3yr:+,.1f} pts" in captions
    text = " ".join(m.value for m in app.markdown)
    assert f"Among CC's districts, {row['name']} is" in text and f"Since {2022 - 3}-20: " in text


def test_flag_filter_and_views(warehouse) -> None:
    app = page()
    app.selectbox(key="bench:state").set_value("CC").run()
    app.multiselect(key="bench:flags").set_value([("math_proficiency", "well_above")]).run()
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == 2 and set(table["Math proficiency"]) == {40.0, 50.0}
    for view in ("vs state", "vs nation", "3-year trends", "Quartile flags"):
        app.segmented_control(key="bench:view").set_value(view).run()
        assert not app.exception, view
    assert set(app.dataframe[0].value["Math proficiency"]) == {"well_above"}


def test_state_with_three_districts_and_missing_trends_are_explained(warehouse) -> None:
    app = page()
    app.selectbox(key="bench:state").set_value("AA").run()
    app.selectbox(key="bench:district").set_value("0100005").run()
    assert not app.exception
    captions = " ".join(c.value for c in app.caption)
    assert "No 3-year trend" in captions and "no value for 2019" in captions


def test_empty_warehouse_offers_the_sample_to_admins(tmp_path, monkeypatch) -> None:
    serve_warehouse(tmp_path / "empty.duckdb", monkeypatch)
    viewer = page()
    assert "No district data are loaded" in viewer.info[0].value and not viewer.button
    admin = page("district_admin")
    admin.button(key="bench:sample").click().run()
    assert not admin.exception
    assert admin.selectbox(key="bench:state").value == "CA"


def test_export_bytes_carry_every_field_of_the_filtered_districts(warehouse) -> None:
    with db.connect(warehouse) as con:
        districts = district_benchmarks(con, DISTRICT, state="CC", year=2022).districts
    shown = FlagFilter.parse("math well_above").apply(districts)
    filters = {"state": "CC", "flags": "math_proficiency well_above"}
    text = csv_bytes(shown, filters).decode()
    assert text.startswith("# state: CC\n# flags: math_proficiency well_above\n")
    assert "math_proficiency_quartile_state" in text and text.count("\n0300") == 2
    sheet = load_workbook(io.BytesIO(xlsx_bytes(shown, filters))).active
    rows = list(sheet.values)
    header = rows[3]
    assert "expenditure_pp_trend_3yr" in header and len(rows) == 6
