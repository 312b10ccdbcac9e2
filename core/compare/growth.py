"""Matched growth: the same students followed from an earlier test event to a later one.

Definition (docs/comparisons.md): the cohort is defined at the LATER period — its school, grade,
filters and the caller's scope apply there — and each member is matched to their own score at the
earlier period wherever they were then (another school of the district, another grade). Members
without that earlier score are dropped and counted (`dropped`). The statistics are a paired t-test
on the per-student change, computed from SQL aggregates of the differences.

How particular students are counted:
* **Changed school**: counted in the school of the later period, with the earlier score from the
  school they were in then (`changed_school` counts them).
* **Repeated a grade** (across years, grade now ≤ grade then): counted in the later grade and
  matched to their earlier score in the same grade (`repeated_grade` counts them). Norm-relative
  change compares each score with its own grade's norm, so repeaters are measured fairly.
* **Unbalanced tests**: a student has at most one score per subject × season × year (the
  assessments key, after the one-platform-per-subject rule of core.stats.sufficient); a student
  missing either end of a pair is dropped from that pair only, and a multi-period trajectory keeps
  students tested at every period (a balanced panel), reporting how many were left out.
* **Platform**: both ends use the subject's comparison platform, so a change never crosses scales.

Expected growth comes from core.standards.norms via core.standards.for_compare (a growth norm where
one exists,
otherwise the difference of achievement-norm means, labelled). `pct_meeting` is the share of
matched students whose change is at least their own expected growth.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy.special import ndtr

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.standards.for_compare import (
    NO_SCALE_NOTE,
    expected_growth_frame,
    norm_frame,
    off_scale_growth_note,
    snapshot,
    unnormed_subjects,
)
from core.standards.norms import beyond_norm_sql, off_scale, off_scale_sql
from core.stats import inference
from core.stats.member_counts import complement_hidden, reasons_for
from core.stats.sufficient import (
    ALL_SCHOOLS,
    PLATFORMS_CTE,
    flag_small_cells,
    pool,
    registered,
    rerun_bh,
    scores_cte,
    scores_union_cte,
    split_cohorts,
)
from core.stats.suppression import (
    FILTER_NOTE,
    SIBLING_NOTE,
    hide_left_out,
    hide_rows,
    hide_small_counts,
    small_difference,
    suppress,
    with_siblings,
)
from core.warehouse import canonical
from core.warehouse.settings import min_group_size

Period = tuple[str, str]  # (season, school year)


def grade_rank_sql(column: str) -> str:
    return f"case {column} when 'PK' then -1 when 'K' then 0 else try_cast({column} as integer) end"


# grain: one row per student × subject × platform tested at the earlier period
EARLIER_CTE = """
earlier as (
    select student_id, subject, platform, grade, school_id, score, percentile
    from assessments
    where school_year = $from_year and season = $from_season
)"""
# grain: one row per cohort member at the later period (earlier columns null when unmatched)
PAIRED_CTE = f"""{EARLIER_CTE},
paired as (
    select l.cohort_index, l.subject, l.school, l.grade, l.student_id,
           e.score as score_from, l.score as score_to, l.score - e.score as change,
           e.school_id <> l.school_id as changed_school,
           $across_years and {grade_rank_sql("l.grade")} <= {grade_rank_sql("e.grade")}
               as repeated_grade,
           e.percentile as pct_from, l.percentile as pct_to, l.percentile - e.percentile as dpct,
           (e.score - nf.norm_mean) / nf.norm_sd as z_from,
           (l.score - nt.norm_mean) / nt.norm_sd as z_to,
           x.expected, (l.score - e.score) - x.expected as beyond,
           {beyond_norm_sql("e.score", "nf.norm_mean", "nf.norm_sd")} as off_from,
           {beyond_norm_sql("l.score", "nt.norm_mean", "nt.norm_sd")} as off_to
    from later l
    left join earlier e
        on e.student_id = l.student_id and e.subject = l.subject and e.platform = l.platform
    left join cmp_norms nt
        on nt.subject = l.subject and nt.grade = l.grade and nt.season = $to_season
    left join cmp_norms nf
        on nf.subject = l.subject and nf.grade = e.grade and nf.season = $from_season
    left join cmp_expected x
        on x.subject = l.subject and x.grade_from = e.grade and x.grade_to = l.grade
)"""

AGGREGATES = """
    count(*) as members, count(change) as n,
    avg(score_from) as mean_from, avg(score_to) filter (where change is not null) as mean_to,
    avg(change) as mean_change, stddev_samp(change) as sd_change,
    count(*) filter (where changed_school) as changed_school,
    count(*) filter (where repeated_grade) as repeated_grade,
    count(beyond) as n_expected, avg(expected) filter (where beyond is not null) as expected_growth,
    avg(beyond) as mean_beyond, stddev_samp(beyond) as sd_beyond,
    100 * avg((beyond >= 0)::integer) as pct_meeting,
    count(pct_to) as members_pct, count(z_to) as members_z,
    count(dpct) as n_pct, avg(pct_from) filter (where dpct is not null) as mean_pct_from,
    avg(pct_to) filter (where dpct is not null) as mean_pct_to, avg(dpct) as pct_change,
    stddev_samp(dpct) as sd_pct_change,
    count(z_to - z_from) as n_z, avg(z_from) filter (where z_to is not null) as mean_z_from,
    avg(z_to) filter (where z_from is not null) as mean_z_to, avg(z_to - z_from) as z_change,
    stddev_samp(z_to - z_from) as sd_z_change,
    avg(off_from) as share_off_from, avg(off_to) filter (where change is not null) as share_off_to
