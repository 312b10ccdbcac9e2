"""Subgroup gaps: within each cohort, each subgroup against the rest of the cohort, every year.

Subgroups are the values of ELL, SPED, FRL (shown as "yes" vs "no"), gender, race/ethnicity and
every extra student attribute an import brought (attributes with at most `MAX_VALUES` distinct
values; free text is not a grouping), each score's as recorded for that score's school year.
"The rest" is every cohort member whose value of that attribute is known and different: members
with no value recorded are in neither side.

Per cohort × year × subject × season × subgroup: both sides' n, mean, sd; gap = subgroup − rest;
Welch's test, 95% CI, Hedges' g; % proficient on each side and its gap. Proficient = at or above
the cut score for the member's grade and season when the district loaded one
(core.standards.norms), else
at or above the norm mean; members whose grade has neither are left out of the % (not counted as
not proficient). All from one grouped query (one grouping set per attribute); the rest is pooled
exactly from the other values' n, mean and variance.

Privacy: a row is suppressed when either side is under the minimum; the values of one attribute
partition the cohort, so when exactly one value is hidden the next smallest is hidden too.

Gap trend, two ways (each year's gap is an independent estimate with its Welch standard error):
`gap_trend` fits the gap's linear trend across three or more years (weighted least squares,
z-test of the slope; `approximate` when a side of any year has fewer than SMALL_SIDE students);
`gap_change` compares the latest year with an earlier one (t-test of the difference of the two
gaps with Welch–Satterthwaite df, which holds for small groups). A gap is *widening* when it
moves the way its latest value points (a negative gap getting more negative) without changing
sign; `movement` names it: "widening", "narrowing", or "overtook" (the gap changed sign: the
group behind before is ahead now — never a widening).
Both drop mirror rows (of F / M, keep one) before Benjamini–Hochberg; the verdict (`verdict`:
widened / narrowed / overtook / no clear change, and the gap's own `direction`) reads the
BH-adjusted p, and `bh_family` names the family it was adjusted in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as sps

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import BOOLEAN_ATTRIBUTES, TEXT_ATTRIBUTES, CohortSpec
from core.standards.for_compare import norm_threshold_off_sql, threshold_frame
from core.standards.norms import off_scale
from core.stats import families, inference
from core.stats.member_counts import complement_hidden, reasons_for
from core.stats.sufficient import (
    PLATFORMS_CTE,
    group_columns,
    registered,
    rerun_bh,
    scores_union_cte,
    two_sample_columns,
)
from core.stats.suppression import FILTER_NOTE, complementary_suppress, hide_rows, suppress
from core.warehouse.settings import min_group_size

MAX_VALUES = 12
# cohorts per batched query: the query holds every member's row once per subgroup attribute, so
# 30 cohorts of a 60,000-student district at once peaked ~280 MB above one at a time; 5 at a
# time keeps nearly all of the saving (the table work is per query, not per row) for ~100 MB
CHUNK = 5
BASE_ATTRIBUTES = (*BOOLEAN_ATTRIBUTES, *TEXT_ATTRIBUTES)
SIDE = ("n", "mean", "sd", "prof_n", "pct_prof")


def extra_attributes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Extra attributes usable as subgroups (at most MAX_VALUES distinct values)."""
    rows = con.execute(
        "select attribute from student_attributes group by attribute "
        "having count(distinct value) <= ? order by attribute",
        [MAX_VALUES],
    ).fetchall()
    return [r[0] for r in rows]


def _attribute_columns(attributes: Sequence[str]) -> str:
    """One SQL expression per attribute, aliased a0, a1, …: the student's value (booleans as
    yes/no, blanks as unknown); extra attributes come from the `ex` pivot."""
    columns = []
    for index, name in enumerate(attributes):
        if name in BOOLEAN_ATTRIBUTES:
            expr = f"case when st.{name} then 'yes' when not st.{name} then 'no' end"
        elif name in TEXT_ATTRIBUTES:
            expr = f"nullif(trim(st.{name}), '')"
        else:
            expr = f"nullif(trim(ex.a{index}), '')"
        columns.append(f"{expr} as a{index}")
    return ", ".join(columns)


