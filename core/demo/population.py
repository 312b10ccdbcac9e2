"""Who is enrolled where, year after year, in the synthetic demo district.

The first year fills every grade; each later year every student advances a grade (a few repeat),
some leave the district, eighth graders move on to high school, fifth graders of K-5 schools
move to the middle school, a few change school, and new kindergarteners and movers arrive so
grade sizes stay near the target. Students keep their demographics (the warehouse stores one
row per student) and carry a persistent ability that drifts slowly from year to year.
Everything is vectorised: the only Python loops run over years, grades and schools.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.demo import names as names

GRADE_LABELS = ("K", "1", "2", "3", "4", "5", "6", "7", "8")
LEAVE_RATE = 0.07  # share of continuing students who leave the district between years
SWITCH_RATE = 0.03  # share of continuing students who change school inside the district
MIN_INFLOW = 0.04  # movers arrive every year, even when a grade is already full
REPEAT_RATE = np.array([0.03, 0.025, 0.02, 0.015, 0.008, 0.005, 0.005, 0.004, 0.004])
STUDENTS_PER_SECTION = 28
TRAIT_SD = 0.55  # the fixed part of general ability, in norm SDs
ABILITY_SD = 0.52  # the part that drifts from year to year (together: about 0.76)
SUBJECT_SD = 0.42  # subject-specific ability on top of it
YEAR_TO_YEAR_R = 0.95  # year-to-year correlation of the drifting parts of ability

RACES = (
    "White",
    "Hispanic or Latino",
    "Black or African American",
    "Asian",
    "Two or More Races",
    "American Indian or Alaska Native",
    "Native Hawaiian or Other Pacific Islander",
)
RACE_SHARES = np.array([0.44, 0.28, 0.15, 0.06, 0.05, 0.013, 0.007])
FRL_BY_RACE = np.array([-0.12, 0.15, 0.18, -0.12, 0.0, 0.15, 0.1])  # added to the school's rate
ELL_BY_RACE = np.array([0.02, 0.34, 0.04, 0.30, 0.03, 0.05, 0.10])
SPED_RATE = {"M": 0.17, "F": 0.09, "X": 0.13}


@dataclass(frozen=True)
class School:
    """One school: its grade span (K = 0), its weight among schools serving a grade, its share of
    students on free/reduced lunch, and its effect on scores (norm SDs)."""

    name: str
    code: str
    low: int
    high: int
    weight: float
    frl_rate: float
    effect: float = 0.0

    def serves(self, grade: np.ndarray) -> np.ndarray:
        return (grade >= self.low) & (grade <= self.high)


DEFAULT_SCHOOLS = (
    School("Lincoln Elementary", "LIN", 0, 5, 0.30, 0.66, -0.10),
    School("Washington Elementary", "WAS", 0, 5, 0.25, 0.55, -0.05),
    School("Roosevelt Elementary", "ROO", 0, 5, 0.24, 0.22, 0.50),
    School("Maple Grove K-8 Academy", "MGA", 0, 8, 0.21, 0.42, 0.05),
    School("Jefferson Middle School", "JMS", 6, 8, 0.79, 0.50, 0.0),
)


PLACE_NAMES = (
    "Adams", "Brookside", "Cedar Hills", "Douglass", "Eastwood", "Franklin", "Garfield",
    "Hawthorne", "Irving", "Jackson", "Kennedy", "Lakeview", "Madison", "Northgate", "Oakwood",
    "Parkside", "Quincy", "Riverside", "Sunnyslope", "Truman", "Union", "Valley View", "Westfield",
    "Willow Creek", "Bethune", "Chávez", "Ellington", "Hamilton", "King", "Marshall", "Pinecrest",
    "Sequoia", "Tubman", "Whittier", "Alder", "Bayside", "Crestview", "Highland", "Meadowbrook",
    "Stonegate",
)  # fmt: skip


def synthetic_schools(elementary: int, seed: int = 0) -> tuple[School, ...]:
    """A bigger district for benchmarks: `elementary` K-5 schools (random size, FRL share and a
    small effect) and one 6-8 middle school for every three of them."""
    rng = np.random.default_rng(seed)
    middle = max(1, round(elementary / 3))
    names = [
        f"{PLACE_NAMES[i % len(PLACE_NAMES)]}"
        + (f" {i // len(PLACE_NAMES) + 1}" if i >= 40 else "")
        for i in range(elementary + middle)
    ]
    frl = rng.uniform(0.2, 0.75, len(names))
    effect = rng.normal(0.0, 0.12, len(names))
    weight = rng.uniform(0.6, 1.4, len(names))
    return tuple(
        School(
            f"{name} {'Elementary' if i < elementary else 'Middle School'}",
            f"S{i + 1:03d}",
            0 if i < elementary else 6,
            5 if i < elementary else 8,
            float(weight[i]),
            float(frl[i]),
            float(effect[i]),
        )
        for i, name in enumerate(names)
    )


def school_weights(schools: Sequence[School]) -> np.ndarray:
    """[grade, school] probability that a student of that grade is placed in that school."""
    grades = np.arange(len(GRADE_LABELS))
    weights = np.array([np.where(s.serves(grades), s.weight, 0.0) for s in schools]).T
    return weights / weights.sum(axis=1, keepdims=True)


def choose(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row of a [rows, categories] probability matrix (vectorised)."""
    cumulative = np.cumsum(probs, axis=1)
    draws = rng.random(len(probs))[:, None] * cumulative[:, -1:]
    return (draws >= cumulative).sum(axis=1)


