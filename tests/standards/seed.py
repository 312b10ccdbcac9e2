"""Fixed data for the standards tests, seeded into an in-memory warehouse.

Every group is built to exercise one rule; the raw member scores are returned too, so tests
compute the expected statistics independently (scipy / numpy / pingouin on the raw scores).

| school | grade | students | what it tests |
|---|---|---|---|
| Lincoln Elementary | 3 | 50 (5 ELL) | the brief's complementary-suppression example |
| Lincoln Elementary | 4 | 12 | a cohort spanning grades 3-4; pooled per-student norms |
| Lincoln Elementary | K | 14 | science K has no norm (math K has one; grade 3 takes science too) |
| Washington Elementary | 3 | 10 | n exactly at the minimum (10) |
| Washington Elementary | 5 | 11 | all math scores equal in spring (sd 0) |
| Washington Elementary | 2 | 7 | under the minimum |
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from core.standards.norms import NORMS_DIR, read_norms_file

YEAR = "2024-2025"
GROUPS = [
    # school, grade, n, shift in norm SDs
    ("Lincoln Elementary", "3", 50, 0.45),
    ("Lincoln Elementary", "4", 12, -0.30),
    ("Lincoln Elementary", "K", 14, 0.0),
    ("Washington Elementary", "3", 10, -0.10),
    ("Washington Elementary", "5", 11, 0.0),
    ("Washington Elementary", "2", 7, 0.2),
]
SEASONS = ("fall", "spring")


def state_cut_scores() -> pd.DataFrame:
    """Four bands for grade 3 math, spring (made-up cut points for the tests)."""
    return pd.DataFrame(
        {
            "subject": "math",
            "grade": "3",
            "season": "spring",
            "band": ["Limited", "Basic", "Proficient", "Advanced"],
            "min_score": [0, 190, 200, 215],
            "proficient": [False, False, True, True],
        }
    )


def norms_2020() -> pd.DataFrame:
    _, frame = read_norms_file(NORMS_DIR / "nwea_2020_student.csv")
    return frame.set_index(["subject", "grade", "season"])


def _students() -> pd.DataFrame:
    rows = []
    for school, grade, n, shift in GROUPS:
        for i in range(n):
            sid = f"{school[0]}{grade}-{i:03d}"
            ell = school.startswith("Lincoln") and grade == "3" and i < 5
            rows.append((sid, school, grade, shift, ell, i % 2 == 0, "F" if i % 3 else "M"))
    return pd.DataFrame(
        rows, columns=["student_id", "school", "grade", "shift", "ell", "frl", "gender"]
    )


def scores_frame(seed: int = 11) -> pd.DataFrame:
    """One row per student × subject × season with its score and percentile (the raw truth)."""
    rng = np.random.default_rng(seed)
    norms = norms_2020()
    students = _students()
    rows = []
    for s in students.itertuples():
        with_science = s.grade in ("K", "3")
        subjects = ("math", "reading", "science") if with_science else ("math", "reading")
        for subject in subjects:
            for season in SEASONS:
                key = (subject, s.grade, season)
                mean, sd = norms.loc[key, ["mean", "sd"]] if key in norms.index else (150.0, 10.0)
                score = round(mean + sd * (s.shift + rng.normal(0, 1)), 1)
                if s.school.startswith("Washington") and s.grade == "5" and subject == "math":
                    score = 212.0 if season == "spring" else score
                rows.append(
                    (
                        s.student_id,
                        s.school,
                        s.grade,
                        subject,
                        season,
                        score,
                        float(rng.integers(1, 100)),
                    )
                )
    return pd.DataFrame(
        rows,
        columns=["student_id", "school", "grade", "subject", "season", "score", "percentile"],
    )


def seed(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Load the fixed district; returns the raw scores joined with student attributes."""
    students = _students()
    scores = scores_frame()
    con.execute(
        "insert into schools (name) values ('Lincoln Elementary'), ('Washington Elementary')"
    )
    con.register("seed_students", students)
    con.register("seed_scores", scores)
    con.execute(
        "insert into students (student_id, gender, ell, frl, sped) "
        "select student_id, gender, ell, frl, false from seed_students"
    )
    con.execute(  # attributes are recorded per school year (one year here)
        f"insert into student_years (student_id, school_year, gender, ell, frl, sped) "
        f"select student_id, '{YEAR}', gender, ell, frl, false from seed_students"
    )
    con.execute(
        f"""insert into enrollments (student_id, school_year, school_id, grade, teacher, section)
        select s.student_id, '{YEAR}', sc.school_id, s.grade,
               case when s.student_id like '%0' then 'Ms. Rivera' else 'Mr. Chen' end,
               s.school || '-' || s.grade
        from seed_students s join schools sc on sc.name = s.school"""
    )
    con.execute(
        f"""insert into student_attributes (student_id, school_year, attribute, value)
        select student_id, '{YEAR}', 'program',
               case when right(student_id, 1) in ('1', '2') then 'reading-recovery' else 'none' end
        from seed_students"""
    )
    con.execute(
        f"""insert into assessments (student_id, platform, subject, school_year, season,
            school_id, grade, score, percentile)
        select x.student_id, 'nwea_map', x.subject, '{YEAR}', x.season, sc.school_id, x.grade,
               x.score, x.percentile
        from seed_scores x join schools sc on sc.name = x.school"""
    )
    con.unregister("seed_students")
    con.unregister("seed_scores")
    return scores.merge(students[["student_id", "ell", "frl", "gender"]], on="student_id")
