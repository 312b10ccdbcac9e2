"""District benchmarks: each district against its state and the nation, computed live.

Grain of the answer: one row per district × year (the selected year), plus one row per state ×
year and one national ("US") row per year. Everything comes from the raw `district_years` table in
two SQL queries — the districts (joins and window functions, no Python loop over districts) and
the averages — so a corrected file shows up at once and nothing derived is ever stored.

Definitions (DESIGN.md: "weight every rate, ratio, proficiency and per-pupil figure by district
enrollment"):

- District figures: `swd_pct = swd / enrollment × 100`, `ell_pct = ell / enrollment × 100`,
  `student_teacher_ratio = enrollment / teachers_fte`; the other five are as published.
- State and national averages are enrollment-weighted over the districts that report the figure
  (and an enrollment > 0) that year: Σ(value × enrollment) / Σ enrollment. For per-pupil spending
  that is total spending over total pupils; for swd_pct / ell_pct it is Σ swd / Σ enrollment.
  The pupil-teacher ratio is averaged in its enrollment-weighted *harmonic* form,
  Σ enrollment / Σ (enrollment / ratio) = Σ enrollment / Σ teachers: the state's pupils per teacher,
  the same total-over-total rule as spending (an arithmetic mean of ratios would let a district's
  teachers count for less the larger its classes are). District `enrollment` itself is a plain
  mean; `total_enrollment` and `districts` are given too. "US" is over every district loaded.
- 3-year trends compare year Y with year Y − 3 of the same district: % change for the counts and
  for spending (`swd_trend_3yr`, `ell_trend_3yr`, `expenditure_pp_trend_3yr`), point change for
  the rates and proficiencies, plain change for `student_teacher_ratio_trend_3yr`. Chronic
  absenteeism is often collected every other year (the CRDC), so its trend takes the latest point
  (year Y, or Y − 1 in a collection's off-year) against the earliest point in the 3 years before
  it: for annual data that is the 3-year change, for biennial data the two most recent points;
  `absenteeism_trend_from_year` / `_to_year` say which. A missing point gives null and a
  `<trend>_reason`; nothing is ever guessed or interpolated.
- Deltas `<metric>_vs_state` / `<metric>_vs_national` = district − average (positive = above).
- Quartile flags within the state and year, over the districts that report the metric: a
  district's position is the share of those districts with a lower value, ties counting half
  ((rank − 1 + districts at or below) / 2n), so tied districts always share a label. Position
  ≥ 0.75 `well_above`, ≥ 0.5 `above`, ≥ 0.25 `below`, else `well_below` (a district exactly at the
  median reads `above`). With fewer than 4 reporting districts no flag is given (null, with
  `<metric>_quartile_state_reason`). The label always means high or low; whether that is good is
  `<metric>_reading` ∈ good / bad / neutral (absenteeism and pupil-teacher ratio are "higher is
  worse"; swd_pct, ell_pct and spending describe a district rather than judge it: neutral).

District-level figures are public statistics, not student records: every role may read them, so
the scope is accepted for the common signature but narrows nothing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from core.scope import Scope

NATIONAL = "US"
MIN_DISTRICTS_FOR_QUARTILES = 4
QUARTILE_LABELS = ("well_above", "above", "below", "well_below")


@dataclass(frozen=True)
class Metric:
    key: str  # output field name
    label: str
    unit: str
    expression: str  # over district_years, from this module only (never user input)
    higher_is: str  # good | bad | neutral
    trend: str  # pct_change | point_change | change | latest_points
    trend_of: str  # the base column whose change is the trend
    trend_key: str


METRICS: tuple[Metric, ...] = (
    Metric("absenteeism", "Chronic absenteeism", "%", "chronic_absenteeism_pct", "bad",
           "latest_points", "absenteeism", "absenteeism_trend_3yr"),
    Metric("graduation", "Graduation rate", "%", "graduation_rate_pct", "good",
           "point_change", "graduation", "graduation_trend_3yr"),
    Metric("student_teacher_ratio", "Students per teacher", "pupils per teacher FTE",
           "case when enrollment > 0 and teachers_fte > 0 then enrollment / teachers_fte end",
           "bad", "change", "student_teacher_ratio", "student_teacher_ratio_trend_3yr"),
    Metric("swd_pct", "Students with disabilities", "% of enrollment",
           "case when enrollment > 0 then 100.0 * swd_count / enrollment end", "neutral",
           "pct_change", "swd", "swd_trend_3yr"),
    Metric("ell_pct", "English learners", "% of enrollment",
           "case when enrollment > 0 then 100.0 * ell_count / enrollment end", "neutral",
           "pct_change", "ell", "ell_trend_3yr"),
    Metric("math_proficiency", "Math proficiency", "% proficient", "math_proficiency_pct",
           "good", "point_change", "math_proficiency", "math_proficiency_trend_3yr"),
    Metric("read_proficiency", "Reading proficiency", "% proficient", "read_proficiency_pct",
           "good", "point_change", "read_proficiency", "read_proficiency_trend_3yr"),
    Metric("expenditure_pp", "Spending per pupil", "$ per pupil", "expenditure_pp", "neutral",
           "pct_change", "expenditure_pp", "expenditure_pp_trend_3yr"),
)  # fmt: skip
METRIC_BY_KEY = {m.key: m for m in METRICS}
TREND_KEYS = tuple(m.trend_key for m in METRICS)
AVERAGE_COLUMNS = [
    "state", "year", "districts", "enrollment", "total_enrollment", *(m.key for m in METRICS),
]  # fmt: skip


@dataclass(frozen=True)
class Benchmarks:
    """The answer for one year: districts, the state rows and the national row(s)."""

    year: int | None
    districts: pd.DataFrame
    state_averages: pd.DataFrame
    national_averages: pd.DataFrame


# --- SQL, composed from the metric table above (identifiers only; every value is bound) -------

_BASE = """
    base as not materialized (  -- one row per district × year: raw values and derived figures
        select district_id, year,
               coalesce(name, district_id) as name,
               state, enrollment, swd_count as swd, ell_count as ell, teachers_fte,
               {metrics}
        from district_years
    )"""


def _base_cte() -> str:
    return _BASE.format(
        metrics=",\n               ".join(f"{m.expression} as {m.key}" for m in METRICS)
    )


def _average_expression(metric: Metric) -> str:
    if metric.key == "student_teacher_ratio":
        return (
            "sum(enrollment) filter (where student_teacher_ratio is not null) "
            "/ sum(teachers_fte) filter (where student_teacher_ratio is not null)"
        )
    reporting = f"{metric.key} is not null and enrollment > 0"
    return (
        f"sum({metric.key} * enrollment) filter (where {reporting}) "
        f"/ sum(enrollment) filter (where {reporting})"
    )


def _averages_cte() -> str:
    columns = ",\n               ".join(f"{_average_expression(m)} as {m.key}" for m in METRICS)
    return f"""
    averages as (  -- one row per state × year, and one per year for the nation (state = 'US')
        select case when grouping(state) = 1 then '{NATIONAL}' else state end as state,
               year, grouping(state) = 1 as national, count(*) as districts,
               avg(enrollment) as enrollment, sum(enrollment)::bigint as total_enrollment,
               {columns}
        from base
        where $year is null or year = $year
        group by grouping sets ((state, year), (year))
    )"""


def _then_columns() -> str:
    """Each metric's value three years back, from the joined `back3` row."""
    return ", ".join(
        f"back3.{m.trend_of} as {m.trend_of}_then" for m in METRICS if m.trend != "latest_points"
    )


