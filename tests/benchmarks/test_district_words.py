"""The district profile's words: units per metric kind, and the sentences naming the notably
high / low metrics (against an independent pandas computation of the flags) and the trends."""

from __future__ import annotations

import math

import pytest

from core.access.scope import DISTRICT
from core.districts.benchmarks import METRIC_BY_KEY, METRICS, district_benchmarks
from core.districts.words import difference, figure, notable_sentence, trend, trend_sentence
from tests.benchmarks import reference

JUDGEMENT = {"good": " (favourable)", "bad": " (unfavourable)", "neutral": ""}


@pytest.mark.parametrize(
    ("key", "value", "shown", "diff", "change"),
    [
        ("graduation", 83.26, "83.3%", "+83.3 pts", "+83.3 pts"),
        ("graduation", -4.71, "-4.7%", "-4.7 pts", "-4.7 pts"),
        ("graduation", -0.04, "-0.0%", "+0.0 pts", "+0.0 pts"),
        ("expenditure_pp", -954.4, "-$954", "-$954", "-954.4%"),
        ("expenditure_pp", 22840.0, "$22,840", "+$22,840", "+22,840.0%"),
        ("student_teacher_ratio", 4.26, "4.3", "+4.3", "+4.3"),
        ("swd_pct", 12.71, "12.7%", "+12.7 pts", "+12.7%"),
    ],
)
def test_units_follow_the_metric(key, value, shown, diff, change) -> None:
    metric = METRIC_BY_KEY[key]
    assert figure(value, metric) == shown
    assert difference(value, metric) == diff
    assert trend(value, metric) == change
    assert figure(None, metric) == difference(math.nan, metric) == trend(None, metric) == "—"


def _expected_notable(row, name: str, state: str) -> str:
    sides = {"well_above": [], "well_below": []}
    for key in reference.METRICS:
        label = row[f"{key}_quartile_state"]
        if label in sides:
            words = METRIC_BY_KEY[key].label
            words = words if words.startswith("English") else words.lower()
            sides[label].append(words + JUDGEMENT[row[f"{key}_reading"]])
    if not sides["well_above"] and not sides["well_below"]:
        return f"{name} is in neither the top nor the bottom quarter of {state}'s districts"

    def listed(items: list[str]) -> str:
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    shapes = (("well_above", "high", "top"), ("well_below", "low", "bottom"))
    parts = [
        f"notably {word} ({quarter} quarter) in {listed(sides[flag])}"
        for flag, word, quarter in shapes
        if sides[flag]
    ]
    return f"Among {state}'s districts, {name} is " + "; and ".join(parts) + "."


def test_notable_sentence_names_the_flagged_metrics_with_their_judgement(con, fixed) -> None:
    want = reference.district_table(fixed, 2022)
    got = district_benchmarks(con, DISTRICT, year=2022).districts.set_index("district_id")
    seen_both = seen_none = False
    for district_id, row in want.iterrows():
        state, name = row["state"], got.loc[district_id, "name"]
        sentence = notable_sentence(got.loc[district_id], state)
        assert sentence.startswith(_expected_notable(row, name, state)), district_id
        seen_both |= "notably high" in sentence and "notably low" in sentence
        seen_none |= "neither" in sentence
    assert seen_both and seen_none  # the fixture exercises both shapes (BB: 3 districts, none)
    big = got.loc["0100001"]  # AA's big district: lowest math in AA, a bad reading
    assert "math proficiency (unfavourable)" in notable_sentence(big, "AA").split("notably low")[1]


def test_trend_sentence_gives_each_trend_its_unit_and_absenteeism_its_years(con, fixed) -> None:
    got = district_benchmarks(con, DISTRICT, year=2022).districts.set_index("district_id")
    want = reference.district_table(fixed, 2022)
    biennial = got.loc["0200003"]  # absenteeism every other year: 2018-19 → 2022-23
    sentence = trend_sentence(biennial)
    assert sentence.startswith("Since 2019-20: chronic absenteeism ")
    row = want.loc["0200003"]
    years = f"({row.absenteeism_trend_from_year}-{(row.absenteeism_trend_from_year + 1) % 100:02d}"
    assert years in sentence and "→ 2022-23)" in sentence
    for metric in METRICS:
        value = row[metric.trend_key]
        if value == value:
            assert trend(value, metric) in sentence, metric.key
    assert f"math proficiency {row.math_proficiency_trend_3yr:+.1f} pts" in sentence
    assert "(count) " in sentence and sentence.endswith("%.")
    missing = got.loc["0100005"]  # no 2019 row: every 3-year trend but absenteeism is missing
    text = trend_sentence(missing) or ""
    assert "graduation rate" not in text and "math proficiency" not in text
