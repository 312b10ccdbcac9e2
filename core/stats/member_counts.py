"""The member counts the privacy rules need, in grouped SQL (core.stats.suppression says the
rules).

A filtered cohort's numbers, next to the same cohort without some of its filters (which anyone
may ask for), reveal the students the filters leave out. So each result row is checked against
**the cohort without its filters**: one grouped query counts that wider cohort's test events per
row key × filter mask (bit i set when the student passes filter i) × grade / school / year, and
`core.stats.suppression.complement_reasons` finds the rows whose complements hold 1 … min_n − 1
students.
The events follow the comparisons' rules (`core.stats.sufficient.scores_cte`: scope, one platform
per subject), so the counts are those of the very rows the answer shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import (
    BOOLEAN_ATTRIBUTES,
    MEMBER_FROM,
    TEXT_ATTRIBUTES,
    CohortSpec,
    spec_predicate,
)
from core.stats.sufficient import PLATFORMS_CTE, SCORE_COLUMNS, prefixed, scores_union_cte
from core.stats.suppression import filter_subsets, nested_pair_hidden, part_words

PART_DIMS = {"school_year": "school_year", "school": "schools", "grade": "grade"}
MEMBERS = {"n": "count(*)"}
PER_PART = 1 << 16  # codes of the part rule: PER_PART × (dim + 1) + filter subset + 1

SCHOOL_FROM = "assessments a join schools sc on sc.school_id = a.school_id"
STUDENT_COLUMNS = (*BOOLEAN_ATTRIBUTES, *TEXT_ATTRIBUTES)


def filter_mask(spec: CohortSpec) -> tuple[str, dict[str, Any]]:
    """The spec's filters as one integer column expression over `a` / `st` (bit i set when the
    event's student passes filter i), so the cohort without its filters is in the same scan."""
    bits, params = [], {}
    for bit, (name, values) in enumerate(spec.filters):
        clause, bound = spec_predicate(CohortSpec(filters=((name, values),)), DISTRICT)
        clause, bound = prefixed(clause, bound, f"k{bit}_")
        bits.append(f"(case when {clause} then {1 << bit} else 0 end)")
        params.update(bound)
    return " + ".join(bits) or "0", params


def masked_scores_sql(
    index: int, spec: CohortSpec, scope: Scope, *, skip: tuple[str, ...] = ()
) -> tuple[str, dict[str, Any]]:
    """Grain: one row per test event of the cohort *without its filters* (scope, platform rule
    and every other part of the spec applied), with `mask` (all bits set = a member)."""
    where, params = spec_predicate(dataclasses.replace(spec, filters=()), scope, skip=skip)
    mask, bound = filter_mask(spec)
    sql = f"""
        select {index} as cohort_index, {SCORE_COLUMNS}, {mask} as mask,
               {(1 << len(spec.filters)) - 1} as full_mask
        from {MEMBER_FROM}
        join platforms pl on pl.subject = a.subject and pl.platform = a.platform
        where {where}"""
    return prefixed(sql, {**params, **bound}, f"m{index}_")


def _pooled_dims(specs: Sequence[CohortSpec], keys: Sequence[str], skip: Sequence[str]) -> list:
    """Grade / school / year a row pools (not a key, not pinned to one value by every spec)."""
    return [
        dim
        for dim, attr in PART_DIMS.items()
        if dim not in keys and any(dim in skip or len(getattr(s, attr)) != 1 for s in specs)
    ]


def complement_hidden(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    keys: Sequence[str],
    min_n: int,
    *,
    skip: tuple[str, ...] = (),
    measures: Mapping[str, str] = MEMBERS,
    ctes: str = "",
    joins: str = "",
    params: Mapping[str, Any] | None = None,
) -> pd.DataFrame | None:
    """Why each row (cohort_index × `keys`) must not be shown: one column per measure, '' where
    it may. None when nothing could be subtracted (no filters, nothing pooled).

    `measures` are aggregates over the events `m` (default: members); `ctes` / `joins` let a
    caller count something else per member (growth: matched at the earlier test)."""
    dims = _pooled_dims(specs, keys, skip)
    if not dims and not any(spec.filters for spec in specs):
        return None
    parts, bound = [], dict(params or {})
    for index, spec in enumerate(specs):
        sql, more = masked_scores_sql(index, spec, scope, skip=skip)
        parts.append(sql)
        bound.update(more)
    base = ", ".join(f"m.{c}" for c in ["cohort_index", *keys, "mask", "full_mask"])
    part = " ".join(f"when grouping(m.{d}) = 0 then '{d}'" for d in dims)
    sets = ", ".join([f"({base})", *(f"({base}, m.{d})" for d in dims)])
    aggregates = ", ".join(f"({expr})::double as {name}" for name, expr in measures.items())
    filters = [[name for name, _ in spec.filters] for spec in specs]
    subsets = sorted({r for names in filters for r in filter_subsets(len(names))}, reverse=True)
    outer = ", ".join(f"m.{c}" for c in ["cohort_index", *keys])
    # grain: one row per row key × mask, and per row key × part × mask of each pooled dim …
    sql = f"""
        with {PLATFORMS_CTE}, masked as ({" union all ".join(parts)}){", " + ctes if ctes else ""}
        select {base}, {"".join(f"m.{d}, " for d in dims)}
               {f"case {part} end" if dims else "null"}::varchar as part_dim, {aggregates}
        from masked m {joins}
        group by grouping sets ({sets})
    """
    # … then one per row key (part_dim null) and per row key × part: members and, per filter
    # subset a reader could request, the students that subset holds
    held = ", ".join(
        column
        for m in measures
        for column in [
            f"sum({m}) filter (where mask = full_mask) as member_{m}",
            *(f"sum({m}) filter (where (mask & {r}) = {r}) as held_{m}_{r}" for r in subsets),
        ]
    )
    level = ", ".join([outer, "m.part_dim", *(f"m.{d}" for d in dims)])
    decide = _decisions(filters, dims, list(measures))
    bound["privacy_min_n"] = min_n
    raw = con.execute(
        f"with cells as ({sql}), pieces as (select {level}, {held} from cells m group by {level})"
        f" select {outer}, {decide} from pieces m group by {outer}",
        bound,
    ).df()
    return _reasons(raw, filters, ["cohort_index", *keys], dims, list(measures))


