"""The synthetic demo district: a seeded, reproducible source of realistic assessment data.

`generate()` builds the district as DataFrames; `load_demo()` writes it as files and loads them
through the import pipeline (origin "demo"), like any upload, and writes vendor-format sample
files for newcomers to try on the Upload page. Scores follow the NWEA MAP Growth 2020 student
achievement norms (mean and SD per subject × grade × season, read from the norms table).

The district (defaults): five schools — Lincoln, Washington and Roosevelt Elementary (K-5),
Maple Grove K-8 Academy, Jefferson Middle School (6-8, fed by the three K-5 schools); grades
K-8; school years 2021-2022 … 2024-2025; fall, winter and spring; math and reading; about
3,000 students a year who persist across years (advance a grade, ~1 % repeat, ~7 % leave, ~3 %
change school, new kindergarteners and movers arrive). About 4 % of tests are missed. Every
section of ~28 students has a named teacher. Extra student attributes: `program`
(reading-recovery / gifted / none) and `class_type` (general / co-taught / dual-language).

Planted truths (in norm SDs; observed values are for the default seed 2024 and size):

1. DECLINE — Lincoln Elementary, grade 3, math, 2024-2025 (the latest year), every season:
   scores are shifted down by 0.90 SD. Against 2023-2024's grade 3 at Lincoln (different
   students, 81-95 per season on each side) Welch p ≤ 0.0006 and Hedges' g -0.56 (fall),
   -0.53 (winter), -0.64 (spring); all three survive Benjamini-Hochberg across the ~180
   school × grade × subject × season prior-year comparisons, and core.alerts.detect lists them as
   critical declines (with % proficient drops of 24-28 points).
2. WIDENING GAP — ELL vs non-ELL students, reading, district-wide, every grade and season: the
   ELL effect is -0.35 SD in the first year and grows by -0.20 SD a year (-0.35, -0.55, -0.75,
   -0.95 for 2021-2022 … 2024-2025) on top of the other demographic effects. The observed
   district ELL reading gap is 0.37, 0.58, 0.75, 0.99 SD (about 1,000 ELL scores a year);
   core.alerts.detect flags it per grade (e.g. grade 2 reading, spring: 4.6 → 20.5 RIT). The ELL
   math
   effect is a constant -0.35 SD (observed gap 0.31-0.40 SD, no trend).
3. CELEBRATE — Roosevelt Elementary carries a +0.50 SD school effect and has few students on
   free/reduced lunch: its scores average +0.5 SD above the national norm mean, and at least
   35 of its 36 grade × subject × season cohorts are Above the norm (d ≥ 0.2, one-sample
   p < 0.05) in every year. And Washington Elementary grade 4 math in 2024-2025 grows faster
   than the norms: +0.25 SD by winter and +0.50 SD by spring beyond the norms' fall → spring
   growth (spring vs 2023-2024: g +0.64, listed by core.alerts.detect as an improvement).

Everything else is noise around stable effects: school (Lincoln -0.10, Washington -0.05,
Roosevelt +0.50, Maple Grove +0.05), FRL -0.30, SPED -0.75, ELL math -0.35, race/ethnicity
between -0.18 and +0.20, girls +0.08 in reading; per-student ability (a fixed trait plus a part
that drifts, r = 0.95, from year to year), a small growth slope within the year, test noise.
`program` is chosen on the fixed trait and `class_type` on SPED/ELL, the same way for every
grade and year, so their gaps are real but have no trend. `PLANTED` (core.demo.scores) holds
the planted cohorts' definitions for tests and narratives.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.demo import population as pop
from core.demo import scores as sc
from core.demo.files import LONG_COLUMNS, write_long_csv
from core.demo.population import DEFAULT_SCHOOLS, GRADE_LABELS, School, synthetic_schools
from core.demo.samples import FULL_FILE, write_samples
from core.demo.scores import PLANTED, Planted
from core.demo.vendors import write_nwea_csv
from core.districts.demo_data import load_district_demo
from core.ingest import import_file
from core.warehouse import private_files
from core.warehouse.db import connect, transaction, warehouse_path

LATEST_YEAR = "2024-2025"
DEFAULT_YEARS = 4
DEFAULT_STUDENTS = 3000
DEFAULT_SEED = 2024
STUDENT_COLUMNS = (
    "student_id", "first_name", "last_name", "gender", "race_ethnicity", "ell", "sped", "frl",
    "program", "class_type", "birth_date",
)  # fmt: skip

__all__ = [
    "PLANTED",
    "DemoDistrict",
    "DemoError",
    "Planted",
    "School",
    "generate",
    "load_demo",
    "school_years",
    "synthetic_schools",
    "write_long_csv",
    "write_nwea_csv",
]


class DemoError(RuntimeError):
    """The demo district could not be loaded (the reason comes from the import job)."""


@dataclass(frozen=True)
class DemoDistrict:
    """students: one row per student; enrollments: one row per student × school year;
    scores: one row per student × subject × school year × season taken (the long format,
    plus test_date)."""

    students: pd.DataFrame
    enrollments: pd.DataFrame
    scores: pd.DataFrame
    schools: tuple[School, ...]
    years: tuple[str, ...]


def school_years(count: int, last: str = LATEST_YEAR) -> tuple[str, ...]:
    """The `count` school years ending with `last`, oldest first."""
    end = int(last[:4])
    return tuple(f"{y}-{y + 1}" for y in range(end - count + 1, end + 1))


def _id_pool(students_per_year: int, n_years: int, rng: np.random.Generator) -> np.ndarray:
    """Unique random student ids, enough for everyone who may ever enrol."""
    need = students_per_year * (1 + n_years)
    digits = 6 if need * 20 < 900_000 else 7
    low = 10 ** (digits - 1)
    return rng.choice(9 * low, size=need, replace=False) + low


def _population(
    students_per_year: int, years: Sequence[str], schools: Sequence[School], rng
) -> pd.DataFrame:
    """Every student × school year, with demographics, school, grade and ability."""
    per_grade = students_per_year / len(GRADE_LABELS)
    ids = _id_pool(students_per_year, len(years), rng)
    grade = np.repeat(np.arange(len(GRADE_LABELS)), int(round(per_grade)))
    school_idx = pop.choose(pop.school_weights(schools)[grade], rng)
    current = pop.new_students(grade, school_idx, schools, int(years[0][:4]), rng)
    current = pop.assign_ids(current.assign(repeated=False), 0, ids)
    used, frames = len(current), [current.assign(school_year=years[0])]
    for year in years[1:]:
        continuing = pop.advance(current, schools, rng)
        arrived = pop.arrivals(continuing, round(per_grade), schools, int(year[:4]), rng)
        arrived = pop.assign_ids(arrived, used, ids)
        used += len(arrived)
        current = pd.concat([continuing, arrived], ignore_index=True)
        frames.append(current.assign(school_year=year))
    return pd.concat(frames, ignore_index=True)


def _label(frame: pd.DataFrame, schools: Sequence[School], rng) -> pd.DataFrame:
    """Names for codes: school, grade, race/ethnicity; then sections and their teachers."""
    frame = frame.assign(
        school=np.array([s.name for s in schools], dtype=object)[frame["school_idx"].to_numpy()],
        grade=np.asarray(GRADE_LABELS, dtype=object)[frame["grade_idx"].to_numpy()],
        race_ethnicity=sc.race_labels(frame["race_idx"].to_numpy()),
    )
    frame = pop.assign_sections(frame, schools, rng)
    return frame.assign(teacher=pop.teacher_names(frame["section"], rng))


def _scores(
    enrollments: pd.DataFrame, schools, years, rng, planted: Planted, norms: pd.DataFrame
) -> pd.DataFrame:
    """The long format: one row per test taken, with the student's enrollment and attributes."""
    events = sc.standardized_scores(enrollments, schools, years, rng, planted)
    row = events["row"]
    score, percentile = sc.to_rit(events, enrollments["grade_idx"].to_numpy()[row], norms)
    labels = [c for c in LONG_COLUMNS if c in enrollments.columns]
    text = [c for c in labels if enrollments[c].dtype != bool]  # categories: cheap to repeat
    out = enrollments[labels].astype(dict.fromkeys(text, "category"))
    out = out.iloc[row].reset_index(drop=True)
    out = out.assign(
        subject=pd.Categorical.from_codes(events["subject_idx"], sc.SUBJECTS),
        season=pd.Categorical.from_codes(events["season_idx"], sc.SEASONS),
        score=score,
        percentile=percentile,
        test_date=sc.test_dates(years, events["year_idx"], events["season_idx"], rng),
    )
    return out[[*LONG_COLUMNS, "test_date"]]