def _trend_expression(metric: Metric) -> tuple[str, str]:
    """(value, reason) SQL for one metric's 3-year trend, over the `paired` CTE."""
    now, then = metric.trend_of, f"{metric.trend_of}_then"
    if metric.trend == "latest_points":
        value = "absenteeism_now - absenteeism_prior"
        reason = (
            "case when absenteeism_now is null then 'no value for ' || year || ' or ' || (year - 1)"
            " when absenteeism_prior is null then 'no earlier value within 3 years of '"
            " || absenteeism_now_year end"
        )
        return value, reason
    if metric.trend == "pct_change":
        value = f"case when {then} > 0 then 100.0 * ({now} - {then}) / {then} end"
    else:
        value = f"{now} - {then}"
    reason = (
        f"case when {now} is null then 'no value for ' || year"
        f" when {then} is null then 'no value for ' || (year - 3)"
        + (
            f" when {then} <= 0 then 'value for ' || (year - 3) || ' is 0'"
            if metric.trend == "pct_change"
            else ""
        )
        + " end"
    )
    return value, reason


def _position_columns(metric: Metric) -> list[str]:
    """Twice the district's position times the reporting count, (rank − 1) + (districts at or
    below): an integer, so quartile cuts compare exactly. Nulls sort last, so they change neither
    term; cume_dist × rows in the state-year recovers the at-or-below count exactly."""
    key = metric.key
    ordered = f"(partition by state, year order by {key} nulls last)"
    return [
        f"count({key}) over state_year as {key}_reporting",
        f"case when {key} is not null then rank() over {ordered} - 1"
        f" + round(cume_dist() over {ordered} * count(*) over state_year)::bigint"
        f" end as {key}_position2n",
    ]


