"""Subgroup gaps equal scipy / pingouin on the raw scores; every cell is suppressed when small."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats as sps

from core.cohorts import CohortSpec
from core.subgroups import distinct_gaps, gap_change, gap_trend, subgroup_gaps
from tests.compare.district import NORM_TABLE

REL = 1e-9
SPEC = CohortSpec.from_dict({"grade": "4", "subject": "reading", "season": "spring"})
WHERE = {"grade": "4", "subject": "reading", "season": "spring"}


@pytest.fixture(scope="module")
def gaps(district) -> pd.DataFrame:
    from core.scope import DISTRICT

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


def test_gap_change_is_the_difference_of_two_welch_gaps(gaps) -> None:
    change = gap_change(gaps, "2024-2025", "2022-2023")
    row = change[(change["attribute"] == "ell")].iloc[0]
    now, then = _row(gaps, "2024-2025", "ell", "yes"), _row(gaps, "2022-2023", "ell", "yes")

    def se(r: pd.Series) -> float:
        return np.sqrt(r["sd_sub"] ** 2 / r["n_sub"] + r["sd_rest"] ** 2 / r["n_rest"])

    z = (now["gap"] - then["gap"]) / np.hypot(se(now), se(then))
    assert row["change"] == pytest.approx(now["gap"] - then["gap"], rel=REL)
    assert row["p"] == pytest.approx(2 * sps.norm.sf(abs(z)), rel=REL)
    same_sign = now["gap"] * then["gap"] > 0  # a gap that changed sign "overtook", not widened
    assert row["widened"] == (same_sign and np.sign(now["gap"]) * (now["gap"] - then["gap"]) > 0)
    # F / M are one test: only one of them is kept before BH
    assert len(change[change["attribute"] == "gender"]) == 1


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


def test_distinct_gaps_keeps_the_smaller_of_two_values(gaps) -> None:
    kept = distinct_gaps(gaps)
    program = kept[kept["attribute"] == "program"]
    assert set(program["value"]) == {"reading-recovery"}
    assert len(kept[kept["attribute"] == "race_ethnicity"]) == len(
        gaps[gaps["attribute"] == "race_ethnicity"]
    )


def test_a_filtered_attribute_is_not_a_subgroup_and_scope_applies(district) -> None:
    from core.scope import Scope

    ell_only = subgroup_gaps(district.con, SPEC.replace(filters={"ell": True}), Scope())
    assert "ell" not in set(ell_only["attribute"])
    teacher = Scope(username="t", role="teacher", sections=("nobody",))
    assert subgroup_gaps(district.con, SPEC, teacher).empty