def _draw(pool: Sequence[str], n: int, rng: np.random.Generator) -> np.ndarray:
    return np.asarray(pool, dtype=object)[rng.integers(0, len(pool), n)]


def _names(gender: np.ndarray, race: np.ndarray, rng: np.random.Generator) -> tuple:
    n = len(gender)
    first = np.where(
        gender == "F", _draw(names.FEMALE_FIRST, n, rng), _draw(names.MALE_FIRST, n, rng)
    )
    first = np.where(gender == "X", _draw(names.NEUTRAL_FIRST, n, rng), first)
    pooled = rng.random(n) < 0.75  # most, not all, last names follow the recorded group
    last = _draw(names.GENERAL_LAST, n, rng)
    last = np.where(pooled & (race == 1), _draw(names.HISPANIC_LAST, n, rng), last)
    last = np.where(pooled & (race == 3), _draw(names.ASIAN_LAST, n, rng), last)
    return first, last


def _birth_dates(grade: np.ndarray, start_year: int, rng: np.random.Generator) -> np.ndarray:
    """Kindergarteners turn 5 by September 1 of their school year."""
    born = np.datetime64(f"{start_year - 6}-09-02") - (grade * 365.25).astype("timedelta64[D]")
    return born + rng.integers(0, 365, len(grade)).astype("timedelta64[D]")


