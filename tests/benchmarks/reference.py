"""An independent pandas computation of the district benchmarks, straight from the definitions'
words (README, District benchmarks).

Written without looking at the SQL's structure: group-by loops, merges and pandas' own ranking,
so an error in the SQL cannot be repeated here by construction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RATES = ("absenteeism", "graduation", "math_proficiency", "read_proficiency")
METRICS = (
    "absenteeism", "graduation", "student_teacher_ratio", "swd_pct", "ell_pct",
    "math_proficiency", "read_proficiency", "expenditure_pp",
)  # fmt: skip
HIGHER_IS = {
    "absenteeism": "bad", "student_teacher_ratio": "bad", "graduation": "good",
    "math_proficiency": "good", "read_proficiency": "good", "swd_pct": "neutral",
    "ell_pct": "neutral", "expenditure_pp": "neutral",
}  # fmt: skip


def derived(raw: pd.DataFrame) -> pd.DataFrame:
    """The district figures: raw rates renamed, percentages and the pupil-teacher ratio."""
    d = raw.rename(
        columns={
            "chronic_absenteeism_pct": "absenteeism",
            "graduation_rate_pct": "graduation",
            "math_proficiency_pct": "math_proficiency",
            "read_proficiency_pct": "read_proficiency",
            "swd_count": "swd",
            "ell_count": "ell",
        }
    ).copy()
    for column in ("enrollment", "swd", "ell", "teachers_fte", *RATES, "expenditure_pp"):
        d[column] = pd.to_numeric(d[column], errors="coerce").astype("float64")
    enrolled = d.enrollment > 0
    d["swd_pct"] = (100 * d.swd / d.enrollment).where(enrolled)
    d["ell_pct"] = (100 * d.ell / d.enrollment).where(enrolled)
    d["student_teacher_ratio"] = (d.enrollment / d.teachers_fte).where(
        enrolled & (d.teachers_fte > 0)
    )
    return d


def _weighted(group: pd.DataFrame, metric: str) -> float:
    ok = group[metric].notna() & (group.enrollment > 0)
    if not ok.any():
        return np.nan
    values, weights = group.loc[ok, metric], group.loc[ok, "enrollment"]
    if metric == "student_teacher_ratio":
        # enrollment-weighted harmonic mean of the ratios (= pupils / teachers in the state)
        return float(weights.sum() / (weights / values).sum())
    return float(np.average(values, weights=weights))


def averages(d: pd.DataFrame, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    this_year = d[d.year == year]
    groups = [(state, g) for state, g in this_year.groupby("state")] + [("US", this_year)]
    for state, g in groups:
        row = {"state": state, "year": year, "districts": len(g)}
        row["enrollment"] = g.enrollment.mean()
        row["total_enrollment"] = g.enrollment.sum()
        for metric in METRICS:
            row[metric] = _weighted(g, metric)
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame[frame.state != "US"].reset_index(drop=True), frame[frame.state == "US"]


def _absenteeism_trend(points: pd.Series, year: int) -> tuple:
    """points: one district's absenteeism by year (reported years only)."""
    now_years = [y for y in (year, year - 1) if y in points.index]
    if not now_years:
        return np.nan, np.nan, np.nan
    now = now_years[0]
    earlier = [y for y in points.index if now - 3 <= y <= now - 1]
    if not earlier:
        return np.nan, np.nan, np.nan
    first = min(earlier)
    return points[now] - points[first], first, now


def trends(d: pd.DataFrame, year: int) -> pd.DataFrame:
    now = d[d.year == year].set_index("district_id")
    then = d[d.year == year - 3].set_index("district_id").reindex(now.index)
    out = pd.DataFrame(index=now.index)
    for count, key in (("swd", "swd"), ("ell", "ell"), ("expenditure_pp", "expenditure_pp")):
        out[f"{key}_trend_3yr"] = (100 * (now[count] - then[count]) / then[count]).where(
            then[count] > 0
        )
    for rate in ("graduation", "math_proficiency", "read_proficiency", "student_teacher_ratio"):
        out[f"{rate}_trend_3yr"] = now[rate] - then[rate]
    reported = d[d.absenteeism.notna()]
    by_district = {k: g.set_index("year").absenteeism for k, g in reported.groupby("district_id")}
    empty = pd.Series(dtype="float64")
    absence = [_absenteeism_trend(by_district.get(k, empty), year) for k in now.index]
    out["absenteeism_trend_3yr"] = [a[0] for a in absence]
    out["absenteeism_trend_from_year"] = [a[1] for a in absence]
    out["absenteeism_trend_to_year"] = [a[2] for a in absence]
    return out


def quartile_label(values: pd.Series) -> pd.Series:
    """Within one state: position = (districts below + half the ties) / n, via pandas' average
    rank ((average rank − 0.5) / n); ≥ .75 well_above, ≥ .5 above, ≥ .25 below."""
    present = values.dropna()
    n = len(present)
    labels = pd.Series(None, index=values.index, dtype=object)
    if n < 4:
        return labels
    twice = 2 * present.rank(method="average") - 1  # = 2n × position, exact in floating point
    labels[present.index] = np.select(
        [2 * twice >= 3 * n, twice >= n, 2 * twice >= n],
        ["well_above", "above", "below"],
        "well_below",
    )
    return labels


def reading(metric: str, label: object) -> object:
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return None
    if HIGHER_IS[metric] == "neutral":
        return "neutral"
    high = label in ("well_above", "above")
    return (
        ("good" if high else "bad") if HIGHER_IS[metric] == "good" else ("bad" if high else "good")
    )


def district_table(raw: pd.DataFrame, year: int) -> pd.DataFrame:
    """Every district of `year` with values, deltas, trends, quartile flags and readings."""
    d = derived(raw)
    states, national = averages(d, year)
    now = d[d.year == year].set_index("district_id")
    out = now[["state", "enrollment", *METRICS]].copy()
    state_avg = states.set_index("state")
    for metric in METRICS:
        out[f"{metric}_vs_state"] = out[metric] - out.state.map(state_avg[metric])
        out[f"{metric}_vs_national"] = out[metric] - national[metric].iloc[0]
        out[f"{metric}_quartile_state"] = out.groupby("state")[metric].transform(quartile_label)
        out[f"{metric}_reading"] = [
            reading(metric, label) for label in out[f"{metric}_quartile_state"]
        ]
    return out.join(trends(d, year))