def generate(
    students_per_year: int = DEFAULT_STUDENTS,
    years: int | Sequence[str] = DEFAULT_YEARS,
    seed: int = DEFAULT_SEED,
    *,
    schools: Sequence[School] = DEFAULT_SCHOOLS,
    planted: Planted = PLANTED,
    norms: pd.DataFrame | None = None,
) -> DemoDistrict:
    """The whole district as DataFrames; the same arguments always give the same frames."""
    year_list = school_years(years) if isinstance(years, int) else tuple(years)
    rng_people, rng_sections, rng_scores = np.random.default_rng(seed).spawn(3)
    people = _population(students_per_year, year_list, schools, rng_people)
    people = _label(people, schools, rng_sections)
    scores = _scores(
        people, schools, year_list, rng_scores, planted, sc.norm_table() if norms is None else norms
    )
    students = people.drop_duplicates("student_id", keep="last")[list(STUDENT_COLUMNS)]
    enrollments = people[
        ["student_id", "school_year", "school", "grade", "teacher", "section", "repeated"]
    ]
    return DemoDistrict(
        students=students.sort_values("student_id").reset_index(drop=True),
        enrollments=enrollments.reset_index(drop=True),
        scores=scores,
        schools=tuple(schools),
        years=year_list,
    )


def load_demo(
    db_path: str | os.PathLike[str] | None = None,
    seed: int = DEFAULT_SEED,
    *,
    students_per_year: int = DEFAULT_STUDENTS,
    years: int = DEFAULT_YEARS,
    samples_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    """Generate the district, write the sample files (default: `samples/` next to the
    warehouse) and import the whole district through the import pipeline (origin "demo")."""
    warehouse = warehouse_path(db_path)
    district = generate(students_per_year, years, seed)
    folder = Path(samples_dir) if samples_dir else warehouse.parent / "samples"
    private_files.protect(warehouse)  # the sample files are written before the warehouse opens
    files = write_samples(district, folder, seed)
    job = import_file(files[FULL_FILE], db=warehouse, origin="demo", user="demo", progress=progress)
    if job.status != "completed":
        raise DemoError(f"The demo district did not load: {job.message}")
    latest = district.enrollments["school_year"] == district.years[-1]
    return {
        "students": len(district.students),
        "students_latest_year": int(latest.sum()),
        "scores": len(district.scores),
        "school_years": list(district.years),
        "schools": [school.name for school in district.schools],
        "seed": seed,
        "samples_dir": str(folder),
        "files": [str(path) for path in files.values()],
        "job": {k: getattr(job, k) for k in ("job_id", "status", "inserted", "duplicates")},
        "district_benchmarks": _district_benchmarks(warehouse, seed),
    }


def _district_benchmarks(warehouse: Path, seed: int) -> int:
    """The district-benchmarks page's synthetic public data (districts, states), same seed."""
    with connect(warehouse) as con, transaction(con):
        return load_district_demo(con, seed=seed)
