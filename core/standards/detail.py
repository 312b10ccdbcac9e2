"""Reading a standards result: a one-line verdict per row, the score distribution of a cohort
against the norm distribution, and the long tables the charts draw.

Everything here reads the DataFrame `core.standards.standing.cohort_vs_norm` returns (tables and
charts
show the same numbers) or, for the distribution, one grouped query plus the same suppression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as sps

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.standards.standing import (
    ALPHA,
    Standards,
    cohort_vs_norm,
    run_with_standards,
    scored_cte,
    standard_frames,
    standards_in_use,
)
from core.stats.member_counts import members_sql
from core.stats.sufficient import PLATFORMS_CTE
from core.warehouse import canonical
from core.words.comparisons import checked_at_once
from core.words.numbers import fixed, signed

BIN_WIDTH = 5.0
CURVE_POINTS = 121


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def row_title(row: dict[str, Any] | pd.Series) -> str:
    """ "Grade 3, Lincoln Elementary, math spring 2024-2025 (ell=true)"."""
    grade = str(row["grade"])
    grades = "Grades" if "," in grade else "Grade"
    title = (
        f"{grades} {grade}, {row['school']}, {row['subject']} {row['season']} {row['school_year']}"
    )
    return f"{title} ({row['filters']})" if row.get("filters") else title


def verdict(row: dict[str, Any] | pd.Series) -> str:
    """One plain-English sentence for one result row (never any number of a suppressed row)."""
    title = row_title(row)
    if row["suppressed"]:
        return f"{title}: {row['note']}."
    if _missing(row["norm_mean"]):
        return f"{title}: {row['note']}."
    n, mean, norm = int(row["n"]), float(row["mean"]), float(row["norm_mean"])
    if _missing(row["t"]):
        return (
            f"{title}: mean {fixed(mean)} against the norm's {fixed(norm)} ({n} students); "
            f"{row['note'] or 'no test is possible'}."
        )
    words = {
        "Above": "above the national norm",
        "Below": "below the national norm",
        "At": "at the national norm (no meaningful difference)",
    }[row["category"]]
    p_words, survives = _correction_words(row)
    return (
        f"{title}: {words} — mean {fixed(mean)} vs {fixed(norm)} ({signed(row['diff'])} RIT, "
        f"effect size {signed(row['effect_size'], 2)}, {p_words}, {n} students){survives}."
    )


def _correction_words(row: dict[str, Any] | pd.Series) -> tuple[str, str]:
    """(the p as shown, what the correction says). A row whose own p is under 0.05 but whose
    adjusted p is not says both, so "p = 0.022" never stands unexplained beside "at the norm"."""
    p = float(row["p"])
    if row["significant_bh"]:
        return _p_text(p), " — holds after the false-discovery check"
    if p >= ALPHA or _missing(row.get("p_adj")):
        return _p_text(p), ""
    return (
        f"{_p_text(p)} before the correction for many comparisons",
        f" — {checked_at_once(row.get('bh_family_size'))}, a difference this size could be "
        f"chance ({_p_text(float(row['p_adj']))} after the correction)",
    )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def verdicts(df: pd.DataFrame) -> list[str]:
    return [verdict(row) for row in df.to_dict("records")]


def proficiency_long(df: pd.DataFrame) -> pd.DataFrame:
    """Band shares as long rows (one per reported row × band, low to high) for stacked bars."""
    shares = [c for c in df.columns if c.startswith("share ")]
    shown = df[~df["suppressed"].astype(bool)]
    if not shares or shown.empty:
        return pd.DataFrame(columns=["row", "band", "band_order", "share", "n"])
    long = shown.assign(row=shown.apply(row_title, axis=1)).melt(
        id_vars=["row", "n", "grade", "school", "school_year", "subject", "season"],
        value_vars=shares,
        var_name="band",
        value_name="share",
    )
    long["band_order"] = long["band"].map({c: i for i, c in enumerate(shares, start=1)})
    long["band"] = long["band"].str.removeprefix("share ")
    return long.dropna(subset=["share"]).reset_index(drop=True)


@dataclass(frozen=True)
class Distribution:
    """Score histogram of a cohort (every bar at least min_n students) and the norm curve.

    `summary` has one row per subject × season: n, suppressed, note, norm label."""

    bins: pd.DataFrame
    curve: pd.DataFrame
    summary: pd.DataFrame


def _bins_sql(standards: Standards, spec: CohortSpec, scope: Scope) -> tuple[str, dict]:
    members, params = members_sql(0, spec, scope)
    scored = scored_cte(standards)
    full = (1 << len(spec.filters)) - 1
    sql = f"""
        with {PLATFORMS_CTE},
        members as ({members}),
        {scored}
        select subject, season, grade, floor(score / $width) * $width as bin_start,
               count(*) as n, any_value(norm_mean) as norm_mean, any_value(norm_sd) as norm_sd
        from scored
        where mask = {full} and score_e is not null
        group by subject, season, grade, bin_start
    """
    return sql, {**params, "width": BIN_WIDTH}


def _curve(cells: pd.DataFrame) -> pd.DataFrame:
    """The norm distribution of students like these: a mixture of each member's own-grade normal
    curve weighted by the grade's share of members, as the expected share per bin width."""
    normed = cells.dropna(subset=["norm_mean"])
    if normed.empty:
        return pd.DataFrame(columns=["score", "share"])
    grades = normed.groupby(["norm_mean", "norm_sd"], as_index=False)["n"].sum()
    low = (grades["norm_mean"] - 3 * grades["norm_sd"]).min()
    high = (grades["norm_mean"] + 3 * grades["norm_sd"]).max()
    x = np.linspace(low, high, CURVE_POINTS)
    weights = grades["n"].to_numpy() / grades["n"].sum()
    density = sum(
        w * sps.norm.pdf(x, m, s)
        for w, m, s in zip(weights, grades["norm_mean"], grades["norm_sd"], strict=True)
    )
    return pd.DataFrame({"score": x, "share": density * BIN_WIDTH})


