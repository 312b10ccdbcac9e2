"""Kind "roster": one student enrolment per row → schools, students, enrollments, attributes.
Grain: student × school year × school × section."""

from __future__ import annotations

import duckdb

from core.ingest import merge
from core.ingest.kinds import Field, Kind, LoadCounts, register_kind

FIELDS = (
    Field("student_id", "id", "student id", required=True, structural=True),
    Field("school", "text", "school", required=True, structural=True),
    Field("grade", "grade", "grade", required=True),
    Field("school_year", "school_year", "school year", True, False, ("as_of_date",)),
    Field("as_of_date", "date", "as-of date", on_invalid="blank"),
    *merge.STUDENT_FIELDS,
    *merge.ENROLLMENT_FIELDS,
)
KEY = ("student_id", "school_year", "school", "section")


def load_roster(con: duckdb.DuckDBPyConnection, table: str, job_id: int) -> LoadCounts:
    """Enrolments are the roster's facts; a row whose enrolment is unchanged but whose student's
    demographics changed counts as an update."""
    added = merge.added_summary(con, table, tuple(f.name for f in FIELDS))
    students = merge.present_columns(con, table, merge.STUDENT_COLUMNS)
    merge.upsert_schools(con, table)
    people = merge.upsert_students(con, table, students, job_id)
    added["new_students"], added["students"] = people.new, people.total
    counts = merge.merge_facts(
        con,
        source=(
            f"select student_id, school_year, school_id, section, grade, "
            f"coalesce(teacher, '') as teacher from ({merge.enrollment_rows_sql(table)})"
        ),
        target="enrollments",
        key=("student_id", "school_year", "school_id", "section"),
        measures=("grade", "teacher"),
    )
    # The section-less enrolment a test file implied is superseded by the roster's sectioned one.
    con.execute(
        f"""
        delete from enrollments e
        where e.section = '' and exists (
            select 1 from ({merge.enrollment_rows_sql(table)}) i
            where i.student_id = e.student_id and i.school_year = e.school_year
              and i.school_id = e.school_id and i.section <> ''
        )
        """
    )
    shift = min(people.changed, counts.duplicates)
    counts.updated += shift
    counts.duplicates -= shift
    counts.added = added
    return counts


KIND = register_kind(
    Kind(
        name="roster",
        title="Student roster",
        fields=FIELDS,
        key=KEY,
        loader=load_roster,
        year_from_file=True,
    )
)
