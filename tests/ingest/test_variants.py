"""The same rows in every delimiter, quoting, encoding, layout and format import identically
(Datasette style): the warehouse holds exactly what pandas reads from basic.csv."""

from __future__ import annotations

import pandas as pd
import pytest

from core.ingest import import_file
from tests.ingest.helpers import VARIANTS, frame

NAMES = sorted(p.name for p in VARIANTS.iterdir())
SUBJECTS = {"Math": "math", "Mathematics": "math", "Reading": "reading", "ELA": "reading"}
TITLE_ROWS = {"title_lines.csv": 3, "title_lines.xlsx": 3}


def expected() -> dict[str, pd.DataFrame]:
    """Independent of the pipeline: pandas reads basic.csv and applies the documented rules."""
    raw = pd.read_csv(VARIANTS / "basic.csv", dtype=str, keep_default_na=False)
    good = raw[pd.to_numeric(raw["Score"], errors="coerce").notna()]
    scores = pd.DataFrame(
        {
            "student_id": good["Student ID"],
            "subject": good["Subject"].map(SUBJECTS),
            "season": good["Season"].str.lower(),
            "school_year": good["School Year"],
            "grade": good["Grade"],
            "score": good["Score"].astype(float),
            "percentile": good["Percentile"].astype(float),
            "test_date": pd.to_datetime(good["Test Date"]),
            "school": good["School"],
        }
    ).sort_values(["student_id", "subject"], ignore_index=True)
    students = pd.DataFrame(
        {
            "student_id": good["Student ID"],
            "first_name": good["First Name"],
            "last_name": good["Last Name"],
            "gender": good["Gender"],
            "ell": good["ELL"].map({"Y": True, "N": False, "": None}),
        }
    ).sort_values("student_id", ignore_index=True)
    attributes = (
        good.rename(columns={"Student ID": "student_id", "Class Type": "class_type"})
        .rename(columns={"Note": "note", "School Year": "school_year"})
        .melt(
            id_vars=["student_id", "school_year"],
            value_vars=["class_type", "note"],
            var_name="attribute",
        )
        .query("value != ''")
        .sort_values(["student_id", "school_year", "attribute"], ignore_index=True)
    )
    return {"scores": scores, "students": students, "attributes": attributes}


def records(df: pd.DataFrame) -> list[tuple]:
    """Rows with every missing value as None (pandas spells it NA, None or NaN by dtype)."""
    return [tuple(None if pd.isna(v) else v for v in row) for row in df.itertuples(index=False)]


@pytest.fixture(scope="module")
def truth() -> dict[str, pd.DataFrame]:
    return expected()


@pytest.mark.parametrize("name", NAMES)
def test_variant_imports_like_basic(name: str, db_path, truth) -> None:
    summary = import_file(VARIANTS / name, db=db_path, origin="cli")

    assert summary.status == "completed", summary.message
    assert (summary.rows_read, summary.inserted, summary.rejected) == (7, 6, 1)
    first_data_row = TITLE_ROWS.get(name, 0) + 2
    errors = [(e["row"], e["column"], e["message"]) for e in summary.errors]
    assert errors == [(first_data_row + 6, "Score", "'n/a' is not a number")]

    scores = frame(
        db_path,
        "select a.student_id, a.subject, a.season, a.school_year, a.grade, a.score, "
        "a.percentile, a.test_date, s.name as school from assessments a "
        "join schools s using (school_id) order by 1, 2",
    )
    pd.testing.assert_frame_equal(scores, truth["scores"], check_dtype=False)
    students = frame(
        db_path,
        "select student_id, first_name, last_name, gender, ell from students order by 1",
    )
    assert records(students) == records(truth["students"])
    # recorded per student × school year (issue 15: attributes as of each school year)
    attributes = frame(db_path, "select * from student_attributes order by 1, 2, 3")
    pd.testing.assert_frame_equal(attributes, truth["attributes"], check_dtype=False)


def test_every_variant_is_covered() -> None:
    """The folder holds the formats the issue lists; a new variant file joins the test above."""
    suffixes = {p.suffix for p in VARIANTS.iterdir()}
    assert {".csv", ".tsv", ".txt", ".xlsx", ".json"} <= suffixes
    assert len(NAMES) >= 15
