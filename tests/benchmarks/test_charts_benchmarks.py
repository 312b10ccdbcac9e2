"""Benchmark charts are pure builders: their data and encodings, checked through to_dict()."""

from __future__ import annotations

import pytest

from core.access.scope import DISTRICT
from core.districts.benchmarks import (
    average_history,
    district_benchmarks,
    district_history,
)
from core.report.charts.benchmarks import (
    READING_COLORS,
    SERIES_COLORS,
    district_vs_averages_chart,
    state_distribution_chart,
    trend_chart,
)


def _values(spec: dict) -> list[dict]:
    """The rows of the chart's (single) inline dataset."""
    datasets = spec.get("datasets", {})
    assert len(datasets) >= 1
    return [row for rows in datasets.values() for row in rows]


def _colors(spec: dict) -> tuple[list, list]:
    def find(node):
        if isinstance(node, dict):
            if "color" in node and isinstance(node["color"], dict) and "scale" in node["color"]:
                return node["color"]["scale"]
            for value in node.values():
                found = find(value)
                if found:
                    return found
        if isinstance(node, list):
            for value in node:
                found = find(value)
                if found:
                    return found
        return None

    scale = find(spec)
    return scale["domain"], scale["range"]


def test_district_vs_state_vs_nation_bars(con, fixed) -> None:
    result = district_benchmarks(con, DISTRICT, state="AA", year=2022)
    district = result.districts.set_index("district_id").loc["0100001"].to_dict()
    district["district_id"] = "0100001"
    spec = district_vs_averages_chart(
        district, result.state_averages.iloc[0], result.national_averages.iloc[0]
    ).to_dict()
    rows = _values(spec)
    math = {r["series"]: r["value"] for r in rows if r["metric"] == "math_proficiency"}
    assert math["District"] == pytest.approx(30.0)
    assert math["State"] == pytest.approx(result.state_averages.math_proficiency.iloc[0])
    assert math["Nation"] == pytest.approx(result.national_averages.math_proficiency.iloc[0])
    assert len({r["metric"] for r in rows}) == 8
    assert spec["facet"]["field"] == "label" and spec["resolve"]["scale"]["y"] == "independent"
    assert _colors(spec) == (list(SERIES_COLORS), list(SERIES_COLORS.values()))


def test_trend_lines_carry_district_state_and_nation(con, fixed) -> None:
    history = district_history(con, DISTRICT, "0100002")
    averages = average_history(con, DISTRICT, "AA")
    spec = trend_chart(history, averages, ["absenteeism", "graduation"]).to_dict()
    rows = _values(spec)
    district_absence = sorted(
        r["year"] for r in rows if r["series"] == "District" and r["metric"] == "absenteeism"
    )
    assert district_absence == [2018, 2020, 2022]  # biennial: gaps, nothing invented
    nation = [r for r in rows if r["series"] == "Nation" and r["metric"] == "graduation"]
    us = averages[averages.state == "US"].set_index("year").graduation
    assert {r["year"]: r["value"] for r in nation} == pytest.approx(us.to_dict())
    assert {r["series"] for r in rows} == {"District", "State", "Nation"}
    assert _colors(spec)[1] == list(SERIES_COLORS.values())


def test_state_distribution_marks_the_district_and_colours_its_reading(con, fixed) -> None:
    result = district_benchmarks(con, DISTRICT, state="CC", year=2022)
    top = result.districts.sort_values("math_proficiency").district_id.iloc[-1]
    chart = state_distribution_chart(
        result.districts, top, "math_proficiency", result.state_averages.math_proficiency.iloc[0]
    )
    spec = chart.to_dict()
    rows = _values(spec)
    chosen = [r for r in rows if r.get("chosen") is True]
    assert len(chosen) == 1 and chosen[0]["district_id"] == top
    assert chosen[0]["quartile"] == "well_above" and chosen[0]["reading"] == "good"
    assert len([r for r in rows if r.get("chosen") is False]) == 7
    assert any(r.get("what") == "State average" for r in rows)
    assert _colors(spec) == (list(READING_COLORS), list(READING_COLORS.values()))


def test_inverted_metric_high_value_is_coloured_bad(con, fixed) -> None:
    result = district_benchmarks(con, DISTRICT, state="CC", year=2022)
    highest = result.districts.sort_values("student_teacher_ratio").district_id.iloc[-1]
    rows = _values(
        state_distribution_chart(result.districts, highest, "student_teacher_ratio").to_dict()
    )
    chosen = next(r for r in rows if r.get("chosen") is True)
    assert (chosen["quartile"], chosen["reading"]) == ("well_above", "bad")


def test_empty_inputs_give_a_message_not_an_error(con) -> None:
    empty = district_benchmarks(con, DISTRICT)
    spec = state_distribution_chart(empty.districts, "x", "graduation").to_dict()
    assert spec["mark"]["type"] == "text"