def _extras_sql(attributes: Sequence[str]) -> str:
    """grain: one row per student × school year with a value of any extra attribute (one column
    each): a score's subgroup is the student's value in the score's school year."""
    pivot = [
        f"max(value) filter (where attribute = $attr{i}) as a{i}"
        for i, name in enumerate(attributes)
        if name not in BASE_ATTRIBUTES
    ]
    return (
        f"select student_id, school_year, {', '.join(pivot) or 'null as none'} "
        "from student_attributes group by student_id, school_year"
    )


def _query(
    specs: Sequence[CohortSpec], scope: Scope, by: Sequence[str], attributes: Sequence[str]
) -> tuple[str, dict[str, Any]]:
    """grain: one row per cohort (`cohort_index`, the position in `specs`) × key × attribute ×
    value (one grouping set per attribute; `g<i>` = 0 marks attribute i's rows) with n, mean,
    variance and proficiency counts."""
    keys = ", ".join(["cohort_index", *group_columns(by)])
    columns = (
        "case when t.threshold is not null then (a.score >= t.threshold)::integer end "
        f"as proficient, {norm_threshold_off_sql('a.score')} as off_norm, "
        f"{_attribute_columns(attributes)}"
    )
    joins = (
        "left join extras ex on ex.student_id = a.student_id and ex.school_year = a.school_year "
        "left join cmp_thresholds t "
        "on t.school_year = a.school_year and t.subject = a.subject and t.grade = a.grade "
        "and t.season = a.season"
    )
    scores, params = scores_union_cte(
        specs, scope, skip=("school_year",), columns=columns, joins=joins, student_years=True
    )
    params.update({f"attr{i}": a for i, a in enumerate(attributes) if a not in BASE_ATTRIBUTES})
    values = ", ".join(f"a{i}" for i in range(len(attributes)))
    flags = ", ".join(f"grouping(a{i}) as g{i}" for i in range(len(attributes)))
    sets = ", ".join(f"({keys}, a{i})" for i in range(len(attributes)))
    sql = f"""
        with {PLATFORMS_CTE}, extras as ({_extras_sql(attributes)}), {scores}
        select {keys}, {values}, {flags}, count(*) as n, avg(score) as mean,
               var_samp(score) as var, count(proficient) as prof_n,
               sum(proficient) as prof_sum, sum(off_norm) as off_sum, count(off_norm) as off_n
        from scores
        group by grouping sets ({sets})
    """
    return sql, params


COUNTS = ["n", "prof_n", "prof_sum", "off_sum", "off_n"]