def _quartile_columns(metric: Metric) -> list[str]:
    key = metric.key
    n, twice = f"{key}_reporting", f"{key}_position2n"
    label = (
        f"case when {key} is null or {n} < {MIN_DISTRICTS_FOR_QUARTILES} then null"
        f" when 2 * {twice} >= 3 * {n} then 'well_above' when {twice} >= {n} then 'above'"
        f" when 2 * {twice} >= {n} then 'below' else 'well_below' end"
    )
    reason = (
        f"case when {key} is null then 'no value for this year'"
        f" when {n} < {MIN_DISTRICTS_FOR_QUARTILES} then 'fewer than "
        f"{MIN_DISTRICTS_FOR_QUARTILES} districts in the state report it' end"
    )
    return [f"{label} as {key}_quartile_state", f"{reason} as {key}_quartile_state_reason"]


def _reading_expression(metric: Metric) -> str:
    flag = f"{metric.key}_quartile_state"
    if metric.higher_is == "neutral":
        return f"case when {flag} is not null then 'neutral' end"
    high, low = ("good", "bad") if metric.higher_is == "good" else ("bad", "good")
    return (
        f"case when {flag} in ('well_above', 'above') then '{high}'"
        f" when {flag} in ('below', 'well_below') then '{low}' end"
    )


def _district_sql() -> str:
    trends = ",\n               ".join(
        f"{value} as {m.trend_key}, {reason} as {m.trend_key}_reason"
        for m in METRICS
        for value, reason in [_trend_expression(m)]
    )
    positions = ",\n               ".join(c for m in METRICS for c in _position_columns(m))
    flags = ", ".join(f"d.{m.key}_quartile_state, d.{m.key}_quartile_state_reason" for m in METRICS)
    quartiles = ",\n               ".join(c for m in METRICS for c in _quartile_columns(m))
    deltas = ",\n           ".join(
        f"d.{m.key} - s.{m.key} as {m.key}_vs_state, d.{m.key} - n.{m.key} as {m.key}_vs_national"
        for m in METRICS
    )
    readings = ",\n           ".join(
        f"{_reading_expression(m)} as {m.key}_reading" for m in METRICS
    )
    return f"""
    with {_base_cte()},
    {_averages_cte()},
    selected as (  -- the district-years asked for; whole states, so quartiles stay state-wide
        select * from base
        where ($year is null or year = $year) and ($state is null or state = $state)
    ),
    absence as (select district_id, year, absenteeism from base where absenteeism is not null),
    latest_absence as (  -- absenteeism this year, or last year in a biennial collection's off-year
        select s.district_id, s.year, arg_max(a.absenteeism, a.year) as absenteeism_now,
               max(a.year) as absenteeism_now_year
        from selected s
        join absence a on a.district_id = s.district_id and a.year between s.year - 1 and s.year
        group by s.district_id, s.year
    ),
    earlier_absence as (  -- the earliest absenteeism point in the 3 years before that one
        select l.district_id, l.year, arg_min(a.absenteeism, a.year) as absenteeism_prior,
               min(a.year) as absenteeism_prior_year
        from latest_absence l
        join absence a on a.district_id = l.district_id
             and a.year between l.absenteeism_now_year - 3 and l.absenteeism_now_year - 1
        group by l.district_id, l.year
    ),
    paired as (  -- each selected district-year with its values 3 years back (missing: null)
        select s.*, {_then_columns()},
               la.absenteeism_now, la.absenteeism_now_year,
               ea.absenteeism_prior, ea.absenteeism_prior_year
        from selected s
        left join base back3 on back3.district_id = s.district_id and back3.year = s.year - 3
        left join latest_absence la on la.district_id = s.district_id and la.year = s.year
        left join earlier_absence ea on ea.district_id = s.district_id and ea.year = s.year
    ),
    positioned as (  -- narrow rows, so each ranking window sorts little
        select district_id, year,
               {positions}
        from selected
        window state_year as (partition by state, year)
    ),
    flagged as (
        select p.*,
               {trends},
               case when absenteeism_prior is not null then absenteeism_prior_year end
                   as absenteeism_trend_from_year,
               case when absenteeism_prior is not null then absenteeism_now_year end
                   as absenteeism_trend_to_year,
               {quartiles}
        from paired p
        join positioned using (district_id, year)
    )
    select d.district_id, d.name, d.state, d.year, d.enrollment, d.swd, d.ell, d.teachers_fte,
           {", ".join(f"d.{m.key}" for m in METRICS)},
           {deltas},
           {", ".join(f"d.{m.trend_key}, d.{m.trend_key}_reason" for m in METRICS)},
           d.absenteeism_trend_from_year, d.absenteeism_trend_to_year,
           {flags},
           {readings}
    from flagged d
    join averages s on s.state = d.state and s.year = d.year and not s.national
    join averages n on n.year = d.year and n.national
    where $district is null or d.district_id = $district
    """


