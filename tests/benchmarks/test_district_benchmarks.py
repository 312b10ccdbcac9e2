"""Every benchmark figure against an independent pandas computation (tests/benchmarks/reference.py)
on fixed data with the hard cases, plus hand-checked numbers for each case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.access.scope import DISTRICT, Scope
from core.districts.benchmarks import (
    METRICS,
    average_history,
    benchmark_states,
    benchmark_years,
    district_benchmarks,
    district_history,
)
from core.districts.demo_data import COLUMNS, generate_districts
from tests.benchmarks import reference
from tests.benchmarks.conftest import insert_districts

KEYS = [m.key for m in METRICS]
NUMERIC = [
    *KEYS,
    *(f"{k}_vs_state" for k in KEYS),
    *(f"{k}_vs_national" for k in KEYS),
    *(m.trend_key for m in METRICS),
    "absenteeism_trend_from_year",
    "absenteeism_trend_to_year",
]
LABELS = [*(f"{k}_quartile_state" for k in KEYS), *(f"{k}_reading" for k in KEYS)]


def _texts(series: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in series]


def _compare(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got = got.set_index("district_id").sort_index()
    want = want.sort_index()
    assert list(got.index) == list(want.index)
    for column in NUMERIC:
        np.testing.assert_allclose(
            got[column].astype("float64"),
            want[column].astype("float64"),
            rtol=1e-9,
            atol=1e-9,
            equal_nan=True,
            err_msg=column,
        )
    for column in LABELS:
        assert _texts(got[column]) == _texts(want[column]), column


def _compare_averages(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got = got.set_index("state").sort_index()
    want = want.set_index("state").sort_index()
    assert list(got.index) == list(want.index)
    for column in ["districts", "enrollment", "total_enrollment", *KEYS]:
        np.testing.assert_allclose(
            got[column].astype("float64"),
            want[column].astype("float64"),
            rtol=1e-9,
            equal_nan=True,
            err_msg=column,
        )


@pytest.mark.parametrize("year", [2022, 2021, 2020])
def test_every_figure_matches_pandas_on_fixed_data(con, fixed, year: int) -> None:
    got = district_benchmarks(con, DISTRICT, year=year)
    _compare(got.districts, reference.district_table(fixed, year))
    states, national = reference.averages(reference.derived(fixed), year)
    _compare_averages(got.state_averages, states)
    _compare_averages(got.national_averages, national)


def test_every_figure_matches_pandas_on_synthetic_states(con) -> None:
    frame = generate_districts(300, range(2016, 2023), seed=11)
    insert_districts(con, frame)
    for year in (2022, 2021):
        got = district_benchmarks(con, DISTRICT, year=year)
        _compare(got.districts, reference.district_table(frame, year))
        states, national = reference.averages(reference.derived(frame), year)
        _compare_averages(got.state_averages, states)
        _compare_averages(got.national_averages, national)


def test_big_district_moves_the_state_average_more(con, fixed) -> None:
    aa = district_benchmarks(con, DISTRICT, state="AA", year=2022)
    state = aa.state_averages.iloc[0]
    d = aa.districts.set_index("district_id")
    # math 2022: big district 30 % of 50,040 pupils; four small ones 60/70/70/80 %
    e = d.enrollment.astype(float)
    assert state.math_proficiency == pytest.approx((d.math_proficiency * e).sum() / e.sum())
    assert state.math_proficiency < 35 < d.math_proficiency.mean()
    # spending per pupil = total spending / total pupils
    total = (d.expenditure_pp * e).sum()
    assert state.expenditure_pp == pytest.approx(total / e.sum())
    # pupils per teacher = all pupils / all teachers (the enrollment-weighted harmonic mean)
    assert state.student_teacher_ratio == pytest.approx(e.sum() / d.teachers_fte.sum())
    assert state.swd_pct == pytest.approx(100 * d.swd.sum() / e.sum())
    assert state.enrollment == pytest.approx(e.mean())  # district enrollment: plain mean
    assert d.loc["0100001", "math_proficiency_vs_state"] == pytest.approx(
        30.0 - state.math_proficiency
    )


def test_missing_prior_year_gives_null_with_reason(con, fixed) -> None:
    d = district_benchmarks(con, DISTRICT, year=2022).districts.set_index("district_id")
    no_2019 = d.loc["0100005"]
    for metric in METRICS:
        if metric.key != "absenteeism":
            assert pd.isna(no_2019[metric.trend_key]), metric.trend_key
            assert no_2019[f"{metric.trend_key}_reason"] == "no value for 2019"
    # one metric missing in the prior year: only that trend is null
    one_gap = d.loc["0100004"]
    assert pd.isna(one_gap.graduation_trend_3yr)
    assert one_gap.graduation_trend_3yr_reason == "no value for 2019"
    assert one_gap.math_proficiency_trend_3yr == pytest.approx(70.0 - (70.0 - 0.5 * 3 * 2))
    assert pd.isna(one_gap.math_proficiency_trend_3yr_reason)
    no_rate = d.loc["0300008"]
    assert no_rate.graduation_trend_3yr_reason == "no value for 2022"


def test_biennial_absenteeism_uses_the_two_latest_points(con, fixed) -> None:
    on = district_benchmarks(con, DISTRICT, year=2022).districts.set_index("district_id")
    off = district_benchmarks(con, DISTRICT, year=2021).districts.set_index("district_id")
    biennial, annual = "0100002", "0100001"
    # biennial (2018, 2020, 2022): 2022 vs 2020
    assert (
        on.loc[biennial].absenteeism_trend_from_year,
        on.loc[biennial].absenteeism_trend_to_year,
    ) == (2020, 2022)
    assert on.loc[biennial].absenteeism_trend_3yr == pytest.approx(1.0)  # +0.5 a year
    # off-year 2021: no value this year (so no delta, no flag) but the trend 2018 → 2020 stands
    assert pd.isna(off.loc[biennial].absenteeism)
    assert pd.isna(off.loc[biennial].absenteeism_vs_state)
    assert off.loc[biennial].absenteeism_quartile_state_reason == "no value for this year"
    assert (
        off.loc[biennial].absenteeism_trend_from_year,
        off.loc[biennial].absenteeism_trend_to_year,
    ) == (2018, 2020)
    # annual data: a true 3-year change, 2019 → 2022
    assert (
        on.loc[annual].absenteeism_trend_from_year,
        on.loc[annual].absenteeism_trend_to_year,
    ) == (2019, 2022)
    assert on.loc[annual].absenteeism_trend_3yr == pytest.approx(1.5)
    assert pd.isna(on.loc[annual].absenteeism_trend_3yr_reason)


def test_absenteeism_without_earlier_point_says_so(con) -> None:
    frame = pd.DataFrame(
        {
            "district_id": ["0900001"] * 2,
            "year": [2016, 2022],
            "name": "Lone",
            "state": "ZZ",
            "enrollment": 900,
            "chronic_absenteeism_pct": [20.0, 25.0],
        }
    ).reindex(columns=COLUMNS)
    insert_districts(con, frame)
    row = district_benchmarks(con, DISTRICT, year=2022).districts.iloc[0]
    assert pd.isna(row.absenteeism_trend_3yr)
    assert row.absenteeism_trend_3yr_reason == "no earlier value within 3 years of 2022"


def test_state_with_three_districts_has_no_quartile_flags(con, fixed) -> None:
    bb = district_benchmarks(con, DISTRICT, state="BB", year=2022).districts
    assert len(bb) == 3
    for key in KEYS:
        assert bb[f"{key}_quartile_state"].isna().all()
        assert bb[f"{key}_reading"].isna().all()
        assert set(bb[f"{key}_quartile_state_reason"]) == {
            "fewer than 4 districts in the state report it"
        }
    # deltas and trends are still there
    assert bb.math_proficiency_vs_state.notna().all()


def test_ties_at_quartile_boundaries_share_a_label(con, fixed) -> None:
    cc = district_benchmarks(con, DISTRICT, state="CC", year=2022).districts
    by_value = dict(zip(cc.math_proficiency, cc.math_proficiency_quartile_state, strict=False))
    # 10, 20, 20, 30, 30, 30, 40, 50: 20 sits exactly at 0.25 → below; 30 at 0.5625 → above
    assert by_value == {
        10.0: "well_below",
        20.0: "below",
        30.0: "above",
        40.0: "well_above",
        50.0: "well_above",
    }
    assert cc.groupby("math_proficiency").math_proficiency_quartile_state.nunique().max() == 1
    dd = district_benchmarks(con, DISTRICT, state="DD", year=2022).districts
    # 1, 2, 3, 3: the tied 3s sit exactly at 0.75 → both well_above
    assert dd.sort_values("math_proficiency").math_proficiency_quartile_state.tolist() == [
        "well_below",
        "below",
        "well_above",
        "well_above",
    ]


def _tied_districts(seed: int) -> pd.DataFrame:
    """States of 1 to 13 districts whose values come from a handful of levels (ties everywhere,
    at every quartile boundary), with gaps: blanks, missing years, 0 pupils, 0 teachers."""
    rng = np.random.default_rng(seed)
    levels = {
        "enrollment": [0, 100, 200, 200, 500],
        "swd_count": [0, 10, 20, 40],
        "ell_count": [0, 5, 10],
        "chronic_absenteeism_pct": [10.0, 12.0, 12.0, 15.0],
        "graduation_rate_pct": [80.0, 90.0, 90.0, 95.0],
        "teachers_fte": [0.0, 10.0, 20.0],
        "math_proficiency_pct": [30.0, 40.0, 40.0, 50.0],
        "read_proficiency_pct": [45.0, 60.0],
        "expenditure_pp": [10_000.0, 12_000.0, 12_000.0],
    }
    rows = []
    for state_number, size in enumerate(rng.integers(1, 14, 8)):
        for district in range(size):
            for year in range(2015, 2023):
                if rng.random() < 0.1:
                    continue
                row = {
                    "district_id": f"S{state_number}{district:04d}",
                    "year": year,
                    "name": f"D{state_number}-{district}",
                    "state": f"S{state_number}",
                }
                for column, values in levels.items():
                    row[column] = None if rng.random() < 0.15 else rng.choice(values)
                rows.append(row)
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_figure_matches_pandas_with_ties_everywhere(con, seed: int) -> None:
    frame = _tied_districts(seed)
    insert_districts(con, frame)
    everything = district_benchmarks(con, DISTRICT, all_years=True).districts
    for year in (2022, 2020, 2018):
        got = district_benchmarks(con, DISTRICT, year=year)
        _compare(got.districts, reference.district_table(frame, year))
        part = everything[everything.year == year].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, got.districts)


def test_inverted_metrics_keep_the_label_and_flip_the_reading(con, fixed) -> None:
    d = district_benchmarks(con, DISTRICT, year=2022).districts
    high_ratio = d[d.student_teacher_ratio_quartile_state == "well_above"]
    assert len(high_ratio) > 0 and set(high_ratio.student_teacher_ratio_reading) == {"bad"}
    low_absence = d[d.absenteeism_quartile_state.isin(["below", "well_below"])]
    assert len(low_absence) > 0 and set(low_absence.absenteeism_reading) == {"good"}
    high_grad = d[d.graduation_quartile_state == "well_above"]
    assert set(high_grad.graduation_reading) == {"good"}
    flagged_spend = d[d.expenditure_pp_quartile_state.notna()]
    assert set(flagged_spend.expenditure_pp_reading) == {"neutral"}


def test_filters_keep_state_wide_context(con, fixed) -> None:
    everything = district_benchmarks(con, DISTRICT, year=2022).districts.set_index("district_id")
    one = district_benchmarks(con, DISTRICT, year=2022, district="0300004")
    assert len(one.districts) == 1
    row = one.districts.iloc[0]
    for column in ("math_proficiency_quartile_state", "math_proficiency_vs_national"):
        assert row[column] == everything.loc["0300004", column]
    assert one.state_averages.state.tolist() == ["CC"]
    assert one.national_averages.state.tolist() == ["US"]


def test_default_year_is_the_latest_and_lists_are_sorted(con, fixed) -> None:
    assert district_benchmarks(con, DISTRICT).year == 2022
    assert benchmark_years(con, DISTRICT) == [2022, 2021, 2020, 2019, 2018]
    assert benchmark_states(con, DISTRICT, 2022) == ["AA", "BB", "CC", "DD"]


def test_public_data_reads_the_same_for_every_role(con, fixed) -> None:
    teacher = Scope(username="t", role="teacher", schools=("X",), sections=("s1",))
    a = district_benchmarks(con, DISTRICT, year=2022).districts
    b = district_benchmarks(con, teacher, year=2022).districts
    pd.testing.assert_frame_equal(a, b)


def test_history_gives_every_year_for_trend_lines(con, fixed) -> None:
    history = district_history(con, DISTRICT, "0100005")
    assert history.year.tolist() == [2018, 2020, 2021, 2022]
    assert history.math_proficiency.iloc[-1] == 80.0
    lines = average_history(con, DISTRICT, "AA")
    assert set(lines.state) == {"AA", "US"}
    assert sorted(lines[lines.state == "US"].year) == list(range(2018, 2023))
    states, national = reference.averages(reference.derived(fixed_frame(con)), 2019)
    got = lines[(lines.state == "AA") & (lines.year == 2019)].iloc[0]
    assert got.math_proficiency == pytest.approx(
        states.set_index("state").loc["AA", "math_proficiency"]
    )


def fixed_frame(con) -> pd.DataFrame:
    return con.execute("select * exclude (job_id, updated_at) from district_years").df()


def test_empty_warehouse_gives_empty_answers(con) -> None:
    result = district_benchmarks(con, DISTRICT)
    assert result.year is None
    assert result.districts.empty and result.state_averages.empty
    assert benchmark_years(con, DISTRICT) == []


def test_all_years_answer_equals_each_year_asked_alone(con, fixed) -> None:
    everything = district_benchmarks(con, DISTRICT, all_years=True)
    assert everything.year is None and len(everything.districts) == len(fixed)
    for year in (2021, 2022):
        alone = district_benchmarks(con, DISTRICT, year=year).districts
        part = everything.districts[everything.districts.year == year].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone)
    assert sorted(everything.national_averages.year) == [2018, 2019, 2020, 2021, 2022]


def test_timing_helper_runs_on_a_small_warehouse() -> None:
    from core.districts.timing import time_district_benchmarks

    result = time_district_benchmarks(n_districts=40, years=4, repeats=1)
    assert (result["rows"], result["latest_year_rows"], result["all_years_rows"]) == (160, 40, 160)
    assert result["latest_year_seconds"] > 0 and result["all_years_seconds"] > 0
