"""Set-based writes shared by the loaders: dimensions (schools, students, enrollments,
attributes) and the counted fact merge. Every statement reads the loader's table of good rows;
no Python loop touches a row. A blank (NULL) incoming value never overwrites a stored one.

Identifiers here come from code (field names, table names chosen by the pipeline), never from a
file; values from files only ever travel as data inside the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from core.ingest import attribute_years
from core.ingest.kinds import Field, LoadCounts
from core.warehouse.canonical import grade_rank

STUDENT_FIELDS = (
    Field("first_name", "text", "first name"),
    Field("last_name", "text", "last name"),
    Field("gender", "text", "gender"),
    Field("race_ethnicity", "text", "race/ethnicity"),
    Field("ell", "bool", "ELL", on_invalid="blank"),
    Field("sped", "bool", "SPED", on_invalid="blank"),
    Field("frl", "bool", "FRL", on_invalid="blank"),
)
ENROLLMENT_FIELDS = (
    Field("teacher", "text", "teacher"),
    Field("section", "text", "section"),
)
STUDENT_COLUMNS = tuple(f.name for f in STUDENT_FIELDS)
# recorded per student × school year (student_years); names are per student (students)
YEARLY_COLUMNS = ("gender", "race_ethnicity", "ell", "sped", "frl")


def _attribute_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    names = [row[0] for row in con.execute(f"select * from {table} limit 0").description]
    return [name for name in names if name.startswith("@")]


def upsert_schools(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(
        f"""
        insert into schools (name)
        select distinct t.school from {table} t
        where t.school is not null and t.school not in (select name from schools)
        order by 1
        """
    )


def present_columns(con: duckdb.DuckDBPyConnection, table: str, names: tuple[str, ...]) -> list:
    """The columns of `table` with at least one value (unmapped fields are all NULL)."""
    counts = con.execute(
        f"select {', '.join(f'count({n})' for n in names)} from {table}"
    ).fetchone()
    return [name for name, count in zip(names, counts, strict=True) if count]


@dataclass
class StudentCounts:
    """What upsert_students did: students new to the warehouse, students in the file, and known
    students whose stored values (names, a year's demographics) this file changed."""

    new: int = 0
    total: int = 0
    changed: int = 0


def _differs(columns: list[str], new: str = "i", old: str = "s") -> str:
    tests = [f"({new}.{n} is not null and {new}.{n} is distinct from {old}.{n})" for n in columns]
    return " or ".join(tests) or "false"


def upsert_students(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], job_id: int
) -> StudentCounts:
    """Students (names), their demographics per school year (student_years) and their extra
    attributes per school year ("@" columns → student_attributes), each from the school year of
    the row that carried it. A blank never overwrites; a non-blank value replaces the stored one
    of the same student × year. Conflicts inside the file are settled by `attribute_years`
    (latest test that year, not row order) and reported as warnings of job `job_id`.
    `columns`: the student columns the file carries (present_columns)."""
    attributes = tuple(_attribute_columns(con, table))
    yearly = [c for c in columns if c in YEARLY_COLUMNS]
    names = [c for c in columns if c not in YEARLY_COLUMNS]
    attribute_years.student_year_values(con, table, yearly, attributes, job_id)
    changed = _upsert_student_years(con, yearly)  # before new students are added: known ones
    counts = _upsert_names(con, table, names)
    counts.changed += changed
    _upsert_attributes(con, attributes)
    _refresh_display(con, yearly)
    con.execute("drop table _student_year_values")
    con.execute("drop table _attribute_year_values")
    con.execute("drop table _file_students")
    return counts


def _upsert_names(con: duckdb.DuckDBPyConnection, table: str, names: list[str]) -> StudentCounts:
    """One row per student of the file in `_file_students` (names from the latest school year's
    latest test that has one; ties by the name itself), new students inserted, names updated."""
    rank = attribute_years.event_order(con, table)
    picks = "".join(
        f", arg_max({n}, ({rank}, {n})) filter (where {n} is not null) as {n}" for n in names
    )
    con.execute(
        f"create or replace temp table _file_students as "
        f"select t.student_id{picks} from {table} t group by t.student_id"
    )
    changed = 0
    if names:
        changed = con.execute(
            f"select count(*) from _file_students i join students s using (student_id) "
            f"where {_differs(names)}"
        ).fetchone()[0]
        updates = ", ".join(f"{n} = coalesce(i.{n}, s.{n})" for n in names)
        con.execute(
            f"""
            update students s set {updates}, updated_at = current_timestamp
            from _file_students i
            where s.student_id = i.student_id and ({_differs(names)})
            """
        )
    listed = "".join(f", {n}" for n in names)
    inserted = con.execute(
        f"""
        insert into students (student_id{listed})
        select i.student_id{listed} from _file_students i
        anti join students s on s.student_id = i.student_id
        """
    ).fetchone()[0]
    total = con.execute("select count(*) from _file_students").fetchone()[0]
    return StudentCounts(new=inserted, total=total, changed=changed)


