"""A class-size-experiment-shaped file (long format, K–3 over four school years) whose class type,
ELL and FRL change between years, with a small-class effect per grade built in.

Students enter in kindergarten (2021-2022) and are followed to grade 3 (2024-2025); some leave
and some join later. Each year a student is in a small, regular or regular-with-aide class (a
third move each year); ELL students exit over the years; FRL is redrawn each year; a "program"
column exists only in the latest year. Score = 400 + 20·grade + trait + EFFECT[grade] (small
classes) + noise, one math and one reading row per student × year (spring, dated).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

YEARS = ("2021-2022", "2022-2023", "2023-2024", "2024-2025")
GRADES = ("K", "1", "2", "3")
EFFECT = {"K": 8.0, "1": 6.0, "2": 5.0, "3": 4.0}
CLASS_TYPES = ("small", "regular", "aide")
HEADERS = [
    "student_id", "school", "grade", "school_year", "season", "test_date", "subject", "score",
    "class_type", "ell", "frl", "program",
]  # fmt: skip


def class_size_rows(students: int = 480, seed: int = 15) -> pd.DataFrame:
    """The file's rows in natural order (year by year, student by student)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"S{i:04d}" for i in range(students)])
    first_year = np.where(rng.random(students) < 0.8, 0, rng.integers(1, 4, students))
    last_year = np.where(rng.random(students) < 0.85, 3, rng.integers(0, 4, students))
    last_year = np.maximum(last_year, first_year)
    trait = rng.normal(0, 12, students)
    kind = rng.integers(0, 3, students)
    ell = rng.random(students) < 0.3
    exit_year = rng.integers(1, 5, students)  # ELL students exit at this year index
    rows = []
    for index, year in enumerate(YEARS):
        here = (first_year <= index) & (last_year >= index)
        moves = rng.random(students) < 0.33
        kind = np.where(moves, rng.integers(0, 3, students), kind)
        frl = rng.random(students) < 0.45
        grade = GRADES[index]
        for subject, shift in (("math", 0.0), ("reading", -5.0)):
            small = kind == 0
            score = (
                400 + 20 * index + shift + trait + np.where(small, EFFECT[grade], 0.0)
                + rng.normal(0, 10, students)
            )  # fmt: skip
            frame = pd.DataFrame(
                {
                    "student_id": ids,
                    "school": np.where(np.arange(students) % 2 == 0, "Elm School", "Oak School"),
                    "grade": grade,
                    "school_year": year,
                    "season": "spring",
                    "test_date": f"{2022 + index}-04-{10 + (subject == 'reading'):02d}",
                    "subject": subject,
                    "score": np.round(score, 1),
                    "class_type": np.asarray(CLASS_TYPES)[kind],
                    "ell": np.where(ell & (index < exit_year), "Y", "N"),
                    "frl": np.where(frl, "Y", "N"),
                    "program": np.where(index == 3, np.where(trait < -8, "tutoring", "none"), ""),
                }
            )
            rows.append(frame[here])
    return pd.concat(rows, ignore_index=True)[HEADERS]


def write(frame: pd.DataFrame, path: Path, order: str, seed: int = 7) -> Path:
    """The rows in order, latest year first, or shuffled."""
    if order == "later_first":
        frame = frame.iloc[::-1]
    elif order == "shuffled":
        frame = frame.sample(frac=1.0, random_state=seed)
    frame.to_csv(path, index=False)
    return path
