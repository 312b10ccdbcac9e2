"""Cohort vs cohort: the same definition in earlier school years, any two cohorts, yearly trends.

Definitions (docs/comparisons.md): both sides' n, mean, sd (ddof 1); diff = a − b where
a is this year (or the first cohort); Welch's t-test with Welch–Satterthwaite df; 95% CI of the
difference; Hedges' g on the pooled sd; direction improvement / decline / no change at a
Benjamini–Hochberg-adjusted p < 0.05. The BH family (`p_adj`, `significant_bh`, `bh_family`) of a
quick cohort (one school × grade, no filters) — and of a district grade cohort in the grids — is
fixed: all of them in the district that school year, compared with the same earlier year
(`core.stats.families`); other comparisons are adjusted among those returned together.
Results are per subject × season (scores of different subjects or seasons are never pooled).
A row is suppressed when either side has fewer than `min_group_size` students, or when it would
reveal such a group beside another answer (core.stats.suppression: a side's filters leave out 1 …
9 of the
cohort without them; two compared cohorts differ by 1 … 9): its statistics are blank and `note`
says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as sps

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import CohortSpec
from core.standards.for_compare import (
    norm_frame,
    norm_threshold_off_sql,
    off_scale_rows,
    threshold_frame,
)
from core.standards.norms import off_scale
from core.stats import families, inference
from core.stats.member_counts import complement_hidden, reasons_for
from core.stats.sufficient import (
    ALL_SCHOOLS,
    PLATFORMS_CTE,
    direction,
    flag_small_cells,
    group_stats,
    group_stats_of,
    no_test_note,
    pool,
    registered,
    rerun_bh,
    scores_cte,
    split_cohorts,
    two_sample_columns,
)
from core.stats.suppression import (
    FILTER_NOTE,
    NESTED_NOTE,
    nested_pair_hidden,
    suppress,
    with_siblings,
)
from core.warehouse import canonical
from core.warehouse.settings import min_group_size

SIDE_STATS = ("n", "mean", "sd")
KEEP = ("years_back",)
NO_EARLIER_YEAR = (
    "no earlier year is loaded to compare with: {first} is the first school year in the "
    "warehouse — load an earlier year's export (Upload page, or `python -m core import`) to "
    "compare with it"
)


def available_years(con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope) -> list[str]:
    """School years holding any score of the cohort's definition (year itself left open)."""
    frame = group_stats(con, spec, scope, ("school_year",), skip=("school_year",))
    return sorted(frame["school_year"])


def _years_before(current: str, years_back: int) -> list[str]:
    return [canonical.previous_year(current, back) for back in range(1, years_back + 1)]


def _current_year(spec: CohortSpec, years: Sequence[str]) -> str | None:
    if spec.school_year:
        return max(spec.school_year)
    return max(years) if years else None


def _side(
    frame: pd.DataFrame, suffix: str, columns: Sequence[str] = (*SIDE_STATS, "suppressed", "reason")
) -> pd.DataFrame:
    return frame.rename(columns={c: f"{c}_{suffix}" for c in columns})


