"""Kind "district": district-level public figures (CCD, EDFacts, F-33, a state's report card) →
`district_years` (migration 006). Grain: one row per district × year.

What the validator already did (field bounds, `on_invalid="blank"`): a negative count or a rate
outside 0–100 is reported with its row number and left out while the row's other values load.
What this loader adds, set-based:

- ids: an all-digit district id shorter than 7 digits gets its leading zeros back (an LEA id read
  as a number: 100005 → 0100005); the year is the first 4-digit year in the cell ("2022",
  "2022-23", "2022-2023" → 2022, the fall of the school year, as NCES and the Urban Institute
  portal number them).
- state: a USPS code, else a state name, else a FIPS code, else the first two digits of a 7-digit
  NCES id, else what is stored for the district.
- long files (the Urban Institute portal's): rows for a subgroup (race, sex, grade, disability,
  English learners, …) are skipped; only the all-students rows (code 99 / "Total") load.
- the portal's missing-data codes (-1 missing, -2 not applicable, -3 suppressed, -9 not
  reported) become blanks; a preset that expects them lowers the fields' bounds to -9, so only
  those presets can hand the loader a negative value.
- raw totals become the stored figure when the file has no per-pupil or rate column:
  expenditure per pupil = current expenditure / the finance file's enrollment; chronic
  absenteeism % = chronically absent students / enrollment × 100.
- impossible values the bounds cannot see are reported as warnings and not loaded (the rest of
  the row loads): 0 pupils, 0 teachers (the pupil-teacher ratio would be 0 or infinite), $0 per
  pupil, more students with disabilities / English learners / chronically absent students than
  pupils.
- a blank cell never overwrites a stored value (merge_facts coalesces).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from core.ingest import merge
from core.ingest.kinds import Field, Kind, LoadCounts, register_kind
from core.us_states import STATES

SUBGROUPS = (
    "race", "sex", "grade", "disability", "lep", "econ_disadvantaged", "homeless", "migrant",
    "foster_care", "military_connected",
)  # fmt: skip
TOTAL_CODES = ("99", "99.0", "total", "all", "all students")
_PERCENT = {"low": 0.0, "high": 100.0, "on_invalid": "blank"}
_AMOUNT = {"low": 0.0, "on_invalid": "blank"}

FIELDS = (
    Field("district_id", "id", "district id (NCES LEA id)", required=True, structural=True),
    Field("year", "text", "year", required=True, structural=True),
    Field("name", "text", "district name"),
    Field("state", "text", "state"),
    Field("fips", "text", "state FIPS code"),
    Field("enrollment", "number", "enrollment", **_AMOUNT),
    Field("swd_count", "number", "students with disabilities", **_AMOUNT),
    Field("ell_count", "number", "English learners", **_AMOUNT),
    Field("chronic_absenteeism_pct", "number", "chronic absenteeism %", **_PERCENT),
    Field("chronic_absent_count", "number", "chronically absent students", **_AMOUNT),
    Field("graduation_rate_pct", "number", "graduation rate %", **_PERCENT),
    Field("teachers_fte", "number", "teachers (FTE)", **_AMOUNT),
    Field("math_proficiency_pct", "number", "math proficiency %", **_PERCENT),
    Field("read_proficiency_pct", "number", "reading proficiency %", **_PERCENT),
    Field("expenditure_pp", "number", "expenditure per pupil", **_AMOUNT),
    Field("expenditure_total", "number", "current expenditure", **_AMOUNT),
    Field("expenditure_enrollment", "number", "enrollment of the finance survey", **_AMOUNT),
    *(Field(f"subgroup_{name}", "text", f"{name} (subgroup code)") for name in SUBGROUPS),
)
KEY = ("district_id", "year", *(f"subgroup_{name}" for name in SUBGROUPS))
NUMBERS = tuple(f.name for f in FIELDS if f.type == "number")
STORED = (
    "name", "state", "enrollment", "swd_count", "ell_count", "chronic_absenteeism_pct",
    "graduation_rate_pct", "teachers_fte", "math_proficiency_pct", "read_proficiency_pct",
    "expenditure_pp",
)  # fmt: skip
LABEL = {f.name: f.title for f in FIELDS}

# (column, condition over _district_checked, message with %s for the value): not loaded
IMPOSSIBLE = (
    ("enrollment", "enrollment = 0", "0 pupils: a district without pupils has no per-pupil "
     "figures; not loaded"),
    ("teachers_fte", "teachers_fte = 0", "0 teachers: the pupil-teacher ratio would be "
     "impossible; not loaded"),
    ("expenditure_pp", "expenditure_pp = 0", "$0 per pupil is impossible; not loaded"),
    ("swd_count", "swd_count > pupils", "%s students with disabilities is more than the "
     "district's pupils; not loaded"),
    ("ell_count", "ell_count > pupils", "%s English learners is more than the district's "
     "pupils; not loaded"),
    ("chronic_absent_count", "chronic_absent_count > pupils", "%s chronically absent students "
     "is more than the district's pupils; not loaded"),
)  # fmt: skip


def _normalised_sql(table: str) -> str:
    """One row per file row: ids and years read, states resolved, codes blanked, totals turned
    into per-pupil figures; subgroup rows left out."""
    numbers = ",\n               ".join(
        f"case when t.{n} >= 0 then t.{n} end as {n}" for n in NUMBERS
    )
    totals = " and ".join(
        f"(t.subgroup_{s} is null or list_contains($totals, lower(t.subgroup_{s})))"
        for s in SUBGROUPS
    )
    return f"""
        with read as (
            select t._row_number,
                   case when regexp_full_match(t.district_id, '[0-9]{{1,7}}(\\.0+)?')
                        then lpad(regexp_extract(t.district_id, '^[0-9]+'), 7, '0')
                        else upper(t.district_id) end as district_id,
                   try_cast(regexp_extract(t.year, '(19|20)[0-9]{{2}}') as integer) as year,
                   t.year as year_text, t.name, t.state as state_text,
                   lpad(regexp_extract(t.fips, '^[0-9]+'), 2, '0') as fips_code,
                   {numbers}
            from {table} t
            where {totals}
        )
        select r.*,
               coalesce(by_code.code, by_name.code, by_fips.code, by_id.code, stored.state)
                   as state,
               r.state_text is not null and coalesce(by_code.code, by_name.code) is null
                   as unknown_state
        from read r
        left join _us_states by_code on by_code.code = upper(trim(r.state_text))
        left join _us_states by_name on lower(by_name.name) = lower(trim(r.state_text))
        left join _us_states by_fips on by_fips.fips = r.fips_code
        left join _us_states by_id on by_id.fips = left(r.district_id, 2)
             and regexp_full_match(r.district_id, '[0-9]{{7}}')
        left join (select district_id, max(state) as state from district_years group by 1) stored
             on stored.district_id = r.district_id
    """


def _report(con: duckdb.DuckDBPyConnection, job_id: int, sql: str, severity: str) -> None:
    """Append problems found here to the job's errors (the pipeline adds the validator's)."""
    con.execute(
        "insert into import_errors (job_id, row_number, column_name, message, severity) "
        f"select $job, row_number, column_name, message, '{severity}' from ({sql})",
        {"job": job_id},
    )


def _check_rows(con: duckdb.DuckDBPyConnection, job_id: int) -> None:
    """Rows that cannot be placed (no readable year, no state) are reported and left out."""
    _report(
        con,
        job_id,
        f"""select _row_number as row_number, '{LABEL["year"]}' as column_name,
                   printf('''%s'' has no year in it (use 2022 or 2022-23)', year_text) as message
            from _district_read where year is null
            union all
            select _row_number, '{LABEL["state"]}',
                   'no state: give a state column or a 7-digit NCES district id'
            from _district_read where year is not null and state is null""",
        "error",
    )
    _report(
        con,
        job_id,
        f"""select _row_number as row_number, '{LABEL["state"]}' as column_name,
                   printf('''%s'' is not a US state; the state was taken from the district id',
                          state_text) as message
            from _district_read where unknown_state and state is not null""",
        "warning",
    )
    con.execute("delete from _district_read where year is null or state is null")


def _check_values(con: duckdb.DuckDBPyConnection, job_id: int) -> None:
    """Impossible values: reported, then blanked (the row's other values still load)."""
    con.execute(
        """
        create or replace temp table _district_checked as
        select r.*, coalesce(r.enrollment, d.enrollment) as pupils
        from _district_read r
        left join district_years d on d.district_id = r.district_id and d.year = r.year
        """
    )
    parts, params = [], {}
    for number, (column, condition, message) in enumerate(IMPOSSIBLE):
        params[f"label_{number}"], params[f"message_{number}"] = LABEL[column], message
        value = f", {column}::bigint::varchar" if "%s" in message else ""
        parts.append(
            f"select _row_number as row_number, $label_{number} as column_name, "
            f"printf($message_{number}{value}) as message, '{column}' as field "
            f"from _district_checked where {condition}"
        )
    con.execute(
        f"create or replace temp table _district_bad as {' union all '.join(parts)}", params
    )
    _report(con, job_id, "select row_number, column_name, message from _district_bad", "warning")
    for column, _, _ in IMPOSSIBLE:
        con.execute(
            f"update _district_read set {column} = null where _row_number in "
            "(select row_number from _district_bad where field = $field)",
            {"field": column},
        )


def _stored_rows_sql() -> str:
    """One row per district × year: the later row's value wins, blanks erase nothing; totals
    become per-pupil figures when the file has no such column."""
    picks = ",\n               ".join(
        f"max_by({n}, _row_number) filter (where {n} is not null) as {n}"
        for n in ("name", "state", *NUMBERS)
    )
    return f"""
        with latest as (
            select district_id, year,
                   {picks}
            from _district_read group by district_id, year
        )
        select l.district_id, l.year, l.name, l.state, l.enrollment, l.swd_count, l.ell_count,
               coalesce(l.chronic_absenteeism_pct, 100.0 * l.chronic_absent_count
                        / nullif(coalesce(l.enrollment, d.enrollment), 0))
                   as chronic_absenteeism_pct,
               l.graduation_rate_pct, l.teachers_fte, l.math_proficiency_pct,
               l.read_proficiency_pct,
               coalesce(l.expenditure_pp, l.expenditure_total / nullif(l.expenditure_enrollment, 0))
                   as expenditure_pp
        from latest l
        left join district_years d on d.district_id = l.district_id and d.year = l.year
    """


def load_districts(con: duckdb.DuckDBPyConnection, table: str, job_id: int) -> LoadCounts:
    """Write the file's district-years into district_years inside the import's transaction."""
    con.register("_us_states", pd.DataFrame(STATES, columns=["code", "fips", "name"]))
    try:
        con.execute(
            f"create or replace temp table _district_read as {_normalised_sql(table)}",
            {"totals": list(TOTAL_CODES)},
        )
    finally:
        con.unregister("_us_states")
    read = con.execute("select count(*) from _district_read").fetchone()[0]
    skipped = con.execute(f"select count(*) from {table}").fetchone()[0] - read
    _check_rows(con, job_id)
    _check_values(con, job_id)
    counts = merge.merge_facts(
        con,
        source=_stored_rows_sql(),
        target="district_years",
        key=("district_id", "year"),
        measures=STORED,
        extra={"job_id": job_id},
    )
    counts.added = _added(con, skipped)
    for name in ("_district_read", "_district_checked", "_district_bad"):
        con.execute(f"drop table if exists {name}")
    return counts


def _added(con: duckdb.DuckDBPyConnection, skipped: int) -> dict:
    districts, states, years = con.execute(
        """
        select count(distinct district_id), list(distinct state order by state),
               list(distinct year order by year)
        from _district_read
        """
    ).fetchone()
    added = {"districts": districts, "states": states or [], "years": years or []}
    if skipped:
        added["subgroup_rows_skipped"] = skipped
    return added


KIND = register_kind(
    Kind(
        name="district",
        title="District benchmarks (district-level public data)",
        fields=FIELDS,
        key=KEY,
        loader=load_districts,
        attributes=False,
    )
)
