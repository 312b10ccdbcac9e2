"""A seeded synthetic district for the comparisons tests (and the timing run at 60k students).

Students enter at the first grade and move up a grade each year; some change school, some repeat
a grade, some miss tests (so tests per student are unbalanced), and a few also sit a second
platform (which comparisons must ignore). Effects can be planted: a decline of one cohort in one
year, and a subgroup gap that widens year on year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as sps

from core.standards import norms

_, NORMS = norms.read_norms_file(norms.NORMS_DIR / norms.BUILTIN_NORMS["2020"])
NORM_TABLE = NORMS.set_index(["subject", "grade", "season"])


def norm_of(subject: str, grade: str, season: str) -> tuple[float, float]:
    """The 2020 norm (mean, sd) the generator draws scores around."""
    row = NORM_TABLE.loc[(subject, grade, season)]
    return float(row["mean"]), float(row["sd"])


@dataclass(frozen=True)
class Plan:
    seed: int = 1
    schools: tuple[str, ...] = ("Lincoln", "Washington", "Jefferson")
    years: tuple[str, ...] = ("2021-2022", "2022-2023", "2023-2024", "2024-2025")
    grades: tuple[str, ...] = ("3", "4", "5")
    per_cohort: int = 40  # students per school per entering class
    subjects: tuple[str, ...] = ("math", "reading")
    seasons: tuple[str, ...] = ("fall", "winter", "spring")
    missing: float = 0.08  # share of test events missed
    movers: float = 0.06
    repeaters: float = 0.03
    second_platform: float = 0.05
    noise_sd: float = 6.0
    # (school, grade, subject, year, points): the cohort's scores drop by `points`
    declines: tuple[tuple[str, str, str, str, float], ...] = ()
    # (attribute, subject, points per year): the subgroup's gap grows by `points` each year
    widening: tuple[tuple[str, str, float], ...] = field(default=())


def _students(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    n_years, n_grades = len(plan.years), len(plan.grades)
    entries = np.arange(-(n_grades - 1), n_years)  # year index in which the class starts
    count = len(plan.schools) * len(entries) * plan.per_cohort
    school = np.repeat(np.arange(len(plan.schools)), len(entries) * plan.per_cohort)
    entry = np.tile(np.repeat(entries, plan.per_cohort), len(plan.schools))
    students = pd.DataFrame(
        {
            "student_id": [f"S{i:07d}" for i in range(count)],
            "school": school,
            "entry": entry,
            "ability": rng.normal(0, 1, count),
            "ell": rng.random(count) < 0.2,
            "sped": rng.random(count) < 0.12,
            "frl": rng.random(count) < 0.45,
            "gender": rng.choice(["F", "M"], count),
            "race_ethnicity": rng.choice(
                ["Hispanic", "White", "Black", "Asian", "Two or more"],
                count,
                p=[0.4, 0.3, 0.15, 0.1, 0.05],
            ),
            "program": rng.choice(["none", "reading-recovery"], count, p=[0.85, 0.15]),
            "move_year": np.where(
                rng.random(count) < plan.movers, rng.integers(1, max(n_years, 2), count), 99
            ),
            "repeat_year": np.where(
                rng.random(count) < plan.repeaters, rng.integers(1, max(n_years, 2), count), 99
            ),
        }
    )
    return students


def _enrolled(plan: Plan, students: pd.DataFrame) -> pd.DataFrame:
    years = pd.DataFrame({"t": np.arange(len(plan.years))})
    rows = students.merge(years, how="cross")
    held_back = (rows["t"] >= rows["repeat_year"]).astype(int)
    rows["g"] = rows["t"] - rows["entry"] - held_back
    rows = rows[(rows["g"] >= 0) & (rows["g"] < len(plan.grades)) & (rows["t"] >= rows["entry"])]
    moved = rows["t"] >= rows["move_year"]
    rows["school"] = np.where(moved, (rows["school"] + 1) % len(plan.schools), rows["school"])
    rows["grade"] = np.asarray(plan.grades)[rows["g"].to_numpy()]
    rows["school_year"] = np.asarray(plan.years)[rows["t"].to_numpy()]
    return rows.reset_index(drop=True)


def _scores(plan: Plan, enrolled: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    tests = pd.DataFrame(
        [(s, t) for s in plan.subjects for t in plan.seasons], columns=["subject", "season"]
    )
    rows = enrolled.merge(tests, how="cross")
    rows = rows[rng.random(len(rows)) >= plan.missing].reset_index(drop=True)
    keys = pd.MultiIndex.from_frame(rows[["subject", "grade", "season"]])
    base = NORM_TABLE["mean"].reindex(keys).to_numpy()
    spread = NORM_TABLE["sd"].reindex(keys).to_numpy()
    noise = rng.normal(0, plan.noise_sd, len(rows))
    score = base + spread * 0.8 * rows["ability"].to_numpy() + noise
    school_names = np.asarray(plan.schools)[rows["school"].to_numpy()]
    for school, grade, subject, year, points in plan.declines:
        hit = (school_names == school) & (rows["grade"] == grade) & (rows["subject"] == subject)
        score -= points * (hit & (rows["school_year"] == year)).to_numpy()
    for attribute, subject, points in plan.widening:
        hit = rows[attribute].astype(bool).to_numpy() & (rows["subject"] == subject).to_numpy()
        score -= points * (rows["t"].to_numpy() + 1) * hit
    rows["score"] = np.round(score, 1)
    rows["percentile"] = np.clip(np.round(100 * sps.norm.cdf((score - base) / spread)), 1, 99)
    rows["school_name"] = school_names
    rows["platform"] = "nwea_map"
    return rows


def build(con: duckdb.DuckDBPyConnection, plan: Plan | None = None) -> pd.DataFrame:
    """Load the district into a migrated warehouse; returns the raw scores (for references)."""
    plan = plan or Plan()
    rng = np.random.default_rng(plan.seed)
    students = _students(plan, rng)
    enrolled = _enrolled(plan, students)
    scores = _scores(plan, enrolled, rng)
    extra = scores.sample(frac=plan.second_platform, random_state=plan.seed).assign(
        platform="star", score=lambda d: d["score"] * 3 + 400
    )
    con.executemany("insert into schools (name) values (?)", [[s] for s in plan.schools])
    ids = dict(con.execute("select name, school_id from schools").fetchall())
    everything = pd.concat([scores, extra], ignore_index=True)
    everything["school_id"] = everything["school_name"].map(ids)
    enrolled["school_id"] = np.asarray([ids[s] for s in plan.schools])[enrolled["school"]]
    enrolled["section"] = (
        enrolled["school"].astype(str)
        + "-"
        + enrolled["grade"]
        + "-"
        + (enrolled.index % 2).astype(str)
    )
    enrolled["teacher"] = "T" + enrolled["section"]
    con.register("gen_students", students)
    con.register("gen_enrolled", enrolled)
    con.register("gen_scores", everything)
    con.execute(
        "insert into students (student_id, gender, race_ethnicity, ell, sped, frl) "
        "select student_id, gender, race_ethnicity, ell, sped, frl from gen_students"
    )
    # attributes are recorded per school year: here each student keeps one value every year
    years = (
        "(select student_id, school_year from gen_enrolled "
        "union select student_id, school_year from gen_scores)"
    )
    con.execute(
        "insert into student_years (student_id, school_year, gender, race_ethnicity, ell, sped, "
        f"frl) select student_id, y.school_year, gender, race_ethnicity, ell, sped, frl "
        f"from gen_students join {years} y using (student_id)"
    )
    con.execute(
        "insert into student_attributes select student_id, y.school_year, 'program', program "
        f"from gen_students join {years} y using (student_id)"
    )
    con.execute(
        "insert into enrollments (student_id, school_year, school_id, grade, teacher, section) "
        "select student_id, school_year, school_id, grade, teacher, section from gen_enrolled"
    )
    con.execute(
        "insert into assessments (student_id, platform, subject, school_year, season, school_id,"
        " grade, score, percentile) select student_id, platform, subject, school_year, season,"
        " school_id, grade, score, percentile from gen_scores"
    )
    for name in ("gen_students", "gen_enrolled", "gen_scores"):
        con.unregister(name)
    return scores.drop(columns="school").rename(columns={"school_name": "school"})
