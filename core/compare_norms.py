"""The norms the comparisons area needs, asked of `core.norms` (the standards area owns loading).

Comparisons need three things from the standards: the achievement norm (mean, sd) of a subject ×
grade × season, the proficiency threshold (a cut score when the district loaded one, else the
norm mean — the 50th percentile of a symmetric norm distribution), and expected growth between two
test events. This module turns those per-key answers into small DataFrames that queries join
against, so a district-wide query still runs once. Nothing here loads or invents a norm: where
`core.norms` has no answer the value is missing and pages say so.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core import canonical

NORM_COLUMNS = ["subject", "grade", "season", "norm_mean", "norm_sd", "cut_score", "norm_source"]


def _norms_module() -> ModuleType | None:
    try:
        return importlib.import_module("core.norms")
    except ModuleNotFoundError:
        return None


def _field(answer: Any, *names: str) -> Any:
    """Read a value from whatever core.norms returns (dataclass, dict or (mean, sd) tuple)."""
    if answer is None:
        return None
    for name in names:
        if isinstance(answer, dict) and answer.get(name) is not None:
            return answer[name]
        if getattr(answer, name, None) is not None:
            return getattr(answer, name)
    return None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def norm_row(con: duckdb.DuckDBPyConnection, subject: str, grade: str, season: str) -> dict:
    """One key's norm mean/sd, proficiency cut and source (None where the standards have none)."""
    module = _norms_module()
    row: dict[str, Any] = dict(zip(NORM_COLUMNS, (subject, grade, season), strict=False))
    row.update(norm_mean=None, norm_sd=None, cut_score=None, norm_source=None)
    lookup = getattr(module, "norm_for", None) if module else None
    if lookup is None:
        return row
    answer = lookup(con, subject, grade, season)
    if isinstance(answer, tuple) and len(answer) >= 2:
        answer = {"mean": answer[0], "sd": answer[1]}
    row["norm_mean"] = _number(_field(answer, "mean", "norm_mean"))
    row["norm_sd"] = _number(_field(answer, "sd", "norm_sd"))
    row["norm_source"] = _field(answer, "label", "source", "name")
    cut = getattr(module, "cut_score_for", None)
    if cut is not None:
        row["cut_score"] = _number(_field(cut(con, subject, grade, season), "score", "cut_score"))
    return row


def norm_frame(
    con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, str, str]] | None = None
) -> pd.DataFrame:
    """Norms for (subject, grade, season) keys (default: every canonical key), one row each."""
    if keys is None:
        keys = itertools.product(canonical.SUBJECTS, canonical.GRADES, canonical.SEASONS)
    rows = [norm_row(con, *key) for key in dict.fromkeys(keys)]
    frame = pd.DataFrame(rows, columns=NORM_COLUMNS)
    for column in ("norm_mean", "norm_sd", "cut_score"):
        frame[column] = frame[column].astype("float64")
    return frame


def threshold_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Proficient = at or above the cut score where one is loaded, else the norm mean (the 50th
    percentile of a symmetric norm distribution). One row per subject × grade × season with a
    threshold; queries join it as `cmp_thresholds`."""
    norms = norm_frame(con)
    threshold = norms["cut_score"].fillna(norms["norm_mean"])
    kind = np.where(norms["cut_score"].notna(), "cut score", "norm mean")
    out = norms[["subject", "grade", "season"]].assign(threshold=threshold, threshold_kind=kind)
    return out[out["threshold"].notna()].reset_index(drop=True)


def expected_growth_frame(
    con: duckdb.DuckDBPyConnection,
    subjects: Iterable[str],
    from_season: str,
    to_season: str,
) -> pd.DataFrame:
    """Expected growth per subject × (grade then → grade now), for every grade pair a student can
    make (same grade up to three above), with where each number comes from.

    A growth norm from core.norms (`growth_norm_for`) when it has one; otherwise the difference of
    the two achievement-norm means — the growth that keeps a student level with the norm mean —
    labelled as such; otherwise missing."""
    module = _norms_module()
    growth = getattr(module, "growth_norm_for", None) if module else None
    keys = {(s, g, t) for s in subjects for g in canonical.GRADES for t in (from_season, to_season)}
    norms = norm_frame(con, sorted(keys)).set_index(["subject", "grade", "season"])
    rows = []
    for subject in dict.fromkeys(subjects):
        for grade_from, grade_to in _grade_pairs():
            value, source = _expectation(
                con, growth, norms, subject, (grade_from, from_season), (grade_to, to_season)
            )
            rows.append((subject, grade_from, grade_to, value, source))
    frame = pd.DataFrame(
        rows, columns=["subject", "grade_from", "grade_to", "expected", "expected_source"]
    )
    frame["expected"] = frame["expected"].astype("float64")
    return frame


def _grade_pairs() -> list[tuple[str, str]]:
    return [
        (a, b)
        for a in canonical.GRADES
        for b in canonical.GRADES
        if 0 <= canonical.grade_rank(b) - canonical.grade_rank(a) <= 3
    ]


def _expectation(
    con: duckdb.DuckDBPyConnection,
    growth: Any,
    norms: pd.DataFrame,
    subject: str,
    start: tuple[str, str],
    end: tuple[str, str],
) -> tuple[float | None, str | None]:
    if growth is not None:
        answer = growth(con, subject, start[0], start[1], end[0], end[1])
        value = _number(_field(answer, "mean", "expected", "growth"))
        if value is not None:
            return value, str(_field(answer, "label", "source") or "growth norm")
    first, last = norms.loc[(subject, *start)], norms.loc[(subject, *end)]
    if pd.isna(first["norm_mean"]) or pd.isna(last["norm_mean"]):
        return None, None
    source = last["norm_source"] or "achievement norms"
    return (
        float(last["norm_mean"] - first["norm_mean"]),
        f"difference of achievement-norm means ({source}); not a growth norm",
    )
