"""Matched growth equals scipy's paired test on the raw pairs; who is dropped and counted how."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import CohortSpec
from core.compare.growth import (
    all_matched_growth,
    growth_trajectory,
    matched_cohort,
    matched_growth,
    parse_period,
)
from core.standards import norms
from core.stats.sufficient import ALL_SCHOOLS
from core.warehouse import settings
from tests.compare.district import NORM_TABLE

REL = 1e-9
FALL, SPRING = ("fall", "2024-2025"), ("spring", "2024-2025")
SPEC = CohortSpec.from_dict({"grade": "4", "subject": "reading", "schools": ["Lincoln"]})


def pairs(district, later: dict, from_: tuple[str, str], to: tuple[str, str]) -> pd.DataFrame:
    """Reference: the later cohort left-joined to each member's own earlier score, in pandas."""
    now = district.scores(season=to[0], school_year=to[1], **later)
    then = district.scores(season=from_[0], school_year=from_[1], subject=later["subject"])
    return now.merge(then, on=["student_id", "subject"], how="left", suffixes=("", "_from"))


def z_of(rows: pd.DataFrame, score: str, grade: str, season: str) -> pd.Series:
    keys = pd.MultiIndex.from_arrays([rows["subject"], rows[grade], rows[season]])
    mean, sd = NORM_TABLE["mean"].reindex(keys), NORM_TABLE["sd"].reindex(keys)
    return (rows[score].to_numpy() - mean.to_numpy()) / sd.to_numpy()


def test_within_year_growth_matches_ttest_rel(district) -> None:
    row = matched_growth(district.con, SPEC, DISTRICT, FALL, SPRING).iloc[0]
    ref_rows = pairs(
        district, {"grade": "4", "subject": "reading", "school": "Lincoln"}, FALL, SPRING
    )
    matched = ref_rows.dropna(subset=["score_from"])
    ref = sps.ttest_rel(matched["score"], matched["score_from"])  # scipy: ttest_rel(after, before)
    ci = ref.confidence_interval()
    assert row["n"] == len(matched)
    # Privacy rule (issue 15): 1 … 9 students left out are not counted aloud, and the member
    # count that would give them back (members − n) is blank too.
    assert 0 < len(ref_rows) - len(matched) < 10
    assert np.isnan(row["dropped"]) and np.isnan(row["members"])
    assert "had no score at the earlier test" in row["note"]
    change = matched["score"] - matched["score_from"]
    assert row["mean_change"] == pytest.approx(change.mean(), rel=REL)
    assert row["sd_change"] == pytest.approx(change.std(ddof=1), rel=REL)
    assert (row["t"], row["df"], row["p"]) == pytest.approx(
        (ref.statistic, ref.df, ref.pvalue), rel=REL
    )
    assert (row["ci_lo"], row["ci_hi"]) == pytest.approx((ci.low, ci.high), rel=REL)
    # against the norm: each score against its own grade and season
    dz = z_of(matched, "score", "grade", "season") - z_of(
        matched, "score_from", "grade_from", "season_from"
    )
    assert row["z_change"] == pytest.approx(dz.mean(), rel=REL)
    assert row["p_z"] == pytest.approx(sps.ttest_1samp(dz, 0).pvalue, rel=REL)
    dpct = matched["percentile"] - matched["percentile_from"]
    assert row["pct_change"] == pytest.approx(dpct.mean(), rel=REL, abs=1e-12)


def test_expected_growth_without_a_growth_norm_is_the_norm_means_difference(district) -> None:
    row = matched_growth(district.con, SPEC, DISTRICT, FALL, SPRING).iloc[0]
    gap = (
        NORM_TABLE.loc[("reading", "4", "spring"), "mean"]
        - NORM_TABLE.loc[("reading", "4", "fall"), "mean"]
    )
    assert row["expected_growth"] == pytest.approx(gap, rel=REL)
    assert "not a growth norm" in row["expected_source"]
    ref_rows = pairs(
        district, {"grade": "4", "subject": "reading", "school": "Lincoln"}, FALL, SPRING
    )
    matched = ref_rows.dropna(subset=["score_from"])
    met = (matched["score"] - matched["score_from"]) >= gap
    assert row["pct_meeting"] == pytest.approx(100 * met.mean(), rel=REL)
    beyond = matched["score"] - matched["score_from"] - gap
    assert row["p_vs_expected"] == pytest.approx(sps.ttest_1samp(beyond, 0).pvalue, rel=REL)


