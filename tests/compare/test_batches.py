"""Many cohorts in one query (what a report of 30 cohorts asks for) give each cohort exactly what
the page gets for it alone: the same rows, suppression, and its own false-discovery family."""

from __future__ import annotations

import pandas as pd
import pytest

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import prior_year_comparison, prior_year_comparisons
from core.compare.growth import matched_growth, matched_growth_of
from core.compare.subgroups import gap_change, subgroup_gaps, subgroup_gaps_of
from core.stats.inference import benjamini_hochberg

YEAR = "2024-2025"
SPECS = [
    CohortSpec.from_dict({"school_year": YEAR, "grade": "4", "schools": ["Lincoln"]}),
    CohortSpec.from_dict({"school_year": YEAR, "grade": "3"}),
    CohortSpec.from_dict({"grade": "5", "subject": "reading", "season": "spring"}),
    CohortSpec.from_dict({"school_year": YEAR, "grade": "4", "filters": {"ell": True}}),
    CohortSpec.from_dict({"school_year": ["2022-2023", "2023-2024"], "grade": "3"}),
    CohortSpec.from_dict({"school_year": YEAR, "grade": "12"}),  # no data at all
    CohortSpec.from_dict({"school_year": YEAR, "grade": "4", "schools": ["Lincoln"]}),  # again
]
PRINCIPAL = Scope(username="p", role="school_admin", schools=("Washington",))


def same(batch: list[pd.DataFrame], alone: list[pd.DataFrame]) -> None:
    assert len(batch) == len(alone)
    for got, want in zip(batch, alone, strict=True):
        if want.empty:
            assert got.empty and list(got.columns) == list(want.columns)
        else:
            pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("scope", [DISTRICT, PRINCIPAL], ids=["district", "principal"])
def test_prior_year_comparisons_of_many_equal_each_alone(district, scope) -> None:
    batch = prior_year_comparisons(district.con, SPECS, scope)
    same(batch, [prior_year_comparison(district.con, s, scope) for s in SPECS])
    # each custom cohort is its own false-discovery family; a quick cohort (one school × grade ×
    # year, SPECS[0] and [6]) has its fixed family, every quick cohort of the district that year
    # (issue 15 §4: before, every cohort was adjusted among its own rows)
    for index, frame in enumerate(batch):
        shown = frame["p"].notna()
        if index in (0, 6):
            assert frame.loc[shown, "bh_family"].str.contains("quick cohorts").all()
            continue
        own = benjamini_hochberg(frame.loc[shown, "p"])[0]
        assert frame.loc[shown, "p_adj"].tolist() == pytest.approx(own.tolist())
    if scope is DISTRICT:
        assert (batch[0]["direction"] == "decline").any()  # the planted decline at Lincoln
    same(
        prior_year_comparisons(district.con, SPECS, scope, years_back=1),
        [prior_year_comparison(district.con, s, scope, years_back=1) for s in SPECS],
    )


@pytest.mark.parametrize("scope", [DISTRICT, PRINCIPAL], ids=["district", "principal"])
def test_subgroup_gaps_of_many_equal_each_alone(district, scope) -> None:
    batch = subgroup_gaps_of(district.con, SPECS, scope)
    same(batch, [subgroup_gaps(district.con, s, scope) for s in SPECS])
    assert batch[5].empty and not batch[1].empty
    assert "ell" in set(batch[1]["attribute"])
    assert "ell" not in set(batch[3]["attribute"])  # a cohort's own filter is not a subgroup


@pytest.mark.parametrize(
    ("start", "end"),
    [(("fall", YEAR), ("spring", YEAR)), (("spring", "2023-2024"), ("spring", YEAR))],
)
def test_matched_growth_of_many_equals_each_alone(district, start, end) -> None:
    for scope in (DISTRICT, PRINCIPAL):
        batch = matched_growth_of(district.con, SPECS, scope, start, end)
        same(batch, [matched_growth(district.con, s, scope, start, end) for s in SPECS])
        assert not batch[1].empty and batch[5].empty


def test_gap_change_of_many_cohorts_equals_each_alone(district) -> None:
    frames = [f for f in subgroup_gaps_of(district.con, SPECS, DISTRICT) if not f.empty][:4]
    both = pd.concat([f.assign(cohort_index=i) for i, f in enumerate(frames)], ignore_index=True)
    found = gap_change(both, YEAR, "2022-2023")
    assert len(frames) == 4 and found["cohort_index"].nunique() >= 3
    for index, frame in enumerate(frames):
        mine = found[found["cohort_index"] == index].drop(columns="cohort_index")
        alone = gap_change(frame, YEAR, "2022-2023")
        if alone.empty:  # this cohort has no gap two years earlier
            assert mine.empty
        else:
            pd.testing.assert_frame_equal(mine.reset_index(drop=True), alone)
