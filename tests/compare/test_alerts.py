"""Alerts fire on a planted decline and a planted widening gap, and stay silent on noise."""

from __future__ import annotations

import json

from core import settings
from core.alerts import (
    COLUMNS,
    collapse,
    current_alerts,
    evidence_query,
    spec_from_query,
    thresholds,
)
from core.cohorts import CohortSpec
from core.compare import prior_year_comparison
from core.scope import DISTRICT, Scope
from core.stats import magnitude


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
        {"school_year": "2024-2025", "grade": "4", "subject": "math",
         "season": spec.season[0], "schools": ["Lincoln"]}
    )  # fmt: skip
    assert lincoln.iloc[0]["page"] == "pages/prior_cohorts.py"
    gaps = alerts[alerts["kind"] == "widening gap"]
    ell = gaps[gaps["focus"] == "ell=yes"]
    assert len(ell) == 1  # one alert for the subgroup × subject, its cohorts named
    assert ell.iloc[0]["title"].startswith("Reading: English learners fell further behind (")
    assert ell.iloc[0]["detail"].startswith("Strongest in grade ")
    assert ell.iloc[0]["page"] == "pages/subgroups.py"
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
        {"severity": "warning", "title": "a", "summary": "Weak.", "detail": "weak",
         "_group": ("g",), "_p": 0.04, "_cell": "fall", "_group_title": "Grade 4 math declined"},
        {"severity": "critical", "title": "b", "summary": "Strong.", "detail": "strong",
         "_group": ("g",), "_p": 0.2, "_cell": "spring", "_group_title": "Grade 4 math declined"},
        {"severity": "info", "title": "c", "summary": "Other.", "detail": "other",
         "_group": ("h",), "_p": 0.01, "_cell": "fall", "_group_title": "x"},
    ]  # fmt: skip
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
