"""The demo's scores written the way each vendor exports them, with the headers of the ingest
presets in core/presets/*.json (where each name comes from is cited there).

NWEA MAP Growth files carry the demo's own RIT scores, so an NWEA sample imported into the demo
warehouse finds every row already there. The other vendors' scales are not RIT: their files
re-express the demo's scores on an illustrative scale of the vendor's range (a straight line
from RIT, rounded) and reuse the normal-curve percentile. Those numbers are for trying the
import, not vendor norms; their categories (benchmark levels, placements) are cut from the
percentile the same illustrative way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from core.demo.files import copy_csv

DISTRICT_NAME = "Yardstick Demo District"
SEASON_TITLE = "upper(left(season::varchar, 1)) || substr(season::varchar, 2)"


def _percent_bands(bands: list[tuple[int, str]]) -> str:
    """SQL case over the percentile: [(lowest percentile, label), …] from the top down."""
    whens = " ".join(f"when percentile >= {low} then '{label}'" for low, label in bands)
    return f"(case {whens} end)"


def _linear(low: float, slope: float, high: int) -> str:
    """An illustrative vendor scale: low + slope × (RIT − 100), rounded, within [0, high]."""
    return f"least({high}, greatest(0, round({low} + {slope} * (score - 100))))::integer"


def _subject(math: str, reading: str) -> str:
    return f"(case subject::varchar when 'math' then '{math}' else '{reading}' end)"


NWEA_SELECT = {  # NWEA MAP Growth Combined Data File (core/presets/nwea_map.json)
    "TermName": f"{SEASON_TITLE} || ' ' || school_year",
    "DistrictName": f"'{DISTRICT_NAME}'",
    "SchoolName": "school",
    "StudentLastName": "last_name",
    "StudentFirstName": "first_name",
    "StudentID": "student_id",
    "StudentEthnicGroup": "race_ethnicity",
    "StudentGender": "gender",
    "Grade": "grade",
    "Subject": _subject("Mathematics", "Reading"),
    "Course": _subject("Math K-12", "Reading"),
    "TestType": "'Survey With Goals'",
    "TestName": _subject("Growth: Math K-12", "Growth: Reading K-12"),
    "TestStartDate": "strftime(test_date, '%-m/%-d/%Y')",
    "TestRITScore": "score",
    "TestStandardError": "round(2.9 + (score % 7) / 10, 1)",
    "TestPercentile": "percentile",
    "TeacherName": "teacher",
    "ClassName": "section",
}

STAR_SELECT = {  # Renaissance Star, spaced export layout (core/presets/star.json)
    "Renaissance Client ID": "'RC' || student_id",
    "School Year": "school_year",
    "Student Identifier": "student_id",
    "Student Last Name": "last_name",
    "Student First Name": "first_name",
    "Gender": "gender",
    "School Name": "school",
    "Current Grade": "grade",
    "Class Name": "section",
    "Activity Type": _subject("Star Math Enterprise Tests", "Star Reading Enterprise Tests"),
    "Activity Completed Date": "test_date::date",
    "Screening Window Name": SEASON_TITLE,
    "Scaled Score": _linear(0, 5.5, 1400),
    "Percentile Rank": "percentile",
    "District Benchmark Category": _percent_bands(
        [
            (40, "At/Above Benchmark"),
            (25, "On Watch"),
            (10, "Intervention"),
            (0, "Urgent Intervention"),
        ]
    ),
}

IREADY_SELECT = {  # i-Ready diagnostic_results_<subject> export (core/presets/iready*.json)
    "Last Name": "last_name",
    "First Name": "first_name",
    "Student ID": "student_id",
    "Student Grade": "grade",
    "Academic Year": "school_year",
    "School": "school",
    "Enrolled": "'Enrolled'",
    "Start Date": "strftime(test_date, '%m/%d/%Y')",
    "Completion Date": "strftime(test_date, '%m/%d/%Y')",
    "Baseline Diagnostic (Y/N)": "(case season::varchar when 'fall' then 'Y' else 'N' end)",
    "Most Recent Diagnostic (Y/N)": "(case season::varchar when 'spring' then 'Y' else 'N' end)",
    "Overall Scale Score": _linear(200, 2.6, 800),
    "Overall Relative Placement": _percent_bands(
        [
            (60, "Mid or Above Grade Level"),
            (40, "Early On Grade Level"),
            (20, "One Grade Level Below"),
            (8, "Two Grade Levels Below"),
            (0, "Three or More Grade Levels Below"),
        ]
    ),
    "Percentile": "percentile",
}

DIBELS_SELECT = {  # Amplify mCLASS DIBELS 8th Edition benchmark export (core/presets/dibels8.json)
    "School Year": "left(school_year, 5) || right(school_year, 2)",
    "School Name": "school",
    "Student Last Name": "last_name",
    "Student First Name": "first_name",
    "Student Primary ID": "student_id",
    "Enrollment Grade": "grade",
    "Gender": "gender",
    "Race": "race_ethnicity",
    "Special Education": "(case when sped then 'Y' else 'N' end)",
    "Economically Disadvantaged": "(case when frl then 'Y' else 'N' end)",
    "ELL Status": "(case when ell then 'Y' else 'N' end)",
    "Reporting Class Name": "section",
    "Official Teacher Name": "teacher",
    "Assessment": "'DIBELS 8th Edition'",
    "Assessment Edition": "'DIBELS 8'",
    "Assessment Grade": "grade",
    "Benchmark Period": "(case season::varchar when 'fall' then 'BOY' when 'winter' then 'MOY' "
    "else 'EOY' end)",
    "Composite Level": _percent_bands(
        [
            (80, "Above Benchmark"),
            (40, "At Benchmark"),
            (20, "Below Benchmark"),
            (0, "Well Below Benchmark"),
        ]
    ),
    "Composite Score": _linear(250, 2.2, 1000),
    "Composite - National Norm Percentile": "percentile",
    "Client Date": "strftime(test_date, '%m/%d/%Y')",
}


def write_nwea_csv(scores: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """An NWEA MAP Growth Combined Data File of these scores (RIT, as generated)."""
    return copy_csv(scores, path, NWEA_SELECT)


def write_star_csv(scores: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """A Renaissance Star export (Activity Type names the subject)."""
    return copy_csv(scores, path, STAR_SELECT)


def write_iready_csv(scores: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """An i-Ready diagnostic_results export; it has no subject column, so pass one subject's
    scores and name the file after it (diagnostic_results_math.csv)."""
    if scores["subject"].nunique() > 1:
        raise ValueError("An i-Ready diagnostic_results file holds one subject: filter first.")
    return copy_csv(scores, path, IREADY_SELECT)


def write_dibels_csv(scores: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """A DIBELS 8 benchmark export (a reading screener: pass reading scores)."""
    if set(scores["subject"].astype(str)) - {"reading"}:
        raise ValueError("DIBELS 8 is a reading screener: pass reading scores only.")
    return copy_csv(scores, path, DIBELS_SELECT)
