"""Kind "assessment": one test event per row → schools, students, student_years, enrollments,
assessments, student_attributes (attributes per student × the row's school year).
Grain of the fact: student × platform × subject × school year × season."""

from __future__ import annotations

import duckdb

from core.ingest import merge
from core.ingest.kinds import Field, Kind, LoadCounts, register_kind

FIELDS = (
    Field("student_id", "id", "student id", required=True, structural=True),
    Field("school", "text", "school", required=True),
    Field("grade", "grade", "grade", required=True),
    Field("school_year", "school_year", "school year", True, False, ("term", "test_date")),
    Field("season", "season", "season", True, False, ("term", "test_date")),
    Field("term", "term", "term"),
    Field("test_date", "date", "test date", on_invalid="blank"),
    Field("subject", "subject", "subject", required=True),
    Field("score", "number", "score", required=True, structural=True, low=0),
    Field("percentile", "number", "percentile", on_invalid="blank", low=0, high=100),
    Field("growth_percentile", "number", "growth percentile", on_invalid="blank", low=0, high=100),
    Field("proficiency_level", "text", "proficiency level"),
    Field("lexile", "text", "lexile"),
    Field("quantile", "text", "quantile"),
    Field("platform", "text", "platform", required=True),
    *merge.STUDENT_FIELDS,
    *merge.ENROLLMENT_FIELDS,
)

# The fact's own measures: an incoming non-blank value that differs from the stored one is an
# update; equal (or blank) everywhere is a duplicate.
MEASURES = (
    "school_id",
    "grade",
    "score",
    "test_date",
    "percentile",
    "growth_percentile",
    "proficiency_level",
    "lexile",
    "quantile",
)
KEY = ("student_id", "platform", "subject", "school_year", "season")


def load_assessments(con: duckdb.DuckDBPyConnection, table: str, job_id: int) -> LoadCounts:
    """Write good rows: dimensions first, then the facts (coalescing: blanks never overwrite)."""
    added = merge.added_summary(con, table, tuple(f.name for f in FIELDS))
    merge.upsert_schools(con, table)
    students = merge.present_columns(con, table, merge.STUDENT_COLUMNS)
    people = merge.upsert_students(con, table, students, job_id)
    added["new_students"], added["students"] = people.new, people.total
    merge.insert_missing_enrollments(con, table)
    counts = merge.merge_facts(
        con,
        source=(f"select t.*, sc.school_id from {table} t join schools sc on sc.name = t.school"),
        target="assessments",
        key=KEY,
        measures=MEASURES,
        extra={"job_id": job_id},
        all_new=not _may_overlap(con, added),
    )
    counts.added = added
    return counts


def _may_overlap(con: duckdb.DuckDBPyConnection, added: dict) -> bool:
    """Whether any stored score shares a school year, subject and season with this file; when
    none does, every row is new and the merge skips its key comparisons (big first loads)."""
    return bool(
        con.execute(
            "select exists (select 1 from assessments where list_contains($years, school_year) "
            "and list_contains($subjects, subject) and list_contains($seasons, season))",
            {
                "years": added.get("school_years", []),
                "subjects": added.get("subjects", []),
                "seasons": added.get("seasons", []),
            },
        ).fetchone()[0]
    )


KIND = register_kind(
    Kind(
        name="assessment",
        title="Assessment results",
        fields=FIELDS,
        key=KEY,
        loader=load_assessments,
        newest_by="test_date",
    )
)
