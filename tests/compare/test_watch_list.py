"""The watch list against an independent pandas reading of the seeded district's raw scores and
the 2020 norm file (no core code computes the reference), its scope, and its cut-score rule."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from core.access.scope import Scope
from core.alerts.watch_list import COLUMNS, readable, summary_sentence, watch_list, with_reasons
from core.cohorts.spec import CohortSpec
from core.standards import norms
from tests.compare.district import NORM_TABLE
from tests.standards import seed as standards_seed

YEAR = "2024-2025"
RANK = {"fall": 1, "winter": 2, "spring": 3}
FLAGS = ["below_25th", "below_cut", "low_growth", "missed_test"]


def _spec(subject: str = "math", **more: object) -> CohortSpec:
    return CohortSpec.from_dict({"school_year": YEAR, "subject": subject, **more})


def _enrollments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "select e.student_id, e.school_year, sc.name as school, e.grade, e.section "
        "from enrollments e join schools sc using (school_id)"
    ).df()


def reference(district, subject: str, sections: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The list by hand: the year's enrolled students (a teacher: those in their sections), their
    latest score against the 2020 norm's 25th percentile, fall → latest change against the
    difference of the norm means, and the latest window missed while their school × grade took
    it. One row per flagged student."""
    enrolled = _enrollments(district.con)
    roster = enrolled[enrolled["school_year"] == YEAR]
    if sections is not None:
        roster = roster[
            roster["student_id"].isin(roster.loc[roster.section.isin(sections), "student_id"])
        ]
    raw = district.scores(school_year=YEAR, subject=subject)
    scores = raw[raw["student_id"].isin(roster["student_id"])].assign(
        rank=lambda d: d.season.map(RANK)
    )
    window = scores.loc[scores["rank"].idxmax(), "season"]
    latest = scores.sort_values("rank").groupby("student_id").last()
    mean = [
        NORM_TABLE.loc[(subject, g, s), "mean"]
        for g, s in zip(latest.grade, latest.season, strict=True)
    ]
    sd = [
        NORM_TABLE.loc[(subject, g, s), "sd"]
        for g, s in zip(latest.grade, latest.season, strict=True)
    ]
    z = (latest["score"] - np.array(mean)) / np.array(sd)
    out = pd.DataFrame(index=pd.Index(sorted(roster["student_id"].unique()), name="student_id"))
    out["percentile"] = np.clip(np.floor(100 * sps.norm.cdf(z)), 1, 99)
    out["below_25th"] = (z < sps.norm.ppf(0.25)).reindex(out.index, fill_value=False)
    fall = raw[raw.season == "fall"].set_index("student_id")  # the earlier score: wherever
    last = scores[scores.season == window].set_index("student_id")
    both = last.merge(fall, left_index=True, right_index=True, suffixes=("", "_fall"))
    expected = [
        NORM_TABLE.loc[(subject, g, window), "mean"] - NORM_TABLE.loc[(subject, f, "fall"), "mean"]
        for g, f in zip(both.grade, both.grade_fall, strict=True)
    ]
    out["growth"] = both["score"] - both["score_fall"]
    out["expected_growth"] = pd.Series(expected, index=both.index)
    out["low_growth"] = (out["expected_growth"] > 0) & (
        out["growth"] < 0.5 * out["expected_growth"]
    )
    took = set(zip(last.school, last.grade, strict=True))
    classmates = roster[[(s, g) in took for s, g in zip(roster.school, roster.grade, strict=True)]]
    out["missed_test"] = out.index.isin(classmates.student_id) & ~out.index.isin(last.index)
    out["below_cut"] = False
    flagged = out[out[FLAGS].any(axis=1)]
    return flagged.sort_index()


def _by_student(result) -> pd.DataFrame:
    return result.students.set_index("student_id").sort_index()


@pytest.mark.parametrize("subject", ["math", "reading"])
def test_the_district_list_equals_a_pandas_reading(district, subject) -> None:
    result = watch_list(district.con, _spec(subject), Scope())
    expected = reference(district, subject)
    got = _by_student(result)
    assert list(got.index) == list(expected.index)
    for flag in FLAGS:
        assert (got[flag] == expected[flag]).all(), flag
    pd.testing.assert_series_equal(got["percentile"], expected["percentile"], check_names=False)
    for column in ("growth", "expected_growth"):
        np.testing.assert_allclose(got[column], expected[column], atol=1e-9)
    assert (
        result.total
        == _enrollments(district.con).query("school_year == @YEAR").student_id.nunique()
    )
    assert result.latest_season == "spring" and result.growth_window == ("fall", "spring")
    assert got["missed_test"].sum() > 0 and got["low_growth"].sum() > 0


def test_most_concerning_first_and_reasons_in_plain_words(district) -> None:
    students = watch_list(district.con, _spec(), Scope()).students
    assert list(students.columns) == COLUMNS
    assert students["n_reasons"].is_monotonic_decreasing
    for _, group in students.groupby("n_reasons", sort=False):
        assert group["percentile"].dropna().is_monotonic_increasing
    row = students[students.below_25th & students.low_growth].iloc[0]
    assert row["reasons"] == (
        f"Below the 25th percentile in spring (percentile {row.percentile:.0f}); Grew less than "
        f"half the expected growth since fall ({row.growth:+.1f} vs "
        f"{row.expected_growth:+.1f} points)"
    )
    missed = students[students.missed_test].iloc[0]
    assert missed["reasons"].endswith("Missed the spring test")
    assert "Cut score" not in readable(students).columns  # no cut scores loaded: column left out