def _upsert_student_years(con: duckdb.DuckDBPyConnection, yearly: list[str]) -> int:
    """student_years from `_student_year_values` (one row per student × year of the file):
    changed pairs coalesce-updated, new pairs inserted; returns how many known students'
    stored values changed (for the roster's "updated" count; call before new students are
    inserted)."""
    if not yearly:
        return 0
    on = "s.student_id = i.student_id and s.school_year = i.school_year"
    changed = con.execute(
        f"""
        select count(distinct i.student_id) from _student_year_values i
        left join student_years s on {on}
        where i.student_id in (select student_id from students)
          and (s.student_id is null or ({_differs(yearly)}))
          and coalesce({", ".join(f"i.{c}::varchar" for c in yearly)}) is not null
        """
    ).fetchone()[0]
    updates = ", ".join(f"{c} = coalesce(i.{c}, s.{c})" for c in yearly)
    con.execute(
        f"update student_years s set {updates} from _student_year_values i "
        f"where {on} and ({_differs(yearly)})"
    )
    listed = ", ".join(yearly)
    con.execute(
        f"""
        insert into student_years (student_id, school_year, {listed})
        select i.student_id, i.school_year, {", ".join(f"i.{c}" for c in yearly)}
        from _student_year_values i
        anti join student_years s on {on}
        where coalesce({", ".join(f"i.{c}::varchar" for c in yearly)}) is not null
        """
    )
    return changed


def _refresh_display(con: duckdb.DuckDBPyConnection, yearly: list[str]) -> None:
    """students' demographic columns (display only) = the value of the latest school year that
    has one, for the students this file touched."""
    if not yearly:
        return
    picks = ", ".join(
        f"arg_max({c}, school_year) filter (where {c} is not null) as {c}" for c in yearly
    )
    sets = ", ".join(f"{c} = coalesce(i.{c}, s.{c})" for c in yearly)
    con.execute(
        f"""
        update students s set {sets}
        from (
            select student_id, {picks} from student_years
            semi join _file_students using (student_id)
            group by student_id
        ) i
        where s.student_id = i.student_id and ({_differs(yearly)})
        """
    )


def enrollment_rows_sql(table: str) -> str:
    """One row per student × school year × school × section, latest grade/teacher."""
    return f"""
        select t.student_id, t.school_year, sc.school_id,
               coalesce(t.section, '') as section,
               max_by(t.grade, t._row_number) filter (where t.grade is not null) as grade,
               max_by(t.teacher, t._row_number) filter (where t.teacher is not null) as teacher
        from {table} t join schools sc on sc.name = t.school
        where t.school_year is not null
        group by all
    """


