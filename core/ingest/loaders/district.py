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
  pupils; in a portal file, a negative number that is none of its missing-data codes.
- rows that cannot be placed are rejected like any import's bad rows — an error with the row
  number and the file's own column, counted in the job's `rejected` (LoadCounts.rejected): no
  readable year, or no state (a state cell that names no US state, and neither a FIPS code, a
  7-digit NCES id nor an earlier import gives one). A state cell that names no state while the
  FIPS code or NCES id does is a warning, and the row loads with that state.
- a blank cell never overwrites a stored value (merge_facts coalesces); a blank absenteeism rate
  (the CRDC's off-years) is just a blank, not an error.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from core.ingest import merge
from core.ingest.kinds import Field, Kind, LoadCounts, register_kind
from core.warehouse.us_states import STATES

SUBGROUPS = (
    "race", "sex", "grade", "disability", "lep", "econ_disadvantaged", "homeless", "migrant",
    "foster_care", "military_connected",
)  # fmt: skip
TOTAL_CODES = ("99", "99.0", "total", "all", "all students")
MISSING_CODES = (-1.0, -2.0, -3.0, -9.0)  # the portal's missing / not applicable / suppressed
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
    into per-pupil figures; subgroup rows left out. `odd_negatives`: negative numbers that are
    none of the portal's missing-data codes (only a preset with lowered bounds lets them in)."""
    numbers = ",\n                   ".join(
        f"case when t.{n} >= 0 then t.{n} end as {n}" for n in NUMBERS
    )
    odd = ", ".join(
        f"case when t.{n} < 0 and t.{n} not in {MISSING_CODES} then {{'field': '{n}', "
        f"'value': t.{n}}} end"
        for n in NUMBERS
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
                   t.year as year_text, t.name, t.state as state_text, t.fips as fips_text,
                   lpad(regexp_extract(t.fips, '^[0-9]+'), 2, '0') as fips_code,
                   {numbers},
                   list_filter([{odd}], lambda x: x is not null) as odd_negatives
            from {table} t
            where {totals}
        )
        select r.*,
               coalesce(by_code.code, by_name.code, by_fips.code, by_fips_name.code, by_id.code,
                        stored.state) as state,
               case when coalesce(by_code.code, by_name.code) is not null then null
                    when coalesce(by_fips.code, by_fips_name.code) is not null then 'FIPS code'
                    when by_id.code is not null then 'district id'
                    when stored.state is not null then 'earlier imports' end as state_from,
               r.state_text is not null and coalesce(by_code.code, by_name.code) is null
                   as unknown_state
        from read r
        left join _us_states by_code on by_code.code = upper(trim(r.state_text))
        left join _us_states by_name on lower(by_name.name) = lower(trim(r.state_text))
        left join _us_states by_fips on by_fips.fips = r.fips_code
        left join _us_states by_fips_name on lower(by_fips_name.name) = lower(trim(r.fips_text))
        left join _us_states by_id on by_id.fips = left(r.district_id, 2)
             and regexp_full_match(r.district_id, '[0-9]{{7}}')
        left join (select district_id, max(state) as state from district_years group by 1) stored
             on stored.district_id = r.district_id
    """


def _note(con: duckdb.DuckDBPyConnection, severity: str, sql: str) -> None:
    """Add problems (row_number, field, message) to _district_problems; they become the job's
    errors at the end, each named by the file's own column (_report_problems)."""
    con.execute(
        f"insert into _district_problems select row_number, field, message, '{severity}' "
        f"from ({sql})"
    )


def _check_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Rows that cannot be placed (no readable year, no state) are errors and are left out; a
    state cell naming no state is only a warning when the state came from elsewhere. Returns
    how many rows were left out."""
    _note(con, "error", _UNPLACED_SQL)
    _note(con, "warning", _STATE_ELSEWHERE_SQL)
    rejected = con.execute(
        "select count(*) from _district_read where year is null or state is null"
    ).fetchone()[0]
    con.execute("delete from _district_read where year is null or state is null")
    return rejected


_UNPLACED_SQL = """
    select _row_number as row_number, 'year' as field,
           printf('''%s'' has no year in it (use 2022 or 2022-23)', year_text) as message
    from _district_read where year is null
    union all
    select _row_number, 'state',
           case when state_text is null
                then 'no state: give a state column or a 7-digit NCES district id'
                else printf('''%s'' is not a US state: use its two-letter code (e.g. CA), '
                            || 'its name or its FIPS code', state_text) end
    from _district_read where year is not null and state is null
"""
_STATE_ELSEWHERE_SQL = """
    select _row_number as row_number, 'state' as field,
           printf('''%s'' is not a US state; %s was taken from the %s',
                  state_text, state, state_from) as message
    from _district_read where unknown_state and state is not null
"""


def _check_values(con: duckdb.DuckDBPyConnection) -> None:
    """Impossible values are warnings and are blanked (the row's other values still load):
    the IMPOSSIBLE list, and negative numbers in a portal file that are none of its codes."""
    codes = ", ".join(f"{code:g}" for code in MISSING_CODES)
    _note(
        con,
        "warning",
        "select _row_number as row_number, odd.field, printf('%s is negative and not one of "
        f"the portal''s missing-data codes ({codes}); not loaded', case when odd.value = "
        "trunc(odd.value) then odd.value::bigint::varchar else odd.value::varchar end) "
        "as message from (select _row_number, unnest(odd_negatives) as odd from _district_read)",
    )
    con.execute(
        """
        create or replace temp table _district_checked as
        select r.*, coalesce(r.enrollment, d.enrollment) as pupils
        from _district_read r
        left join district_years d on d.district_id = r.district_id and d.year = r.year
        """
    )
    parts = []
    for column, condition, message in IMPOSSIBLE:
        value = f", {column}::bigint::varchar" if "%s" in message else ""
        parts.append(
            f"select _row_number as row_number, '{column}' as field, "
            f"printf('{message.replace(chr(39), chr(39) * 2)}'{value}) as message "
            f"from _district_checked where {condition}"
        )
    con.execute(f"create or replace temp table _district_bad as {' union all '.join(parts)}")
    _note(con, "warning", "select row_number, field, message from _district_bad")
    for column, _, _ in IMPOSSIBLE:
        con.execute(
            f"update _district_read set {column} = null where _row_number in "
            "(select row_number from _district_bad where field = $field)",
            {"field": column},
        )


def _report_problems(con: duckdb.DuckDBPyConnection, job_id: int) -> None:
    """The loader's problems into the job's errors, each named by the file's column for its
    field (temp table ingest_columns, from the pipeline), else by the field's title."""
    con.execute("create temp table if not exists ingest_columns (field varchar, header varchar)")
    con.register("_district_labels", pd.DataFrame(LABEL.items(), columns=["field", "label"]))
    try:
        con.execute(
            """
            insert into import_errors (job_id, row_number, column_name, message, severity)
            select $job, p.row_number, coalesce(h.header, l.label), p.message, p.severity
            from _district_problems p
            left join ingest_columns h on h.field = p.field
            left join _district_labels l on l.field = p.field
            order by p.row_number, p.field
            """,
            {"job": job_id},
        )
    finally:
        con.unregister("_district_labels")


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
    con.execute(
        "create or replace temp table _district_problems (row_number bigint, field varchar, "
        "message varchar, severity varchar)"
    )
    read = con.execute("select count(*) from _district_read").fetchone()[0]
    skipped = con.execute(f"select count(*) from {table}").fetchone()[0] - read
    rejected = _check_rows(con)
    _check_values(con)
    _report_problems(con, job_id)
    counts = merge.merge_facts(
        con,
        source=_stored_rows_sql(),
        target="district_years",
        key=("district_id", "year"),
        measures=STORED,
        extra={"job_id": job_id},
    )
    counts.added = _added(con, skipped)
    counts.rejected = rejected
    for name in ("_district_read", "_district_checked", "_district_bad", "_district_problems"):
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