def _decisions(filters: list[list[str]], dims: list[str], measures: list[str]) -> str:
    """SQL over the pieces of one row key (the row, and each part of a pooled dim): per measure,
    a code for why the row is hidden (0: shown; r + 1: the complement of filter subset r has
    1 … min − 1; −(d + 1): the small parts of pooled dim d add up to 1 … min − 1; PER_PART ×
    (d + 1) + r + 1: one part of dim d without filter subset r leaves out 1 … min − 1, which the
    row minus the other parts (each asked for alone) would reveal). Rule 1, then the parts."""
    small = "between 1 and $privacy_min_n - 1"
    subsets = sorted({r for names in filters for r in filter_subsets(len(names))}, reverse=True)
    out = []
    for m in measures:
        cases = []
        for r in subsets:
            owners = [i for i, names in enumerate(filters) if r in filter_subsets(len(names))]
            mine = f"cohort_index in ({', '.join(map(str, owners))})"
            complement = f"held_{m}_{r} - member_{m}"
            cases.append(
                f"when {mine} and max({complement}) filter (where part_dim is null) "
                f"{small} then {r + 1}"
            )
            # a part too small to be shown unfiltered gives nothing to subtract from (rule 2)
            shown = f"held_{m}_{r} >= $privacy_min_n"
            cases += [
                f"when {mine} and bool_or({complement} {small} and {shown}) filter (where "
                f"part_dim = '{dim}') then {PER_PART * (d + 1) + r + 1}"
                for d, dim in enumerate(dims)
            ]
        for d, dim in enumerate(dims):
            parts = f"sum(member_{m}) filter (where part_dim = '{dim}' and member_{m} {small})"
            cases.append(f"when coalesce({parts}, 0) {small} then {-(d + 1)}")
        out.append(f"case {' '.join(cases)} else 0 end as code_{m}" if cases else f"0 as code_{m}")
    return ", ".join(out)


def _reasons(
    raw: pd.DataFrame, filters: list[list[str]], keys: list[str], dims: list[str], measures: list
) -> pd.DataFrame:
    """The codes of `_decisions` in words, indexed by `keys`."""
    index = pd.MultiIndex.from_frame(raw[keys])
    cohort = raw["cohort_index"].to_numpy()
    found = {}
    for m in measures:
        codes = raw[f"code_{m}"].to_numpy()
        text = np.full(len(raw), "", dtype=object)
        for i, code in {(int(c), int(k)) for c, k in zip(cohort, codes, strict=True) if k}:
            if code > 0:
                dim, subset = divmod(code - 1, PER_PART)
                names = [n for bit, n in enumerate(filters[i]) if not (subset >> bit) & 1]
                reason = f"{part_words(dims[dim - 1]) if dim else ''} without the filter(s) "
                reason += ", ".join(names)
            else:
                reason = f" split by {dims[-code - 1].replace('_', ' ')}"
            text[(cohort == i) & (codes == code)] = reason
        found[m] = text
    return pd.DataFrame(found, index=index, dtype="object")


def reasons_for(
    frame: pd.DataFrame, hidden: pd.DataFrame | None, keys: Sequence[str], measure: str = "n"
) -> pd.Series:
    """The reasons of `hidden` aligned with `frame`'s rows ('' where none or not found)."""
    if hidden is None or hidden.empty or frame.empty:
        return pd.Series("", index=frame.index, dtype="object")
    index = pd.MultiIndex.from_frame(frame[list(keys)])
    found = hidden[measure].reindex(index).fillna("").to_numpy(dtype=object)
    return pd.Series(found, index=frame.index, dtype="object")