def test_a_published_growth_norm_is_used_when_the_norms_year_has_one(con) -> None:
    from tests.compare.district import Plan, build

    build(con, Plan(per_cohort=15, years=("2024-2025",)))
    settings.put(con, "norms_year", "2025")
    published = norms.growth_norm_for(con, "reading", "4", "fall", "4", "spring")
    spec = CohortSpec.from_dict({"grade": "4", "subject": ["reading", "math"]})
    rows = matched_growth(con, spec, DISTRICT, FALL, SPRING).set_index("subject")
    assert rows.loc["reading", "expected_growth"] == pytest.approx(published.mean, rel=REL)
    assert "2025" in rows.loc["reading", "expected_source"]
    # math has no published growth norm: the labelled fallback
    assert "not a growth norm" in rows.loc["math", "expected_source"]


def test_spring_to_spring_matches_wherever_they_were(district) -> None:
    last, this = ("spring", "2023-2024"), SPRING
    spec = SPEC.replace(schools=None, grade="5")
    row = matched_cohort(
        district.con, spec.replace(season="spring", school_year="2024-2025"), DISTRICT
    ).iloc[0]
    ref_rows = pairs(district, {"grade": "5", "subject": "reading"}, last, this)
    matched = ref_rows.dropna(subset=["score_from"])
    ref = sps.ttest_rel(matched["score"], matched["score_from"])
    assert row["n"] == len(matched) and row["t"] == pytest.approx(ref.statistic, rel=REL)
    moved = (matched["school"] != matched["school_from"]).sum()
    repeated = (matched["grade_from"] == "5").sum()
    for column, count in (("changed_school", moved), ("repeated_grade", repeated)):
        if 0 < count < 10:  # a count of 1–9 students is not shown
            assert np.isnan(row[column])
        else:
            assert row[column] == count
    dz = z_of(matched, "score", "grade", "season") - z_of(
        matched, "score_from", "grade_from", "season_from"
    )
    assert row["z_change"] == pytest.approx(dz.mean(), rel=REL)
    assert row["mean_z_to"] == pytest.approx(
        z_of(matched, "score", "grade", "season").mean(), rel=REL
    )


def test_district_wide_growth_equals_one_cohort_at_a_time(district) -> None:
    grid = all_matched_growth(district.con, DISTRICT, FALL, SPRING)
    assert set(grid["school"]) == {"Lincoln", "Washington", "Jefferson", ALL_SCHOOLS}
    assert len(grid) == 4 * 3 * 2
    for school in ("Washington", ALL_SCHOOLS):
        got = grid[
            (grid["school"] == school) & (grid["grade"] == "3") & (grid["subject"] == "math")
        ]
        spec = CohortSpec.from_dict({"grade": "3", "subject": "math"})
        if school != ALL_SCHOOLS:
            spec = spec.replace(schools=[school])
        one = matched_growth(district.con, spec, DISTRICT, FALL, SPRING).iloc[0]
        for column in (
            "n",
            "dropped",
            "mean_change",
            "sd_change",
            "t",
            "p",
            "z_change",
            "pct_meeting",
        ):
            # nan_ok: a count hidden by the privacy rule is hidden in both answers alike
            assert got.iloc[0][column] == pytest.approx(one[column], rel=REL, nan_ok=True)
    reported = grid["p"].notna()
    assert grid.loc[reported, "p_adj"].to_numpy() == pytest.approx(
        sps.false_discovery_control(grid.loc[reported, "p"].to_numpy(), method="bh"), rel=REL
    )


def _student(con, sid: str, rows: list[tuple]) -> None:
    con.executemany(
        "insert into assessments (student_id, platform, subject, school_year, season, school_id,"
        " grade, score) values (?, ?, 'math', ?, 'spring', ?, ?, ?)",
        [(sid, *row) for row in rows],
    )


