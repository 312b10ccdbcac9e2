"""Small-cell suppression (FERPA): the one place that decides what may not be shown.

Every result leaves core through this package. A number belongs to a **group of students** (the
members of a cohort row: one subject × season × year … of one spec), and a number is not shown
when its group, or a group a reader could work out from it and another number they can obtain,
holds 1 … min_n − 1 students:

* a group under the minimum (`suppress`);
* a subgroup, the rest and the total; school cells and their "All schools" total — partitions
  (`complementary_suppress`);
* a cohort and its filtered sub-cohort, asked separately: the cohort without any subset of its
  filters adds 0 or at least min_n students, else the filtered row is hidden (`complement_reasons`
  over the filter-mask counts of `core.stats.member_counts`); a row pooling grades / schools /
  years likewise against its parts;
* two cohorts shown in one answer (compare, a report): when one holds 1 … min_n − 1 students
  the other does not (`small_difference` of the membership counts), the comparison is hidden;
* counts of students left out (dropped, changed school, repeated a grade, without a norm):
  a count of 1 … min_n − 1 is not shown, nor a total it would turn into such a count
  (`hide_small_counts`, `hide_left_out`).

`core.stats.member_counts` holds the grouped SQL that counts the members those rules need.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

SUPPRESSED_NOTE = "fewer than {min_n} students — not reported to protect student privacy"
MAX_FULL_SUBSETS = 6  # up to 6 filters every subset is checked; beyond, drop-one and drop-all
NESTED_NOTE = (
    "the two cohorts differ by fewer than {min_n} students, whose results the two together would "
    "reveal — not reported to protect student privacy; compare cohorts that differ by more"
)
FILTER_NOTE = (
    "beside the same cohort{detail} (which anyone may ask for), these numbers would reveal a "
    "group of fewer than {min_n} students — not reported to protect student privacy; the wider "
    "cohort's results can be shown"
)
COUNT_NOTE = "fewer than {min_n}"


def suppress(
    df: pd.DataFrame,
    min_n: int,
    *,
    n_cols: Sequence[str] = ("n",),
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Mark rows where any of `n_cols` is under `min_n` and blank every numeric result there.

    Identifying columns (the cohort's name, grade, school…) listed in `keep` and all non-numeric
    columns stay, so the reader sees *which* cohort was suppressed and why, never its numbers."""
    out = df.copy()
    if out.empty:
        out["suppressed"] = pd.Series(dtype=bool)
        return out
    small = np.zeros(len(out), dtype=bool)
    for column in n_cols:
        small |= out[column].fillna(0).to_numpy() < min_n
    previous = out["suppressed"].to_numpy(dtype=bool) if "suppressed" in out else False
    out["suppressed"] = small | previous
    numeric = [
        c
        for c in out.columns
        if c not in keep and c != "suppressed" and pd.api.types.is_numeric_dtype(out[c])
    ]
    if numeric:  # one block operation: wide tables (growth has ~40 columns) stay fast
        values = out[numeric].to_numpy(dtype="float64", na_value=np.nan, copy=True)
        values[out["suppressed"].to_numpy(dtype=bool)] = np.nan
        out[numeric] = pd.DataFrame(values, index=out.index, columns=numeric)
    return out


