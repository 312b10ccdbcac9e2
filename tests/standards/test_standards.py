"""cohort_vs_norm: every statistic equals an independent computation on the raw member scores
(scipy / numpy / pingouin), to 1e-9 relative, plus the edge cases the design names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats as sps

from core.access.scope import DISTRICT
from core.cohorts.spec import CohortSpec
from core.standards import norms
from core.standards.standing import cohort_vs_norm, standards_in_use
from tests.standards.seed import norms_2020, state_cut_scores

REL = 1e-9
NORMS = norms_2020()
LINCOLN_3 = {"grade": "3", "schools": ["Lincoln Elementary"], "subject": "math", "season": "spring"}


def _members(raw: pd.DataFrame, school: str, grade: str, subject: str, season: str) -> pd.DataFrame:
    return raw[
        (raw.school == school)
        & (raw.grade == grade)
        & (raw.subject == subject)
        & (raw.season == season)
    ]


def test_every_statistic_matches_scipy_on_raw_scores(seeded) -> None:
    con, raw = seeded
    result = cohort_vs_norm(con, CohortSpec(), DISTRICT)
    checked = result[~result.suppressed & result.t.notna()]
    assert len(checked) >= 16
    for row in checked.itertuples():
        members = _members(raw, row.school, row.grade, row.subject, row.season)
        x = members.score.to_numpy()
        mu, sigma = NORMS.loc[(row.subject, row.grade, row.season), ["mean", "sd"]]
        ref = sps.ttest_1samp(x, mu)  # scipy: ttest_1samp(scores, norm mean)
        ci = ref.confidence_interval()
        assert row.n == len(x)
        assert row.mean == pytest.approx(np.mean(x), rel=REL)
        assert row.sd == pytest.approx(np.std(x, ddof=1), rel=REL)
        assert row.median == pytest.approx(np.median(x), rel=REL)
        assert row.mean_percentile == pytest.approx(members.percentile.mean(), rel=REL)
        # scipy: the norm's normal cdf at the cohort's mean, as a percentile rank
        assert row.percentile_of_mean == pytest.approx(
            100 * sps.norm.cdf(np.mean(x), loc=mu, scale=sigma), rel=REL
        )
        assert row.pct_at_or_above_norm == pytest.approx(np.mean(x >= mu), rel=REL)
        assert (row.norm_mean, row.norm_sd) == (mu, sigma)
        assert row.diff == pytest.approx(np.mean(x) - mu, rel=REL)
        assert row.t == pytest.approx(ref.statistic, rel=REL)
        assert row.df == ref.df
        assert row.p == pytest.approx(ref.pvalue, rel=REL)
        assert row.ci_lo == pytest.approx(ci.low - mu, rel=REL)
        assert row.ci_hi == pytest.approx(ci.high - mu, rel=REL)
        assert row.effect_size == pytest.approx((np.mean(x) - mu) / sigma, rel=REL)
        assert row.norm_source == "NWEA MAP Growth 2020 student achievement norms"


def test_one_sample_matches_pingouin(seeded) -> None:
    con, raw = seeded
    row = cohort_vs_norm(con, CohortSpec.from_dict(LINCOLN_3), DISTRICT).iloc[0].to_dict()
    x = _members(raw, "Lincoln Elementary", "3", "math", "spring").score.to_numpy()
    ref = pg.ttest(x, 201.08)  # pingouin: one-sample ttest(x, y=mu)
    assert row["t"] == pytest.approx(ref["T"].iloc[0], rel=REL)
    assert row["p"] == pytest.approx(ref["p_val"].iloc[0], rel=REL)
    assert row["df"] == ref["dof"].iloc[0]


def test_category_and_benjamini_hochberg(seeded) -> None:
    """Every row is a quick cohort: BH within each school year's quick cohorts (the fixed family),
    and the category reads the adjusted p (issue 15 §4; before, BH ran across every row and the
    category read the raw p)."""
    con, _ = seeded
    result = cohort_vs_norm(con, CohortSpec(), DISTRICT)
    tested = result[result.p.notna()]
    for _, year in tested.groupby("school_year"):
        adjusted = sps.false_discovery_control(year.p.to_numpy(), method="bh")
        assert year.p_adj.to_numpy() == pytest.approx(adjusted, rel=REL)
        assert (year.significant_bh == (adjusted <= 0.05)).all()
        assert (year.bh_family_size == len(year)).all()
    for row in tested.itertuples():
        expected = "At"
        if row.p_adj < 0.05 and abs(row.effect_size) >= 0.2:
            expected = "Above" if row.effect_size > 0 else "Below"
        assert row.category == expected
    assert set(result[result.p.isna()].category.dropna()) == set()


def test_n_exactly_at_minimum_is_reported_and_below_is_suppressed(seeded) -> None:
    con, _ = seeded
    result = cohort_vs_norm(
        con, CohortSpec.from_dict({"schools": "Washington Elementary"}), DISTRICT
    )
    at_min = result[result.grade == "3"]
    assert (at_min.n == 10).all() and not at_min.suppressed.any()
    below = result[result.grade == "2"]
    assert below.suppressed.all()
    numeric = below.select_dtypes("number").drop(columns="cohort_index")
    assert numeric.isna().all().all()
    assert below.category.isna().all()
    assert below.note.str.contains("fewer than 10 students").all()


def test_all_scores_equal_gives_no_test_and_says_so(seeded) -> None:
    con, _ = seeded
    spec = CohortSpec.from_dict({"grade": "5", "subject": "math", "season": "spring"})
    row = cohort_vs_norm(con, spec, DISTRICT).iloc[0].to_dict()
    assert (row["n"], row["mean"], row["sd"]) == (11, 212.0, 0.0)
    assert np.isnan(row["t"]) and np.isnan(row["p"]) and row["category"] is None
    assert row["note"] == "all scores are equal (sd 0): no t-test is possible"
    assert row["effect_size"] == pytest.approx((212.0 - 218.75) / 16.70, rel=REL)


def test_missing_norm_is_said_not_guessed(seeded) -> None:
    con, _ = seeded
    spec = CohortSpec.from_dict({"grade": "K", "subject": "science", "season": "fall"})
    row = cohort_vs_norm(con, spec, DISTRICT).iloc[0].to_dict()
    assert row["n"] == 0 and row["n_without_norm"] == 14
    assert np.isnan(row["norm_mean"]) and np.isnan(row["t"]) and np.isnan(row["mean"])
    assert np.isnan(row["percentile_of_mean"])  # no norm: no percentile of the mean either
    assert "no norm in NWEA MAP Growth 2020" in row["note"] and "grade K" in row["note"]


def test_cohort_spanning_grades_compares_each_member_with_own_grade(seeded) -> None:
    con, raw = seeded
    spec = CohortSpec.from_dict({**LINCOLN_3, "grade": ["3", "4"]})
    row = cohort_vs_norm(con, spec, DISTRICT, by=("school_year", "school")).iloc[0].to_dict()
    members = raw[
        (raw.school == "Lincoln Elementary")
        & raw.grade.isin(["3", "4"])
        & (raw.subject == "math")
        & (raw.season == "spring")
    ]
    mu = members.grade.map(lambda g: NORMS.loc[("math", g, "spring"), "mean"]).to_numpy()
    sigma = members.grade.map(lambda g: NORMS.loc[("math", g, "spring"), "sd"]).to_numpy()
    d = members.score.to_numpy() - mu
    ref = sps.ttest_1samp(d, 0.0)  # scipy: one-sample t on per-student differences
    assert row["grade"] == "3, 4" and row["n"] == 62
    assert row["diff"] == pytest.approx(d.mean(), rel=REL)
    assert row["t"] == pytest.approx(ref.statistic, rel=REL)
    assert row["p"] == pytest.approx(ref.pvalue, rel=REL)
    assert (row["ci_lo"], row["ci_hi"]) == pytest.approx(tuple(ref.confidence_interval()), rel=REL)
    assert row["effect_size"] == pytest.approx(np.mean(d / sigma), rel=REL)
    assert row["norm_mean"] == pytest.approx(mu.mean(), rel=REL)
    assert row["mean"] == pytest.approx(members.score.mean(), rel=REL)
    # pooled grades: the percentile rank of the members' mean own-grade standing (scipy cdf)
    assert row["percentile_of_mean"] == pytest.approx(
        100 * sps.norm.cdf(np.mean(d / sigma)), rel=REL
    )


def test_pooled_row_leaves_out_grades_without_a_norm(seeded) -> None:
    con, raw = seeded
    spec = CohortSpec.from_dict(
        {"subject": "reading", "season": "fall", "schools": "Lincoln Elementary"}
    )
    pooled = cohort_vs_norm(con, spec, DISTRICT, by=("school",)).iloc[0].to_dict()
    assert pooled["n"] == 76  # K (has a reading norm), 3 and 4
    science = CohortSpec.from_dict({"subject": "science", "season": "fall"})
    row = cohort_vs_norm(con, science, DISTRICT, by=()).iloc[0].to_dict()
    grade_3 = raw[(raw.subject == "science") & (raw.season == "fall") & (raw.grade == "3")]
    assert row["n"] == len(grade_3) == 60 and row["n_without_norm"] == 14
    assert row["mean"] == pytest.approx(grade_3.score.mean(), rel=REL)
    assert row["note"].startswith("grade(s) K have no norm") and row["grade"] == "K, 3"


def test_cut_scores_bands_and_targets(fresh) -> None:
    con, raw = fresh
    cuts = state_cut_scores()
    norms.save_standard_set(con, "cut_scores", "State", "2024", cuts)
    target = pd.DataFrame(
        {"subject": ["math"], "grade": ["3"], "season": ["spring"], "target": [205]}
    )
    norms.save_standard_set(con, "targets", "Goal", "2024", target)
    row = cohort_vs_norm(con, CohortSpec.from_dict(LINCOLN_3), DISTRICT).iloc[0].to_dict()
    x = _members(raw, "Lincoln Elementary", "3", "math", "spring").score.to_numpy()
    assert row["share Limited"] == pytest.approx(np.mean(x < 190), rel=REL)
    assert row["share Basic"] == pytest.approx(np.mean((x >= 190) & (x < 200)), rel=REL)
    assert row["share Proficient"] == pytest.approx(np.mean((x >= 200) & (x < 215)), rel=REL)
    assert row["share Advanced"] == pytest.approx(np.mean(x >= 215), rel=REL)
    assert row["pct_proficient"] == pytest.approx(np.mean(x >= 200), rel=REL)
    assert row["pct_at_or_above_target"] == pytest.approx(np.mean(x >= 205), rel=REL)
    other = cohort_vs_norm(con, CohortSpec.from_dict({**LINCOLN_3, "grade": "4"}), DISTRICT)
    assert np.isnan(other.pct_proficient.iloc[0])  # no cut scores for grade 4: none invented


def test_norms_year_2025_is_used_and_labelled(fresh) -> None:
    con, raw = fresh
    norms.choose_norms(con, "2025")
    row = cohort_vs_norm(con, CohortSpec.from_dict(LINCOLN_3), DISTRICT).iloc[0].to_dict()
    x = _members(raw, "Lincoln Elementary", "3", "math", "spring").score.to_numpy()
    assert row["norm_source"] == "NWEA MAP Growth 2025 student achievement norms"
    assert row["t"] == pytest.approx(sps.ttest_1samp(x, 199.10).statistic, rel=REL)


def test_scores_on_another_platform_are_described_not_compared(fresh) -> None:
    con, _ = fresh
    con.execute(
        "insert into assessments (student_id, platform, subject, school_year, season, school_id,"
        " grade, score) select student_id, 'star', 'language', school_year, season, school_id,"
        " grade, score * 4 from assessments where subject = 'math' and grade = '3'"
    )
    spec = CohortSpec.from_dict({**LINCOLN_3, "subject": "language"})
    row = cohort_vs_norm(con, spec, DISTRICT).iloc[0].to_dict()
    assert row["n"] == 50 and row["platform"] == "star" and np.isnan(row["t"])
    assert np.isnan(row["percentile_of_mean"])
    assert row["note"].startswith("no national norm for this test's scale")
    assert "are for MAP Growth scores and these are Star scores" in row["note"]
    assert row["category"] is None and np.isnan(row["norm_mean"]) and row["norm_source"] is None


class CountingConnection:
    """Counts statements that read assessments (the per-cohort loop the design forbids)."""

    def __init__(self, con) -> None:
        self.con, self.reads = con, 0

    def execute(self, sql: str, *args):
        self.reads += "assessments" in sql
        return self.con.execute(sql, *args)

    def cursor(self) -> CountingConnection:
        inner = CountingConnection(self.con.cursor())
        inner.execute = self._count_into(inner)
        return inner

    def _count_into(self, inner: CountingConnection):
        def execute(sql: str, *args):
            self.reads += "assessments" in sql
            return inner.con.execute(sql, *args)

        return execute

    def __getattr__(self, name: str):
        return getattr(self.con, name)


def test_many_cohorts_cost_one_query(seeded) -> None:
    con, _ = seeded
    standards = standards_in_use(con)
    specs = [
        CohortSpec.from_dict({**LINCOLN_3, "filters": {"frl": True}}),
        CohortSpec.from_dict({"grade": ["3", "4"]}),
        CohortSpec(),
    ]
    counting = CountingConnection(con)
    result = cohort_vs_norm(counting, specs, DISTRICT, standards=standards)
    assert counting.reads == 1
    assert set(result.cohort_index) == {0, 1, 2}
