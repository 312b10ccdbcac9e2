"""The demo generator: reproducible, realistic sizes and shares, persistent students, scores that
follow the norms, and the planted truths of core/demo/district.py's docstring, checked with scipy
on the
generated raw scores."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.demo.district import PLANTED, generate, school_years
from core.demo.files import LONG_COLUMNS, roster_frame, write_long_csv, write_roster_csv
from core.demo.population import synthetic_schools
from core.demo.scores import norm_table
from core.stats.inference import benjamini_hochberg

LATEST, PRIOR = "2024-2025", "2023-2024"


@pytest.fixture(scope="module")
def district():
    return generate()


@pytest.fixture(scope="module")
def scored(district) -> pd.DataFrame:
    """Scores with their norm and standardized value z = (score - norm mean) / norm sd."""
    frame = district.scores.merge(norm_table(), on=["subject", "grade", "season"], how="left")
    return frame.assign(z=(frame["score"] - frame["mean"]) / frame["sd"])


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hedges_g(a: np.ndarray, b: np.ndarray) -> float:
    # pingouin: compute_effsize(a, b, eftype="hedges")
    na, nb = len(a), len(b)
    pooled = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    return (a.mean() - b.mean()) / pooled * (1 - 3 / (4 * (na + nb) - 9))


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    first, again, other = generate(300, seed=7), generate(300, seed=7), generate(300, seed=8)
    pd.testing.assert_frame_equal(first.scores, again.scores)
    pd.testing.assert_frame_equal(first.students, again.students)
    paths = [tmp_path / f"{name}.csv" for name in ("a", "b", "c")]
    for frame, path in zip((first, again, other), paths, strict=True):
        write_long_csv(frame.scores, path)
    assert sha256(paths[0]) == sha256(paths[1])
    assert sha256(paths[0]) != sha256(paths[2])


def test_long_and_roster_files_carry_every_row(tmp_path):
    small = generate(300, seed=3)
    long_path = write_long_csv(small.scores, tmp_path / "long.csv")
    roster_path = write_roster_csv(roster_frame(small, LATEST), tmp_path / "roster.csv")
    long = pd.read_csv(long_path, dtype=str, keep_default_na=False)
    roster = pd.read_csv(roster_path, dtype=str, keep_default_na=False)
    assert list(long.columns[: len(LONG_COLUMNS)]) == list(LONG_COLUMNS)
    assert len(long) == len(small.scores)
    assert set(long["ell"]) == {"Y", "N"}
    assert long["score"].astype(int).tolist() == small.scores["score"].tolist()
    enrolled = small.enrollments[small.enrollments["school_year"] == LATEST]
    assert len(roster) == len(enrolled) == roster["Student_Number"].nunique()


def test_district_shape(district):
    scores, enrollments = district.scores, district.enrollments
    assert district.years == school_years(4) == ("2021-2022", "2022-2023", "2023-2024", LATEST)
    per_year = enrollments.groupby("school_year")["student_id"].nunique()
    assert per_year.between(2800, 3200).all()
    assert set(enrollments["grade"]) == {"K", *map(str, range(1, 9))}
    assert (set(scores["season"]), set(scores["subject"])) == (
        {"fall", "winter", "spring"},
        {"math", "reading"},
    )
    elementary = [s for s in district.schools if s.low == 0 and s.high in (5, 8)]
    assert len(elementary) >= 4
    missing = 1 - len(scores) / (len(enrollments) * 6)
    assert 0.03 <= missing <= 0.05
    assert len(scores) == len(
        scores.drop_duplicates(["student_id", "subject", "school_year", "season"])
    )


def test_demographic_shares(district):
    enrolled = district.enrollments.merge(district.students, on="student_id")
    shares = enrolled.groupby("school_year")[["ell", "sped", "frl"]].mean()
    assert shares["ell"].between(0.10, 0.15).all()
    assert shares["sped"].between(0.12, 0.15).all()
    assert shares["frl"].between(0.40, 0.60).all()
    gender = district.students["gender"].value_counts(normalize=True)
    assert gender["F"] == pytest.approx(0.49, abs=0.03)
    assert district.students["race_ethnicity"].nunique() == 7
    assert {"reading-recovery", "gifted", "none"} == set(district.students["program"])
    assert {"general", "co-taught", "dual-language"} == set(district.students["class_type"])
    names = pd.concat([district.students["first_name"], district.students["last_name"]])
    assert names.map(lambda name: not name.isascii()).sum() > 50


def test_sections_and_teachers(district):
    enrollments = district.enrollments
    per_group = enrollments.groupby(["school_year", "school", "grade"])["section"].nunique()
    assert per_group.min() >= 2
    elementary = per_group[per_group.index.get_level_values("grade").isin(["K", "1", "2", "3"])]
    assert elementary.between(2, 4).all()
    teachers = enrollments.groupby("section")["teacher"].nunique()
    assert (teachers == 1).all()  # one named teacher per section, the same every year
    assert enrollments.groupby("teacher")["section"].nunique().max() == 1


def test_students_persist_across_years(district):
    enrollments = district.enrollments
    grade_rank = enrollments["grade"].replace("K", "0").astype(int)
    frame = enrollments.assign(rank=grade_rank)
    for prior, year in zip(district.years, district.years[1:], strict=False):
        before = frame[(frame["school_year"] == prior) & (frame["rank"] < 8)]
        after = frame[frame["school_year"] == year]
        both = before.merge(after, on="student_id", suffixes=("_0", "_1"))
        assert 0.88 <= len(both) / len(before) <= 0.97  # some leave
        step = both["rank_1"] - both["rank_0"]
        assert set(step) == {0, 1}
        assert 0.003 <= (step == 0).mean() <= 0.03  # a few repeat a grade
        stayed_in_grade_span = both[both["rank_0"] != 5]
        changed = (stayed_in_grade_span["school_0"] != stayed_in_grade_span["school_1"]).mean()
        assert 0.01 <= changed <= 0.06  # a few change school
        newcomers = after[
            ~after["student_id"].isin(frame.loc[frame["school_year"] == prior, "student_id"])
        ]
        assert (newcomers["rank"] == 0).sum() > 250  # a new kindergarten class
        assert (newcomers["rank"] > 0).sum() > 50  # and movers


def test_percentiles_are_the_normal_curve_of_the_score(scored):
    expected = np.clip(np.round(100 * stats.norm.cdf(scored["z"])), 1, 99)
    assert (scored["percentile"] == expected).all()
    assert scored["mean"].notna().all()


def test_scores_follow_the_norms(scored):
    by_key = scored.groupby(["subject", "grade", "season"])["z"].agg(["mean", "std"])
    assert by_key["mean"].between(-0.45, 0.35).all()
    assert by_key["std"].between(0.85, 1.2).all()
    # a typical student's fall → spring growth equals the norms' (z unchanged), away from plants
    plain = scored[~scored["school"].isin([PLANTED.growth_school, PLANTED.decline_school])]
    wide = plain.pivot_table(
        index=["student_id", "school_year", "subject"], columns="season", values="z"
    ).dropna()
    assert (wide["spring"] - wide["fall"]).mean() == pytest.approx(0, abs=0.05)


def prior_year_tests(scores: pd.DataFrame) -> pd.DataFrame:
    """Welch test of every school × grade × subject × season: latest year vs prior year."""
    rows = []
    pair = scores[scores["school_year"].isin([LATEST, PRIOR])]
    for key, group in pair.groupby(["school", "grade", "subject", "season"]):
        a = group.loc[group["school_year"] == LATEST, "score"].to_numpy(float)
        b = group.loc[group["school_year"] == PRIOR, "score"].to_numpy(float)
        p = stats.ttest_ind(a, b, equal_var=False).pvalue
        rows.append((*key, len(a), len(b), p, hedges_g(a, b)))
    return pd.DataFrame(
        rows, columns=["school", "grade", "subject", "season", "na", "nb", "p", "g"]
    )


def test_planted_decline_is_real_and_survives_fdr(district):
    tests = prior_year_tests(district.scores)
    tests["flagged"] = benjamini_hochberg(tests["p"].to_numpy())[1]
    planted = tests[
        (tests["school"] == PLANTED.decline_school)
        & (tests["grade"] == PLANTED.decline_grade)
        & (tests["subject"] == PLANTED.decline_subject)
    ]
    assert len(planted) == 3 and (planted[["na", "nb"]] >= 70).all().all()
    assert (planted["p"] < 0.01).all()
    assert (planted["g"] <= -0.3).all()
    assert planted["flagged"].all()
    assert len(tests) > 150


def test_planted_ell_reading_gap_widens_every_year(scored):
    gaps = {}
    for subject in ("reading", "math"):
        part = scored[scored["subject"] == subject]
        means = part.groupby(["school_year", "ell"])["z"].mean().unstack()
        gaps[subject] = (means[False] - means[True]).to_numpy()
    reading, math = gaps["reading"], gaps["math"]
    assert (np.diff(reading) > 0).all()
    assert reading[-1] - reading[0] >= 0.4
    assert abs(math[-1] - math[0]) < 0.15  # math gap: stable (no plant)
    latest = scored[(scored["subject"] == "reading") & (scored["school_year"] == LATEST)]
    first = scored[(scored["subject"] == "reading") & (scored["school_year"] == "2021-2022")]
    # the gap's growth is real: difference in differences beyond chance (Welch on each year)
    for part in (first, latest):
        ell = part.loc[part["ell"], "z"]
        rest = part.loc[~part["ell"], "z"]
        assert stats.ttest_ind(ell, rest, equal_var=False).pvalue < 1e-6
        assert len(ell) > 900


def test_celebrations(scored):
    # Roosevelt: nearly every grade × subject × season cohort is Above the norm, every year
    roosevelt = scored[scored["school"] == "Roosevelt Elementary"]
    for _, year in roosevelt.groupby("school_year"):
        above = 0
        for _, cohort in year.groupby(["grade", "subject", "season"], observed=True):
            test = stats.ttest_1samp(cohort["score"], cohort["mean"].iloc[0])
            above += bool(test.pvalue < 0.05 and cohort["z"].mean() >= 0.2)
        assert above >= 34  # of 36
    cohort = scored[
        (scored["school"] == PLANTED.growth_school)
        & (scored["grade"] == PLANTED.growth_grade)
        & (scored["subject"] == PLANTED.growth_subject)
        & (scored["school_year"] == LATEST)
    ]
    wide = cohort.pivot_table(index="student_id", columns="season", values="z").dropna()
    change = wide["spring"] - wide["fall"]  # growth beyond the norms' expected growth, in SDs
    assert change.mean() > 0.3
    assert stats.ttest_1samp(change, 0).pvalue < 1e-6


def test_more_years_and_other_sizes():
    small = generate(450, years=5, seed=11)
    assert small.years[0] == "2020-2021" and small.years[-1] == LATEST
    per_year = small.enrollments.groupby("school_year").size()
    assert per_year.between(400, 500).all()


def test_a_bigger_district_of_synthetic_schools():
    schools = synthetic_schools(9, seed=2)
    assert len(schools) == 12 and len({s.name for s in schools}) == 12
    district = generate(1800, years=2, seed=4, schools=schools)
    enrolled = district.enrollments
    assert enrolled["school"].nunique() == 12
    middle = {s.name for s in schools if s.low == 6}
    in_middle = enrolled["school"].isin(middle)
    assert set(enrolled.loc[in_middle, "grade"]) == {"6", "7", "8"}
    assert set(enrolled.loc[~in_middle, "grade"]) == {"K", "1", "2", "3", "4", "5"}