def _per_attribute(cells: pd.DataFrame, keys: list[str], attributes: Sequence[str]) -> pd.DataFrame:
    """key × attribute × value rows from the grouping sets (unknown values dropped: they are in
    neither side)."""
    parts = []
    for index, name in enumerate(attributes):
        rows = cells[(cells[f"g{index}"] == 0) & cells[f"a{index}"].notna()]
        parts.append(
            rows[[*keys, *COUNTS, "mean", "var"]].assign(attribute=name, value=rows[f"a{index}"])
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _sides(cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each value (a) against the rest of its attribute's known values (b), pooled exactly from
    the values' (n, mean, variance): SS_rest = SS_all − SS_value − n_rest (mean_rest − M)²,
    every term a sum of squared deviations, so nothing large is subtracted from the raw scores."""
    group = [*keys, "attribute"]
    ss_within = (cells["n"] - 1) * cells["var"].fillna(0)
    work = cells.assign(_sum=cells["n"] * cells["mean"], _ssw=ss_within)
    totals = work.groupby(group)[["n", "_sum", "prof_n", "prof_sum", "off_sum", "off_n"]].transform(
        "sum"
    )
    # the plausibility guard (core.standards.norms) on the cohort row: no % proficient from a norm
    # its
    # scores are not on (a % on no member is blanked below)
    judged = ~off_scale(totals["off_sum"] / totals["off_n"].where(totals["off_n"] > 0))
    grand = totals["_sum"] / totals["n"]
    between = work["n"] * (work["mean"] - grand) ** 2
    ss_all = (work["_ssw"] + between).groupby([work[k] for k in group]).transform("sum")
    n_rest = totals["n"] - work["n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_rest = (totals["_sum"] - work["_sum"]) / n_rest.where(n_rest > 0)
        ss_rest = ss_all - work["_ssw"] - between - n_rest * (mean_rest - grand) ** 2
        out = cells[[*keys, "attribute", "value"]].assign(
            n_a=cells["n"], mean_a=cells["mean"], sd_a=np.sqrt(cells["var"]),
            n_b=n_rest, mean_b=mean_rest,
            sd_b=np.sqrt(np.clip(ss_rest, 0, None) / (n_rest - 1)).where(n_rest > 1),
            prof_n_a=cells["prof_n"].where(judged, 0),
            pct_prof_a=100 * cells["prof_sum"] / cells["prof_n"],
            prof_n_b=(totals["prof_n"] - cells["prof_n"]).where(judged, 0),
        )  # fmt: skip
        out["pct_prof_b"] = 100 * (totals["prof_sum"] - cells["prof_sum"]) / out["prof_n_b"]
    return out


def subgroup_gaps(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    *,
    by: Sequence[str] = ("school_year", "subject", "season"),
    attributes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every subgroup vs the rest, for the spec's definition in every school year it has data
    (the spec's own years, if any, are kept in the result; the others feed the trend)."""
    return subgroup_gaps_of(con, [spec], scope, by=by, attributes=attributes)[0]


def subgroup_gaps_of(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    *,
    by: Sequence[str] = ("school_year", "subject", "season"),
    attributes: Sequence[str] | None = None,
) -> list[pd.DataFrame]:
    """`subgroup_gaps` of each spec — each cohort's rows exactly as asked alone, its own
    Benjamini–Hochberg family (a quick cohort's: every quick cohort's gaps of the district that
    year, `settle_quick_gaps`) — from one query per set of subgroup attributes (a report of many
    cohorts pays the table work once, not once per cohort)."""
    by = list(dict.fromkeys(["school_year", *by]))
    out = _gaps_batch(con, specs, scope, by, attributes)
    return [
        settle_quick_gaps(con, frame, spec) if families.quick_spec(spec, scope, by) else frame
        for spec, frame in zip(specs, out, strict=True)
    ]


def _gaps_batch(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    by: list[str],
    attributes: Sequence[str] | None,
) -> list[pd.DataFrame]:
    """Each spec's gaps, adjusted among its own rows."""
    wanted = attributes or (*BASE_ATTRIBUTES, *extra_attributes(con))
    batches: dict[tuple[str, ...], list[int]] = {}
    for index, spec in enumerate(specs):  # a cohort's own filters are not its subgroups
        filtered = {name for name, _ in spec.filters}
        batches.setdefault(tuple(a for a in wanted if a not in filtered), []).append(index)
    out = [pd.DataFrame() for _ in specs]
    with registered(con, "cmp_thresholds", threshold_frame(con)):
        for chosen, indexes in batches.items():
            for start in range(0, len(indexes), CHUNK):
                chunk = indexes[start : start + CHUNK]
                found = _gaps_of(con, [specs[i] for i in chunk], scope, by, chosen)
                for position, frame in found.items():
                    out[chunk[position]] = frame
    return _filter_privacy(con, specs, scope, by, out)


def _filter_privacy(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    by: list[str],
    out: list[pd.DataFrame],
) -> list[pd.DataFrame]:
    """A filtered cohort's subgroups, beside the same cohort without some of its filters, would
    reveal the students the filters leave out: where those are 1 … min_n − 1 (or a pooled part
    is), the cohort's rows of that year × subject × season are hidden (core.stats.suppression)."""
    filtered = [i for i, spec in enumerate(specs) if spec.filters and not out[i].empty]
    if not filtered:
        return out
    min_n = min_group_size(con)
    chosen = [specs[i] for i in filtered]
    hidden = complement_hidden(con, chosen, scope, by, min_n, skip=("school_year",))
    for position, index in enumerate(filtered):
        frame = out[index]
        reason = reasons_for(frame.assign(cohort_index=position), hidden, ["cohort_index", *by])
        if (reason != "").any():
            notes = [FILTER_NOTE.format(detail=r, min_n=min_n) for r in reason]
            frame = hide_rows(frame, (reason != "").to_numpy(), notes, min_n)
            frame["direction"] = frame["direction"].where(~frame["suppressed"])
            out[index] = rerun_bh(frame)
    return out


def _gaps_of(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    by: list[str],
    chosen: Sequence[str],
) -> dict[int, pd.DataFrame]:
    """{position in specs: its gaps} for the cohorts with any scores."""
    if not chosen:
        return {}
    cells = con.execute(*_query(specs, scope, by, chosen)).df()
    if cells.empty:
        return {}
    keys = ["cohort_index", *by]
    rows = _sides(_per_attribute(cells, keys, chosen).reset_index(drop=True), keys)
    booleans = rows["attribute"].isin(BOOLEAN_ATTRIBUTES)
    rows = rows[~booleans | (rows["value"] == "yes")]
    # in reading order before suppression: of two equally small cells, the one hidden to protect
    # the other is then always the same (the query's own row order varies from run to run)
    rows = rows.sort_values([*keys, "attribute", "value"], kind="stable").reset_index(drop=True)
    finished = _finish(rows, keys, min_group_size(con))
    return {
        int(index): part.drop(columns="cohort_index").reset_index(drop=True)
        for index, part in finished.groupby("cohort_index", sort=False)
    }


def _finish(rows: pd.DataFrame, keys: list[str], min_n: int) -> pd.DataFrame:
    """Tests, suppression and BH per cohort (`keys` start with cohort_index)."""
    tested = two_sample_columns(rows).rename(columns={"diff": "gap"})
    tested["prof_gap"] = tested["pct_prof_a"] - tested["pct_prof_b"]
    partition = [*keys, "attribute"]
    small = (tested["n_a"] < min_n) | (tested["n_b"] < min_n)
    tested["suppressed"] = small
    hidden = complementary_suppress(tested, partition, min_n, size_col="n_a", keep=list(tested))
    tested["suppressed"] = hidden["suppressed"].to_numpy()
    for side in "ab":  # % proficient on too few members with a norm
        thin = tested[f"prof_n_{side}"].fillna(0) < min_n
        tested.loc[thin, [f"pct_prof_{side}", "prof_gap"]] = np.nan
    tested["note"] = np.where(
        tested["suppressed"],
        f"fewer than {min_n} students on one side, or in a group it could be worked out "
        "from — not reported to protect student privacy",
        "",
    )
    out = suppress(tested, min_n, n_cols=(), keep=["cohort_index"])
    out["direction"] = out["direction"].where(~out["suppressed"])
    out = out.drop(columns=["prof_n_a", "prof_n_b"]).rename(columns=_side_name)
    out = rerun_bh(out, per="cohort_index")
    return out.sort_values([*keys, "attribute", "value"]).reset_index(drop=True)


def _side_name(column: str) -> str:
    ends = {"_a": "_sub", "_b": "_rest"}
    return column[:-2] + ends[column[-2:]] if column[-2:] in ends else column


def _gap_keys(gaps: pd.DataFrame) -> list[str]:
    """What identifies a gap (`cohort_index` too when the rows hold several cohorts)."""
    known = ("cohort_index", "school", "grade", "subject", "season")
    keys = [c for c in gaps.columns if c in known]
    return [*keys, "attribute", "value"]


def distinct_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """Drop mirror rows: of an attribute with exactly two values in a cohort (F / M), keep the
    smaller group — the other row is the same test with the sign flipped."""
    keys = _gap_keys(gaps)[:-2]
    cohort = [*keys, "attribute"]
    size = gaps.groupby([*cohort, "value"])["n_sub"].transform("mean").fillna(0)
    values = gaps.groupby(cohort)["value"].transform("nunique")
    ranked = gaps.assign(_size=size, _values=values).sort_values([*cohort, "_size", "value"])
    smallest = ranked.groupby(cohort)["value"].transform("first")
    keep = (ranked["_values"] != 2) | (ranked["value"] == smallest)
    return ranked[keep].drop(columns=["_size", "_values"]).sort_index()


def _with_se(gaps: pd.DataFrame) -> pd.DataFrame:
    se = np.sqrt(gaps["sd_sub"] ** 2 / gaps["n_sub"] + gaps["sd_rest"] ** 2 / gaps["n_rest"])
    return gaps.assign(se=se)


def _movement(first: pd.Series, latest: pd.Series, toward: pd.Series) -> tuple[Any, Any]:
    """(movement, widening) of gaps that went from `first` to `latest`, `toward` saying the change
    points the way the latest gap does: a sign change is "overtook", not a widening."""
    flipped = (first * latest < 0).to_numpy()
    toward = toward.to_numpy(dtype=bool)
    movement = np.select([flipped, toward], ["overtook", "widening"], "narrowing")
    return movement, toward & ~flipped


SIDES = ("n_sub", "sd_sub", "n_rest", "sd_rest")
SMALL_SIDE = 30  # below this many students on a side, a trend's z-test is approximate


def gap_change(
    gaps: pd.DataFrame,
    latest: str,
    earlier: str,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """Each subgroup's gap in `latest` vs in `earlier`: change, its t-test (`t`, `df`, `p`, 95%
    CI `ci_lo` / `ci_hi`), whether it widened, and BH across the rows (across each cohort's rows
    when `gaps` holds several, told apart by `cohort_index`). The change is a contrast of four
    independent means (subgroup and rest, each year), tested with Welch–Satterthwaite df
    (`inference.welch_contrast`): it holds for small groups, where a normal z would call too many
    changes real, and equals the z-test as the groups grow. Given `con`, the rows of quick
    cohorts take their fixed family."""
    keys = _gap_keys(gaps)
    frame = _with_se(distinct_gaps(gaps))[[*keys, "school_year", "gap", "se", *SIDES]]
    now = frame[frame["school_year"] == latest].drop(columns="school_year")
    then = frame[frame["school_year"] == earlier].drop(columns="school_year")
    both = now.merge(then, on=keys, suffixes=("", "_then")).dropna(subset=["gap", "gap_then"])
    change = both["gap"] - both["gap_then"]
    sds = [both[f"sd_{side}{when}"] for when in ("", "_then") for side in ("sub", "rest")]
    ns = [both[f"n_{side}{when}"] for when in ("", "_then") for side in ("sub", "rest")]
    test = inference.welch_contrast(change, sds, ns)
    movement, widened = _movement(both["gap_then"], both["gap"], np.sign(both["gap"]) * change > 0)
    both = both.drop(columns=[f"{c}{when}" for c in SIDES for when in ("", "_then")]).assign(
        school_year=latest,
        earlier_year=earlier,
        change=change,
        **test.columns(),
        widened=widened,
        movement=movement,
    )
    per = "cohort_index" if "cohort_index" in both else None  # each cohort its own family
    if con is None:
        out = rerun_bh(both, per=per).reset_index(drop=True)
    else:
        out = _settle(both, gaps, lambda: change_families(con, latest, earlier), GAP_KEYS, per)
        out = out.reset_index(drop=True)
    return out.assign(verdict=gap_verdict(out["movement"], out["significant_bh"]))


def gap_verdict(movement: pd.Series, significant: pd.Series) -> np.ndarray:
    """widened / narrowed / overtook where the change holds after Benjamini–Hochberg (the
    adjusted p of its family), else no clear change."""
    held = significant.fillna(False).astype(bool).to_numpy()
    words = {"widening": "widened", "narrowing": "narrowed", "overtook": "overtook"}
    named = pd.Series(movement).map(words).fillna("no clear change").to_numpy()
    return np.where(held, named, "no clear change")


def gap_trend(gaps: pd.DataFrame, years: Sequence[str]) -> pd.DataFrame:
    """The gap's linear trend across `years` (points per year): weighted least squares with
    weights 1 / se² (each year's gap is an independent estimate with a known standard error),
    a z-test of the slope, whether the gap is widening (the slope points the way the latest gap
    does; `every_year`: it also widened at each step), and BH across rows. Rows need a reported
    gap in at least three of the years."""
    keys = _gap_keys(gaps)
    frame = _with_se(distinct_gaps(gaps))
    frame = frame[frame["school_year"].isin(years) & frame["gap"].notna() & (frame["se"] > 0)]
    latest = int(max(years)[:4])
    x = frame["school_year"].str[:4].astype(int) - latest  # small numbers: no cancellation
    w = 1 / frame["se"] ** 2
    frame = frame.assign(x=x, w=w, wx=w * x, wy=w * frame["gap"], wxx=w * x * x)
    frame = frame.assign(
        wxy=frame["wx"] * frame["gap"], side=frame[["n_sub", "n_rest"]].min(axis=1)
    ).sort_values([*keys, "x"])
    direction = np.sign(frame.groupby(keys)["gap"].transform("last"))
    step = frame.groupby(keys)["gap"].diff() * direction
    frame = frame.assign(wider=(step > 0) | step.isna())
    out = frame.groupby(keys, sort=True).agg(
        years=("x", "size"),
        first_year=("school_year", "first"),
        first_gap=("gap", "first"),
        latest_year=("school_year", "last"),
        latest_gap=("gap", "last"),
        every_year=("wider", "all"),
        smallest_side=("side", "min"),
        **{c: (c, "sum") for c in ("w", "wx", "wy", "wxx", "wxy")},
    )
    out["sxx"] = out["wxx"] - out["wx"] ** 2 / out["w"]
    out["sxy"] = out["wxy"] - out["wx"] * out["wy"] / out["w"]
    out = out.drop(columns=["w", "wx", "wy", "wxx", "wxy"])
    out = out[out["years"] >= 3].reset_index()
    slope = out["sxy"] / out["sxx"]
    se = 1 / np.sqrt(out["sxx"])
    out = out.drop(columns=["sxx", "sxy"]).assign(slope=slope, slope_se=se)
    out["p"] = 2 * sps.norm.sf(np.abs(slope / se))
    # the z treats each year's Welch se as known: with few students on a side it is not
    out["approximate"] = out["smallest_side"] < SMALL_SIDE
    toward = np.sign(out["latest_gap"]) * out["slope"] > 0
    out["movement"], out["widening"] = _movement(out["first_gap"], out["latest_gap"], toward)
    out = rerun_bh(out)
    return out.assign(verdict=gap_verdict(out["movement"], out["significant_bh"]))


def widening_tests(
    gaps: pd.DataFrame,
    years: Sequence[str],
    earlier: str,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """One test per subgroup, in one Benjamini–Hochberg family: the trend across `years` where
    the subgroup has three or more reported years, else its latest gap vs `earlier`'s (given
    `con`, a quick cohort's rows take the fixed family of every quick cohort's tests).
    `widening` says the gap grows the way it points; `test` says which test was used;
    `change_g` is how much it grew, first to latest year, in the latest year's pooled sd."""
    latest = max(years)
    keys = _gap_keys(gaps)
    trend = gap_trend(gaps, years).assign(test="trend")
    change = gap_change(gaps, latest, earlier)
    change = change.rename(
        columns={"widened": "widening", "gap": "latest_gap", "gap_then": "first_gap",
                 "school_year": "latest_year", "earlier_year": "first_year"}
    ).assign(test="change", years=2, every_year=False, approximate=False)  # fmt: skip
    known = trend[keys].assign(_in_trend=True)
    change = change.merge(known, on=keys, how="left")
    change = change[change["_in_trend"].isna()].drop(columns="_in_trend")
    both = pd.concat([trend, change], ignore_index=True)
    both = both.merge(_pooled_sd(gaps, latest), on=keys, how="left")
    growth = np.sign(both["latest_gap"]) * (both["latest_gap"] - both["first_gap"])
    both["change_g"] = growth / both["pooled_sd"]
    if con is None:
        both = rerun_bh(both)
    else:
        both = _settle(both, gaps, lambda: widening_families(con, tuple(years), earlier),
                       WIDENING_KEYS)  # fmt: skip
    return both.assign(verdict=gap_verdict(both["movement"], both["significant_bh"]))


def _pooled_sd(gaps: pd.DataFrame, year: str) -> pd.DataFrame:
    """The latest year's pooled sd of subgroup and rest: the unit `change_g` is measured in."""
    rows = gaps[gaps["school_year"] == year]
    pooled = np.sqrt(
        ((rows["n_sub"] - 1) * rows["sd_sub"] ** 2 + (rows["n_rest"] - 1) * rows["sd_rest"] ** 2)
        / (rows["n_sub"] + rows["n_rest"] - 2)
    )
    return rows[_gap_keys(gaps)].assign(pooled_sd=pooled)


# ---------------------------------------------------------------- fixed families

CELL = ["school_year", "school", "grade", "subject", "season"]
GAP_KEYS = [*CELL, "attribute", "value"]
WIDENING_KEYS = GAP_KEYS[1:]


def _places(rows: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame | None:
    """The school and grade of each row's quick cohort (blank for other cohorts), read from
    `source` — `subgroup_gaps` names them in `cohort_school` / `cohort_grade`, not in `school` /
    `grade`, which would split a batch's other cohorts — None when no row is a quick cohort's."""
    if "cohort_school" not in source or source["cohort_school"].isna().all():
        return None
    place = {}
    for column in ("cohort_school", "cohort_grade"):
        if "cohort_index" in rows and "cohort_index" in source:
            named = source.groupby("cohort_index")[column].first()
            place[column] = rows["cohort_index"].map(named)
        else:
            place[column] = pd.Series(source[column].iloc[0], index=rows.index)
    school = place["cohort_school"]
    grade = rows["grade"].where(school.notna()) if "grade" in rows else place["cohort_grade"]
    return pd.DataFrame({"school": school, "grade": grade}, index=rows.index)


def _settle(
    rows: pd.DataFrame,
    source: pd.DataFrame,
    fixed: Callable[[], pd.DataFrame | None],
    keys: list[str],
    per: str | None = None,
) -> pd.DataFrame:
    """BH: quick cohorts' rows from their fixed family (`fixed()`, matched on the cohort's
    school and grade), the others among themselves (per cohort when `per`)."""
    places = _places(rows, source)
    if places is None:
        return rerun_bh(rows, per=per)
    marked = (places["school"].notna() & places["grade"].notna()).to_numpy()
    probe = rows.assign(school=places["school"], grade=places["grade"])
    out = rerun_bh(probe, per=per, fixed_rows=marked, fixed=fixed(), keys=keys)
    held = [c for c in ("school", "grade") if c in rows]
    out[held] = rows[held]
    return out.drop(columns=[c for c in ("school", "grade") if c not in held])


def district_gaps(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every quick cohort's subgroup gaps, every year: one grouped query over the whole
    district (whatever the caller's scope), cached per warehouse state."""
    return families.cached(
        con, ("subgroup gaps",), lambda: _gaps_batch(con, [CohortSpec()], DISTRICT, CELL, None)[0]
    )


def _with_mirrors(family: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Add the other value of each two-valued attribute (F of F / M): the same test, so the
    same adjusted p (the family counts it once)."""
    cell = [k for k in GAP_KEYS if k in family and k != "value"]
    tested = rows[np.isfinite(rows["p"].to_numpy(dtype="float64"))]
    pairs = tested.groupby(cell)["value"].transform("nunique") == 2
    known = tested[pairs].merge(family[[*cell, "value"]], on=[*cell, "value"], how="left",
                                indicator=True)  # fmt: skip
    mirrors = known[known["_merge"] == "left_only"][[*cell, "value"]]
    partner = mirrors.merge(family.drop(columns="value"), on=cell)
    return pd.concat([family, partner[family.columns]], ignore_index=True)


def _gap_words(what: str) -> object:
    def words(group: tuple, size: int) -> str:
        return f"all {size} {what} of the district's quick cohorts (grade × school) in {group[0]}"

    return words


def gap_families(con: duckdb.DuckDBPyConnection, years: Sequence[str]) -> pd.DataFrame | None:
    """Each year's family of subgroup gaps: every quick cohort's gaps (one of a mirror pair)."""

    def family(year: str, _: pd.DataFrame | None) -> pd.DataFrame:
        gaps = district_gaps(con)
        rows = gaps[gaps["school_year"] == year]
        table = families.family_table(
            distinct_gaps(rows), GAP_KEYS, ["school_year"], _gap_words("subgroup gaps")
        )
        return _with_mirrors(table, rows)

    return families.by_year(con, ("subgroup gap",), years, family)


def settle_quick_gaps(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, spec: CohortSpec
) -> pd.DataFrame:
    """A quick cohort's gaps with their fixed family's p_adj (school and grade named)."""
    if frame.empty:
        return frame
    school = frame["school"] if "school" in frame else spec.schools[0]
    grade = frame["grade"] if "grade" in frame else spec.grade[0]
    frame = frame.assign(cohort_school=school, cohort_grade=grade)
    years = frame["school_year"].unique()
    return _settle(frame, frame, lambda: gap_families(con, years), GAP_KEYS)


def change_families(con: duckdb.DuckDBPyConnection, latest: str, earlier: str) -> pd.DataFrame:
    """Every quick cohort's gap changes, `latest` vs `earlier`: one family."""

    def compute() -> pd.DataFrame:
        gaps = district_gaps(con)
        changed = gap_change(gaps, latest, earlier)
        words = _gap_words(f"gap changes since {earlier}")
        table = families.family_table(changed, GAP_KEYS, ["school_year"], words)
        return _with_mirrors(table, gaps[gaps["school_year"] == latest])

    return families.cached(con, ("gap change", latest, earlier), compute)


def widening_families(
    con: duckdb.DuckDBPyConnection, years: tuple[str, ...], earlier: str
) -> pd.DataFrame:
    """Every quick cohort's widening test over `years` (trend, else change since `earlier`)."""

    def compute() -> pd.DataFrame:
        gaps = district_gaps(con)
        tests = widening_tests(gaps[gaps["school_year"].isin(years)], years, earlier)
        tests = tests.assign(_family=max(years))
        words = _gap_words(f"gap trends {min(years)} to {max(years)}")
        table = families.family_table(tests, WIDENING_KEYS, ["_family"], words)
        return _with_mirrors(table, gaps[gaps["school_year"] == max(years)])

    return families.cached(con, ("gap widening", years, earlier), compute)
