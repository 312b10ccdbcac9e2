"""Alerts fire on a planted decline and a planted widening gap, and stay silent on noise."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from core.access.scope import DISTRICT, Scope
from core.alerts.detect import (
    COLUMNS,
    collapse,
    current_alerts,
    evidence_query,
    gap_severity,
    spec_from_query,
    thresholds,
)
from core.alerts.words import gap_headline
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import prior_year_comparison
from core.stats.inference import magnitude
from core.warehouse import settings


def test_planted_decline_and_widening_gap_become_alerts(district) -> None:
    cells = current_alerts(district.con, DISTRICT)
    planted_cells = cells[cells["title"].str.contains("Grade 4 math .* at Lincoln declined")]
    assert len(planted_cells) >= 2  # per season when not grouped
    alerts = current_alerts(district.con, DISTRICT, grouped=True)
    assert list(alerts.columns) == COLUMNS
    declines = alerts[alerts["kind"] == "decline"]
    lincoln = declines[declines["title"].str.contains("Grade 4 math.* at Lincoln", regex=True)]
    assert len(lincoln) >= 1 and set(lincoln["severity"]) <= {"warning", "critical"}
    spec = spec_from_query(lincoln.iloc[0]["spec"])
    assert spec == CohortSpec.from_dict(
        {
            "school_year": "2024-2025",
            "grade": "4",
            "subject": "math",
            "season": spec.season[0],
            "schools": ["Lincoln"],
        }
    )
    assert lincoln.iloc[0]["page"] == "prior_cohorts"
    gaps = alerts[alerts["kind"] == "widening gap"]
    ell = gaps[gaps["focus"] == "ell=yes"]
    assert len(ell) == 1  # one alert for the subgroup × subject, its cohorts named
    assert ell.iloc[0]["title"].startswith("Reading: English learners fell further behind (")
    assert ell.iloc[0]["detail"].startswith("Strongest in grade ")
    assert ell.iloc[0]["page"] == "subgroups"
    params = evidence_query(ell.iloc[0])
    assert params["focus"] == "ell=yes" and json.loads(params["spec"])["subject"] == "reading"
    # score declines and proficiency drops only where the decline was planted
    drops = alerts[alerts["kind"].isin(["decline", "proficiency drop"])]
    assert drops["title"].str.match(r"Grade 4 math").all()
    assert len(lincoln) == 1 and "(fall" in lincoln.iloc[0]["title"]
    order = {"critical": 0, "warning": 1, "info": 2}
    assert list(alerts["severity"].map(order)) == sorted(alerts["severity"].map(order))


def test_noise_raises_no_alert(noise) -> None:
    alerts = current_alerts(noise.con, DISTRICT)
    assert alerts[alerts["severity"] != "info"].empty


def test_collapse_keeps_the_strongest_cell() -> None:
    raw = [
        {
            "severity": "warning",
            "title": "a",
            "summary": "Weak.",
            "detail": "weak",
            "_group": ("g",),
            "_p": 0.04,
            "_cell": "fall",
            "_group_title": "Grade 4 math declined",
        },
        {
            "severity": "critical",
            "title": "b",
            "summary": "Strong.",
            "detail": "strong",
            "_group": ("g",),
            "_p": 0.2,
            "_cell": "spring",
            "_group_title": "Grade 4 math declined",
        },
        {
            "severity": "info",
            "title": "c",
            "summary": "Other.",
            "detail": "other",
            "_group": ("h",),
            "_p": 0.01,
            "_cell": "fall",
            "_group_title": "x",
        },
    ]
    out = collapse(raw)
    assert [a["title"] for a in out] == ["Grade 4 math declined (spring, fall)", "c"]
    assert out[0]["severity"] == "critical" and out[0]["detail"] == "Strongest in spring: strong"
    assert out[0]["summary"] == "Strongest in spring. Strong." and out[1]["summary"] == "Other."
    assert not any(k.startswith("_") for a in out for k in a)


def test_thresholds_come_from_settings(con) -> None:
    assert thresholds(con).decline_min_g == 0.3
    settings.put(con, "alerts.decline_min_g", 5.0)
    settings.put(con, "alerts.proficiency_drop_points", 15)
    limits = thresholds(con)
    assert (limits.decline_min_g, limits.proficiency_drop_points) == (5.0, 15.0)


def test_a_huge_effect_threshold_silences_declines(district) -> None:
    con = district.con
    settings.put(con, "alerts.decline_min_g", 9.0)
    try:
        alerts = current_alerts(con, DISTRICT)
    finally:
        con.execute("delete from settings where key = 'alerts.decline_min_g'")
    assert alerts[alerts["kind"].isin(["decline", "improvement"])].empty


def test_alerts_are_scoped(district) -> None:
    washington = Scope(username="p", role="school_admin", schools=("Washington",))
    alerts = current_alerts(district.con, washington)
    assert not alerts["title"].str.contains("Lincoln").any()
    assert current_alerts(district.con, Scope(role="teacher", sections=("nobody",))).empty


JARGON = ("hedges", "p-value", "p value", "p =", "bh", "adjusted", "effect size", "sd", "welch")


def test_alert_summaries_are_plain_words_with_the_computed_numbers(district) -> None:
    cells = current_alerts(district.con, DISTRICT)
    for summary in cells["summary"]:
        assert not [w for w in JARGON if w in summary.lower()], summary
    decline = cells[cells["title"].str.contains("Grade 4 math .* at Lincoln declined")].iloc[0]
    spec = spec_from_query(decline["spec"])
    rows = prior_year_comparison(district.con, spec, DISTRICT)
    row = rows[rows["prior_year"] == "2023-2024"].iloc[0]
    # the same numbers the Prior cohorts page shows for the alert's cohort
    assert (
        f"fell from {row['mean_b']:.1f} in 2023-2024 to {row['mean_a']:.1f} "
        f"({row['diff']:+.1f} points) — a real drop, not chance, and a "
        f"{magnitude(row['hedges_g'])} one. {row['n_b']:.0f} students then, {row['n_a']:.0f} now."
    ) in decline["summary"]
    assert "Hedges' g" in decline["detail"]  # the specialists' numbers are kept beside it
    gap = current_alerts(district.con, DISTRICT, grouped=True)
    ell = gap[gap["focus"] == "ell=yes"].iloc[0]
    assert ell["summary"].startswith("Strongest in grade ")
    assert "English learners were " in ell["summary"] and "points behind the rest" in ell["summary"]
    assert ell["summary"].endswith("— a real change, not chance.")


# Severity follows who is harmed (gap = subgroup − rest; pooled sd 10; bar 0.2 sd = 2 points).
# (first gap, latest gap, widened every year, rest is one named group) → (severity, who)
SEVERITY_CASES = [
    # widening against the subgroup: a concern, critical when it widened at every step
    ((-5.0, -9.0, True, False), ("critical", "subgroup")),
    ((-5.0, -9.0, False, False), ("warning", "subgroup")),
    # narrowing: the subgroup behind caught up part of the way — good news
    ((-9.0, -5.0, True, False), ("info", "subgroup")),
    # the case: 13 points behind to 2.3 ahead is good news for the subgroup; for a named
    # rest it is 2.3 points (0.23 sd) of new distance behind at most — here under the bar (sd 15)
    ((-13.0, 2.3, True, False), ("info", "subgroup")),
    # subgroup ahead and pulling further ahead: no harm to it; a mixed rest is nobody named
    ((3.0, 8.0, True, False), (None, "")),
    # … but when the rest is one group (not-ELL, the other gender) that group fell further behind
    ((3.0, 8.0, True, True), ("critical", "rest")),
    ((3.0, 8.0, False, True), ("warning", "rest")),
    # the subgroup ahead and its lead shrinking: a named rest caught up, a mixed rest is neutral
    ((8.0, 3.0, False, True), ("info", "rest")),
    ((8.0, 3.0, False, False), (None, "")),
    # overtaken far: the rest went from 2 ahead to 13 behind — a concern for it, never critical
    # (the gap changed sign: "wider every year" is not a steady widening against one group)
    ((-2.0, 13.0, True, True), ("warning", "rest")),
    # a subgroup falling from ahead to behind: harmed
    ((4.0, -6.0, False, False), ("warning", "subgroup")),
    # moved less than the bar: neutral
    ((-5.0, -6.0, True, False), (None, "")),
]


@pytest.mark.parametrize(("case", "expected"), SEVERITY_CASES)
def test_gap_severity_follows_who_is_harmed(case, expected) -> None:
    first, latest, every_year, rest_named = case
    sd = 15.0 if (first, latest) == (-13.0, 2.3) else 10.0
    assert gap_severity(first, latest, sd, every_year, rest_named, 0.2) == expected


def test_gap_headlines_name_the_group_harmed_or_helped() -> None:
    ell = SimpleNamespace(
        attribute="ell",
        value="yes",
        first_gap=-13.0,
        latest_gap=2.3,
        rest_label="Students who are not English learners",
    )
    assert gap_headline(ell, "subgroup", caught_up=True) == (
        "English learners caught up and moved ahead"
    )
    ahead = SimpleNamespace(
        attribute="gender", value="F", first_gap=3.0, latest_gap=8.0, rest_label="Male students"
    )
    assert gap_headline(ahead, "rest") == "Male students fell further behind"
    behind = SimpleNamespace(
        attribute="ell", value="yes", first_gap=-5.0, latest_gap=-9.0, rest_label=None
    )
    assert gap_headline(behind) == "English learners fell further behind"
    assert gap_headline(behind, caught_up=True) == "English learners narrowed the gap"


@pytest.fixture(scope="module")
def overtaking():
    """The quiet district with English learners' reading scores moved so that their gap goes
    from 13 points behind (2021-2022) to 2.3 points ahead (2024-2025), evenly."""
    from core.warehouse import db
    from tests.compare.district import Plan, build

    con = db.memory()
    raw = build(con, Plan(per_cohort=45, seed=11))
    ids = raw.loc[raw["ell"], ["student_id"]].drop_duplicates()
    shift = {"2021-2022": -13.0, "2022-2023": -7.9, "2023-2024": -2.8, "2024-2025": 2.3}
    con.register("ell_ids", ids)
    for year, points in shift.items():
        con.execute(
            "update assessments set score = score + $points where subject = 'reading' "
            "and school_year = $year and student_id in (select student_id from ell_ids)",
            {"points": points, "year": year},
        )
    con.unregister("ell_ids")
    yield con
    con.close()


def test_a_subgroup_that_overtook_the_rest_is_good_news_not_critical(overtaking) -> None:
    alerts = current_alerts(overtaking, DISTRICT)
    ell = alerts[alerts["focus"] == "ell=yes"]
    assert len(ell) > 0  # the movement is real and large: it is reported
    assert set(ell["severity"]) <= {"info", "warning"} and "critical" not in set(ell["severity"])
    good = ell[ell["severity"] == "info"]
    assert len(good) > 0 and (good["kind"] == "narrowing gap").all()
    assert good["title"].str.contains("English learners (?:caught up|narrowed the gap)").all()
    assert good["title"].str.contains("English learners caught up and moved ahead").any()
    assert not good["summary"].str.contains("gap growing|wider every year").any()
    assert good["summary"].str.contains("gaining about").all()
    # any concern left is about the students who are not English learners, now behind
    concerns = ell[ell["severity"] != "info"]
    assert concerns["title"].str.contains("Students who are not English learners fell").all()


def test_a_share_without_cut_scores_is_named_the_national_median_not_proficiency() -> None:
    from core.alerts.words import proficiency_bar, proficiency_summary

    row = SimpleNamespace(
        pct_b=39.4,
        pct_a=11.2,
        prior_year="2023-2024",
        n_b=82,
        n_a=95,
        cut_set_a=None,
        cut_set_b=None,
    )
    assert proficiency_bar(row) == "the national median"
    said = proficiency_summary(row)
    assert said.startswith("The share of students at or above the national median (no cut")
    assert "proficient" not in said
    row.cut_set_a = "State cuts (2024-2025)"
    assert proficiency_bar(row) == "proficient"
    assert proficiency_summary(row).startswith("The share of students at or above proficient fell")
