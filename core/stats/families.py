"""Fixed false-discovery families, so a quick cohort has one verdict wherever it is asked.

Benjamini–Hochberg adjusts a p-value for the other tests of its *family*. When the family is
"whatever rows were returned together", one cohort gets a different adjusted p on every page
(on the demo, Lincoln K reading is Below among the 180 cohorts of its year and not Below when
asked alone), and a principal reads two verdicts. So the family is fixed in advance:

* A **quick cohort** is one school year × one school × one grade (× subject × season) with no
  student filters, read by anyone who sees the whole school (a teacher scoped to sections sees a
  part of it, which is another cohort). Its family is every quick cohort of the district in that
  school year for the same comparison kind — computed over the whole district whatever the
  caller's scope, so a principal and the district admin read the same p_adj and verdict. Only
  the rows the caller may see are returned; no other school's number leaves core.
* A **district grade cohort** (one year × one grade, every school, no filters, district-wide
  scope: the "All schools" rows of the grids behind Home's alerts) is, for the comparisons with
  an earlier year and of % proficient, in the same family as the quick cohorts of its year —
  the cells Home's alerts screen together. Against the norm it is a custom row.
* Any other (**custom**) row is adjusted among the custom rows returned with it, and says so.
* Cells under the minimum group size on either side are not tested, so they are in no family.

Every settled row carries `p_adj`, `significant_bh`, `bh_family` (the family in words) and
`bh_family_size`. Family tables are cached per warehouse state
(`core.warehouse.db.data_version`): a page or CLI call pays the district-wide query once per
import, not once per call.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.stats import inference
from core.warehouse import db

QUICK_KEYS = ["school_year", "school", "grade", "subject", "season"]
FAMILY_COLUMNS = ["p_adj", "bh_family", "bh_family_size"]
KINDS = {
    "vs_norm": "compared with the norm",
    "vs_prior": "compared with the same grade {k} earlier",
    "proficiency": "% proficient compared with the same grade {k} earlier",
}
MAX_TABLES = 512  # family tables kept per warehouse state (years × kinds; a few MB at most)

_LOCK = threading.Lock()
_BY_PATH: dict[str, dict[tuple, pd.DataFrame]] = {}
_BY_CONNECTION: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def quick_spec(spec: CohortSpec, scope: Scope, by: Sequence[str] = ()) -> bool:
    """True when every row of `spec`'s result is one quick cohort: no filters, a scope that sees
    whole schools, and school year, school and grade each named once or split by (`by`)."""
    if spec.filters or scope.sections is not None:
        return False
    named = {"school_year": spec.school_year, "school": spec.schools, "grade": spec.grade}
    return all(dim in by or len(values) == 1 for dim, values in named.items())


def district_rows(spec: CohortSpec, scope: Scope) -> bool:
    """True when a grid's "All schools" rows are the whole district's grade cohorts."""
    return scope.is_everything and not spec.filters and not spec.schools


def _store(con: duckdb.DuckDBPyConnection) -> dict[tuple, pd.DataFrame]:
    """The family tables of this warehouse: by file path (every page run opens its own
    connection), or by connection for an in-memory warehouse."""
    path = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()[0]
    with _LOCK:
        if path:
            return _BY_PATH.setdefault(str(path), {})
        return _BY_CONNECTION.setdefault(con, {})


def cached(
    con: duckdb.DuckDBPyConnection, key: tuple, compute: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """`compute()` once per warehouse state (imports, settings and standards change it); the
    tables of an earlier state are dropped when a newer one is stored."""
    store = _store(con)
    version = db.data_version(con)
    full = (version, *key)
    with _LOCK:
        found = store.get(full)
    if found is None:
        found = compute()
        with _LOCK:
            stale = [k for k in store if k[0] != version]
            for old in stale if stale or len(store) < MAX_TABLES else list(store):
                store.pop(old, None)
            store[full] = found
    return found


def by_year(
    con: duckdb.DuckDBPyConnection,
    key: tuple,
    years: Sequence[str],
    compute: Callable[[str, pd.DataFrame | None], pd.DataFrame],
    held: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """The family tables of `years`: from `held` (the whole district's rows already in hand, so
    no query at all) for the years it holds, else each year cached on its own (a page of one
    year pays for one). `compute(year, rows of that year in hand or None)`."""
    parts = []
    in_hand = set() if held is None else set(held["school_year"])
    for year in sorted(set(years)):
        if year in in_hand:
            parts.append(compute(year, held[held["school_year"] == year]))
        else:
            parts.append(cached(con, (*key, year), lambda y=year: compute(y, None)))
    return pd.concat(parts, ignore_index=True) if parts else None


def covers_years(spec: CohortSpec) -> bool:
    """True when `spec` limits nothing but school years: split by year, school and grade within
    the whole district, its rows are whole families."""
    return spec.replace(name=None) == CohortSpec(school_year=spec.school_year)


def kind_words(kind: str, years_back: int | None = None) -> str:
    back = "a year" if years_back == 1 else f"{years_back} years"
    return KINDS[kind].format(k=back)


def family_table(
    tests: pd.DataFrame, keys: Sequence[str], groups: Sequence[str], describe: Callable[[Any], str]
) -> pd.DataFrame:
    """`keys` → adjusted p of every tested row of `tests` (p finite), one BH family per value of
    `groups`; `describe(group values, size)` names the family in words."""
    tested = tests[np.isfinite(tests["p"].to_numpy(dtype="float64"))]
    p = tested["p"].to_numpy(dtype="float64")
    p_adj, size = np.full(len(p), np.nan), np.zeros(len(p))
    family = np.full(len(p), "", dtype=object)
    for group, where in tested.groupby(list(groups), sort=False).indices.items():
        named = group if isinstance(group, tuple) else (group,)
        p_adj[where] = inference.benjamini_hochberg(p[where])[0]
        family[where], size[where] = describe(named, len(where)), len(where)
    out = {k: tested[k].to_numpy() for k in keys}
    return pd.DataFrame({**out, "p_adj": p_adj, "bh_family": family, "bh_family_size": size})


def quick_family_words(level: str, year: str, size: int, kind: str, years_back: int | None) -> str:
    """ "all 180 quick cohorts (grade × school) of the district in 2024-2025, compared with …" """
    what = {
        "school": "quick cohorts (grade × school) of the district",
        "both": "quick cohorts (grade × school) and district-wide grade cohorts",
    }[level]
    return f"all {size} {what} in {year}, {kind_words(kind, years_back)}"


def settle(
    rows: pd.DataFrame,
    fixed_rows: np.ndarray,
    fixed: pd.DataFrame | None,
    keys: Sequence[str],
    *,
    per: str | None = None,
    alpha: float = 0.05,
    describe: Callable[[Any, int], str] | None = None,
) -> pd.DataFrame:
    """p_adj, significant_bh, bh_family, bh_family_size of every row: rows marked in
    `fixed_rows` take their fixed family's values (`fixed`, matched on `keys`); the others are
    adjusted among themselves (per value of `per`: each cohort of a batch is its own page;
    `describe(value of per, size)` names such a family when it is a fixed one held whole)."""
    p = rows["p"].to_numpy(dtype="float64")
    tested = np.isfinite(p)
    p_adj, size = np.full(len(rows), np.nan), np.zeros(len(rows))
    family = np.full(len(rows), "", dtype=object)
    found = np.zeros(len(rows), dtype=bool)
    if fixed is not None and len(fixed) and (fixed_rows & tested).any():
        where = pd.MultiIndex.from_frame(fixed[list(keys)].astype(object))
        asked = pd.MultiIndex.from_frame(rows[list(keys)].astype(object))
        position = where.get_indexer(asked)
        found = fixed_rows & tested & (position >= 0)
        at = position[found]
        p_adj[found] = fixed["p_adj"].to_numpy(dtype="float64")[at]
        family[found] = fixed["bh_family"].to_numpy(dtype=object)[at]
        size[found] = fixed["bh_family_size"].to_numpy(dtype="float64")[at]
    own = tested & ~found
    groups = rows[per].to_numpy() if per else np.zeros(len(rows))
    for value in pd.unique(groups[own]):
        chosen = own & (groups == value)
        p_adj[chosen] = inference.benjamini_hochberg(p[chosen])[0]
        words = describe((value,), int(chosen.sum())) if describe else None
        family[chosen] = words or custom_words(int(chosen.sum()))
        size[chosen] = chosen.sum()
    return rows.assign(
        p_adj=p_adj,
        significant_bh=np.where(np.isfinite(p_adj), p_adj <= alpha, False),
        bh_family=family,
        bh_family_size=np.where(size > 0, size, np.nan),
    )


def custom_words(size: int) -> str:
    """A custom row's family: the comparisons returned with it (a batch: its own cohort's)."""
    return f"adjusted among the {size} comparison(s) shown together"


def family_caption(df: pd.DataFrame) -> str:
    """One sentence for a page: which families the adjusted p-values of `df` come from."""
    if "bh_family" not in df:
        return ""
    named = [f for f in pd.unique(df["bh_family"].dropna()) if f]
    if not named:
        return ""
    if len(named) > 3:
        return (
            f"Adjusted p (BH) comes from {len(named)} families; the “BH family” column names "
            "each. A quick cohort's family is fixed, so its verdict is the same on every page."
        )
    return "Adjusted p (BH): " + "; ".join(named) + "."
