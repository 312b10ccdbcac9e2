"""Small-cell suppression (FERPA): the one place that decides what may not be shown.

Every result table passes through `suppress` before it leaves core; subgroup tables also pass
through `complementary_suppress`, because when a total is shown, hiding one cell of a partition
is useless if the other cells give it away (total − rest = the hidden group).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

SUPPRESSED_NOTE = "fewer than {min_n} students — not reported to protect student privacy"


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
    for column in numeric:
        out[column] = out[column].astype("float64").mask(out["suppressed"])
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