def score_distribution(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    *,
    norms_key: str | None = None,
) -> Distribution:
    """Per subject × season of the cohort (pooled over its grades, schools and years)."""
    standards = standards_in_use(con, norms_key)
    rows = cohort_vs_norm(con, spec, scope, by=(), standards=standards)
    sql, params = _bins_sql(standards, spec, scope)
    cells = run_with_standards(con, sql, params, standard_frames(standards))
    bins, curves, summary = [], [], []
    for row in rows.to_dict("records"):
        key = (cells["subject"] == row["subject"]) & (cells["season"] == row["season"])
        part = cells[key]
        if not row["suppressed"]:
            # no norm curve where the row is not compared (another scale, the plausibility guard)
            normed = part if not _missing(row["norm_mean"]) else part.assign(norm_mean=np.nan)
            curve = _curve(normed).assign(subject=row["subject"], season=row["season"])
            shown = _widen_ends(_merged_bins(part, standards.min_n), curve)
            bins.append(shown.assign(subject=row["subject"], season=row["season"]))
            curves.append(curve)
        summary.append(_summary_row(row, part, standards))
    return Distribution(_concat(bins), _concat(curves), pd.DataFrame(summary))


def _merged_bins(part: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """Adjacent 5-point bins merged left to right until each holds at least min_n students (a
    short last run joins the bin before it), so no drawn bar describes a small group. Edges stay
    on multiples of BIN_WIDTH, never on a student's own score."""
    per_bin = part.groupby("bin_start", as_index=False)["n"].sum().sort_values("bin_start")
    merged: list[list[float]] = []  # [start, end, n]
    run: list[float] | None = None
    for start, n in zip(per_bin["bin_start"], per_bin["n"], strict=True):
        run = [run[0], start + BIN_WIDTH, run[2] + n] if run else [start, start + BIN_WIDTH, n]
        if run[2] >= min_n:
            merged.append(run)
            run = None
    if run and merged:
        merged[-1] = [merged[-1][0], run[1], merged[-1][2] + run[2]]
    out = pd.DataFrame(merged, columns=["bin_start", "bin_end", "n"])
    total = out["n"].sum()
    out["share"] = out["n"] / total if total else np.nan
    # Height comparable with the norm curve: share per BIN_WIDTH points of score.
    out["share_per_bin_width"] = out["share"] * BIN_WIDTH / (out["bin_end"] - out["bin_start"])
    return out


def _widen_ends(bins: pd.DataFrame, curve: pd.DataFrame) -> pd.DataFrame:
    """Stretch the outer bars to the norm curve's ±3 SD range so their edges do not tell where
    the lowest and highest scores lie."""
    if bins.empty or curve.empty:
        return bins
    out = bins.copy()
    low = math.floor(curve["score"].min() / BIN_WIDTH) * BIN_WIDTH
    high = math.ceil(curve["score"].max() / BIN_WIDTH) * BIN_WIDTH
    out.loc[out.index[0], "bin_start"] = min(out["bin_start"].iloc[0], low)
    out.loc[out.index[-1], "bin_end"] = max(out["bin_end"].iloc[-1], high)
    out["share_per_bin_width"] = out["share"] * BIN_WIDTH / (out["bin_end"] - out["bin_start"])
    return out


def _summary_row(row: dict, part: pd.DataFrame, standards: Standards) -> dict:
    suppressed = bool(row["suppressed"])
    note = (
        row["note"]
        if suppressed
        else (f"neighbouring score bands are merged until each holds {standards.min_n}+ students")
    )
    return {
        "subject": row["subject"],
        "season": row["season"],
        "n": None if suppressed else int(part["n"].sum()),
        "suppressed": suppressed,
        "note": note,
        "norm_source": standards.norm_set.label,
    }


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def order_grades(values: pd.Series) -> list[str]:
    """Grade labels in school order (K before 1 … 12; pooled labels by their first grade)."""
    return sorted(values.unique(), key=lambda g: canonical.grade_rank(str(g).split(",")[0]))


def export_header(
    standards: Standards, specs: list[CohortSpec], scope: Scope, by: tuple[str, ...] | list[str]
) -> dict[str, str]:
    """The lines written above an exported table: what it is, against what, for whom."""
    header = {"table": "Yardstick — cohort vs standard"}
    for index, spec in enumerate(specs, start=1):
        header[f"cohort {index}" if len(specs) > 1 else "cohort"] = spec.to_json()
    header["rows split by"] = ", ".join([*by, "subject", "season"])
    header.update(standards.labels())
    header["scope"] = scope_text(scope)
    header["privacy"] = (
        f"groups under {standards.min_n} students, and groups whose numbers would reveal one, "
        "are suppressed (no statistics)"
    )
    return header


def scope_text(scope: Scope) -> str:
    parts = [f"{scope.username} ({scope.role})"]
    if scope.schools is not None:
        parts.append("schools: " + (", ".join(scope.schools) or "none"))
    if scope.sections is not None:
        parts.append("sections: " + (", ".join(scope.sections) or "none"))
    return "; ".join(parts)


COLUMN_MEANINGS = {  # two percentiles that read alike and are not the same number
    "mean_percentile": "the mean of students' national percentiles (each student's own rank, "
    "averaged; vendor-reported)",
    "percentile_of_mean": "the national percentile rank of the cohort's mean score under the "
    "norm (each student against their own grade's norm); blank where no norm applies",
}


def untested_blank(df: pd.DataFrame) -> pd.DataFrame:
    """`significant_bh` blank where the row never went through the false-discovery check (no
    norm for its scale or grade, implausible scores, suppressed): "False" there would read as
    "tested, and it does not hold". The CLI's JSON keeps its boolean (a contract)."""
    if "significant_bh" not in df or "p_adj" not in df:
        return df
    held = df["significant_bh"].astype(object).where(df["p_adj"].notna(), None)
    return df.assign(significant_bh=held)


def export_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The table as exported: every result column except internal ones, untested rows' "holds
    after the correction" blank."""
    return untested_blank(df).drop(columns=[c for c in ("cohort_index",) if c in df.columns])
