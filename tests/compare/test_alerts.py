"""Alerts fire on a planted decline and a planted widening gap, and stay silent on noise."""

from __future__ import annotations

import json

from core import settings
from core.alerts import COLUMNS, current_alerts, evidence_query, spec_from_query, thresholds
from core.cohorts import CohortSpec
from core.scope import DISTRICT, Scope


def test_planted_decline_and_widening_gap_become_alerts(district) -> None:
    alerts = current_alerts(district.con, DISTRICT)
    assert list(alerts.columns) == COLUMNS
    declines = alerts[alerts["kind"] == "decline"]
    lincoln = declines[declines["title"].str.contains("Grade 4 math .* at Lincoln", regex=True)]
    assert len(lincoln) >= 1 and set(lincoln["severity"]) <= {"warning", "critical"}
    spec = spec_from_query(lincoln.iloc[0]["spec"])
    assert spec == CohortSpec.from_dict(
        {"school_year": "2024-2025", "grade": "4", "subject": "math",
         "season": spec.season[0], "schools": ["Lincoln"]}
    )  # fmt: skip
    assert lincoln.iloc[0]["page"] == "pages/prior_cohorts.py"
    gaps = alerts[alerts["kind"] == "widening gap"]
    ell = gaps[gaps["focus"] == "ell=yes"]
    assert len(ell) >= 3 and ell["title"].str.contains("reading").all()
    assert len(ell) > len(gaps) / 2  # the planted gap dominates what BH lets through
    assert ell.iloc[0]["page"] == "pages/subgroups.py"
    params = evidence_query(ell.iloc[0])
    assert params["focus"] == "ell=yes" and json.loads(params["spec"])["subject"] == "reading"
    # score declines and proficiency drops only where the decline was planted
    drops = alerts[alerts["kind"].isin(["decline", "proficiency drop"])]
    assert drops["title"].str.match(r"Grade 4 math \(\w+\)").all()
    order = {"critical": 0, "warning": 1, "info": 2}
    assert list(alerts["severity"].map(order)) == sorted(alerts["severity"].map(order))


def test_noise_raises_no_alert(noise) -> None:
    alerts = current_alerts(noise.con, DISTRICT)
    assert alerts[alerts["severity"] != "info"].empty


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