def insert_missing_enrollments(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Test files imply an enrollment; add it only when the student has none at that school
    that year (a roster's sectioned enrollment is not duplicated by a section-less one)."""
    con.execute(f"create or replace temp table _enrolled as {enrollment_rows_sql(table)}")
    columns = "student_id, school_year, school_id, grade, teacher, section"
    picked = "i.student_id, i.school_year, i.school_id, i.grade, coalesce(i.teacher, ''), i.section"
    con.execute(
        f"""
        insert into enrollments ({columns})
        select {picked} from _enrolled i
        anti join enrollments e on e.student_id = i.student_id
            and e.school_year = i.school_year and e.school_id = i.school_id
        where i.grade is not null and i.section = ''
        union all
        select {picked} from _enrolled i
        anti join enrollments e on e.student_id = i.student_id
            and e.school_year = i.school_year and e.school_id = i.school_id
            and e.section = i.section
        where i.grade is not null and i.section <> ''
        """
    )
    con.execute("drop table _enrolled")


def _upsert_attributes(con: duckdb.DuckDBPyConnection, attributes: tuple[str, ...]) -> None:
    """Extra columns as (student, school year, attribute, value) from _attribute_year_values
    (blanks left out there, so a blank never overwrites): changed values updated, new ones
    inserted — one row per student × school year × attribute."""
    if not attributes:
        return
    con.execute(
        """
        create or replace temp table _attribute_values as
        select student_id, school_year, substr(attribute, 2) as attribute, value
        from _attribute_year_values
        """
    )
    on = (
        "a.student_id = i.student_id and a.school_year = i.school_year "
        "and a.attribute = i.attribute"
    )
    con.execute(
        f"""
        update student_attributes a set value = i.value
        from _attribute_values i
        where {on} and a.value is distinct from i.value
        """
    )
    con.execute(
        f"""
        insert into student_attributes (student_id, school_year, attribute, value)
        select i.student_id, i.school_year, i.attribute, i.value from _attribute_values i
        anti join student_attributes a on {on}
        """
    )
    con.execute("drop table _attribute_values")


def merge_facts(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str,
    target: str,
    key: tuple[str, ...],
    measures: tuple[str, ...],
    extra: dict[str, object] | None = None,
    all_new: bool = False,
) -> LoadCounts:
    """Insert new keys, coalesce-update changed ones, count the rest as duplicates.

    `source` is a SELECT yielding one row per key with the key and measure columns; `extra`
    holds constant columns written on insert and update (e.g. job_id), bound as values.
    The source is read three times (count, update, insert) rather than copied once; with
    `all_new` (the caller knows no stored row can share a key) it is read once, to insert."""
    extra = extra or {}
    params = {f"extra_{n}": v for n, v in extra.items()}
    columns = [*key, *measures]
    names = ", ".join([*columns, *extra])
    values = ", ".join([*(f"i.{c}" for c in columns), *(f"$extra_{n}" for n in extra)])
    if all_new:
        inserted = con.execute(
            f"insert into {target} ({names}) select {values} from ({source}) i", params
        ).fetchone()[0]
        return LoadCounts(inserted=inserted)
    on_key = " and ".join(f"f.{k} = i.{k}" for k in key)
    differs = " or ".join(f"(i.{m} is not null and i.{m} is distinct from f.{m})" for m in measures)
    inserted, updated, same = con.execute(
        f"""
        select count(*) filter (where f.{key[0]} is null),
               count(*) filter (where f.{key[0]} is not null and ({differs})),
               count(*) filter (where f.{key[0]} is not null and not ({differs}))
        from ({source}) i left join {target} f on {on_key}
        """
    ).fetchone()
    if updated:
        sets = ", ".join(
            [
                *(f"{m} = coalesce(i.{m}, f.{m})" for m in measures),
                *(f"{n} = $extra_{n}" for n in extra),
            ]
        )
        con.execute(
            f"update {target} f set {sets} from ({source}) i where {on_key} and ({differs})",
            params,
        )
    if inserted:
        con.execute(
            f"insert into {target} ({names}) select {values} from ({source}) i "
            f"anti join {target} f on {on_key}",
            params,
        )
    return LoadCounts(inserted=inserted or 0, updated=updated or 0, duplicates=same or 0)


def added_summary(con: duckdb.DuckDBPyConnection, table: str, fields: tuple[str, ...]) -> dict:
    """What this import brings, for the Upload page: the distinct values it carries, how many
    students, and which schools are new (call before the dimensions are written; the loader
    adds "students" and "new_students" from what upsert_students did)."""
    plural = {
        "school": "schools",
        "school_year": "school_years",
        "grade": "grades",
        "subject": "subjects",
        "season": "seasons",
    }
    present = [name for name in plural if name in fields]
    combos = con.execute(
        f"select {', '.join(present)} from {table} group by all" if present else "select 1"
    ).fetchall()
    summary: dict = {}
    for index, name in enumerate(present):
        values = {row[index] for row in combos if row[index] is not None}
        summary[plural[name]] = sorted(values, key=_grade_order if name == "grade" else str)
    known = {r[0] for r in con.execute("select name from schools").fetchall()}
    summary["new_schools"] = [s for s in summary.get("schools", []) if s not in known]
    return summary


def _grade_order(value: str) -> tuple:
    return (grade_rank(value), value)