# ---------------------------------------------------------------- cohorts shown together

PAIR_KEYS = ["school_year", "school", "grade", "subject", "season"]
PAIR_LEVELS = (PAIR_KEYS, ["school_year", "subject", "season"])  # table rows; pooled rows
SPEC_DIMS = ("grade", "subject", "season", "schools")


def _disjoint(a: CohortSpec, b: CohortSpec) -> bool:
    """Two specs that can hold no common test event (they pin different grades, schools …)."""
    for dim in SPEC_DIMS:
        mine, theirs = set(getattr(a, dim)), set(getattr(b, dim))
        if mine and theirs and not mine & theirs:
            return True
    wanted = b.filter_dict
    return any(name in wanted and not set(values) & set(wanted[name]) for name, values in a.filters)


def nested_withheld(
    con: duckdb.DuckDBPyConnection, specs: Sequence[CohortSpec], scope: Scope, min_n: int
) -> dict[int, str]:
    """Cohorts that must not be shown beside the others of one answer (a report): for every
    pair sharing students, per row (year × school × grade × subject × season, and per year ×
    subject × season), the members of one not in the other must be 0 or at least min_n; else
    the smaller cohort is withheld. Every school year counts (prior years, trend). Returns
    {cohort position: the other cohort's label}."""
    width = len(specs)
    pairs = [
        i * width + j
        for i in range(width)
        for j in range(i + 1, width)
        if not _disjoint(specs[i], specs[j])
    ]
    if not pairs:
        return {}
    every_year = [spec.replace(school_year=None) for spec in specs]
    union, params = scores_union_cte(every_year, scope)
    keys = ", ".join(PAIR_KEYS)
    sql = f"""
        with {PLATFORMS_CTE}, {union},
        sizes as (select cohort_index, {keys}, count(*)::double as n from scores group by all),
        shared as (
            select a.cohort_index as i, b.cohort_index as j,
                   {", ".join(f"a.{k}" for k in PAIR_KEYS)}, count(*)::double as shared
            from scores a join scores b
                on a.student_id = b.student_id and a.subject = b.subject
                and a.season = b.season and a.school_year = b.school_year
                and a.cohort_index < b.cohort_index
            where list_contains($pairs, a.cohort_index * $width + b.cohort_index)
            group by all
        )
        select 'shared' as kind, i, j, {keys}, shared as n from shared
        union all
        select 'size', cohort_index, null, {keys}, n from sizes
    """
    raw = con.execute(sql, {**params, "pairs": pairs, "width": width}).df()
    return _withheld(raw, [s.label() for s in specs], min_n)


def _withheld(raw: pd.DataFrame, labels: list[str], min_n: int) -> dict[int, str]:
    sizes = raw[raw["kind"] == "size"].rename(columns={"i": "cohort_index"})
    shared = raw[raw["kind"] == "shared"]
    withheld: dict[int, str] = {}
    for level in PAIR_LEVELS:
        n = sizes.groupby(["cohort_index", *level])["n"].sum()
        both = shared.groupby(["i", "j", *level], as_index=False)["n"].sum()
        n_i = n.reindex(pd.MultiIndex.from_frame(both[["i", *level]])).to_numpy()
        n_j = n.reindex(pd.MultiIndex.from_frame(both[["j", *level]])).to_numpy()
        leaks = nested_pair_hidden(n_i, n_j, both["n"], min_n)
        for (i, j), smaller_i in zip(
            both.loc[leaks, ["i", "j"]].itertuples(index=False, name=None),
            (n_i <= n_j)[leaks],
            strict=True,
        ):
            i, j = int(i), int(j)
            if i in withheld or j in withheld:
                continue
            hide, other = (i, j) if smaller_i else (j, i)
            withheld[hide] = labels[other]
    return withheld


def members_sql(index: int, spec: CohortSpec, scope: Scope) -> tuple[str, dict]:
    """Grain: one row per test event of the cohort *without its filters*; `mask` has bit i set
    when the event's student passes filter i (all bits set = a member)."""
    # The filters become the mask's bits below; the WHERE keeps every other part of the spec.
    where, params = spec_predicate(dataclasses.replace(spec, filters=()), scope)
    mask, bound = filter_mask(spec)
    params.update(bound)
    # The students join costs a third of the scan; only yes/no and text filters read it.
    needs_students = any(name in STUDENT_COLUMNS for name, _ in spec.filters)
    sql = f"""
        select {index} as cohort_index, a.student_id, a.platform, a.subject, a.school_year,
               a.season, a.grade, sc.name as school, a.score, a.percentile,
               {mask} as mask
        from {MEMBER_FROM if needs_students else SCHOOL_FROM}
        join platforms pl on pl.subject = a.subject and pl.platform = a.platform
        where {where}
    """
    return prefixed(sql, params, f"c{index}_")