def finish_comparisons(
    df: pd.DataFrame,
    min_n: int,
    keep: Sequence[str] = (),
    per: str | None = None,
    fixed: tuple[np.ndarray, pd.DataFrame | None, Sequence[str]] | None = None,
    whole: Callable[[tuple, int], str] | None = None,
) -> pd.DataFrame:
    """Tests for every row, then suppression (either side small or already suppressed), then BH
    over what is still reported (`per`: one family per value of that column; `fixed`: rows
    marked, their fixed families and the keys to match them on — core.stats.families;
    `whole`: the rows are whole fixed families, one per school year, named by `whole`)."""
    tested = two_sample_columns(df)
    # a fixed family holds every cell with both sides at the minimum, shown or not
    eligible = tested["p"].where((tested["n_a"] >= min_n) & (tested["n_b"] >= min_n))
    tested["note"] = no_test_note(tested, min_n)
    flags = [c for c in ("suppressed_a", "suppressed_b") if c in tested]
    hidden = tested[flags].fillna(False).any(axis=1) if flags else False
    small = (tested["n_a"].fillna(0) < min_n) | (tested["n_b"].fillna(0) < min_n)
    tested = tested.drop(columns=flags)
    privacy = _privacy_notes(tested, min_n)
    tested = tested.drop(columns=[c for c in ("reason_a", "reason_b") if c in tested])
    tested["note"] = tested["note"].mask(~small & (privacy != ""), privacy)
    tested["suppressed"] = hidden | small | (privacy != "")
    tested["note"] = tested["note"].mask(
        tested["suppressed"] & (tested["note"] == ""),
        f"fewer than {min_n} students in a group it could be worked out from — not reported",
    )
    keep_cols = [c for c in tested.columns if c in keep]
    out = suppress(tested, min_n, n_cols=(), keep=keep_cols)
    out["direction"] = out["direction"].where(~out["suppressed"])
    if whole is not None:
        return _settle_whole(out, eligible, whole)
    marked, table, keys = fixed or (None, None, ())
    return rerun_bh(out, per=per, fixed_rows=marked, fixed=table, keys=keys)


def _settle_whole(
    out: pd.DataFrame, eligible: pd.Series, describe: Callable[[tuple, int], str]
) -> pd.DataFrame:
    """BH per school year over every eligible cell (the fixed family itself, no lookup); a
    suppressed row shows no adjusted p."""
    none = np.zeros(len(out), dtype=bool)
    settled = families.settle(
        out.assign(p=eligible), none, None, [], per="school_year", describe=describe
    )
    shown = out["p"].notna()
    columns = {c: settled[c].where(shown) for c in ("p_adj", "bh_family", "bh_family_size")}
    columns["significant_bh"] = settled["significant_bh"] & shown
    out = out.assign(**columns)
    out["bh_family"] = out["bh_family"].fillna("")
    verdict = direction(out["diff"].to_numpy(dtype="float64"), out["p_adj"].to_numpy("float64"))
    out["direction"] = pd.Series(verdict, index=out.index).where(out["direction"].notna())
    return out


def _privacy_notes(rows: pd.DataFrame, min_n: int) -> pd.Series:
    """Why a comparison whose sides are big enough would still reveal a small group
    (core.stats.suppression):
    a side whose filters leave out 1 … min_n − 1 students of a cohort anyone may ask for
    (`reason_a` / `reason_b`), or two sides that differ by 1 … min_n − 1 students (`overlap`)."""
    notes = pd.Series("", index=rows.index, dtype="object")
    if "overlap" in rows:
        nested = nested_pair_hidden(rows["n_a"], rows["n_b"], rows["overlap"], min_n)
        nested &= rows["overlap"].fillna(0).to_numpy() > 0
        notes = notes.mask(nested, NESTED_NOTE.format(min_n=min_n))
    for side in ("reason_b", "reason_a"):
        if side in rows:
            reason = rows[side].fillna("").astype(str)
            texts = [FILTER_NOTE.format(detail=r, min_n=min_n) for r in reason]
            notes = notes.mask(reason != "", pd.Series(texts, index=rows.index, dtype="object"))
    return notes


def prior_year_comparison(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    years_back: int | None = None,
) -> pd.DataFrame:
    """This year's cohort (a) vs the same definition in each earlier school year (b).

    The current year is the spec's (latest if several), else the latest with data. `years_back`
    None compares with every earlier year back to the first year the warehouse holds; a year
    without data for the definition still gets its row (n_b = 0, note "no data …"). A cohort in
    the first year loaded is compared with the year before it, which is not loaded: its rows say
    so in `note` (NO_EARLIER_YEAR; `no_earlier_year` tells the page and the CLI)."""
    return prior_year_comparisons(con, [spec], scope, years_back)[0]