"""

BLOCKS = {  # a block's statistics are shown only when its own n reaches the minimum
    "n_expected": ("expected_growth", "mean_beyond", "sd_beyond", "pct_meeting", "p_vs_expected"),
    "n_pct": ("mean_pct_from", "mean_pct_to", "pct_change", "sd_pct_change", "p_pct"),
    "n_z": ("mean_z_from", "mean_z_to", "z_change", "sd_z_change", "p_z", "pct_of_mean_from",
            "pct_of_mean_to"),
}  # fmt: skip
IDENTIFYING = ("from_season", "from_year", "to_season", "to_year")
# The plausibility guard (core.standards.norms) at each end of a row: what the norm adds at that
# end, and
# what needs the norm at both ends (expected growth is in the norm's points).
NORM_AT_END = {"from": ("mean_z_from", "pct_of_mean_from"), "to": ("mean_z_to", "pct_of_mean_to")}
NORM_AT_BOTH = (
    "expected_growth",
    "mean_beyond",
    "sd_beyond",
    "pct_meeting",
    "p_vs_expected",
    "z_change",
    "sd_z_change",
    "p_z",
)
# Where the matched students stand at each end, per block: (members with the measure at the later
# test, matched with it at both, the columns). The matched are a sub-cohort of the later test's
# cohort (which standards shows): when the members left out number 1 … min − 1, these levels
# beside the cohort's own would give theirs. Change numbers stay: the left-out have no change.
LEVELS = {
    "members": ("n", ("mean_from", "mean_to")),
    "members_pct": ("n_pct", ("mean_pct_from", "mean_pct_to")),
    "members_z": ("n_z", ("mean_z_from", "mean_z_to", "pct_of_mean_from", "pct_of_mean_to")),
}
GRID_LEVEL_NOTE = (
    "where the matched students stood at each test is not shown: a school of this total "
    "withholds it to protect student privacy, and the total would give it back"
)
PATH_NOTE = (
    "the path is not drawn: fewer than {min_n} of the cohort missed a test, and the path beside "
    "the cohort's own results would reveal theirs (student privacy)"
)
LEVEL_NOTE = (
    "where the matched students stood at each test is not shown: beside the whole cohort's "
    "results it would reveal the fewer than {min_n} students without the earlier test (student "
    "privacy); their change is shown"
)
NO_EXPECTED = "no expected growth for these grades"
DROPPED_NOTE = (
    "fewer than {min_n} students — or a number that would reveal fewer than {min_n} — had no "
    "score at the earlier test: how many is not shown (student privacy)"
)


def parse_period(text: str, default_year: str | None = None) -> Period:
    """'fall:2024-2025' or 'fall' (year from `default_year`) → ('fall', '2024-2025')."""
    season_text, _, year_text = text.partition(":")
    season = canonical.season(season_text)
    if season is None:
        raise ValueError(f"{season_text!r} is not a season (fall, winter, spring).")
    year = canonical.school_year(year_text) if year_text else default_year
    if year is None:
        raise ValueError(f"{text!r} needs a school year, e.g. {season}:2024-2025.")
    return season, year


@contextmanager
def _norm_tables(
    con: duckdb.DuckDBPyConnection, subjects: Sequence[str], from_: Period, to: Period
) -> Iterator[None]:
    """Norms and expected growth as two tiny relations the paired query joins against."""
    keys = [(s, g, t) for s in subjects for g in canonical.GRADES for t in (from_[0], to[0])]
    with (
        registered(con, "cmp_norms", norm_frame(con, keys)),
        registered(con, "cmp_expected", expected_growth_frame(con, subjects, from_, to)),
    ):
        yield


def _subjects(spec: CohortSpec) -> tuple[str, ...]:
    return spec.subject or canonical.SUBJECTS


def _paired_sql(
    specs: Sequence[CohortSpec], scope: Scope, from_: Period, to: Period
) -> tuple[str, dict[str, Any]]:
    """The paired CTEs of each cohort (`cohort_index`: its position in `specs`)."""
    later_specs = [spec.replace(season=to[0], school_year=to[1]) for spec in specs]
    later, params = scores_union_cte(later_specs, scope, name="later")
    params.update(
        from_season=from_[0], from_year=from_[1], to_season=to[0], across_years=from_[1] != to[1]
    )
    return f"{PLATFORMS_CTE}, {later}, {PAIRED_CTE}", params


def _tests(frame: pd.DataFrame) -> pd.DataFrame:
    """Paired tests from the aggregates: change vs 0, change vs expected, percentile, z."""
    change = inference.one_sample(frame["n"], frame["mean_change"], frame["sd_change"], 0.0)
    beyond = inference.one_sample(
        frame["n_expected"], frame["mean_beyond"], frame["sd_beyond"], 0.0
    )
    pct = inference.one_sample(frame["n_pct"], frame["pct_change"], frame["sd_pct_change"], 0.0)
    z = inference.one_sample(frame["n_z"], frame["z_change"], frame["sd_z_change"], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_z = np.where(frame["sd_change"] > 0, frame["mean_change"] / frame["sd_change"], np.nan)
    return frame.assign(
        dropped=frame["members"] - frame["n"],
        **change.columns(),
        d_z=d_z,
        p_vs_expected=beyond.p,
        p_pct=pct.p,
        p_z=z.p,
        # the norm's percentile rank of the mean standing (mean_pct_* is a mean of percentiles)
        pct_of_mean_from=100 * ndtr(frame["mean_z_from"].astype("float64")),
        pct_of_mean_to=100 * ndtr(frame["mean_z_to"].astype("float64")),
    )


def _scale_guard(frame: pd.DataFrame, norms: str) -> pd.DataFrame:
    """The plausibility guard on each end of each row (the matched students' scores there): an
    end whose scores lie mostly off the norm's range gets no norm standing, and the row no
    expected growth or % meeting it (`n_expected` 0); `scale_note` says why ('' elsewhere)."""
    ends = {end: off_scale(frame[f"share_off_{end}"]) for end in NORM_AT_END}
    either = ends["from"] | ends["to"]
    out = frame.copy()
    out["scale_note"] = ""
    if not either.any():
        return out
    for end, off in ends.items():
        out.loc[off, list(NORM_AT_END[end])] = np.nan
    out.loc[either, list(NORM_AT_BOTH)] = np.nan
    out.loc[either, "n_expected"] = 0
    words = {"from": "earlier", "to": "later"}
    out.loc[either, "scale_note"] = [
        off_scale_growth_note(
            {words[end]: frame[f"share_off_{end}"].iat[i] for end in ends if ends[end][i]}, norms
        )
        for i in np.flatnonzero(either)
    ]
    return out


def _suppress(frame: pd.DataFrame, min_n: int, keep: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for size, columns in BLOCKS.items():
        small = out[size].fillna(0) < min_n
        out.loc[small, list(columns)] = np.nan
    out = hide_small_counts(out, "n", ("changed_school", "repeated_grade"), min_n)
    levels = _withhold_levels(out, min_n)
    out = hide_left_out(out, "members", "dropped", min_n)
    out = suppress(out, min_n, keep=[c for c in keep if c in out])
    none_matched = frame["n"].fillna(0).to_numpy() == 0
    guarded = frame["scale_note"].to_numpy(dtype=object)
    out["note"] = np.select(
        [
            none_matched,
            out["suppressed"],
            guarded != "",
            frame["n_expected"].fillna(0).to_numpy() == 0,
        ],
        [
            "no member has a score at the earlier period",
            f"fewer than {min_n} matched students — not reported to protect student privacy",
            guarded,
            NO_EXPECTED,
        ],
        "",
    )
    out = out.drop(columns="scale_note")
    few = small_difference(frame["dropped"], min_n) & ~out["suppressed"].to_numpy()
    out = _add_note(out, few, DROPPED_NOTE.format(min_n=min_n))
    return _add_note(out, levels & ~out["suppressed"].to_numpy(), LEVEL_NOTE.format(min_n=min_n))


def _withhold_levels(frame: pd.DataFrame, min_n: int) -> np.ndarray:
    """Blank (in place) the levels of each block whose members left out number 1 … min − 1;
    True for the rows where any was blanked."""
    for members, (matched, columns) in LEVELS.items():
        frame.loc[small_difference(frame[members] - frame[matched], min_n), list(columns)] = np.nan
    return _few_left_out(frame, min_n)


def _few_left_out(frame: pd.DataFrame, min_n: int) -> np.ndarray:
    """Rows where some block's members left out number 1 … min − 1 (see LEVELS)."""
    few = [small_difference(frame[m] - frame[n], min_n) for m, (n, _) in LEVELS.items()]
    return np.logical_or.reduce(few)


def _grid_levels(grid: pd.DataFrame, few: np.ndarray) -> pd.DataFrame:
    """A grid's school cells add up to their "All schools" row: a cell's levels withheld take
    the total's with them (the total minus the other cells would give them back). The cells
    need nothing more: a total with 1 … min − 1 left out has a cell with 1 … min − 1 left out,
    already withheld, so the cells never add up to it."""
    total = (grid["school"] == ALL_SCHOOLS).to_numpy()
    partition = [grid["grade"], grid["subject"]]
    cell_hidden = pd.Series(few & ~total, index=grid.index).groupby(partition).transform("any")
    blank = total & cell_hidden.to_numpy()
    out = grid.copy()
    out.loc[blank, [c for _, columns in LEVELS.values() for c in columns]] = np.nan
    fresh = blank & ~few & ~out["suppressed"].to_numpy(dtype=bool)
    return _add_note(out, fresh, GRID_LEVEL_NOTE)


def _add_note(frame: pd.DataFrame, rows: object, text: str) -> pd.DataFrame:
    """`text` appended to the note of `rows`."""
    rows = np.asarray(rows, dtype=bool)
    frame.loc[rows, "note"] = [f"{t}; {text}" if t else text for t in frame.loc[rows, "note"]]
    return frame


def matched_growth(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    from_: Period,
    to: Period,
) -> pd.DataFrame:
    """One row per subject: members at `to`, matched n, dropped, change with a paired t-test,
    expected growth and % meeting it, and the change in percentile and in standardized
    difference from each period's own-grade norm."""
    return matched_growth_of(con, [spec], scope, from_, to)[0]


def matched_growth_of(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    from_: Period,
    to: Period,
) -> list[pd.DataFrame]:
    """`matched_growth` of each spec between the same two test events, from one query (a
    report of many cohorts pays the table work once, not once per cohort)."""
    cte, params = _paired_sql(specs, scope, from_, to)
    subjects = tuple(dict.fromkeys(s for spec in specs for s in _subjects(spec)))
    with _norm_tables(con, subjects, from_, to):
        frame = con.execute(
            f"with {cte} select cohort_index, subject, {AGGREGATES} from paired "
            "group by cohort_index, subject order by 1, 2",
            params,
        ).df()
    frame = _scale_guard(_tests(frame), snapshot(con).norm_label)
    frame.insert(0, "cohort", frame["cohort_index"].map(dict(enumerate(s.label() for s in specs))))
    frame = frame.assign(from_season=from_[0], from_year=from_[1], to_season=to[0], to_year=to[1])
    frame["expected_source"] = _expected_source(con, subjects, from_, to, frame)
    min_n = min_group_size(con)
    keep = ("cohort", "cohort_index", *IDENTIFYING)
    frame = _suppress(frame, min_n, keep)
    unscaled = frame["subject"].isin(unnormed_subjects(con)) & frame["note"].str.startswith(
        "no exp"
    )
    frame.loc[unscaled, "note"] = frame.loc[unscaled, "note"].str.replace(
        NO_EXPECTED, NO_SCALE_NOTE, regex=False
    )  # the privacy note on students left out, if any, stays after it
    frame = _filter_privacy(con, specs, scope, from_, to, frame, min_n, keep)
    return split_cohorts(frame, len(specs))


# members, matched and dropped are each a group a reader could subtract (core.stats.suppression)
MATCH_COUNTS = {
    "members": "count(*)",
    "n": "count(e.score)",
    "dropped": "count(*) - count(e.score)",
}
MATCH_JOIN = """left join earlier e
    on e.student_id = m.student_id and e.subject = m.subject and e.platform = m.platform"""


def _filter_privacy(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    from_: Period,
    to: Period,
    frame: pd.DataFrame,
    min_n: int,
    keep: Sequence[str],
    keys: Sequence[str] = ("subject",),
    rows: pd.Series | None = None,
) -> pd.DataFrame:
    """Hide a row whose members or matched students, beside the same cohort without some of its
    filters (or a pooled part asked alone), would reveal 1 … min_n − 1 students; hide only the
    dropped count (and members) when just the students left out would be revealed. `keys`: the
    row's key columns; `rows`: which rows they key (a grid's school rows, its totals)."""
    later_specs = [spec.replace(season=to[0], school_year=to[1]) for spec in specs]
    params = {"from_season": from_[0], "from_year": from_[1]}
    hidden = complement_hidden(
        con,
        later_specs,
        scope,
        list(keys),
        min_n,
        measures=MATCH_COUNTS,
        ctes=EARLIER_CTE,
        joins=MATCH_JOIN,
        params=params,
    )
    if hidden is None:
        return frame
    keyed = frame if "cohort_index" in frame else frame.assign(cohort_index=0)
    rows = pd.Series(True, index=frame.index) if rows is None else rows
    index = ["cohort_index", *keys]
    reason = reasons_for(keyed, hidden, index, "members")
    reason = reason.where(reason != "", reasons_for(keyed, hidden, index, "n")).where(rows, "")
    notes = [FILTER_NOTE.format(detail=r, min_n=min_n) for r in reason]
    out = hide_rows(frame, reason != "", notes, min_n, keep=[c for c in keep if c in frame])
    dropped = (reasons_for(keyed, hidden, index, "dropped") != "") & rows & ~out["suppressed"]
    fresh = dropped.to_numpy() & out["dropped"].notna().to_numpy()
    out = hide_left_out(out, "members", "dropped", min_n, also=dropped.to_numpy())
    return _add_note(out, fresh, DROPPED_NOTE.format(min_n=min_n))


def _expected_source(
    con: duckdb.DuckDBPyConnection,
    subjects: Sequence[str],
    from_: Period,
    to: Period,
    frame: pd.DataFrame,
) -> pd.Series:
    sources = expected_growth_frame(con, subjects, from_, to).dropna(subset="expected")
    first = sources.groupby("subject")["expected_source"].first()
    return frame["subject"].map(first).where(frame["n_expected"] > 0)


def all_matched_growth(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    from_: Period,
    to: Period,
    spec: CohortSpec | None = None,
) -> pd.DataFrame:
    """Matched growth for every school × grade × subject at the later period, plus every school
    together, in one grouped query; BH across the rows; complementary suppression over schools."""
    spec = spec or CohortSpec()
    cte, params = _paired_sql([spec], scope, from_, to)
    sql = f"""
        with {cte}
        select coalesce(school, '{ALL_SCHOOLS}') as school, grade, subject, {AGGREGATES}
        from paired
        group by grouping sets ((school, grade, subject), (grade, subject))
    """
    with _norm_tables(con, _subjects(spec), from_, to):
        frame = con.execute(sql, params).df()
    min_n = min_group_size(con)
    flagged = flag_small_cells(frame, min_n)
    frame = _scale_guard(_tests(flagged), snapshot(con).norm_label).assign(
        from_season=from_[0], from_year=from_[1], to_season=to[0], to_year=to[1]
    )
    frame = frame.sort_values(
        ["subject", "grade", "school"], key=lambda s: s.map(_sort_key)
    ).reset_index(drop=True)
    keep = ("school", "grade", "subject", *IDENTIFYING)
    out = _grid_levels(_suppress(frame, min_n, keep), _few_left_out(frame, min_n))
    if spec.filters:  # each school's cell and each total against the unfiltered grid
        schools = out["school"] != ALL_SCHOOLS
        before = out["suppressed"].to_numpy(dtype=bool)
        cells = ("school", "grade", "subject")
        out = _filter_privacy(con, [spec], scope, from_, to, out, min_n, keep, cells, schools)
        hidden = out["suppressed"].to_numpy(dtype=bool) & ~before
        siblings = schools.to_numpy() & with_siblings(out, hidden, ["grade", "subject"])
        out = hide_rows(out, siblings, SIBLING_NOTE, min_n, keep=keep)
        totals = ("grade", "subject")
        out = _filter_privacy(con, [spec], scope, from_, to, out, min_n, keep, totals, ~schools)
    return rerun_bh(out)


def _sort_key(value: Any) -> Any:
    if isinstance(value, str) and value in canonical.GRADES:
        return canonical.grade_rank(value)
    return value


def matched_cohort(
    con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope, years_back: int = 1
) -> pd.DataFrame:
    """ "Follow the same students": this year's cohort against themselves `years_back` years
    earlier in the same season, expressed against each year's own-grade norm (mean percentile
    and standardized difference) so growth across grades is meaningful."""
    if len(spec.season) != 1 or len(spec.school_year) != 1:
        raise ValueError("Following the same students needs one season and one school year.")
    season, year = spec.season[0], spec.school_year[0]
    return matched_growth(
        con, spec, scope, (season, canonical.previous_year(year, years_back)), (season, year)
    )


OFF = beyond_norm_sql("p.score", "n.norm_mean", "n.norm_sd")
# grain: one row per member × period, for members tested at every period (a balanced panel)
PANEL_SQL = """
panel as (
    select l.subject, l.student_id, e.school_year, e.season, e.grade, e.score
    from later l
    join assessments e
        on e.student_id = l.student_id and e.subject = l.subject and e.platform = l.platform
    where list_contains($periods, e.season || ':' || e.school_year)
),
complete as (
    select subject, student_id from panel
    group by subject, student_id having count(*) = $period_count
)"""


def growth_trajectory(
    con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope, periods: Sequence[Period]
) -> pd.DataFrame:
    """Mean score (95% CI) at each period of the students of the cohort — defined at the last
    period — who were tested at every period, with the norm mean of their grades for reference;
    `members` and `dropped` say how many of the cohort the panel keeps."""
    periods = list(dict.fromkeys(periods))
    later_spec = spec.replace(season=periods[-1][0], school_year=periods[-1][1])
    later, params = scores_cte(later_spec, scope, name="later")
    params.update(periods=[f"{s}:{y}" for s, y in periods], period_count=len(periods))
    # off_sum / off_n: the plausibility guard's counts (core.standards.norms), pooled per period
    # below
    sql = f"""
        with {PLATFORMS_CTE}, {later}, {PANEL_SQL}
        select p.subject, p.school_year, p.season, p.grade, count(*) as n, avg(p.score) as mean,
               stddev_samp(p.score) as sd, sum({OFF}) as off_sum, count({OFF}) as off_n
        from panel p semi join complete using (subject, student_id)
        left join cmp_norms n using (subject, grade, season)
        group by all
    """
    with registered(con, "cmp_norms", norm_frame(con)):
        cells = con.execute(sql, params).df()
    members = con.execute(
        f"with {PLATFORMS_CTE}, {later} select subject, count(*) from later group by subject",
        {k: v for k, v in params.items() if k not in ("periods", "period_count")},
    ).fetchall()
    return _trajectory_frame(con, cells, dict(members), periods)


def _trajectory_frame(
    con: duckdb.DuckDBPyConnection,
    cells: pd.DataFrame,
    members: dict[str, int],
    periods: list[Period],
) -> pd.DataFrame:
    keys = ["subject", "school_year", "season"]
    columns = [*keys, "period", "n", "mean", "sd", "ci_lo", "ci_hi", "norm_mean", "members"]
    if cells.empty:
        return pd.DataFrame(columns=[*columns, "dropped", "note", "suppressed"])
    norms = norm_frame(con, cells[["subject", "grade", "season"]].itertuples(index=False))
    cells = cells.merge(norms, on=["subject", "grade", "season"], how="left")
    cells["_weighted"] = cells["norm_mean"] * cells["n"]
    pooled = pool(cells, keys).set_index(keys)
    weighted = cells.groupby(keys)["_weighted"].sum(min_count=1)
    has_all = cells.groupby(keys)["norm_mean"].apply(lambda s: s.notna().all())
    off = cells.groupby(keys)[["off_sum", "off_n"]].sum()
    share = off["off_sum"] / off["off_n"].where(off["off_n"] > 0)
    judged = pd.Series(~off_scale(share), index=off.index)
    pooled["norm_mean"] = (weighted / pooled["n"]).where(has_all & judged)
    interval = inference.one_sample(pooled["n"], pooled["mean"], pooled["sd"], 0.0)
    pooled["ci_lo"], pooled["ci_hi"] = interval.ci_lo, interval.ci_hi
    out = pooled.reset_index()
    order = {f"{s}:{y}": i for i, (s, y) in enumerate(periods)}
    out["period"] = (out["season"] + ":" + out["school_year"]).map(order)
    out["members"] = out["subject"].map(members)
    out["dropped"] = out["members"] - out["n"]
    min_n = min_group_size(con)
    # the panel at its last test is a sub-cohort of the cohort (which standards shows): 1 … min
    # − 1 left out, and its means beside the cohort's would give theirs — the path is not drawn
    few = small_difference(out["dropped"], min_n)
    out.loc[few, ["mean", "sd", "ci_lo", "ci_hi"]] = np.nan
    out["note"] = np.where(few, PATH_NOTE.format(min_n=min_n), "")
    out = hide_left_out(out, "members", "dropped", min_n)  # 1 … min − 1 left out: not counted
    out = suppress(out.sort_values(["subject", "period"]), min_n, keep=["period"])
    return out.reset_index(drop=True)


def student_growth(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    from_: Period,
    to: Period,
) -> pd.DataFrame:
    """One row per matched student (name, school, grade, both scores, change, expected growth,
    percentile now) — for roles allowed to see students only; the caller audits the view."""
    if not scope.sees_students:
        raise PermissionError("Your role sees groups of students, not individual students.")
    cte, params = _paired_sql([spec], scope, from_, to)
    # the plausibility guard on the cohort's row of each subject, as matched_growth applies it
    ends = {
        end: off_scale_sql(f"avg(p.off_{end}) over (partition by p.subject)") for end in NORM_AT_END
    }
    sql = f"""
        with {cte}
        select p.student_id, trim(coalesce(st.first_name, '') || ' ' ||
               coalesce(st.last_name, '')) as name, p.subject, p.school, p.grade,
               p.score_from, p.score_to, p.change,
               case when not ({ends["from"]} or {ends["to"]}) then p.expected end as expected,
               case when not ({ends["from"]} or {ends["to"]}) then p.beyond end as beyond,
               p.pct_to, case when not {ends["to"]} then p.z_to end as z_to
        from paired p left join students st using (student_id)
        where p.change is not null
        order by p.subject, p.school, p.grade, p.student_id
    """
    with _norm_tables(con, _subjects(spec), from_, to):
        return con.execute(sql, params).df()
