"""Subgroup gaps equal scipy / pingouin on the raw scores; every cell is suppressed when small."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats as sps

from core.cohorts.spec import CohortSpec
from core.compare.subgroups import distinct_gaps, gap_change, gap_trend, subgroup_gaps
from core.stats import inference
from tests.compare.district import NORM_TABLE

REL = 1e-9
SPEC = CohortSpec.from_dict({"grade": "4", "subject": "reading", "season": "spring"})
WHERE = {"grade": "4", "subject": "reading", "season": "spring"}


@pytest.fixture(scope="module")
def gaps(district) -> pd.DataFrame:
    from core.access.scope import DISTRICT

    return subgroup_gaps(district.con, SPEC, DISTRICT)


def _row(gaps: pd.DataFrame, year: str, attribute: str, value: str) -> pd.Series:
    hit = gaps[(gaps["school_year"] == year) & (gaps["attribute"] == attribute)]
    return hit[hit["value"] == value].iloc[0]


def _proficient(rows: pd.DataFrame) -> float:
    keys = pd.MultiIndex.from_frame(rows[["subject", "grade", "season"]])
    return 100 * float((rows["score"].to_numpy() >= NORM_TABLE["mean"].reindex(keys)).mean())


@pytest.mark.parametrize(
    ("attribute", "value", "mask"),
    [
        ("ell", "yes", lambda r: r["ell"]),
        ("race_ethnicity", "Hispanic", lambda r: r["race_ethnicity"] == "Hispanic"),
        ("program", "reading-recovery", lambda r: r["program"] == "reading-recovery"),
    ],
)
def test_gap_matches_scipy_and_pingouin(district, gaps, attribute, value, mask) -> None:
    row = _row(gaps, "2024-2025", attribute, value)
    raw = district.scores(school_year="2024-2025", **WHERE)
    inside = mask(raw).to_numpy(dtype=bool)
    a, b = raw[inside]["score"].to_numpy(), raw[~inside]["score"].to_numpy()
    ref = sps.ttest_ind(a, b, equal_var=False)  # scipy: ttest_ind(a, b, equal_var=False)
    assert (row["n_sub"], row["n_rest"]) == (len(a), len(b))
    assert (row["mean_sub"], row["sd_rest"]) == pytest.approx((a.mean(), b.std(ddof=1)), rel=REL)
    assert row["gap"] == pytest.approx(a.mean() - b.mean(), rel=REL)
    assert (row["t"], row["df"], row["p"]) == pytest.approx(
        (ref.statistic, ref.df, ref.pvalue), rel=REL
    )
    ci = ref.confidence_interval()
    assert (row["ci_lo"], row["ci_hi"]) == pytest.approx((ci.low, ci.high), rel=REL)
    hedges = pg.compute_effsize(a, b, eftype="hedges")  # pingouin: compute_effsize(hedges)
    assert row["hedges_g"] == pytest.approx(hedges, rel=REL)
    assert row["pct_prof_sub"] == pytest.approx(_proficient(raw[inside]), rel=REL)
    assert row["prof_gap"] == pytest.approx(
        _proficient(raw[inside]) - _proficient(raw[~inside]), rel=REL
    )


def test_booleans_show_the_yes_group_and_every_year_is_there(gaps) -> None:
    assert set(gaps[gaps["attribute"] == "ell"]["value"]) == {"yes"}
    assert set(gaps["school_year"]) == {"2021-2022", "2022-2023", "2023-2024", "2024-2025"}
    assert {"gender", "race_ethnicity", "sped", "frl", "program"} <= set(gaps["attribute"])


def test_small_subgroups_and_their_complements_are_suppressed(district, gaps) -> None:
    race = gaps[(gaps["attribute"] == "race_ethnicity") & (gaps["school_year"] == "2024-2025")]
    raw = district.scores(school_year="2024-2025", **WHERE)
    sizes = raw.groupby("race_ethnicity").size()
    small = sizes[sizes < 10].index
    assert len(small) == 1  # "Two or more" is 5 % of students
    hidden = race.set_index("value")["suppressed"]
    assert hidden[small].all()
    shown = sizes.drop(small)
    complement = shown.idxmin()
    assert hidden[complement]  # the next smallest is hidden too
    assert hidden.sum() == 2
    cells = race[race["suppressed"]]
    numbers = ["n_sub", "n_rest", "mean_sub", "mean_rest", "gap", "t", "p", "pct_prof_sub"]
    assert cells[numbers].isna().all().all()
    assert cells["note"].str.contains("privacy").all()


def _change_reference(district, attribute: str, inside, latest: str, earlier: str) -> tuple:
    """numpy / scipy on the raw rows: the change of the gap (subgroup − rest) between two years
    as a contrast of four independent means, t with Welch–Satterthwaite df (scipy's t)."""
    groups, gaps = [], []
    for year in (latest, earlier):
        raw = district.scores(school_year=year, **WHERE)
        mask = inside(raw).to_numpy(dtype=bool)
        sub, rest = raw[mask]["score"].to_numpy(), raw[~mask]["score"].to_numpy()
        groups += [sub, rest]
        gaps.append(sub.mean() - rest.mean())
    v = np.array([np.var(g, ddof=1) / len(g) for g in groups])
    df = v.sum() ** 2 / np.sum(v**2 / (np.array([len(g) for g in groups]) - 1))
    t = (gaps[0] - gaps[1]) / np.sqrt(v.sum())
    half = sps.t.ppf(0.975, df) * np.sqrt(v.sum())
    return gaps[0] - gaps[1], t, df, 2 * sps.t.sf(abs(t), df), half, min(map(len, groups))


def test_gap_change_is_the_difference_of_two_welch_gaps(district, gaps) -> None:
    change = gap_change(gaps, "2024-2025", "2022-2023")
    row = change[(change["attribute"] == "ell")].iloc[0]
    now, then = _row(gaps, "2024-2025", "ell", "yes"), _row(gaps, "2022-2023", "ell", "yes")
    ref = _change_reference(district, "ell", lambda r: r["ell"], "2024-2025", "2022-2023")
    diff, t, df, p, half, _ = ref
    assert row["change"] == pytest.approx(now["gap"] - then["gap"], rel=REL)
    assert (row["change"], row["t"], row["df"], row["p"]) == pytest.approx(
        (diff, t, df, p), rel=REL
    )
    assert (row["ci_lo"], row["ci_hi"]) == pytest.approx((diff - half, diff + half), rel=REL)
    same_sign = now["gap"] * then["gap"] > 0  # a gap that changed sign "overtook", not widened
    assert row["widened"] == (same_sign and np.sign(now["gap"]) * (now["gap"] - then["gap"]) > 0)
    # F / M are one test: only one of them is kept before BH
    assert len(change[change["attribute"] == "gender"]) == 1


def test_gap_change_of_a_small_group_uses_the_t_not_a_normal_z(district, gaps) -> None:
    """Reading recovery: 15 and 21 students in the two years (under 30). The p is the t's with
    Welch–Satterthwaite df on the raw rows; the normal z the test used before is smaller."""
    change = gap_change(gaps, "2024-2025", "2022-2023")
    row = change[change["value"] == "reading-recovery"].iloc[0]
    inside = lambda r: r["program"] == "reading-recovery"  # noqa: E731
    diff, t, df, p, _, smallest = _change_reference(
        district, "program", inside, "2024-2025", "2022-2023"
    )
    assert smallest < 30 and df < 60
    assert (row["t"], row["df"], row["p"]) == pytest.approx((t, df, p), rel=REL)
    assert row["p"] > 2 * sps.norm.sf(abs(t))  # the z would have been too sure


def test_gap_trend_is_weighted_least_squares(gaps) -> None:
    years = sorted(gaps["school_year"].unique())
    trend = gap_trend(gaps, years)
    row = trend[trend["attribute"] == "ell"].iloc[0]
    ell = gaps[gaps["attribute"] == "ell"].sort_values("school_year")
    se = np.sqrt(ell["sd_sub"] ** 2 / ell["n_sub"] + ell["sd_rest"] ** 2 / ell["n_rest"])
    x = ell["school_year"].str[:4].astype(int).to_numpy()
    # numpy: polyfit with weights 1/se is weighted least squares with weights 1/se²
    slope = np.polyfit(x, ell["gap"].to_numpy(), 1, w=1 / se.to_numpy())[0]
    sxx = np.sum((x - np.average(x, weights=1 / se**2)) ** 2 / se**2)
    assert row["slope"] == pytest.approx(slope, rel=1e-7)
    assert row["slope_se"] == pytest.approx(1 / np.sqrt(sxx), rel=1e-9)
    assert row["p"] == pytest.approx(2 * sps.norm.sf(abs(slope) * np.sqrt(sxx)), rel=1e-6)
    same_sign = row["first_gap"] * row["latest_gap"] > 0
    assert row["widening"] == (same_sign and np.sign(row["latest_gap"]) * row["slope"] > 0)
    assert row["years"] == 4
    # a side under 30 students in some year (ELL: 18 in 2024-2025): the z is approximate
    assert row["smallest_side"] == ell[["n_sub", "n_rest"]].min().min() < 30
    assert bool(row["approximate"])


def test_distinct_gaps_keeps_the_smaller_of_two_values(gaps) -> None:
    kept = distinct_gaps(gaps)
    program = kept[kept["attribute"] == "program"]
    assert set(program["value"]) == {"reading-recovery"}
    assert len(kept[kept["attribute"] == "race_ethnicity"]) == len(
        gaps[gaps["attribute"] == "race_ethnicity"]
    )


def test_a_filtered_attribute_is_not_a_subgroup_and_scope_applies(district) -> None:
    from core.access.scope import Scope

    ell_only = subgroup_gaps(district.con, SPEC.replace(filters={"ell": True}), Scope())
    assert "ell" not in set(ell_only["attribute"])
    teacher = Scope(username="t", role="teacher", sections=("nobody",))
    assert subgroup_gaps(district.con, SPEC, teacher).empty


def test_welch_contrast_is_welch_for_two_means_and_holds_for_small_groups() -> None:
    """Two means: scipy's ttest_ind(a, b, equal_var=False). Four small groups under no change
    (n 10 / 60 each year, unequal sds, 20,000 simulated districts, numpy): the t rejects about
    5 % at p < 0.05; the normal z on the same statistic rejects noticeably more."""
    rng = np.random.default_rng(15)
    a, b = rng.normal(0, 3, 12), rng.normal(1, 9, 40)
    ref = sps.ttest_ind(a, b, equal_var=False)
    two = inference.welch_contrast(
        a.mean() - b.mean(), [a.std(ddof=1), b.std(ddof=1)], [len(a), len(b)]
    )
    assert (two.t, two.df, two.p) == pytest.approx((ref.statistic, ref.df, ref.pvalue), rel=REL)
    sizes, spreads, reps = (10, 60, 10, 60), (15.0, 5.0, 15.0, 5.0), 20_000
    draws = [rng.normal(0, sd, (reps, n)) for sd, n in zip(spreads, sizes, strict=True)]
    means = [d.mean(axis=1) for d in draws]
    sds = [d.std(axis=1, ddof=1) for d in draws]
    change = (means[0] - means[1]) - (means[2] - means[3])
    test = inference.welch_contrast(change, sds, sizes)
    t_rate = float(np.mean(test.p < 0.05))
    z_rate = float(np.mean(2 * sps.norm.sf(np.abs(test.t)) < 0.05))
    assert abs(t_rate - 0.05) < 0.006  # ± four binomial standard errors
    assert z_rate > 0.06
