"""The one-line verdicts carry the table's numbers, and a suppressed row says only why."""

from __future__ import annotations

import numpy as np

from core.access.scope import DISTRICT
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import compare_cohorts, prior_year_comparison
from core.compare.growth import matched_growth
from core.compare.subgroups import subgroup_gaps
from core.words.comparisons import (
    LOW_START_Z,
    gap_sentence,
    growth_sentence,
    low_start_caveat,
    pair_sentence,
    prior_sentence,
)

SPEC = CohortSpec.from_dict({"grade": "4", "subject": "math", "season": "spring",
                             "school_year": "2024-2025", "schools": ["Lincoln"]})  # fmt: skip


def test_prior_and_pair_sentences(district) -> None:
    row = prior_year_comparison(district.con, SPEC, DISTRICT).iloc[0]
    text = prior_sentence(row)
    assert f"{row['mean_a']:.1f} vs {row['mean_b']:.1f}" in text
    assert f"{row['diff']:+.1f} points" in text and "decline" in text
    assert "holds after the false-discovery correction" in text
    tiny = SPEC.replace(filters={"race_ethnicity": "Two or more"})
    hidden = pair_sentence(compare_cohorts(district.con, SPEC, tiny, DISTRICT).iloc[0])
    assert hidden.startswith("Math (spring): not shown") and "." in hidden
    assert not any(ch.isdigit() for ch in hidden.split("not shown")[1])


def test_growth_and_gap_sentences(district) -> None:
    row = matched_growth(
        district.con, SPEC, DISTRICT, ("fall", "2024-2025"), ("spring", "2024-2025")
    ).iloc[0]
    text = growth_sentence(row)
    assert text.startswith(f"{row['subject'].capitalize()}, ")
    assert f"{row['n']:,.0f} students tested both times" in text
    assert f"met by {row['pct_meeting']:.0f}%" in text
    # 1 … 9 students without the fall test are not counted aloud (issue 15)
    assert np.isnan(row["dropped"]) and "how many missed a test is not shown" in text
    assert "nan" not in text
    gaps = subgroup_gaps(district.con, SPEC.replace(schools=None, subject="reading"), DISTRICT)
    ell = gaps[(gaps["attribute"] == "ell") & (gaps["school_year"] == "2024-2025")].iloc[0]
    where = f"{ell['subject'].capitalize()} ({ell['season']})"
    assert gap_sentence(ell).startswith(
        f"{where}: English learners are {abs(ell['gap']):.1f} points"
    )
    small = gaps[gaps["suppressed"]].iloc[0]
    assert "not shown" in gap_sentence(small) and "privacy" in gap_sentence(small)


def test_the_low_start_caveat_is_said_only_where_it_bites() -> None:
    """Regression to the mean: a group that started well below the norm and grew gets the
    caveat; a group near the norm, one that did not grow, or one with no norm does not."""
    assert "regression to the mean" in low_start_caveat(LOW_START_Z - 0.3, 4.0)
    assert "picked for their low scores" in low_start_caveat(LOW_START_Z, 4.0)
    assert low_start_caveat(LOW_START_Z + 0.2, 4.0) == ""
    assert low_start_caveat(-1.5, -2.0) == "" and low_start_caveat(-1.5, 0.0) == ""
    assert low_start_caveat(None, 4.0) == "" and low_start_caveat(float("nan"), 4.0) == ""
