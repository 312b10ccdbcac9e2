"""Comparison charts: built from the tables' DataFrames, suppressed rows never drawn."""

from __future__ import annotations

import json

import pytest

from core.access.scope import DISTRICT, Scope
from core.compare.between_cohorts import prior_year_comparison, yearly_trend
from core.compare.growth import all_matched_growth, growth_trajectory, student_growth
from core.compare.subgroups import subgroup_gaps
from core.report.charts.compare import (
    gap_chart,
    gap_trend_chart,
    growth_quadrant_chart,
    prior_year_chart,
    trend_chart,
)
from tests.compare.conftest import DECLINING


def values(chart) -> list[dict]:
    spec = chart.to_dict()
    if "data" in spec and "values" in spec["data"]:
        return spec["data"]["values"]
    return next(iter(spec["datasets"].values()))


def test_prior_year_and_trend_charts(district) -> None:
    trend = yearly_trend(district.con, DECLINING, DISTRICT)
    comparisons = prior_year_comparison(district.con, DECLINING, DISTRICT)
    chart = prior_year_chart(trend, comparisons)
    rows = values(chart)
    assert {r["school_year"] for r in rows} == set(trend["school_year"])
    colours = {r["school_year"]: r["colour"] for r in rows}
    assert colours["2024-2025"] == "this year" and colours["2023-2024"] == "decline"
    line = trend_chart(trend).to_dict()
    assert any(layer.get("mark", {}).get("strokeDash") for layer in line["spec"]["layer"])
    assert {r["norm_mean"] for r in values(trend_chart(trend))} == set(trend["norm_mean"])


def test_suppressed_rows_never_reach_a_chart(district) -> None:
    tiny = DECLINING.replace(filters={"race_ethnicity": "Two or more"})
    trend = yearly_trend(district.con, tiny, DISTRICT)
    assert trend["suppressed"].all()
    text = json.dumps(
        prior_year_chart(trend, prior_year_comparison(district.con, tiny, DISTRICT)).to_dict()
    )
    assert "No reportable" in text
    gaps = subgroup_gaps(district.con, DECLINING.replace(schools=None), DISTRICT)
    drawn = {(r["attribute"], r["value"], r["school_year"]) for r in values(gap_chart(gaps))}
    hidden = gaps[gaps["suppressed"]]
    assert not hidden.empty
    assert not drawn & set(
        zip(hidden["attribute"], hidden["value"], hidden["school_year"], strict=True)
    )


def test_gap_trend_and_growth_charts(district) -> None:
    gaps = subgroup_gaps(district.con, DECLINING.replace(schools=None, subject="reading"), DISTRICT)
    rows = values(gap_trend_chart(gaps, "ell=yes"))
    assert len(rows) == 4 and all(r["attribute"] == "ell" for r in rows)
    grid = all_matched_growth(
        district.con, DISTRICT, ("fall", "2024-2025"), ("spring", "2024-2025")
    )
    grid["who"] = grid["school"] + " · grade " + grid["grade"]
    chart = growth_quadrant_chart(
        grid,
        x="mean_pct_to",
        y="mean_beyond",
        label="who",
        x_title="Percentile",
        y_title="Growth beyond expected",
        x_mid=50,
    )
    # issue 15: a cell with 1 … 9 left out (each school here) withholds where its students
    # stood, and its total with it — no point can be placed; the chart says so
    placed = ~grid["suppressed"] & grid["mean_pct_to"].notna() & grid["mean_beyond"].notna()
    assert not placed.any() and grid["mean_beyond"].notna().all()
    assert [r["message"] for r in values(chart)] == [
        "No reportable cohort with both achievement and growth to chart."
    ]
    periods = [(season, "2024-2025") for season in ("fall", "winter", "spring")]
    cohort = DECLINING.replace(season=None, school_year=None, schools=None)
    path = growth_trajectory(district.con, cohort, DISTRICT, periods)
    path["when"] = path["season"] + " " + path["school_year"]
    assert [r["when"] for r in values(trend_chart(path, x="when", x_title="Test"))] == list(
        path["when"]
    )


def test_student_growth_only_for_roles_that_see_students(district) -> None:
    periods = (("fall", "2024-2025"), ("spring", "2024-2025"))
    rows = student_growth(district.con, DECLINING, DISTRICT, *periods)
    assert len(rows) > 10 and rows["change"].notna().all()
    with pytest.raises(PermissionError):
        student_growth(district.con, DECLINING, Scope(username="v", role="viewer"), *periods)