def complementary_suppress(
    df: pd.DataFrame,
    partition: Sequence[str],
    min_n: int,
    *,
    size_col: str = "n",
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Within each partition (the cells that add up to a shown total), when exactly one cell is
    suppressed, suppress the next-smallest cell too, so no subtraction recovers the hidden one.

    `size_col` must still hold the true sizes (call this before `suppress` blanks them)."""
    out = df.copy()
    if out.empty:
        return suppress(out, min_n, n_cols=(size_col,), keep=keep)
    sizes = out[size_col].fillna(0)
    small = sizes < min_n
    if "suppressed" in out:
        small |= out["suppressed"].astype(bool)
    keys = list(partition)
    hidden = small.groupby([out[k] for k in keys]).transform("sum")
    cells = small.groupby([out[k] for k in keys]).transform("size")
    candidate_size = sizes.where(~small, np.inf)
    smallest_visible = candidate_size.groupby([out[k] for k in keys]).transform("min")
    second = (hidden == 1) & (cells > 1) & ~small & (candidate_size == smallest_visible)
    # Ties would otherwise suppress several cells; one is enough, the first in table order.
    second &= ~second.groupby([out[k] for k in keys]).cumsum().gt(1)
    out["suppressed"] = small | second
    return suppress(out, min_n, n_cols=(), keep=keep)


def small_difference(values: object, min_n: int) -> np.ndarray:
    """True where a count of students left out / added is 1 … min_n − 1 (0 reveals nothing)."""
    array = np.nan_to_num(np.asarray(values, dtype="float64"), nan=0.0)
    return (array > 0) & (array < min_n)


def nested_pair_hidden(n_a: object, n_b: object, overlap: object, min_n: int) -> np.ndarray:
    """Two cohorts shown together (per row): the members of A not in B, or of B not in A, form a
    group a reader can work out when one nests in the other; 1 … min_n − 1 of them hides both."""
    a, b, shared = (np.nan_to_num(np.asarray(v, dtype="float64")) for v in (n_a, n_b, overlap))
    return small_difference(a - shared, min_n) | small_difference(b - shared, min_n)


def hide_small_counts(
    frame: pd.DataFrame, total: str, parts: Sequence[str], min_n: int
) -> pd.DataFrame:
    """Counts of students within a shown `total` (changed school, repeated a grade): a part is
    blanked when it, or the total minus it (the students it leaves out), is 1 … min_n − 1."""
    out = frame.copy()
    sizes = out[total].astype("float64")
    for part in parts:
        values = out[part].astype("float64")
        out[part] = values.mask(
            small_difference(values, min_n) | small_difference(sizes - values, min_n)
        )
    return out


def hide_left_out(
    frame: pd.DataFrame, total: str, left_out: str, min_n: int, also: object = False
) -> pd.DataFrame:
    """`total` = the shown statistics' n + `left_out` (members = matched + dropped): a left-out
    count of 1 … min_n − 1 (or where `also` says so) is blanked, and the total with it, since
    total − n would give it back."""
    out = frame.copy()
    hidden = small_difference(out[left_out], min_n) | np.asarray(also, dtype=bool)
    out[left_out] = out[left_out].astype("float64").mask(hidden)
    out[total] = out[total].astype("float64").mask(hidden)
    return out


def filter_subsets(k: int) -> list[int]:
    """Masks of the filter subsets a reader could also request (the full set excluded)."""
    full = (1 << k) - 1
    if k == 0:
        return []
    if k <= MAX_FULL_SUBSETS:
        return list(range(full))
    return [0] + [full & ~(1 << bit) for bit in range(k)]


def complement_reasons(
    cells: pd.DataFrame,
    parts: dict[str, pd.DataFrame],
    filters: Sequence[Sequence[str]],
    keys: list[str],
    min_n: int,
    size_col: str = "n",
) -> pd.Series:
    """Why each row must be hidden although it is big enough ('' when it may be shown), indexed
    by `keys` (starting with cohort_index). `cells` holds counts (`size_col`) per row × filter
    `mask` (several cells of one row × mask add up) with `full` the mask of a member; `parts` the
    member counts of a pooled row's grades / schools / years; `filters[i]`: cohort i's filter
    names, in bit order.

    Rule 1 (filters): for every subset of the cohort's filters a reader could also request, the
    cohort with only that subset holds the members plus a complement; if any complement has 1 …
    min_n − 1 students, the row is hidden (Grade 3 Lincoln n = 50 and Grade 3 Lincoln,
    ELL = false n = 45 would reveal ELL = true, n = 5: the second is not shown).
    Rule 2 (pooled rows): a row pooling several grades / schools / years holds parts a reader can
    request one by one; if the parts under min_n add up to 1 … min_n − 1 students, the pooled row
    minus the reportable parts would reveal them, so it is hidden.
    Rule 3 (pooled filtered rows): when `parts` carry a `mask` (counts per part × filter mask),
    a part whose own filter complement has 1 … min_n − 1 students (and which holds at least
    min_n without those filters, so a reader has it to subtract from) hides the row — the row
    minus the other parts gives that part filtered, and beside the part unfiltered, the few
    (Lincoln + Roosevelt not ELL − Roosevelt not ELL = Lincoln not ELL; Lincoln − that = its 6
    ELL students)."""
    group = cells.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(group, return_index=True)[1]
    index = pd.MultiIndex.from_frame(cells[keys].iloc[first]) if len(first) else None
    reasons = np.full(len(first), "", dtype=object)
    if index is None or (not parts and not any(filters)):
        return pd.Series(reasons, index=index, dtype="object")  # nothing a reader could subtract
    masks = cells["mask"].to_numpy(dtype="int64")
    sizes = cells[size_col].to_numpy(dtype="float64")
    members = np.bincount(group, sizes * (masks == cells["full"].to_numpy()), len(first))
    cohort = cells["cohort_index"].to_numpy()[first]
    for position, names in enumerate(filters):
        for required in filter_subsets(len(names)):
            held = np.bincount(group, sizes * ((masks & required) == required), len(first))
            small = (cohort == position) & small_difference(held - members, min_n)
            dropped = [n for bit, n in enumerate(names) if not (required >> bit) & 1]
            reasons[small] = f" without the filter(s) {', '.join(dropped)}"
    for dim, frame in parts.items():
        member = frame[frame["mask"] == frame["full"]] if "mask" in frame else frame
        sized = member[small_difference(member[size_col], min_n)]
        small = sized.groupby(keys)[size_col].sum().reindex(index).fillna(0)
        revealed = small_difference(small, min_n) & (reasons == "")
        reasons[revealed] = f" split by {dim.replace('_', ' ')}"
        if "mask" in frame:
            found = _part_complements(frame, filters, [*keys, dim], min_n, size_col)
            found = found.groupby(level=list(range(len(keys)))).agg("max")
            found = found.reindex(index).fillna("").to_numpy(dtype=object)
            revealed = (found != "") & (reasons == "")
            reasons[revealed] = [f"{part_words(dim)}{r}" for r in found[revealed]]
    return pd.Series(reasons, index=index, dtype="object")


def part_words(dim: str) -> str:
    """How a pooled row's parts are asked for one at a time (" school by school")."""
    word = dim.replace("_", " ")
    return f" {word} by {word}"


def _part_complements(
    frame: pd.DataFrame, filters: Sequence[Sequence[str]], keys: list[str], min_n: int, size: str
) -> pd.Series:
    """Per part (`keys` ending with the pooled dim): '' or the filters whose dropping leaves out
    1 … min_n − 1 of that part's students. The pooled row minus the other parts (each asked for
    alone) gives the part's filtered numbers, and beside the part unfiltered, that small group."""
    sizes = frame[size].to_numpy(dtype="float64")
    masks = frame["mask"].to_numpy(dtype="int64")
    cohort = frame["cohort_index"].to_numpy()
    grouped = frame.assign(_member=sizes * (masks == frame["full"].to_numpy()))
    reasons = pd.Series("", index=grouped.groupby(keys, sort=False).size().index, dtype=object)
    for position, names in enumerate(filters):
        for required in filter_subsets(len(names)):
            held = grouped.assign(_held=sizes * ((masks & required) == required))
            mine = held[cohort == position].groupby(keys, sort=False)[["_held", "_member"]].sum()
            small = small_difference(mine["_held"] - mine["_member"], min_n)
            small &= (mine["_held"] >= min_n).to_numpy()  # else not shown unfiltered: rule 2
            dropped = [n for bit, n in enumerate(names) if not (required >> bit) & 1]
            reasons.loc[mine.index[small]] = f" without the filter(s) {', '.join(dropped)}"
    return reasons


def hide_rows(
    frame: pd.DataFrame,
    hidden: object,
    notes: object,
    min_n: int,
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """Suppress the rows flagged `hidden` (statistics blank, `suppressed` true) with `notes` as
    their `note` — rows already suppressed keep theirs."""
    flag = np.asarray(hidden, dtype=bool)
    if not flag.any():
        return frame
    out = frame.copy()
    before = (
        out["suppressed"].to_numpy(dtype=bool) if "suppressed" in out else np.zeros(len(out), bool)
    )
    fresh = flag & ~before
    note = out["note"] if "note" in out else pd.Series("", index=out.index)
    texts = np.asarray(notes, dtype=object) if np.ndim(notes) else np.full(len(out), notes, object)
    out["note"] = pd.Series(np.where(fresh, texts, note.to_numpy(dtype=object)), index=out.index)
    out["note"] = out["note"].astype(note.dtype)
    out["suppressed"] = before | flag
    return suppress(out, min_n, n_cols=(), keep=keep)


SIBLING_NOTE = (
    "not reported: another school's cell of this total is hidden to protect student privacy, "
    "and this one with the total would give it back"
)


def with_siblings(frame: pd.DataFrame, hidden: object, partition: Sequence[str]) -> np.ndarray:
    """Cells of a partition (the schools of one "All schools" total) hidden together: once one
    is hidden for what its filters leave out, the total minus the others would give its numbers
    back, and beside the same cells without the filters, the students left out."""
    flag = pd.Series(np.asarray(hidden, dtype=bool), index=frame.index)
    return flag.groupby([frame[k] for k in partition]).transform("any").to_numpy(dtype=bool)