def prior_year_comparisons(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    years_back: int | None = None,
) -> list[pd.DataFrame]:
    """`prior_year_comparison` of each spec — each its own Benjamini–Hochberg family, exactly
    as asked alone — from one query (a report of many cohorts pays the table work once)."""
    keys = ("school_year", "subject", "season")
    per_year = group_stats_of(con, specs, scope, keys, skip=("school_year",))
    min_n = min_group_size(con)
    hidden = complement_hidden(con, specs, scope, keys, min_n, skip=("school_year",))
    per_year["reason"] = reasons_for(per_year, hidden, ["cohort_index", *keys])
    first = None
    if not per_year.empty:
        first = min(available_years(con, CohortSpec(), scope), default=None)
    rows = _prior_rows(specs, per_year, years_back, first)
    if rows.empty:
        return [_empty_prior() for _ in specs]
    keys = ["cohort_index", "school_year", "subject", "season"]
    keyed = per_year.set_index(keys)
    a = _side(keyed, "a").reset_index()
    b = _side(keyed, "b").reset_index().rename(columns={"school_year": "prior_year"})
    rows = rows.merge(a, on=keys, how="left")
    rows = rows.merge(b, on=["cohort_index", "prior_year", "subject", "season"], how="left")
    rows[["n_a", "n_b"]] = rows[["n_a", "n_b"]].fillna(0)
    fixed = _quick_prior(con, specs, scope, rows)
    out = finish_comparisons(rows, min_n, (*KEEP, "cohort_index"), "cohort_index", fixed)
    out = out.drop(columns=["school", "grade"], errors="ignore")
    out["note"] = _note_unloaded_years(out, first)
    found = set(out["cohort_index"])
    return [
        part if index in found else _empty_prior()
        for index, part in enumerate(split_cohorts(out, len(specs)))
    ]


def _prior_rows(
    specs: Sequence[CohortSpec],
    per_year: pd.DataFrame,
    years_back: int | None,
    first: str | None,
) -> pd.DataFrame:
    """One row per cohort × subject × season it has × earlier year to compare with: each
    cohort's current year is its own (the spec's latest, else its latest with data)."""
    rows = []
    for index, spec in enumerate(specs):
        mine = per_year[per_year["cohort_index"] == index]
        current = _current_year(spec, sorted(mine["school_year"].unique()))
        if current is None or mine.empty:
            continue
        back = years_back
        if back is None:  # every earlier year loaded; the first year: the (unloaded) one before
            back = max(1, int(current[:4]) - int(min(current, first or current)[:4]))
        groups = mine[["subject", "season"]].drop_duplicates().itertuples(index=False)
        rows += [
            (index, g.subject, g.season, current, prior, int(current[:4]) - int(prior[:4]))
            for g in groups
            for prior in _years_before(current, back)
        ]
    columns = ["cohort_index", "subject", "season", "school_year", "prior_year", "years_back"]
    return pd.DataFrame(rows, columns=columns)


def _note_unloaded_years(out: pd.DataFrame, first: str | None) -> pd.Series:
    """A comparison with a year before the first one loaded has nothing on its other side
    because nothing of that year is loaded, not because the cohort is missing from it."""
    if first is None:
        return out["note"]
    unloaded = (out["prior_year"] < first) & (out["note"] != "no data for this cohort")
    return out["note"].mask(unloaded, NO_EARLIER_YEAR.format(first=first))


def no_earlier_year(comparisons: pd.DataFrame) -> bool:
    """True when a prior-year comparison has rows and none of them has an earlier year loaded
    to compare with (the cohort is in the first school year the warehouse holds)."""
    if comparisons.empty:
        return False
    unloaded = comparisons["note"].fillna("").str.startswith(NO_EARLIER_YEAR[:40])
    return bool(unloaded.all())


def _empty_prior() -> pd.DataFrame:
    columns = ["subject", "season", "school_year", "prior_year", "years_back"]
    columns += [f"{c}_{s}" for s in "ab" for c in SIDE_STATS]
    columns += ["diff", "t", "df", "p", "ci_lo", "ci_hi", "hedges_g", "direction"]
    columns += ["p_adj", "significant_bh", "note", "suppressed", "bh_family", "bh_family_size"]
    return pd.DataFrame(columns=columns)


