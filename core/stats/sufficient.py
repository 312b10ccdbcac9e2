"""Sufficient statistics of cohort scores in SQL, and the two-sample columns built from them.

The comparisons area (prior years, any two cohorts, growth, subgroups, alerts) reads scores only
through `scores_cte`, so every query applies the same three rules:

* **Scope and spec** come from `core.cohorts.spec.spec_predicate` in the same WHERE clause.
* **One platform per subject.** The assessments key is student × platform × subject × year ×
  season, so a student tested on two platforms has two scores on different scales. Comparisons
  use, for each subject, the platform with the most scores in the warehouse (ties: alphabetical)
  — the same choice for every year, school and user — so a mean never mixes scales and a
  student contributes one score per subject × season × year.
* **Grouping columns come from a whitelist**; values are bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec, member_from, spec_predicate
from core.stats import families, inference
from core.stats.suppression import complementary_suppress

ALPHA = 0.05
GROUP_COLUMNS = {
    "school_year": "school_year",
    "subject": "subject",
    "season": "season",
    "grade": "grade",
    "school": "school",
}
ALL_SCHOOLS = "All schools"

# grain: one row per subject — the platform comparisons read for it
PLATFORMS_CTE = """
platforms as (
    select subject, platform
    from (
        select subject, platform,
               row_number() over (partition by subject order by count(*) desc, platform) as rank
        from assessments
        group by subject, platform
    )
    where rank = 1
)"""

SCORE_COLUMNS = """
    a.student_id, a.platform, a.subject, a.school_year, a.season, a.grade, a.school_id,
    sc.name as school, a.score, a.percentile
"""


def comparison_platforms(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """subject → the platform comparisons read for it (see the module docstring)."""
    return dict(
        con.execute(f"with {PLATFORMS_CTE} select subject, platform from platforms").fetchall()
    )


def prefixed(sql: str, params: dict[str, Any], prefix: str) -> tuple[str, dict[str, Any]]:
    """Rename a predicate's bound parameters so two cohorts' predicates share one query."""
    if not prefix:
        return sql, params
    names = sorted(params, key=len, reverse=True)
    pattern = re.compile(r"\$(" + "|".join(re.escape(n) for n in names) + r")\b") if names else None
    renamed = pattern.sub(lambda m: f"${prefix}{m.group(1)}", sql) if pattern else sql
    return renamed, {f"{prefix}{k}": v for k, v in params.items()}


def scores_cte(
    spec: CohortSpec,
    scope: Scope,
    *,
    skip: tuple[str, ...] = (),
    name: str = "scores",
    prefix: str = "",
    columns: str = "",
    joins: str = "",
    student_years: bool = False,
) -> tuple[str, dict[str, Any]]:
    """A CTE `name` of the cohort's scores (grain: one row per student × subject × season ×
    year), reading the `platforms` CTE, which the caller puts first (`PLATFORMS_CTE`).
    `columns` / `joins` add select expressions and joins (core code only, never user text);
    `student_years`: they read `st`, the student's attributes in the score's school year."""
    where, params = prefixed(*spec_predicate(spec, scope, skip=skip), prefix)
    extra = f", {columns}" if columns else ""
    sql = f"""
{name} as (
    select {SCORE_COLUMNS}{extra}
    from {member_from(spec, student_years=student_years)}
    join platforms pl on pl.subject = a.subject and pl.platform = a.platform
    {joins}
    where {where}
)"""
    return sql, params


def scores_union_cte(
    specs: Sequence[CohortSpec],
    scope: Scope,
    *,
    skip: tuple[str, ...] = (),
    name: str = "scores",
    columns: str = "",
    joins: str = "",
    student_years: bool = False,
) -> tuple[str, dict[str, Any]]:
    """CTEs of several cohorts' scores (`scores_cte` each) and `name`, their union, with
    `cohort_index` = the cohort's position in `specs`: one query answers for every cohort."""
    ctes, params = [], {}
    for index, spec in enumerate(specs):
        cte, bound = scores_cte(
            spec,
            scope,
            skip=skip,
            name=f"{name}{index}",
            prefix=f"c{index}_",
            columns=columns,
            joins=joins,
            student_years=student_years,
        )
        ctes.append(cte)
        params.update(bound)
    union = " union all ".join(
        f"select {index} as cohort_index, * from {name}{index}" for index in range(len(specs))
    )
    return f"{', '.join(ctes)}, {name} as ({union})", params


def split_cohorts(frame: pd.DataFrame, count: int) -> list[pd.DataFrame]:
    """A batch's result, one frame per cohort (`cohort_index` dropped, rows in order)."""
    return [
        frame[frame["cohort_index"] == index].drop(columns="cohort_index").reset_index(drop=True)
        for index in range(count)
    ]