def test_summary_counts_each_reason(district) -> None:
    result = watch_list(district.con, _spec(), Scope())
    counts = result.students[FLAGS].sum()
    assert summary_sentence(result) == (
        f"{len(result.students):,} of your {result.total:,} students need a look in math, {YEAR}: "
        f"{counts.below_25th:,} scored below the 25th percentile, {counts.low_growth:,} grew less "
        f"than half the expected growth since fall, {counts.missed_test:,} missed the spring test."
    )
    only_missed = with_reasons(result.students, ["missed_test"])
    assert len(only_missed) == counts.missed_test and only_missed.missed_test.all()


def test_a_teacher_sees_only_their_sections(district) -> None:
    sections = ("0-3-0",)  # Lincoln grade 3, first section
    teacher = Scope(username="t", role="teacher", schools=("Lincoln",), sections=sections)
    result = watch_list(district.con, _spec(), teacher)
    expected = reference(district, "math", sections)
    got = _by_student(result)
    assert list(got.index) == list(expected.index) and len(got) > 0
    for flag in FLAGS:
        assert (got[flag] == expected[flag]).all(), flag
    assert set(got["section"]) == {"0-3-0"} and set(got["school"]) == {"Lincoln"}
    roster = _enrollments(district.con).query("school_year == @YEAR and section in @sections")
    assert result.total == roster.student_id.nunique()


def test_a_principal_sees_their_school_and_others_see_nothing(district) -> None:
    principal = Scope(username="p", role="school_admin", schools=("Washington",))
    students = watch_list(district.con, _spec(), principal).students
    assert set(students["school"]) == {"Washington"}
    nobody = Scope(username="t", role="teacher", sections=())
    empty = watch_list(district.con, _spec(), nobody)
    assert empty.total == 0 and empty.students.empty
    assert summary_sentence(empty).startswith("You have no students")
    with pytest.raises(PermissionError):
        watch_list(district.con, _spec(), Scope(username="v", role="viewer", schools=("Lincoln",)))


def test_one_year_and_one_subject(district) -> None:
    with pytest.raises(ValueError, match="one subject"):
        watch_list(district.con, CohortSpec.from_dict({"school_year": YEAR}), Scope())


def test_cut_scores_replace_the_25th_percentile_where_loaded(con) -> None:
    """Grade 3 math spring has state cut scores (proficient from 200): those students are flagged
    below 200, not below the 25th percentile; the other grades keep the 25th percentile; science
    in K has no norm, so the vendor's percentile decides there."""
    raw = standards_seed.seed(con)
    norms.save_standard_set(
        con, "cut_scores", "State test", "2025", standards_seed.state_cut_scores()
    )
    got = _by_student(watch_list(con, _spec("math"), Scope()))
    spring = raw[raw.season == "spring"].set_index("student_id")
    math = spring[spring.subject == "math"]
    grade3, grade4 = math[math.grade == "3"], math[math.grade == "4"]  # grade 3: both schools
    assert set(got.index[got.below_cut]) == set(grade3.index[grade3.score < 200]) != set()
    assert not got.loc[got.index.isin(grade3.index), "below_25th"].any()
    assert (got.loc[got.below_cut, "cut_score"] == 200).all()
    mean, sd = standards_seed.norms_2020().loc[("math", "4", "spring"), ["mean", "sd"]]
    p25 = mean + sd * sps.norm.ppf(0.25)
    low4 = got.below_25th & got.index.isin(grade4.index)
    assert set(got.index[low4]) == set(grade4.index[grade4.score < p25]) != set()
    science = _by_student(watch_list(con, _spec("science", grade="K"), Scope()))
    k = spring[(spring.subject == "science") & (spring.grade == "K")]
    assert set(science.index[science.below_25th]) == set(k.index[k.percentile < 25]) != set()
    low = science[science.below_25th]
    assert (low["percentile"] == k.loc[low.index, "percentile"]).all()


def test_a_teacher_sees_their_own_sections_of_a_student(con) -> None:
    standards_seed.seed(con)
    con.execute(
        "insert into enrollments select student_id, school_year, school_id, grade, 'Mr. Music', "
        "'MUSIC-1' from enrollments where section = 'Lincoln Elementary-4'"
    )
    teacher = Scope(
        username="t",
        role="teacher",
        schools=("Lincoln Elementary",),
        sections=("Lincoln Elementary-4",),
    )
    students = watch_list(con, _spec("math"), teacher).students
    assert len(students) > 0
    assert set(students["section"]) == {"Lincoln Elementary-4"}
    assert "Mr. Music" not in set(students["teacher"])
    admin = watch_list(con, _spec("math"), Scope()).students
    assert "MUSIC-1" in set(admin.loc[admin.grade == "4", "section"].str.split(", ").sum())
