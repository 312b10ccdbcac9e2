"""Writing the demo district as files: the generic long format, a roster, vendor formats.

Files are written with DuckDB's COPY from the DataFrame (a 1.8 M-row long file takes a couple of
seconds; pandas.to_csv takes ten times longer), so the benchmark can reuse these writers. Rows
keep the frame's order and every value is an integer, a date or text, so the same frame always
gives byte-identical files.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from core.warehouse.db import quote_identifier

_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
PLATFORM = "nwea_map"  # the demo's scores are RIT scores normed on NWEA MAP Growth
LONG_COLUMNS = (
    "student_id", "school", "grade", "school_year", "season", "subject", "score", "percentile",
    "first_name", "last_name", "gender", "race_ethnicity", "ell", "sped", "frl", "teacher",
    "section", "program", "class_type",
)  # fmt: skip


def _yes_no(column: str) -> str:
    return f"case when {quote_identifier(column)} then 'Y' else 'N' end"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def copy_csv(frame: pd.DataFrame, path: str | os.PathLike[str], select: dict[str, str]) -> Path:
    """Write `frame` to CSV through DuckDB: `select` maps each output header to an SQL
    expression over the frame's columns (a plain column name is quoted for you)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(
        f"{expr if not expr.isidentifier() else quote_identifier(expr)} as {quote_identifier(h)}"
        for h, expr in select.items()
    )
    con = duckdb.connect(":memory:", config=_CONFIG)
    try:
        con.execute("set preserve_insertion_order = true")
        con.execute("set enable_progress_bar = false")
        con.register("frame", frame)
        con.execute(
            f"copy (select {columns} from frame) to {_sql_literal(str(target))} "
            "(header, delimiter ',', quote '\"')"
        )
    finally:
        con.close()
    return target


def long_select() -> dict[str, str]:
    """The generic long format of docs/cli.md, plus test_date and the platform the scores are on."""
    select = {name: name for name in LONG_COLUMNS}
    select.update({flag: _yes_no(flag) for flag in ("ell", "sped", "frl")})
    select["test_date"] = "cast(test_date as date)"
    select["platform"] = _sql_literal(PLATFORM)
    return select


def write_long_csv(scores: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """One row per test event in the generic long format (header row first)."""
    return copy_csv(scores, path, long_select())


ROSTER_SELECT = {  # PowerSchool-style headers; the roster preset maps them
    "Student_Number": "student_id",
    "Last_Name": "last_name",
    "First_Name": "first_name",
    "Gender": "gender",
    "Race/Ethnicity": "race_ethnicity",
    "ELL": _yes_no("ell"),
    "SPED": _yes_no("sped"),
    "FRL": _yes_no("frl"),
    "School_Name": "school",
    "Grade_Level": "grade",
    "School Year": "school_year",
    "Homeroom Teacher": "teacher",
    "Section": "section",
    "Program": "program",
    "Class Type": "class_type",
}


def roster_frame(district, school_year: str) -> pd.DataFrame:
    """Everyone enrolled in `school_year`, with their demographics (one row per student)."""
    enrolled = district.enrollments[district.enrollments["school_year"] == school_year]
    return enrolled.merge(district.students, on="student_id", how="left", validate="1:1")


def write_roster_csv(roster: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """A student roster as an SIS exports it (rows of `roster_frame`), by school and grade."""
    return copy_csv(roster.sort_values(["school", "grade", "student_id"]), path, ROSTER_SELECT)