def _previous_year_series(years: pd.Series, back: int) -> pd.Series:
    start = years.astype(str).str[:4].astype(int) - back
    return start.astype(str) + "-" + (start + 1).astype(str)


def yearly_group_stats(
    con: duckdb.DuckDBPyConnection, scope: Scope, spec: CohortSpec | None = None
) -> pd.DataFrame:
    """n, mean, sd per year × school × grade × subject × season, plus every school together
    ("All schools"), in one grouped query; each cell flagged `suppressed` when it, or a cell a
    reader could work it out from (school cells sum to the all-schools total), is small."""
    keys = ("school_year", "school", "grade", "subject", "season")
    cells = group_stats(con, spec or CohortSpec(), scope, keys, all_schools=True)
    min_n = min_group_size(con)
    return flag_filtered_cells(con, spec, scope, flag_small_cells(cells, min_n), min_n)


def flag_filtered_cells(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec | None,
    scope: Scope,
    cells: pd.DataFrame,
    min_n: int,
) -> pd.DataFrame:
    """A grid of a filtered cohort (school cells and "All schools" totals per year × grade ×
    subject × season): a cell is flagged `suppressed` when the same cell without some of the
    filters would reveal 1 … min_n − 1 students (core.stats.suppression)."""
    if spec is None or not spec.filters or cells.empty:
        return cells
    keys = ["school_year", "school", "grade", "subject", "season"]
    schools = (cells["school"] != ALL_SCHOOLS).to_numpy()
    hidden = np.zeros(len(cells), dtype=bool)
    for level, rows in ((keys, schools), ([k for k in keys if k != "school"], ~schools)):
        found = complement_hidden(con, [spec], scope, level, min_n)
        reason = reasons_for(cells.assign(cohort_index=0), found, ["cohort_index", *level])
        hidden |= rows & (reason != "").to_numpy()
    partition = ["school_year", "grade", "subject", "season"]
    hidden |= schools & with_siblings(cells, hidden & schools, partition)
    return cells.assign(suppressed=cells["suppressed"].to_numpy(dtype=bool) | hidden)


def _with_prior_years(
    spec: CohortSpec, school_years: Sequence[str] | None, years_back: int
) -> CohortSpec:
    """Limit a grid's query to the years compared and the years they are compared with."""
    if not school_years:
        return spec
    prior = (canonical.previous_year(y, years_back) for y in school_years)
    return spec.replace(school_year=sorted({*school_years, *prior}))


def all_prior_year_comparisons(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    *,
    school_years: Sequence[str] | None = None,
    years_back: int = 1,
    spec: CohortSpec | None = None,
) -> pd.DataFrame:
    """Every grade × school (and all schools) × subject × season: each year vs `years_back`
    years earlier. One grouped SQL query, then vectorised tests; BH within each row's fixed
    family (each school year's quick and district grade cohorts), custom rows among themselves.

    `school_years` limits the current years compared (default: every year with a prior year)."""
    spec = _with_prior_years(spec or CohortSpec(), school_years, years_back)
    cells = yearly_group_stats(con, scope, spec)
    keys = ["school", "grade", "subject", "season"]
    a = _side(cells, "a")
    b = _side(cells, "b").rename(columns={"school_year": "prior_year"})
    a["prior_year"] = _previous_year_series(a["school_year"], years_back)
    rows = a.merge(b, on=[*keys, "prior_year"], how="inner")
    if school_years:
        rows = rows[rows["school_year"].isin(school_years)]
    sides = [f"{c}_{s}" for s in "ab" for c in (*SIDE_STATS, "suppressed")]
    rows = rows[["school_year", "prior_year", *keys, *sides]]
    rows = rows.sort_values(["school_year", "subject", "season", "grade", "school"])
    rows = rows.reset_index(drop=True).assign(years_back=years_back)
    min_n = min_group_size(con)
    if scope.is_everything and families.covers_years(spec):  # the rows are the whole families

        def words(year: tuple, size: int) -> str:
            return families.quick_family_words("both", year[0], size, "vs_prior", years_back)

        return finish_comparisons(rows, min_n, KEEP, whole=words)
    marked = _grid_rows(rows, spec, scope)
    fixed = prior_families(con, rows.loc[marked, "school_year"], years_back)
    keys = [*families.QUICK_KEYS, "years_back"]
    return finish_comparisons(rows, min_n, KEEP, fixed=(marked, fixed, keys))