def _programs(trait: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Reading Recovery for struggling readers, gifted services for a few strong students.
    Chosen on the fixed trait alone, so every grade and year has the same mix (no trend)."""
    u = rng.random(len(trait))
    program = np.full(len(trait), "none", dtype=object)
    program[(trait < -0.75) & (u < 0.6)] = "reading-recovery"
    program[(trait > 1.0) & (u < 0.7)] = "gifted"
    return program


def _class_types(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Co-taught classes for most students with an IEP; the dual-language program for some
    English learners and Spanish speakers (the same mix in every grade and year)."""
    u = rng.random(len(frame))
    class_type = np.full(len(frame), "general", dtype=object)
    spanish = frame["ell"].to_numpy() | (frame["race_idx"].to_numpy() == 1)
    class_type[spanish & (u < 0.25)] = "dual-language"
    class_type[frame["sped"].to_numpy() & (u > 0.4)] = "co-taught"
    return class_type


def new_students(
    grade: np.ndarray,
    school_idx: np.ndarray,
    schools: Sequence[School],
    start_year: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Students arriving (first year, kindergarten, movers): demographics and starting ability."""
    n = len(grade)
    gender = np.array(["F", "M", "X"], dtype=object)[
        choose(np.tile([0.493, 0.503, 0.004], (n, 1)), rng)
    ]
    race = choose(np.tile(RACE_SHARES, (n, 1)), rng)
    frl_rate = np.array([s.frl_rate for s in schools])[school_idx] + FRL_BY_RACE[race]
    sped_rate = pd.Series(gender).map(SPED_RATE).to_numpy(dtype=float)
    first, last = _names(gender, race, rng)
    frame = pd.DataFrame(
        {
            "grade_idx": grade,
            "school_idx": school_idx,
            "first_name": first,
            "last_name": last,
            "gender": gender,
            "race_idx": race,
            "ell": rng.random(n) < ELL_BY_RACE[race],
            "sped": rng.random(n) < sped_rate,
            "frl": rng.random(n) < np.clip(frl_rate, 0.03, 0.97),
            "birth_date": _birth_dates(grade, start_year, rng),
            "trait": rng.normal(0.0, TRAIT_SD, n),
            "ability": rng.normal(0.0, ABILITY_SD, n),
            "math_ability": rng.normal(0.0, SUBJECT_SD, n),
            "reading_ability": rng.normal(0.0, SUBJECT_SD, n),
        }
    )
    frame["program"] = _programs(frame["trait"].to_numpy(), rng)
    frame["class_type"] = _class_types(frame, rng)
    return frame


def _drift(values: pd.Series, sd: float, rng: np.random.Generator) -> np.ndarray:
    """AR(1) step that keeps the ability distribution stationary across years."""
    shock = rng.normal(0.0, sd * np.sqrt(1 - YEAR_TO_YEAR_R**2), len(values))
    return YEAR_TO_YEAR_R * values.to_numpy() + shock


def feeder_weights(schools: Sequence[School]) -> np.ndarray:
    """[from, to] where a school's top-grade leavers go: schools starting at the next grade (a
    K-5 feeds the 6-8), else any school teaching that grade."""
    rows = []
    for school in schools:
        nxt = np.array([school.high + 1])
        serves = np.array([s.serves(nxt)[0] for s in schools])
        starts = serves & np.array([s.low == school.high + 1 for s in schools])
        chosen = starts if starts.any() else serves
        rows.append(np.where(chosen, [s.weight for s in schools], 0.0))
    weights = np.array(rows)
    return weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)


def _next_school(frame: pd.DataFrame, schools: Sequence[School], rng) -> np.ndarray:
    """Stay, unless the school ends below the new grade (go where it feeds) or the family
    moves across town (any school teaching the grade)."""
    grade = frame["grade_idx"].to_numpy()
    current = frame["school_idx"].to_numpy()
    promoted = grade > np.array([s.high for s in schools])[current]
    switches = ~promoted & (rng.random(len(frame)) < SWITCH_RATE)
    fed = choose(feeder_weights(schools)[current], rng)
    moved = choose(school_weights(schools)[grade], rng)
    return np.where(promoted, fed, np.where(switches, moved, current))


def advance(frame: pd.DataFrame, schools: Sequence[School], rng) -> pd.DataFrame:
    """Last year's students who are still here this year, a grade up (or repeating)."""
    repeat = rng.random(len(frame)) < REPEAT_RATE[frame["grade_idx"].to_numpy()]
    stays = (rng.random(len(frame)) >= LEAVE_RATE) & (
        repeat | (frame["grade_idx"].to_numpy() < len(GRADE_LABELS) - 1)
    )
    nxt = frame.assign(grade_idx=frame["grade_idx"] + np.where(repeat, 0, 1), repeated=repeat)
    nxt = nxt[stays].reset_index(drop=True)
    nxt["school_idx"] = _next_school(nxt, schools, rng)
    for column, sd in (
        ("ability", ABILITY_SD),
        ("math_ability", SUBJECT_SD),
        ("reading_ability", SUBJECT_SD),
    ):
        nxt[column] = _drift(nxt[column], sd, rng)
    return nxt


def arrivals(
    continuing: pd.DataFrame, per_grade: int, schools: Sequence[School], start_year: int, rng
) -> pd.DataFrame:
    """New kindergarteners and movers: enough to bring each grade back near its target size."""
    have = np.bincount(continuing["grade_idx"], minlength=len(GRADE_LABELS))[: len(GRADE_LABELS)]
    target = rng.normal(per_grade, per_grade * 0.03, len(GRADE_LABELS))
    count = np.maximum(np.round(target - have), np.round(per_grade * MIN_INFLOW)).astype(int)
    grade = np.repeat(np.arange(len(GRADE_LABELS)), count)
    school_idx = choose(school_weights(schools)[grade], rng)
    frame = new_students(grade, school_idx, schools, start_year, rng)
    frame["repeated"] = False
    return frame


def assign_ids(frame: pd.DataFrame, used: int, id_pool: np.ndarray) -> pd.DataFrame:
    """Student ids for new rows, taken in order from a seeded pool of unique 6-7 digit numbers."""
    ids = id_pool[used : used + len(frame)].astype(str)
    return frame.assign(student_id=ids)


def _section_labels(school_idx, grade_idx, index, schools: Sequence[School]) -> np.ndarray:
    """ "LIN-3A": school code, grade, letter (numbers after Z); built once per distinct section."""
    key = (school_idx * len(GRADE_LABELS) + grade_idx) * 10_000 + index
    unique, position = np.unique(key, return_inverse=True)
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), dtype=object)
    number = unique % 10_000
    suffix = np.where(number < 26, letters[np.minimum(number, 25)], (number + 1).astype(str))
    group = unique // 10_000
    codes = np.array([s.code for s in schools], dtype=object)[group // len(GRADE_LABELS)]
    grades = np.asarray(GRADE_LABELS, dtype=object)[group % len(GRADE_LABELS)]
    return (codes + "-" + grades + suffix)[position]


def assign_sections(frame: pd.DataFrame, schools: Sequence[School], rng) -> pd.DataFrame:
    """Split each year × school × grade into sections of about 28 (at least 2), at random."""
    keys = [frame["school_year"], frame["school_idx"], frame["grade_idx"]]
    draw = pd.Series(rng.random(len(frame)), index=frame.index)
    size = draw.groupby(keys).transform("size").to_numpy()
    rank = draw.groupby(keys).rank(method="first").to_numpy().astype(int) - 1
    index = rank % np.maximum(2, np.ceil(size / STUDENTS_PER_SECTION)).astype(int)
    school_idx, grade_idx = frame["school_idx"].to_numpy(), frame["grade_idx"].to_numpy()
    section = _section_labels(school_idx, grade_idx, index, schools)
    return frame.assign(section=section, section_idx=index)


def teacher_names(sections: pd.Series, rng: np.random.Generator) -> pd.Series:
    """One named teacher per section (the same person teaches it every year)."""
    unique = pd.Index(sorted(sections.unique()))
    first = np.asarray(names.FEMALE_FIRST + names.MALE_FIRST, dtype=object)
    last = np.asarray(names.GENERAL_LAST + names.HISPANIC_LAST + names.ASIAN_LAST, dtype=object)
    combos = rng.choice(len(first) * len(last), size=len(unique), replace=False)
    full = first[combos // len(last)] + " " + last[combos % len(last)]
    return sections.map(pd.Series(full, index=unique))
