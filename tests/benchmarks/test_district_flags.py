"""Filtering districts by quartile flags, as the page and the CLI do."""

from __future__ import annotations

import pytest

from core.access.scope import DISTRICT
from core.districts.benchmarks import district_benchmarks
from core.districts.flags import FlagFilter


def test_parse_reads_the_issue_example() -> None:
    rule = FlagFilter.parse("absenteeism well_above and graduation below")
    assert rule.conditions == (("absenteeism", ("well_above",)), ("graduation", ("below",)))
    spaced = FlagFilter.parse(
        "Chronic absenteeism well above AND Graduation rate below or well below"
    )
    assert spaced.conditions == (
        ("absenteeism", ("well_above",)),
        ("graduation", ("below", "well_below")),
    )
    assert spaced.describe() == "absenteeism well_above and graduation below or well_below"


@pytest.mark.parametrize("text", ["absenteeism high", "weather well_above", "below"])
def test_unreadable_filters_say_how_to_write_them(text: str) -> None:
    with pytest.raises(ValueError, match="absenteeism well_above"):
        FlagFilter.parse(text)


def test_apply_keeps_districts_meeting_every_condition(con, fixed) -> None:
    districts = district_benchmarks(con, DISTRICT, year=2022).districts
    rule = FlagFilter.parse("math well_above or above and reading below or well_below")
    kept = rule.apply(districts)
    want = districts[
        districts.math_proficiency_quartile_state.isin(["well_above", "above"])
        & districts.read_proficiency_quartile_state.isin(["below", "well_below"])
    ]
    assert kept.district_id.tolist() == want.district_id.tolist() and len(kept) > 0
    assert len(FlagFilter().apply(districts)) == len(districts)
    picked = FlagFilter.from_pairs([("math_proficiency", "well_above")]).apply(districts)
    assert set(picked.math_proficiency_quartile_state) == {"well_above"}