def _grid_rows(rows: pd.DataFrame, spec: CohortSpec, scope: Scope) -> np.ndarray:
    """Which rows of a grade × school (and all schools) grid have fixed families: school cells
    (quick cohorts) unless filtered or seen through sections; "All schools" cells when they are
    the whole district's grade cohorts."""
    school = (rows["school"] != ALL_SCHOOLS).to_numpy()
    quick = families.quick_spec(CohortSpec(filters=spec.filters), scope, families.QUICK_KEYS)
    return (school & quick) | (~school & families.district_rows(spec, scope))


def _quick_prior(
    con: duckdb.DuckDBPyConnection, specs: Sequence[CohortSpec], scope: Scope, rows: pd.DataFrame
) -> tuple[np.ndarray, pd.DataFrame | None, list[str]]:
    """The rows of quick cohorts among `specs` and their fixed families (school and grade
    added to `rows` from each spec, to match the family tables on)."""
    quick = {i for i, s in enumerate(specs) if families.quick_spec(s, scope, ("school_year",))}
    marked = rows["cohort_index"].isin(quick).to_numpy()
    named = {i: (specs[i].schools[0], specs[i].grade[0]) for i in quick}
    place = rows["cohort_index"].map(named)
    rows["school"] = place.map(lambda v: v[0] if isinstance(v, tuple) else None)
    rows["grade"] = place.map(lambda v: v[1] if isinstance(v, tuple) else None)
    fixed = None
    for back in sorted(set(rows.loc[marked, "years_back"])):
        years = rows.loc[marked & (rows["years_back"] == back), "school_year"]
        part = prior_families(con, years, int(back))
        fixed = part if fixed is None else pd.concat([fixed, part], ignore_index=True)
    return marked, fixed, [*families.QUICK_KEYS, "years_back"]


def prior_families(
    con: duckdb.DuckDBPyConnection, years: Sequence[str] | pd.Series, years_back: int
) -> pd.DataFrame | None:
    """The fixed families of each year vs `years_back` years earlier: every quick cohort of the
    district and every district grade cohort, with both sides at the minimum size."""
    min_n = min_group_size(con)

    def family(year: str, _: pd.DataFrame | None) -> pd.DataFrame:
        earlier = canonical.previous_year(year, years_back)
        keys = ("school_year", "school", "grade", "subject", "season")
        cells = group_stats(
            con, CohortSpec(school_year=(year, earlier)), DISTRICT, keys, all_schools=True
        )
        a = _side(cells[cells["school_year"] == year], "a", SIDE_STATS)
        b = _side(cells[cells["school_year"] == earlier], "b", SIDE_STATS)
        pairs = a.merge(b.drop(columns="school_year"), on=["school", "grade", "subject", "season"])
        sides = [pairs[f"{c}_{s}"].to_numpy(dtype="float64") for s in "ab" for c in SIDE_STATS]
        p = inference.welch(*sides).p
        tested = (sides[0] >= min_n) & (sides[3] >= min_n)
        return _family_of(pairs.assign(p=np.where(tested, p, np.nan)), "vs_prior", years_back)

    return families.by_year(con, ("vs_prior", years_back, min_n), years, family)


def _family_of(tests: pd.DataFrame, kind: str, years_back: int) -> pd.DataFrame:
    """One family per year (kind, years back): its quick cohorts and its district grade cohorts
    together — the cells Home's alerts screen together."""
    tests = tests.assign(years_back=years_back)

    def words(group: tuple, size: int) -> str:
        return families.quick_family_words("both", group[0], size, kind, years_back)

    keys = [*families.QUICK_KEYS, "years_back"]
    return families.family_table(tests, keys, ["school_year"], words)


