"""District benchmarks: each district against its state and the nation, computed live.

Grain of the answer: one row per district × year (the selected year), plus one row per state ×
year and one national ("US") row per year. Everything comes from the raw `district_years` table in
two SQL queries — the districts and the averages — so a corrected file shows up at once and
nothing derived is ever stored. The districts' query is built for 20,000 districts × 10 years in
well under a second: earlier values come from equi-joins on (district, year − k), and the
quartile flags from one sorted list per state × year and metric turned into three thresholds,
computed in the same state × year grouping as the state averages, and the national averages
from one group by year (no window sort per metric, no Python loop over districts). A single
grouping-sets CTE for both averages looked tidier, but the optimizer estimated it at ~10^11 rows
and so built the final join's hash table on the 200,000 wide district rows (0.2 s of CPU).

Definitions ("weight every rate, ratio, proficiency and per-pupil figure by district
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

from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from core.access.scope import Scope

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


def _average_columns(suffix: str = "") -> str:
    return ",\n               ".join(
        f"{_average_expression(m)} as {m.key}{suffix}" for m in METRICS
    )


def _averages_cte() -> str:
    return f"""
    averages as (  -- one row per state × year, and one per year for the nation (state = 'US')
        select case when grouping(state) = 1 then '{NATIONAL}' else state end as state,
               year, grouping(state) = 1 as national, count(*) as districts,
               avg(enrollment) as enrollment, sum(enrollment)::bigint as total_enrollment,
               {_average_columns()}
        from base
        where $year is null or year = $year
        group by grouping sets ((state, year), (year))
    )"""


def _then_columns() -> str:
    """Each metric's value three years back, from the joined `back3` row."""
    return ", ".join(
        f"back3.{m.trend_of} as {m.trend_of}_then" for m in METRICS if m.trend != "latest_points"
    )


def _absence_columns() -> str:
    """Absenteeism now (this year, else last year) and the earliest point in the 3 years before
    it, from the year's own value (a0) and the joined points 1-4 years back (a1..a4)."""
    return """
               coalesce(s.absenteeism, a1.absenteeism) as absenteeism_now,
               case when s.absenteeism is not null then s.year
                    when a1.absenteeism is not null then s.year - 1 end as absenteeism_now_year,
               case when s.absenteeism is not null
                    then coalesce(back3.absenteeism, a2.absenteeism, a1.absenteeism)
                    when a1.absenteeism is not null
                    then coalesce(a4.absenteeism, back3.absenteeism, a2.absenteeism) end
                   as absenteeism_prior,
               case when s.absenteeism is not null
                    then case when back3.absenteeism is not null then s.year - 3
                              when a2.absenteeism is not null then s.year - 2
                              when a1.absenteeism is not null then s.year - 1 end
                    when a1.absenteeism is not null
                    then case when a4.absenteeism is not null then s.year - 4
                              when back3.absenteeism is not null then s.year - 3
                              when a2.absenteeism is not null then s.year - 2 end end
                   as absenteeism_prior_year"""


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


# Quartile cuts over 2n × position (see the module doc), lowest first: below, above, well_above.
_CUTS = ("(n + 1) // 2", "n", "(3 * n + 1) // 2")
_LABELS_UPWARDS = ("below", "above", "well_above")


def _thresholds_ctes() -> str:
    """Per state × year, from each metric's sorted values (n of them): the reporting count and,
    for each cut c, the lowest value that reaches it, so a district reaches c iff its value is
    at least that threshold. Why one look-up suffices: a tie group at 0-based indexes l..r has
    2n × position = l + r + 1, so every group wholly below index c // 2 falls short of c and
    every group wholly above it reaches c; only the group holding index c // 2 (value `at`) must
    be checked, and if it falls short the next distinct value is the threshold (null: nobody
    reaches c). One sort of each state-year's list instead of a window sort per metric over
    every row; small steps, so each expression is planned once."""
    ordered, middles, ends, thresholds = [], [], [], []
    for m in METRICS:
        key, values = m.key, f"{m.key}_sorted"
        ordered.append(f"list_sort(list({key}) filter (where {key} is not null)) as {values}")
        middles += [f"len({values}) as {key}_reporting", f"list_reverse({values}) as {key}_desc"]
        for label, cut in zip(_LABELS_UPWARDS, _CUTS, strict=True):
            cut = cut.replace("n", f"len({values})")
            at = f"{key}_{label}_at"
            middles += [f"{cut} as {key}_{label}_cut", f"{values}[{cut} // 2 + 1] as {at}"]
            ends += [
                f"list_position({values}, {at}) as {key}_{label}_first",
                f"{key}_reporting + 1 - list_position({key}_desc, {at}) as {key}_{label}_last",
            ]
            thresholds.append(
                f"case when {key}_{label}_first + {key}_{label}_last - 1 >= {key}_{label}_cut"
                f" then {at} else {values}[{key}_{label}_last + 1] end as {key}_{label}_from"
            )
        thresholds.insert(len(thresholds) - 3, f"{key}_reporting")

    def listed(columns: list[str]) -> str:
        return ",\n               ".join(columns)

    return f"""
    ordered as (  -- per state × year: each metric's reported values, lowest first
        select state, year,
               {listed(ordered)},
               {_average_columns("_state")}
        from selected group by state, year
    ),
    middles as (  -- each cut, and the value at its middle index (1-based lists)
        select *,
               {listed(middles)}
        from ordered
    ),
    tie_ends as (  -- where the tie group of that value starts and ends (1-based)
        select *,
               {listed(ends)}
        from middles
    ),
    thresholds as (  -- the lowest value that reaches each cut
        select state, year,
               {listed(thresholds)},
               {", ".join(f"{m.key}_state" for m in METRICS)}
        from tie_ends
    )"""


