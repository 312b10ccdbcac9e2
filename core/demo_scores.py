"""Test scores for the synthetic demo district, drawn around the NWEA MAP Growth 2020 norms.

A score is the norm mean of its subject × grade × season plus the norm SD times a standardized
value z. z adds up a student's persistent ability (general and per subject), fixed school and
demographic effects, the planted truths (see core/demo.py), a small per-student growth slope
within the year, and test noise. Because ability is measured against each season's norm, a
typical student grows exactly as the norms' fall → winter → spring progression says. The
percentile is the normal-curve percentile of the rounded score against the same norm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from core.demo_population import GRADE_LABELS, RACES, School
from core.norms import BUILTIN_NORMS, NORMS_DIR, read_norms_file

DEMO_NORMS = "2020"  # the demo is drawn around the NWEA MAP Growth 2020 student norms
SUBJECTS = ("math", "reading")
SEASONS = ("fall", "winter", "spring")
SEASON_FRACTION = np.array([0.0, 0.5, 1.0])  # share of the year's instruction before the test
MISSING_RATE = 0.04  # absent on test day, never made up
TEST_NOISE_SD = 0.33
GROWTH_SLOPE_SD = 0.20
INTERCEPT = 0.25  # places the district as a whole a little below the national mean
FRL_EFFECT = -0.30
SPED_EFFECT = -0.75
ELL_MATH_EFFECT = -0.35
RACE_EFFECT = np.array([0.0, -0.08, -0.18, 0.20, 0.0, -0.15, -0.10])  # aligned with RACES
FEMALE_READING_EFFECT = 0.08
TEST_WINDOWS = {"fall": "09-08", "winter": "01-12", "spring": "05-04"}
MIN_SCORE, MAX_SCORE = 100, 350


@dataclass(frozen=True)
class Planted:
    """The planted truths, in norm SDs (documented with their cohorts in core/demo.py)."""

    decline_school: str = "Lincoln Elementary"
    decline_grade: str = "3"
    decline_subject: str = "math"
    decline_shift: float = -0.90
    gap_subject: str = "reading"
    gap_start: float = -0.45  # ELL effect in the first year
    gap_step: float = -0.15  # added every later year
    growth_school: str = "Washington Elementary"
    growth_grade: str = "4"
    growth_subject: str = "math"
    growth_gain: float = 0.50  # extra gain by spring (none at fall, half by winter)


PLANTED = Planted()


def norm_table(key: str = DEMO_NORMS) -> pd.DataFrame:
    """subject, grade, season, mean, sd of the built-in norm set (norms/), math/reading K-8."""
    header_and_rows = read_norms_file(NORMS_DIR / BUILTIN_NORMS[key])
    table = header_and_rows[1]
    if "level" in table.columns:
        table = table[table["level"] == "student"]
    table = table[table["subject"].isin(SUBJECTS) & table["grade"].isin(GRADE_LABELS)]
    return table[["subject", "grade", "season", "mean", "sd"]].reset_index(drop=True)


def test_events(enrollments: pd.DataFrame) -> pd.DataFrame:
    """Every enrollment × subject × season (before absences), as positional indexes."""
    per = len(SUBJECTS) * len(SEASONS)
    row = np.repeat(np.arange(len(enrollments)), per)
    subject_idx = np.tile(np.repeat(np.arange(len(SUBJECTS)), len(SEASONS)), len(enrollments))
    season_idx = np.tile(np.arange(len(SEASONS)), len(enrollments) * len(SUBJECTS))
    return pd.DataFrame({"row": row, "subject_idx": subject_idx, "season_idx": season_idx})


def _demographic_z(e: pd.DataFrame, ev: pd.DataFrame, year_idx: np.ndarray, planted: Planted):
    math = ev["subject_idx"].to_numpy() == SUBJECTS.index("math")
    ell_gap = planted.gap_start + planted.gap_step * year_idx
    ell_effect = np.where(
        np.asarray(SUBJECTS, dtype=object)[ev["subject_idx"]] == planted.gap_subject,
        ell_gap,
        ELL_MATH_EFFECT,
    )
    female = e["gender"].to_numpy() == "F"
    return (
        FRL_EFFECT * e["frl"].to_numpy()
        + SPED_EFFECT * e["sped"].to_numpy()
        + ell_effect * e["ell"].to_numpy()
        + RACE_EFFECT[e["race_idx"].to_numpy()]
        + np.where(math, 0.0, FEMALE_READING_EFFECT * female)
    )


def _planted_z(e: pd.DataFrame, ev: pd.DataFrame, latest: np.ndarray, planted: Planted):
    subject = np.asarray(SUBJECTS, dtype=object)[ev["subject_idx"].to_numpy()]
    school, grade = e["school"].to_numpy(), e["grade"].to_numpy()
    decline = (
        latest
        & (school == planted.decline_school)
        & (grade == planted.decline_grade)
        & (subject == planted.decline_subject)
    )
    growth = (
        latest
        & (school == planted.growth_school)
        & (grade == planted.growth_grade)
        & (subject == planted.growth_subject)
    )
    fraction = SEASON_FRACTION[ev["season_idx"].to_numpy()]
    return decline * planted.decline_shift + growth * planted.growth_gain * fraction


def standardized_scores(
    enrollments: pd.DataFrame,
    schools: Sequence[School],
    years: Sequence[str],
    rng: np.random.Generator,
    planted: Planted = PLANTED,
) -> pd.DataFrame:
    """z for every test event (absences already dropped), with its enrollment row."""
    events = test_events(enrollments)
    events = events[rng.random(len(events)) >= MISSING_RATE].reset_index(drop=True)
    e = enrollments.iloc[events["row"].to_numpy()].reset_index(drop=True)
    year_idx = pd.Index(years).get_indexer(e["school_year"])
    math = events["subject_idx"].to_numpy() == SUBJECTS.index("math")
    slope = rng.normal(0.0, GROWTH_SLOPE_SD, len(enrollments) * len(SUBJECTS))
    slope = slope[events["row"].to_numpy() * len(SUBJECTS) + events["subject_idx"].to_numpy()]
    school_effect = np.array([s.effect for s in schools])[e["school_idx"].to_numpy()]
    z = (
        INTERCEPT
        + school_effect
        + e["ability"].to_numpy()
        + np.where(math, e["math_ability"].to_numpy(), e["reading_ability"].to_numpy())
        + _demographic_z(e, events, year_idx, planted)
        + _planted_z(e, events, year_idx == len(years) - 1, planted)
        + slope * SEASON_FRACTION[events["season_idx"].to_numpy()]
        + rng.normal(0.0, TEST_NOISE_SD, len(events))
    )
    return events.assign(z=z)


def to_rit(events: pd.DataFrame, grade: np.ndarray, norms: pd.DataFrame) -> pd.DataFrame:
    """Scale z onto the RIT scale with the norm of the event's subject × grade × season."""
    keys = pd.DataFrame(
        {
            "subject": np.asarray(SUBJECTS, dtype=object)[events["subject_idx"].to_numpy()],
            "grade": grade,
            "season": np.asarray(SEASONS, dtype=object)[events["season_idx"].to_numpy()],
        }
    )
    norm = keys.merge(norms, on=["subject", "grade", "season"], how="left", validate="m:1")
    score = np.clip(np.round(norm["mean"] + norm["sd"] * events["z"]), MIN_SCORE, MAX_SCORE)
    percentile = np.clip(np.round(100 * ndtr((score - norm["mean"]) / norm["sd"])), 1, 99)
    return keys.assign(score=score.astype(int), percentile=percentile.astype(int))


def test_dates(school_year: np.ndarray, season: np.ndarray, rng) -> np.ndarray:
    """Each season's testing window: three weeks from a fixed date in its calendar year."""
    start = pd.Series(school_year).str.slice(0, 4).astype(int).to_numpy()
    calendar_year = np.where(season == "fall", start, start + 1)
    month_day = pd.Series(season).map(TEST_WINDOWS).to_numpy()
    first = pd.to_datetime(pd.Series(calendar_year.astype(str)) + "-" + month_day).to_numpy()
    return first + rng.integers(0, 18, len(season)).astype("timedelta64[D]")


def race_labels(race_idx: np.ndarray) -> np.ndarray:
    return np.asarray(RACES, dtype=object)[race_idx]