def compare_cohorts(
    con: duckdb.DuckDBPyConnection, spec_a: CohortSpec, spec_b: CohortSpec, scope: Scope
) -> pd.DataFrame:
    """Any two cohorts (program vs not, school A vs B), per subject × season.

    When each side is a single subject × season, the two are compared whatever they are;
    otherwise rows pair up on subject and season. `overlap` counts test events in both cohorts:
    Welch's test assumes none, so a non-zero overlap is reported in `note`."""
    cte_a, params_a = scores_cte(spec_a, scope, name="scores_a", prefix="a_")
    cte_b, params_b = scores_cte(spec_b, scope, name="scores_b", prefix="b_")
    sql = f"""
        with {PLATFORMS_CTE}, {cte_a}, {cte_b},
        sides as (
            select 'a' as side, subject, season, count(*) as n, avg(score) as mean,
                   stddev_samp(score) as sd
            from scores_a group by subject, season
            union all
            select 'b', subject, season, count(*), avg(score), stddev_samp(score)
            from scores_b group by subject, season
        ),
        shared as (
            select subject, season, count(*) as overlap
            from (select student_id, subject, season, school_year from scores_a
                  intersect
                  select student_id, subject, season, school_year from scores_b)
            group by subject, season
        )
        select s.*, coalesce(o.overlap, 0) as overlap
        from sides s left join shared o using (subject, season)
        order by side, subject, season
    """
    frame = con.execute(sql, {**params_a, **params_b}).df()
    min_n = min_group_size(con)
    keys = ["subject", "season"]
    hidden = complement_hidden(con, [spec_a, spec_b], scope, keys, min_n)
    frame["cohort_index"] = (frame["side"] == "b").astype(int)
    frame["reason"] = reasons_for(frame, hidden, ["cohort_index", *keys])
    frame = frame.drop(columns="cohort_index")
    rows = _pair_sides(frame[frame["side"] == "a"], frame[frame["side"] == "b"])
    rows.insert(0, "cohort_b", spec_b.label())
    rows.insert(0, "cohort_a", spec_a.label())
    out = finish_comparisons(rows, min_n, keep=KEEP)
    overlapping = out["overlap"].fillna(0) > 0
    out["note"] = out["note"].mask(
        overlapping & (out["note"] == ""),
        "the cohorts share students: Welch's test assumes they do not",
    )
    return out