def _quartile_columns(metric: Metric) -> list[str]:
    """Label, reason and good/bad reading of one metric's within-state quartile flag."""
    key = metric.key
    missing = f"d.{key} is null or x.{key}_reporting < {MIN_DISTRICTS_FOR_QUARTILES}"
    reaches = [f"d.{key} >= x.{key}_{label}_from" for label in _LABELS_UPWARDS]
    label = (
        f"case when {missing} then null when {reaches[2]} then 'well_above'"
        f" when {reaches[1]} then 'above' when {reaches[0]} then 'below' else 'well_below' end"
    )
    reason = (
        f"case when d.{key} is null then 'no value for this year'"
        f" when x.{key}_reporting < {MIN_DISTRICTS_FOR_QUARTILES} then 'fewer than "
        f"{MIN_DISTRICTS_FOR_QUARTILES} districts in the state report it' end"
    )
    if metric.higher_is == "neutral":
        reading = "'neutral'"
    else:
        high, low = ("good", "bad") if metric.higher_is == "good" else ("bad", "good")
        reading = f"case when {reaches[1]} then '{high}' else '{low}' end"
    return [
        f"{label} as {key}_quartile_state",
        f"{reason} as {key}_quartile_state_reason",
        f"case when {missing} then null else {reading} end as {key}_reading",
    ]


def _district_sql() -> str:
    trends = ",\n           ".join(
        f"{value} as {m.trend_key}, {reason} as {m.trend_key}_reason"
        for m in METRICS
        for value, reason in [_trend_expression(m)]
    )
    deltas = ",\n           ".join(
        f"d.{m.key} - x.{m.key}_state as {m.key}_vs_state,"
        f" d.{m.key} - us.{m.key}_national as {m.key}_vs_national"
        for m in METRICS
    )
    quartiles = [c for m in METRICS for c in _quartile_columns(m)]
    flags = ",\n           ".join(c for c in quartiles if not c.endswith("_reading"))
    readings = ",\n           ".join(c for c in quartiles if c.endswith("_reading"))
    return f"""
    with {_base_cte()},
    selected as (  -- the district-years asked for; whole states, so quartiles stay state-wide
        select * from base
        where ($year is null or year = $year) and ($state is null or state = $state)
    ),
    earlier as (  -- the years trends look back to (1-4 years before the year asked for)
        select * from base where $year is null or year between $year - 4 and $year - 1
    ),
    absence as (select district_id, year, absenteeism from earlier where absenteeism is not null),
    paired as (  -- each selected district-year with its values 1-4 years back (missing: null)
        select s.*, {_then_columns()},
               {_absence_columns()}
        from selected s
        left join earlier back3 on back3.district_id = s.district_id and back3.year = s.year - 3
        left join absence a1 on a1.district_id = s.district_id and a1.year = s.year - 1
        left join absence a2 on a2.district_id = s.district_id and a2.year = s.year - 2
        left join absence a4 on a4.district_id = s.district_id and a4.year = s.year - 4
    ),
    {_thresholds_ctes()},
    national as (  -- per year: the nation's averages
        select year,
               {_average_columns("_national")}
        from base
        where $year is null or year = $year
        group by year
    )
    select d.district_id, d.name, d.state, d.year, d.enrollment, d.swd, d.ell, d.teachers_fte,
           {", ".join(f"d.{m.key}" for m in METRICS)},
           {deltas},
           {trends},
           case when absenteeism_prior is not null then absenteeism_prior_year end
               as absenteeism_trend_from_year,
           case when absenteeism_prior is not null then absenteeism_now_year end
               as absenteeism_trend_to_year,
           {flags},
           {readings}
    from paired d
    join thresholds x using (state, year)
    join national us using (year)
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

    con.sql() builds the Arrow table straight from the query, in parallel; execute() would first
    collect every row and then copy it (~15 % of the all-years answer). con.sql() refuses to run
    while an execute() result on the connection is unfinished, so such a result is run to its
    end first (execute() would have dropped it anyway)."""
    if hasattr(con, "complete"):
        con.complete()
    table = con.sql(sql, params=params).to_arrow_table()
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
