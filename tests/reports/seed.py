"""A small seeded warehouse for the narrative and report tests.

Two schools of ~60 students per grade (3 and 4), three school years, math and reading, fall and
spring, on the NWEA RIT scale (so the shipped 2020 norms apply). Planted: Lincoln's grade 3 math
drops in the latest year; Roosevelt sits well above the norm; English learners trail in reading;
a race/ethnicity group of four students in Lincoln's latest grade 3 (always suppressed); a third
school with six students (a suppressed cohort). Names are made-up syllables that cannot collide
with English words, so a test can search narrative text for any roster value.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from core.warehouse import canonical

YEARS = ("2022-2023", "2023-2024", "2024-2025")
SCHOOLS = ("Lincoln Elementary", "Roosevelt Elementary", "Tiny Academy")
SEASONS = ("fall", "spring")
SUBJECTS = ("math", "reading")
PER_CLASS = {"Lincoln Elementary": 60, "Roosevelt Elementary": 60, "Tiny Academy": 6}
SMALL_GROUP = "Pacific Islander"
NORMS = {  # NWEA MAP Growth 2020 student norms (norms/nwea_2020_student.csv)
    ("math", "3", "fall"): 188.48, ("math", "3", "spring"): 201.08,
    ("math", "4", "fall"): 199.55, ("math", "4", "spring"): 210.51,
    ("reading", "3", "fall"): 186.62, ("reading", "3", "spring"): 197.12,
    ("reading", "4", "fall"): 196.67, ("reading", "4", "spring"): 204.83,
}  # fmt: skip
SYLLABLES = ("zor", "vex", "qua", "lim", "tor", "bex", "yul", "kra", "fen", "dro", "pix", "wem")


def _name(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, 3)).capitalize()


def _students(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for school in SCHOOLS:
        for entry in range(-1, len(YEARS)):  # the year index the class is in grade 3
            for _ in range(PER_CLASS[school]):
                rows.append({"school": school, "entry": entry})
    frame = pd.DataFrame(rows)
    count = len(frame)
    frame["student_id"] = [f"ZQ{70000 + i}" for i in range(count)]
    frame["first_name"] = [_name(rng) for _ in range(count)]
    frame["last_name"] = [_name(rng) for _ in range(count)]
    frame["gender"] = rng.choice(["F", "M"], count)
    race = rng.choice(["Hispanic", "White", "Black"], count, p=[0.4, 0.4, 0.2]).astype(object)
    latest_grade_3 = (frame["school"] == "Lincoln Elementary") & (frame["entry"] == len(YEARS) - 1)
    race[rng.choice(np.flatnonzero(latest_grade_3), 4, replace=False)] = SMALL_GROUP
    frame["race_ethnicity"] = race
    frame["ell"] = rng.random(count) < 0.25
    frame["sped"] = rng.random(count) < 0.12
    frame["frl"] = rng.random(count) < 0.4
    frame["ability"] = rng.normal(0, 1, count)
    return frame


def _effect(row: pd.Series, subject: str, grade: str, year: str) -> float:
    effect = 0.6 if row.school == "Roosevelt Elementary" else 0.0
    if row.ell and subject == "reading":
        effect -= 0.7
    planted = row.school == "Lincoln Elementary" and grade == "3" and year == YEARS[-1]
    return effect - (0.8 if planted and subject == "math" else 0.0)


def _scores(students: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    scores, enrollments = [], []
    for row in students.itertuples(index=False):
        for index, year in enumerate(YEARS):
            grade = str(3 + index - row.entry)
            if grade not in ("3", "4"):
                continue
            enrollments.append((row.student_id, year, row.school, grade))
            for subject in SUBJECTS:
                for season in SEASONS:
                    if rng.random() < 0.05:
                        continue  # a missed test
                    z = 0.8 * row.ability + _effect(row, subject, grade, year)
                    z += rng.normal(0, 0.4)
                    score = NORMS[(subject, grade, season)] + 15 * z
                    scores.append((row.student_id, subject, year, season, row.school, grade, score))
    columns = ["student_id", "subject", "school_year", "season", "school", "grade", "score"]
    return (
        pd.DataFrame(scores, columns=columns),
        pd.DataFrame(enrollments, columns=["student_id", "school_year", "school", "grade"]),
    )


def seed(con: duckdb.DuckDBPyConnection, seed_value: int = 11) -> pd.DataFrame:
    """Load the district into a migrated warehouse; returns the roster (students table rows)."""
    rng = np.random.default_rng(seed_value)
    students = _students(rng)
    scores, enrollments = _scores(students, rng)
    for name in SCHOOLS:
        con.execute("insert into schools (name) values (?)", [name])
    roster = students[
        ["student_id", "first_name", "last_name", "gender", "race_ethnicity", "ell", "sped", "frl"]
    ]
    con.register("seed_students", roster)
    con.execute(
        "insert into students (student_id, first_name, last_name, gender, race_ethnicity, ell, "
        "sped, frl) select * from seed_students"
    )
    con.register("seed_enrol", enrollments)
    con.execute(
        "insert into enrollments (student_id, school_year, school_id, grade, teacher, section) "
        "select e.student_id, e.school_year, s.school_id, e.grade, 'Teacher ' || s.school_id, "
        "s.school_id || '-' || e.grade from seed_enrol e join schools s on s.name = e.school"
    )
    con.register("seed_scores", scores)
    con.execute(  # attributes per school year: each student keeps one value every year here
        "insert into student_years select s.student_id, y.school_year, s.gender, "
        "s.race_ethnicity, s.ell, s.sped, s.frl from seed_students s join (select student_id, "
        "school_year from seed_enrol union select student_id, school_year from seed_scores) y "
        "using (student_id)"
    )
    con.execute(
        "insert into assessments (student_id, platform, subject, school_year, season, school_id, "
        "grade, score) select x.student_id, 'nwea_map', x.subject, x.school_year, x.season, "
        "s.school_id, x.grade, x.score from seed_scores x join schools s on s.name = x.school"
    )
    for name in ("seed_students", "seed_enrol", "seed_scores"):
        con.unregister(name)
    assert set(canonical.SEASONS) >= set(SEASONS)
    return roster
