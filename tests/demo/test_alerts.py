"""The demo's purpose: on the full default district, the live alerts find the planted truths
(core/demo/district.py docstring) and nothing else."""

from __future__ import annotations

import re

import pytest

from core.access.scope import DISTRICT
from core.alerts import detect
from core.demo.district import PLANTED, load_demo
from core.warehouse import db


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo_alerts") / "yardstick.duckdb"
    load_demo(path)
    return path


@pytest.fixture(scope="module")
def demo_alerts(demo_path):
    with db.connect(demo_path) as con:
        return detect.current_alerts(con, DISTRICT)


def _mentions(frame, *words: str):
    keep = frame["title"].map(lambda title: all(word in title for word in words))
    return frame[keep]


@pytest.mark.slow
def test_planted_decline_is_a_critical_alert_in_every_season(demo_alerts):
    declines = demo_alerts[demo_alerts["kind"] == "decline"]
    planted = _mentions(declines, f"Grade {PLANTED.decline_grade} math", PLANTED.decline_school)
    assert len(planted) == 3
    assert set(planted["severity"]) == {"critical"}
    # any other decline is the district-wide grade 3 math cohort that contains Lincoln's
    others = declines.drop(planted.index)
    assert all(title.startswith("Grade 3 math") for title in others["title"])


@pytest.mark.slow
def test_widening_gaps_are_only_the_planted_ell_reading_gap(demo_alerts):
    gaps = demo_alerts[demo_alerts["kind"] == "widening gap"]
    assert len(gaps) >= 2
    assert all("reading" in title and "ell" in title for title in gaps["title"])


@pytest.mark.slow
def test_the_accelerated_growth_shows_as_an_improvement(demo_alerts):
    good = demo_alerts[demo_alerts["severity"] == "info"]
    assert len(_mentions(good, f"Grade {PLANTED.growth_grade} math", PLANTED.growth_school)) >= 1


@pytest.mark.slow
def test_the_home_pages_grouped_alerts_keep_every_planted_truth_once(demo_path, demo_alerts):
    with db.connect(demo_path) as con:
        grouped = detect.current_alerts(con, DISTRICT, grouped=True)
    assert len(grouped) < len(demo_alerts)
    declines = grouped[grouped["kind"] == "decline"]
    planted = _mentions(declines, f"Grade {PLANTED.decline_grade} math", PLANTED.decline_school)
    assert len(planted) == 1 and planted.iloc[0]["severity"] == "critical"
    assert all(season in planted.iloc[0]["title"] for season in ("fall", "winter", "spring"))
    gaps = grouped[grouped["kind"] == "widening gap"]
    assert len(gaps) == 1 and gaps.iloc[0]["focus"] == "ell=yes"
    assert "English learners were " in gaps.iloc[0]["summary"]
    good = grouped[grouped["severity"] == "info"]
    assert len(_mentions(good, f"Grade {PLANTED.growth_grade} math", PLANTED.growth_school)) == 1
    jargon = re.compile(r"Hedges|\bBH\b|\bp\s*[=<]|p-value|effect size|adjusted", re.IGNORECASE)
    assert not [text for text in grouped["summary"] if jargon.search(text)]
