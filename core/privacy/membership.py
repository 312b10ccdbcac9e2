"""The member counts the privacy rules need, in grouped SQL (core.privacy says the rules).

A filtered cohort's numbers, next to the same cohort without some of its filters (which anyone
may ask for), reveal the students the filters leave out. So each result row is checked against
**the cohort without its filters**: one grouped query counts that wider cohort's test events per
row key × filter mask (bit i set when the student passes filter i) × grade / school / year, and
`core.privacy.complement_reasons` finds the rows whose complements hold 1 … min_n − 1 students.
The events follow the comparisons' rules (`core.sufficient_stats.scores_cte`: scope, one platform
per subject), so the counts are those of the very rows the answer shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pandas as pd

from core.cohorts import MEMBER_FROM, CohortSpec, spec_predicate
from core.privacy import complement_reasons
from core.scope import DISTRICT, Scope
from core.sufficient_stats import PLATFORMS_CTE, SCORE_COLUMNS, prefixed

PART_DIMS = {"school_year": "school_year", "school": "schools", "grade": "grade"}
MEMBERS = {"n": "count(*)"}


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
               {(1 << len(spec.filters)) - 1} as full
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
    base = ", ".join(f"m.{c}" for c in ["cohort_index", *keys, "mask", "full"])
    part = " ".join(f"when grouping(m.{d}) = 0 then '{d}'" for d in dims)
    sets = ", ".join([f"({base})", *(f"({base}, m.{d})" for d in dims)])
    aggregates = ", ".join(f"({expr})::double as {name}" for name, expr in measures.items())
    # grain: one row per row key × mask, and per row key × part (members only) of each dim
    sql = f"""
        with {PLATFORMS_CTE}, masked as ({" union all ".join(parts)}){", " + ctes if ctes else ""}
        select {base}, {"".join(f"m.{d}, " for d in dims)}
               {f"case {part} end" if dims else "null"}::varchar as part_dim, {aggregates}
        from masked m {joins}
        group by grouping sets ({sets})
        having part_dim is null or m.mask = m.full
    """
    raw = con.execute(sql, bound).df()
    filters = [[name for name, _ in spec.filters] for spec in specs]
    return _reasons(raw, filters, ["cohort_index", *keys], dims, list(measures), min_n)


def _reasons(
    raw: pd.DataFrame,
    filters: list[list[str]],
    keys: list[str],
    dims: list[str],
    measures: list[str],
    min_n: int,
) -> pd.DataFrame:
    cells = raw[raw["part_dim"].isna()]
    parts = {dim: raw[raw["part_dim"] == dim] for dim in dims}
    found = {
        measure: complement_reasons(cells, parts, filters, keys, min_n, size_col=measure)
        for measure in measures
    }
    return pd.DataFrame(found)


def reasons_for(
    frame: pd.DataFrame, hidden: pd.DataFrame | None, keys: Sequence[str], measure: str = "n"
) -> pd.Series:
    """The reasons of `hidden` aligned with `frame`'s rows ('' where none or not found)."""
    if hidden is None or hidden.empty or frame.empty:
        return pd.Series("", index=frame.index, dtype="object")
    index = pd.MultiIndex.from_frame(frame[list(keys)])
    found = hidden[measure].reindex(index).fillna("").to_numpy(dtype=object)
    return pd.Series(found, index=frame.index, dtype="object")