@contextmanager
def registered(
    con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A small DataFrame (norms, thresholds) visible to one query as relation `name`."""
    con.register(name, frame)
    try:
        yield con
    finally:
        con.unregister(name)


def group_columns(by: Sequence[str]) -> list[str]:
    unknown = [c for c in by if c not in GROUP_COLUMNS]
    if unknown:
        raise ValueError(f"Cannot group by {', '.join(unknown)}.")
    return [GROUP_COLUMNS[c] for c in by]


def group_stats(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    by: Sequence[str],
    *,
    skip: tuple[str, ...] = (),
    all_schools: bool = False,
) -> pd.DataFrame:
    """n, mean, sd (ddof 1) of the cohort's scores per group, in one grouped query.

    With `all_schools`, `by` must contain "school" and a second grouping set adds the rows of
    every school together (school = "All schools")."""
    frame = group_stats_of(con, [spec], scope, by, skip=skip, all_schools=all_schools)
    return frame.drop(columns="cohort_index")


def group_stats_of(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    by: Sequence[str],
    *,
    skip: tuple[str, ...] = (),
    all_schools: bool = False,
) -> pd.DataFrame:
    """`group_stats` of several cohorts in one query, keyed by `cohort_index` first."""
    columns = ["cohort_index", *group_columns(by)]
    cte, params = scores_union_cte(specs, scope, skip=skip)
    keys = ", ".join(columns)
    grouping = keys
    if all_schools:
        without = ", ".join(c for c in columns if c != "school")
        grouping = f"grouping sets (({keys}), ({without}))"
    select_keys = ", ".join(
        f"coalesce(school, '{ALL_SCHOOLS}') as school" if c == "school" and all_schools else c
        for c in columns
    )
    sql = f"""
        with {PLATFORMS_CTE}, {cte}
        select {select_keys}, count(*) as n, avg(score) as mean, stddev_samp(score) as sd
        from scores
        group by {grouping}
        order by {keys}
    """
    return con.execute(sql, params).df()


def flag_small_cells(cells: pd.DataFrame, min_n: int, size_col: str = "n") -> pd.DataFrame:
    """Flag `suppressed` on small cells of a school × … table that also holds "All schools"
    totals: school cells of one total are a partition, so when exactly one is small the next
    smallest is hidden too (complementary suppression). With one school the totals would only
    repeat it, so they are dropped."""
    totals = cells["school"] == ALL_SCHOOLS
    keys = [c for c in cells.columns if c in GROUP_COLUMNS and c != "school"]
    schools = cells[~totals]
    hidden = complementary_suppress(schools, keys, min_n, size_col=size_col, keep=list(cells))
    flagged = schools.assign(suppressed=hidden["suppressed"].to_numpy())
    if flagged["school"].nunique() <= 1:
        return flagged.reset_index(drop=True)
    district = cells[totals].assign(suppressed=cells.loc[totals, size_col] < min_n)
    return pd.concat([flagged, district], ignore_index=True)


def pool(df: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Combine groups' (n, mean, sd) exactly into (n, mean, sd) per `by` (sum of squares)."""
    work = df.assign(
        _sum=df["n"] * df["mean"],
        _ss=(df["n"] - 1) * df["sd"].fillna(0) ** 2 + df["n"] * df["mean"] ** 2,
    )
    grouped = work.groupby(list(by), as_index=False, sort=True)[["n", "_sum", "_ss"]].sum()
    mean = grouped["_sum"] / grouped["n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (grouped["_ss"] - grouped["n"] * mean**2) / (grouped["n"] - 1)
    sd = np.sqrt(np.clip(var, 0, None)).where(grouped["n"] > 1)
    return grouped[list(by)].assign(n=grouped["n"], mean=mean, sd=sd)


def direction(diff: np.ndarray, p: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """improvement / decline / no change at p < alpha (higher scores are better); callers pass
    the Benjamini–Hochberg-adjusted p, so a verdict holds after the false-discovery check."""
    significant = np.nan_to_num(p, nan=1.0) < alpha
    return np.where(
        significant & (diff > 0),
        "improvement",
        np.where(significant & (diff < 0), "decline", "no change"),
    )


def two_sample_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Welch test, Hedges' g, direction and BH across all rows, from n_a/mean_a/sd_a, n_b/…/sd_b.

    diff = a − b; the BH adjustment runs across every row of `df` (the comparisons on a page) and
    `direction` reads the adjusted p (`rerun_bh` settles both again once the family is known)."""
    sides = [df[c].to_numpy(dtype="float64") for c in ("n_a", "mean_a", "sd_a")]
    sides += [df[c].to_numpy(dtype="float64") for c in ("n_b", "mean_b", "sd_b")]
    test = inference.welch(*sides)
    p_adj, reject = inference.benjamini_hochberg(test.p)
    return df.assign(
        **test.columns(with_diff=True),
        hedges_g=inference.hedges_g(*sides),
        direction=direction(test.diff, p_adj),
        p_adj=p_adj,
        significant_bh=reject,
    )


def rerun_bh(
    df: pd.DataFrame,
    per: str | None = None,
    *,
    fixed_rows: np.ndarray | None = None,
    fixed: pd.DataFrame | None = None,
    keys: Sequence[str] = (),
) -> pd.DataFrame:
    """BH again over the rows that are still reported (suppressed rows carry no p); `per`: one
    family per value of that column (each cohort of a batch is its own page). Rows marked in
    `fixed_rows` read their p_adj from their fixed family `fixed` (core.stats.families).
    `direction`, where present, is settled again on the adjusted p."""
    marked = np.zeros(len(df), dtype=bool) if fixed_rows is None else fixed_rows
    out = families.settle(df, marked, fixed, keys, per=per)
    if "direction" in out:
        diff = out["diff" if "diff" in out else "gap"].to_numpy(dtype="float64")
        settled = direction(diff, out["p_adj"].to_numpy(dtype="float64"))
        out["direction"] = pd.Series(settled, index=out.index).where(out["direction"].notna())
    return out


def no_test_note(df: pd.DataFrame, min_n: int) -> pd.Series:
    """Why a row has no test, in words (empty when it has one)."""
    note = pd.Series("", index=df.index, dtype="object")
    no_variance = (df["sd_a"].fillna(0) == 0) & (df["sd_b"].fillna(0) == 0)
    note = note.mask(no_variance, "no variance on either side: no test")
    note = note.mask((df["n_a"].fillna(0) < min_n) | (df["n_b"].fillna(0) < min_n), _small(min_n))
    note = note.mask(df["n_b"].fillna(0) == 0, "no data for the comparison cohort")
    return note.mask(df["n_a"].fillna(0) == 0, "no data for this cohort")


def _small(min_n: int) -> str:
    return f"fewer than {min_n} students — not reported to protect student privacy"