def _pair_sides(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    a = _side(a.drop(columns="side"), "a")
    b = _side(b.drop(columns=["side", "overlap"]), "b")
    if len(a) == 1 and len(b) == 1:
        b = b.rename(columns={"subject": "subject_b", "season": "season_b"})
        rows = pd.concat([a.reset_index(drop=True), b.reset_index(drop=True)], axis=1)
        same = rows["subject"].eq(rows["subject_b"]) & rows["season"].eq(rows["season_b"])
        rows["overlap"] = rows["overlap"].where(same, 0)
        return rows
    rows = a.merge(b, on=["subject", "season"], how="outer")
    rows[["n_a", "n_b", "overlap"]] = rows[["n_a", "n_b", "overlap"]].fillna(0)
    return rows


def yearly_trend(con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope) -> pd.DataFrame:
    """Mean with 95% CI per school year × subject × season, and the norm's mean for reference.

    The definition is applied in every year the warehouse holds. When the cohort spans grades, the
    reference is the mean of each member's own-grade norm (grade norms weighted by the grade's n);
    it is missing when any member's grade has no norm."""
    per_grade = group_stats(
        con, spec, scope, ("school_year", "subject", "season", "grade"), skip=("school_year",)
    )
    keys = ["school_year", "subject", "season"]
    if per_grade.empty:
        return pd.DataFrame(
            columns=[*keys, "n", "mean", "sd", "ci_lo", "ci_hi", "norm_mean", "suppressed"]
        )
    norms = norm_frame(con, per_grade[["subject", "grade", "season"]].itertuples(index=False))
    with_norm = per_grade.merge(norms, on=["subject", "grade", "season"], how="left")
    with_norm["_weighted"] = with_norm["norm_mean"] * with_norm["n"]
    reference = with_norm.groupby(keys, sort=True).agg(
        _weighted=("_weighted", lambda s: s.sum(min_count=len(s))),
        norm_source=("norm_source", "first"),
    )
    trend = pool(per_grade, keys).set_index(keys)
    # no reference line from a norm the year's scores are not on (the plausibility guard)
    guard = off_scale_rows(con, spec, scope, keys, skip=("school_year",)).set_index(keys)
    judged = ~guard["off_scale"].reindex(trend.index, fill_value=False).to_numpy(dtype=bool)
    trend["norm_mean"] = (reference["_weighted"] / trend["n"]).where(judged)
    trend["norm_source"] = reference["norm_source"].where(judged, None)
    interval = inference.one_sample(trend["n"], trend["mean"], trend["sd"], 0.0)
    trend["ci_lo"], trend["ci_hi"] = interval.ci_lo, interval.ci_hi
    min_n = min_group_size(con)
    trend = _trend_privacy(con, spec, scope, trend.reset_index(), min_n)
    out = suppress(trend, min_n, keep=["norm_mean"])
    return out.sort_values(keys).reset_index(drop=True)


def _trend_privacy(
    con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope, trend: pd.DataFrame, min_n: int
) -> pd.DataFrame:
    """A year's mean is hidden when the same cohort without some of its filters (or a part of a
    pooled row) would reveal 1 … min_n − 1 students (core.stats.suppression)."""
    keys = ["school_year", "subject", "season"]
    hidden = complement_hidden(con, [spec], scope, keys, min_n, skip=("school_year",))
    reason = reasons_for(trend.assign(cohort_index=0), hidden, ["cohort_index", *keys])
    trend["suppressed"] = (reason != "").to_numpy()
    trend["note"] = [FILTER_NOTE.format(detail=r, min_n=min_n) if r else "" for r in reason]
    return trend


def two_proportion(
    x_a: np.ndarray, n_a: np.ndarray, x_b: np.ndarray, n_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two-proportion z-test with the pooled proportion (the uncorrected 2×2 chi-square test):
    (z, two-sided p); NaN where there is no variation."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x_a + x_b) / (n_a + n_b)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
        z = np.where(se > 0, (x_a / n_a - x_b / n_b) / np.where(se > 0, se, 1.0), np.nan)
    return z, 2 * sps.norm.sf(np.abs(z))


def all_proficiency_changes(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    *,
    school_years: Sequence[str] | None = None,
    years_back: int = 1,
    spec: CohortSpec | None = None,
) -> pd.DataFrame:
    """% proficient per grade × school (and all schools) × subject × season, each year vs
    `years_back` years earlier: change in points, two-proportion test, BH across the rows.

    Only members whose grade has a proficiency threshold count (core.standards.for_compare)."""
    spec = _with_prior_years(spec or CohortSpec(), school_years, years_back)
    cells = _proficiency_cells(con, spec, scope)
    min_n = min_group_size(con)
    cells = flag_filtered_cells(con, spec, scope, flag_small_cells(cells, min_n), min_n)
    keys = ["school", "grade", "subject", "season"]
    counts = ("n", "proficient", "suppressed", "cut_set")
    a = _side(cells, "a", counts)
    b = _side(cells, "b", counts).rename(columns={"school_year": "prior_year"})
    a["prior_year"] = _previous_year_series(a["school_year"], years_back)
    rows = a.merge(b, on=[*keys, "prior_year"])
    if school_years:
        rows = rows[rows["school_year"].isin(school_years)].reset_index(drop=True)
    z, p = two_proportion(*(rows[c].to_numpy("float64") for c in _PROPORTION_COLUMNS))
    rows = rows.assign(
        pct_a=100 * rows["proficient_a"] / rows["n_a"],
        pct_b=100 * rows["proficient_b"] / rows["n_b"],
        z=z,
        p=p,
    )
    rows["change"] = rows["pct_a"] - rows["pct_b"]
    rows["sets_note"] = different_sets_note(rows)
    rows["suppressed"] = rows.pop("suppressed_a") | rows.pop("suppressed_b")
    rows["years_back"] = years_back
    marked = _grid_rows(rows, spec, scope)
    whole = rows if scope.is_everything and families.covers_years(spec) else None
    fixed = proficiency_families(con, rows.loc[marked, "school_year"], years_back, whole)
    out = suppress(rows, min_n, n_cols=("n_a", "n_b"), keep=("years_back",))
    keys = [*families.QUICK_KEYS, "years_back"]
    return rerun_bh(out, fixed_rows=marked, fixed=fixed, keys=keys)


def proficiency_families(
    con: duckdb.DuckDBPyConnection,
    years: Sequence[str] | pd.Series,
    years_back: int,
    grid: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """Fixed families of the % proficient changes (like `prior_families`): each year's quick
    cohorts and district grade cohorts, with both sides at the minimum size."""
    min_n = min_group_size(con)

    def family(year: str, pairs: pd.DataFrame | None) -> pd.DataFrame:
        if pairs is None:
            earlier = canonical.previous_year(year, years_back)
            cells = _proficiency_cells(con, CohortSpec(school_year=(year, earlier)), DISTRICT)
            a = _side(cells[cells["school_year"] == year], "a", ("n", "proficient"))
            b = _side(cells[cells["school_year"] == earlier], "b", ("n", "proficient"))
            on = ["school", "grade", "subject", "season"]
            pairs = a.merge(b.drop(columns="school_year"), on=on)
            _, p = two_proportion(*(pairs[c].to_numpy("float64") for c in _PROPORTION_COLUMNS))
            pairs = pairs.assign(p=p)
        tested = (pairs["n_a"] >= min_n) & (pairs["n_b"] >= min_n)
        return _family_of(pairs.assign(p=pairs["p"].where(tested)), "proficiency", years_back)

    return families.by_year(con, ("proficiency", years_back, min_n), years, family, grid)


_PROPORTION_COLUMNS = ("proficient_a", "n_a", "proficient_b", "n_b")


def different_sets_note(rows: pd.DataFrame) -> pd.Series:
    """'' when both years judged proficiency by the same standard, else which standard each
    year used (a cut-score set, or the norm mean where a year had none): states re-set cut
    scores, so a change across sets is partly a change of the bar."""
    a = rows["cut_set_a"].astype(object).fillna("the norm mean")
    b = rows["cut_set_b"].astype(object).fillna("the norm mean")
    said = (
        "the two years used different proficiency standards: "
        + a
        + " in "
        + rows["school_year"]
        + ", "
        + b
        + " in "
        + rows["prior_year"]
        + "; part of the change may be the change of standard"
    )
    return said.where(a != b, "")


def _proficiency_cells(
    con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope
) -> pd.DataFrame:
    cte, params = scores_cte(spec, scope)
    keys = "school_year, school, grade, subject, season"
    sql = f"""
        with {PLATFORMS_CTE}, {cte}
        select school_year, coalesce(school, '{ALL_SCHOOLS}') as school, grade, subject, season,
               count(*) as n, sum((s.score >= t.threshold)::integer) as proficient,
               any_value(t.cut_set)::varchar as cut_set,
               avg({norm_threshold_off_sql("s.score")}) as share_off_scale
        from scores s join cmp_thresholds t using (school_year, subject, grade, season)
        group by grouping sets (({keys}), (school_year, grade, subject, season))
    """
    with registered(con, "cmp_thresholds", threshold_frame(con)):
        cells = con.execute(sql, params).df()
    # the plausibility guard (core.standards.norms): no % proficient from a norm the scores are not
    # on
    cells["proficient"] = (
        cells["proficient"].astype("float64").mask(off_scale(cells["share_off_scale"]))
    )
    return cells.drop(columns="share_off_scale")