def _averages_sql() -> str:
    columns = ", ".join(AVERAGE_COLUMNS)
    return f"""
    with {_base_cte()},
    {_averages_cte()}
    select {columns}, national from averages
    order by national, state, year
    """


_DISTRICT_SQL = _district_sql()
_AVERAGES_SQL = _averages_sql()
_NULLABLE_INTS = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype()}


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pd.DataFrame:
    """A query's rows through Arrow: five times faster than .df() for these wide results with
    many text columns; integer columns stay integers (nullable) instead of becoming floats.

    execute() rather than con.sql(): the latter refuses to run while a caller's earlier
    execute() result is unfinished; the extra copy DuckDB warns about costs ~10 %."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        table = con.execute(sql, params).to_arrow_table()
    return table.to_pandas(types_mapper=_NULLABLE_INTS.get)


# --- public questions ---------------------------------------------------------------------------


def benchmark_years(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[int]:
    """Years with district data, newest first (scope: public data, see the module doc)."""
    del scope
    rows = con.execute("select distinct year from district_years order by year desc").fetchall()
    return [int(r[0]) for r in rows]


def benchmark_states(
    con: duckdb.DuckDBPyConnection, scope: Scope, year: int | None = None
) -> list[str]:
    """States with district rows (in `year` if given), alphabetical."""
    del scope
    rows = con.execute(
        "select distinct state from district_years where state is not null"
        " and ($year is null or year = $year) order by state",
        {"year": year},
    ).fetchall()
    return [r[0] for r in rows]


def district_benchmarks(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    *,
    state: str | None = None,
    year: int | None = None,
    district: str | None = None,
    all_years: bool = False,
) -> Benchmarks:
    """Every district of `state` (all states when None) in `year` (default: the latest year
    loaded) with its figures, deltas, 3-year trends and quartile flags, plus the state and
    national averages of that year (see the module doc for every definition).

    all_years=True answers for every year at once (one row per district × year; `year` is then
    None in the result): a full history export, and the speed benchmark's workload."""
    del scope
    if all_years:
        year = None
    elif year is None:
        year = con.execute("select max(year) from district_years").fetchone()[0]
    state = state.upper() if state else None
    districts = _frame(con, _DISTRICT_SQL, {"year": year, "state": state, "district": district})
    # sorted here, not in SQL: a 20k-row string sort costs DuckDB more than pandas
    districts = districts.sort_values(["state", "name", "district_id", "year"], ignore_index=True)
    averages = _frame(con, _AVERAGES_SQL, {"year": year})
    national = averages[averages.national].drop(columns="national").reset_index(drop=True)
    states = averages[~averages.national].drop(columns="national")
    if state:
        states = states[states.state == state]
    elif district is not None:
        states = states[states.state.isin(districts.state)]
    return Benchmarks(
        year=None if year is None else int(year),
        districts=districts,
        state_averages=states.reset_index(drop=True),
        national_averages=national,
    )


def average_history(
    con: duckdb.DuckDBPyConnection, scope: Scope, state: str | None = None
) -> pd.DataFrame:
    """State (or every state's) and national averages for every year: the trend lines' backdrop.
    Columns: AVERAGE_COLUMNS; the national rows have state 'US'."""
    del scope
    averages = con.execute(_AVERAGES_SQL, {"year": None}).df()
    keep = averages.national | (averages.state == state.upper() if state else True)
    return averages[keep].drop(columns="national").reset_index(drop=True)


def district_history(
    con: duckdb.DuckDBPyConnection, scope: Scope, district_id: str
) -> pd.DataFrame:
    """One district's figures for every year loaded (district_id, name, state, year, enrollment
    and the 8 metrics): the district's own trend line."""
    del scope
    columns = ", ".join(["district_id", "name", "state", "year", "enrollment", *METRIC_BY_KEY])
    return con.execute(
        f"with {_base_cte()} select {columns} from base"
        " where district_id = $district order by year",
        {"district": district_id},
    ).df()


def district_data_version(con: duckdb.DuckDBPyConnection) -> tuple:
    """Changes whenever district rows are added or changed (an import or the demo loader): the
    page's cache key, so figures stay live without recomputing on every rerun."""
    return con.execute(
        "select count(*), coalesce(max(job_id), 0), coalesce(max(updated_at)::varchar, '')"
        " from district_years"
    ).fetchone()


def school_year_label(year: int) -> str:
    """2022 → "2022-23" (years are the fall of the school year)."""
    return f"{year}-{(year + 1) % 100:02d}"