def test_movers_repeaters_missing_and_second_platform_are_counted(con) -> None:
    con.execute("insert into schools (name) values ('Lincoln'), ('Washington')")
    last, this = "2023-2024", "2024-2025"
    for i in range(10):
        _student(
            con,
            f"stay{i}",
            [("nwea_map", last, 1, "3", 190 + i), ("nwea_map", this, 1, "4", 200 + i)],
        )
        _student(
            con,
            f"move{i}",
            [("nwea_map", last, 2, "3", 185 + i), ("nwea_map", this, 1, "4", 199 + i)],
        )
        _student(
            con,
            f"rep{i}",
            [("nwea_map", last, 1, "4", 195 + i), ("nwea_map", this, 1, "4", 198 + 2 * i)],
        )
        _student(con, f"new{i}", [("nwea_map", this, 1, "4", 205)])
        # earlier score only on another platform: not a match (a change never crosses scales)
        _student(con, f"star{i}", [("star", last, 1, "3", 600), ("nwea_map", this, 1, "4", 210)])
    spec = CohortSpec.from_dict({"grade": "4", "subject": "math", "schools": ["Lincoln"]})
    row = matched_growth(con, spec, DISTRICT, ("spring", last), ("spring", this)).iloc[0]
    assert (row["members"], row["n"], row["dropped"]) == (50, 30, 20)
    assert (row["changed_school"], row["repeated_grade"]) == (10, 10)
    before = (
        [190 + i for i in range(10)] + [185 + i for i in range(10)] + [195 + i for i in range(10)]
    )
    after = (
        [200 + i for i in range(10)]
        + [199 + i for i in range(10)]
        + [198 + 2 * i for i in range(10)]
    )
    assert row["t"] == pytest.approx(sps.ttest_rel(after, before).statistic, rel=REL)


def test_unbalanced_tests_and_the_balanced_trajectory(district) -> None:
    spec = CohortSpec.from_dict({"grade": "4", "subject": "math"})
    periods = [FALL, ("winter", "2024-2025"), SPRING]
    path = growth_trajectory(district.con, spec, DISTRICT, periods)
    now = district.scores(grade="4", subject="math", season="spring", school_year="2024-2025")
    tested = district.scores(subject="math", school_year="2024-2025")
    counts = tested[tested["student_id"].isin(now["student_id"])].groupby("student_id").size()
    complete = counts[counts == 3].index
    assert list(path["period"]) == [0, 1, 2]
    assert (path["n"] == len(complete)).all() and (path["members"] == len(now)).all()
    assert (path["dropped"] == len(now) - len(complete)).all()
    winter = tested[tested["student_id"].isin(complete) & (tested["season"] == "winter")]
    assert path.iloc[1]["mean"] == pytest.approx(winter["score"].mean(), rel=REL)
    # pairwise growth keeps students who miss only the other test
    fall_to_spring = matched_growth(district.con, spec, DISTRICT, FALL, SPRING).iloc[0]
    assert fall_to_spring["n"] > len(complete)


def test_small_cohorts_and_scope(district) -> None:
    tiny = SPEC.replace(filters={"race_ethnicity": "Two or more"})
    row = matched_growth(district.con, tiny, DISTRICT, FALL, SPRING).iloc[0]
    assert row["suppressed"] and np.isnan(row["mean_change"]) and np.isnan(row["dropped"])
    teacher = Scope(username="t", role="teacher", sections=("nobody",))
    assert matched_growth(district.con, SPEC, teacher, FALL, SPRING).empty
    principal = Scope(username="p", role="school_admin", schools=("Washington",))
    grid = all_matched_growth(district.con, principal, FALL, SPRING)
    assert set(grid["school"]) == {"Washington"}


def test_parse_period() -> None:
    assert parse_period("Fall:2024-25") == ("fall", "2024-2025")
    assert parse_period("spring", "2023-2024") == ("spring", "2023-2024")
    with pytest.raises(ValueError, match="season"):
        parse_period("summer:2024-2025")
    with pytest.raises(ValueError, match="school year"):
        parse_period("fall")
