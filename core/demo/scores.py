"""Test scores for the synthetic demo district, drawn around the NWEA MAP Growth 2020 norms.

A score is the norm mean of its subject × grade × season plus the norm SD times a standardized
value z. z adds up a student's persistent ability (general and per subject), fixed school and
demographic effects, the planted truths (see core/demo/district.py), a small per-student growth
slope
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

from core.demo.population import GRADE_LABELS, RACES, School
from core.standards.norms import BUILTIN_NORMS, NORMS_DIR, read_norms_file

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
    """The planted truths, in norm SDs (documented with their cohorts in core/demo/district.py)."""

    decline_school: str = "Lincoln Elementary"
    decline_grade: str = "3"
    decline_subject: str = "math"
    decline_shift: float = -0.90
    gap_subject: str = "reading"
    gap_start: float = -0.35  # ELL effect in the first year
    gap_step: float = -0.20  # added every later year
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


def test_events(n_enrollments: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every enrollment × subject × season as positional indexes, minus the tests missed."""
    per = len(SUBJECTS) * len(SEASONS)
    row = np.repeat(np.arange(n_enrollments), per)
    subject_idx = np.tile(np.repeat(np.arange(len(SUBJECTS)), len(SEASONS)), n_enrollments)
    season_idx = np.tile(np.arange(len(SEASONS)), n_enrollments * len(SUBJECTS))
    taken = rng.random(len(row)) >= MISSING_RATE
    return {"row": row[taken], "subject_idx": subject_idx[taken], "season_idx": season_idx[taken]}


def _student_z(e: pd.DataFrame, schools: Sequence[School]) -> np.ndarray:
    """The part of z shared by both subjects, one value per enrollment."""
    return (
        INTERCEPT
        + np.array([s.effect for s in schools])[e["school_idx"].to_numpy()]
        + e["trait"].to_numpy()
        + e["ability"].to_numpy()
        + FRL_EFFECT * e["frl"].to_numpy()
        + SPED_EFFECT * e["sped"].to_numpy()
        + RACE_EFFECT[e["race_idx"].to_numpy()]
    )


def _subject_z(e: pd.DataFrame, year_idx: np.ndarray, planted: Planted) -> np.ndarray:
    """[subject, enrollment]: subject ability, the ELL effect (the planted widening gap in its
    subject), girls' reading advantage."""
    ell = e["ell"].to_numpy()
    female = e["gender"].to_numpy() == "F"
    rows = []
    for subject in SUBJECTS:
        ell_effect = (
            planted.gap_start + planted.gap_step * year_idx
            if subject == planted.gap_subject
            else ELL_MATH_EFFECT
        )
        girls = FEMALE_READING_EFFECT * female if subject == "reading" else 0.0
        rows.append(e[f"{subject}_ability"].to_numpy() + ell_effect * ell + girls)
    return np.vstack(rows)


def _planted_z(e: pd.DataFrame, latest: np.ndarray, planted: Planted) -> tuple:
    """[subject, enrollment] shifts: the decline (every season) and the extra growth (scaled by
    the season's share of the year)."""
    school, grade = e["school"].to_numpy(), e["grade"].to_numpy()
    shift = np.zeros((len(SUBJECTS), len(e)))
    gain = np.zeros((len(SUBJECTS), len(e)))
    if planted.decline_subject in SUBJECTS:
        decline = latest & (school == planted.decline_school) & (grade == planted.decline_grade)
        shift[SUBJECTS.index(planted.decline_subject)] = decline * planted.decline_shift
    if planted.growth_subject in SUBJECTS:
        growth = latest & (school == planted.growth_school) & (grade == planted.growth_grade)
        gain[SUBJECTS.index(planted.growth_subject)] = growth * planted.growth_gain
    return shift, gain


def standardized_scores(
    enrollments: pd.DataFrame,
    schools: Sequence[School],
    years: Sequence[str],
    rng: np.random.Generator,
    planted: Planted = PLANTED,
) -> dict[str, np.ndarray]:
    """z for every test taken, with its enrollment row, subject and season indexes."""
    events = test_events(len(enrollments), rng)
    row, subject, season = events["row"], events["subject_idx"], events["season_idx"]
    year_idx = pd.Index(years).get_indexer(enrollments["school_year"])
    shift, gain = _planted_z(enrollments, year_idx == len(years) - 1, planted)
    slope = rng.normal(0.0, GROWTH_SLOPE_SD, (len(SUBJECTS), len(enrollments)))
    z = (
        _student_z(enrollments, schools)[row]
        + _subject_z(enrollments, year_idx, planted)[subject, row]
        + shift[subject, row]
        + (gain + slope)[subject, row] * SEASON_FRACTION[season]
        + rng.normal(0.0, TEST_NOISE_SD, len(row))
    )
    return events | {"z": z, "year_idx": year_idx[row]}


def norm_arrays(norms: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Norm mean and sd as [subject, grade, season] arrays (NaN where the table has none)."""
    shape = (len(SUBJECTS), len(GRADE_LABELS), len(SEASONS))
    mean, sd = np.full(shape, np.nan), np.full(shape, np.nan)
    known = norms[norms["subject"].isin(SUBJECTS) & norms["grade"].isin(GRADE_LABELS)]
    at = (
        pd.Index(SUBJECTS).get_indexer(known["subject"]),
        pd.Index(GRADE_LABELS).get_indexer(known["grade"]),
        pd.Index(SEASONS).get_indexer(known["season"]),
    )
    mean[at], sd[at] = known["mean"].to_numpy(), known["sd"].to_numpy()
    return mean, sd


def to_rit(events: dict, grade_idx: np.ndarray, norms: pd.DataFrame) -> tuple:
    """(score, percentile): z on the RIT scale of the event's subject × grade × season norm,
    and the normal-curve percentile of the rounded score against that norm."""
    mean, sd = norm_arrays(norms)
    at = (events["subject_idx"], grade_idx, events["season_idx"])
    score = np.clip(np.round(mean[at] + sd[at] * events["z"]), MIN_SCORE, MAX_SCORE)
    percentile = np.clip(np.round(100 * ndtr((score - mean[at]) / sd[at])), 1, 99)
    return score.astype(int), percentile.astype(int)


def test_dates(
    years: Sequence[str], year_idx: np.ndarray, season_idx: np.ndarray, rng
) -> np.ndarray:
    """Each season's testing window: three weeks from a fixed date in its calendar year."""
    first = np.array(
        [[f"{int(y[:4]) + (s != 'fall')}-{TEST_WINDOWS[s]}" for s in SEASONS] for y in years],
        dtype="datetime64[D]",
    )
    return first[year_idx, season_idx] + rng.integers(0, 18, len(year_idx)).astype("timedelta64[D]")


def race_labels(race_idx: np.ndarray) -> np.ndarray:
    return np.asarray(RACES, dtype=object)[race_idx]
