"""Fill `CohortFindings` from the standards and comparisons modules, within the caller's scope.

Nothing is computed here: every number comes from the function that computes it for the pages
(`core.standards.standing`, `core.compare.between_cohorts`, `core.compare.growth`,
`core.compare.subgroups`, `core.alerts.detect`), so the
narrative and the page can never disagree. This module only picks the rows a narrative talks
about (the cohort's latest school year; last year for the comparison; within-year growth from the
first to the last season tested), drops every suppressed row (counting it), and turns the rest
into plain data.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import duckdb
import pandas as pd

from core.access.scope import Scope
from core.catalog.cohort_options import headcount
from core.cohorts.spec import CohortSpec, cohort_size
from core.narrate.inputs import (
    AlertItem,
    CohortFindings,
    GrowthResult,
    Standing,
    SubgroupGap,
    TrendPoint,
    YearComparison,
    clean_int,
    clean_number,
    interval,
)
from core.warehouse import canonical
from core.warehouse.settings import min_group_size
from core.words.comparisons import group_label

SEASON_ORDER = {season: i for i, season in enumerate(canonical.SEASONS)}
GAP_YEARS_BACK = 2
NO_GROWTH = "No earlier test window in {year} to measure growth from yet."


def optional_function(module: str, name: str) -> Callable[..., Any] | None:
    """A colleague's function when its module exists (areas land independently)."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ModuleNotFoundError:
        return None


def _value(row: Any, *names: str) -> Any:
    for name in names:
        value = row.get(name) if isinstance(row, dict) else getattr(row, name, None)
        if value is not None and not (isinstance(value, float) and value != value):
            return value
    return None


def _numbers(row: dict[str, Any], *names: str) -> dict[str, float | None]:
    """The findings fields a result row carries under the same name, as clean numbers (NaN and
    inf become None, values rounded so the findings hash alike)."""
    return {name: clean_number(row.get(name)) for name in names}


def _ci95(row: dict[str, Any]) -> tuple[float, float] | None:
    return interval(row.get("ci_lo"), row.get("ci_hi"))


def _suppressed(row: Any) -> bool:
    return bool(_value(row, "suppressed") or False)


def _rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The rows as dicts of Python values (what `to_dict("records")` gives, a few times faster
    on these wide tables, which a 30-cohort report reads some 200 times)."""
    if frame is None or len(frame) == 0:
        return []
    columns = [str(c) for c in frame.columns]
    return [dict(zip(columns, row, strict=True)) for row in frame.to_numpy(dtype=object).tolist()]


def current_year(con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope) -> str | None:
    """The spec's school year (the latest if several), else the latest year it has data."""
    if spec.school_year:
        return max(spec.school_year)
    available = optional_function("core.compare.between_cohorts", "available_years")
    years = available(con, spec, scope) if available else []
    return max(years) if years else None


# --- standards -------------------------------------------------------------------------------


def _standing(row: dict[str, Any]) -> Standing:
    norm = row.get("norm") if isinstance(row.get("norm"), dict) else {}
    ci = row.get("ci95")
    return Standing(
        subject=str(_value(row, "subject") or ""),
        season=str(_value(row, "season") or ""),
        n=clean_int(_value(row, "n")) or 0,
        mean=clean_number(_value(row, "mean")),
        sd=clean_number(_value(row, "sd")),
        median=clean_number(_value(row, "median")),
        norm_source=_value(row, "norm_source", "norm_label") or norm.get("source"),
        norm_mean=clean_number(_value(row, "norm_mean") or norm.get("mean")),
        norm_sd=clean_number(_value(row, "norm_sd") or norm.get("sd")),
        diff=clean_number(_value(row, "diff")),
        p=clean_number(_value(row, "p")),
        ci95=interval(*ci)
        if isinstance(ci, list | tuple)
        else interval(_value(row, "ci_lo"), _value(row, "ci_hi")),
        effect_size=clean_number(_value(row, "effect_size", "std_diff")),
        category=_value(row, "category"),
        pct_at_or_above=clean_number(_value(row, "pct_at_or_above_norm", "pct_at_or_above")),
        note=str(_value(row, "note") or ""),
        p_adj=clean_number(_value(row, "p_adj")),
        family_size=clean_int(_value(row, "bh_family_size")),
    )


def standings(rows: pd.DataFrame | None) -> tuple[list[Standing], int, list[str]]:
    """(reported standings, how many were suppressed, notes on what is missing) from the
    cohort's pooled `cohort_vs_norm(…, by=())` rows (None: the standards module is missing)."""
    if rows is None:
        return [], 0, ["The comparison with national norms is not available in this version."]
    records = _rows(rows)
    kept = [_standing(r) for r in records if not _suppressed(r) and _value(r, "subject")]
    kept.sort(key=lambda s: (s.subject, SEASON_ORDER.get(s.season, 9)))
    return kept, sum(_suppressed(r) for r in records), []


def seasons_tested(rows: pd.DataFrame | None) -> list[str]:
    """The test windows the cohort has scores in (suppressed or not: a season is no secret)."""
    found = [] if rows is None or "season" not in rows else rows["season"].dropna().tolist()
    seasons = {season for season in found if season}
    return sorted(seasons, key=lambda s: SEASON_ORDER.get(s, 9))


def pooled_standards(
    con: duckdb.DuckDBPyConnection, specs: list[CohortSpec], scope: Scope
) -> list[pd.DataFrame | None]:
    """Each cohort's pooled standards rows, from one query for all of them."""
    compute = optional_function("core.standards.standing", "cohort_vs_norm")
    if compute is None or not specs:
        return [None] * len(specs)
    frame = compute(con, specs, scope, by=())
    return [frame[frame["cohort_index"] == i] for i in range(len(specs))]


# --- prior year and trend --------------------------------------------------------------------


def _comparison(row: dict[str, Any]) -> YearComparison:
    return YearComparison(
        subject=row["subject"],
        season=row["season"],
        school_year=row["school_year"],
        prior_year=row["prior_year"],
        n_a=clean_int(row.get("n_a")) or 0,
        n_b=clean_int(row.get("n_b")) or 0,
        **_numbers(row, "mean_a", "mean_b", "diff", "p", "hedges_g"),
        ci95=_ci95(row),
        direction=_value(row, "direction"),
        significant_bh=_value(row, "significant_bh"),
        note=str(_value(row, "note") or ""),
        family_size=clean_int(row.get("bh_family_size")),
    )


def prior_years(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    computed: pd.DataFrame | None = None,
) -> tuple[list[YearComparison], list[TrendPoint], int, pd.DataFrame | None]:
    """Last year's comparison, the yearly means, and how many comparisons were suppressed — from
    one call made exactly as the prior cohorts page makes it (every earlier year, so the
    correction for many comparisons is the page's); `computed`: that call's answer, batched."""
    compute = optional_function("core.compare.between_cohorts", "prior_year_comparison")
    if compute is None and computed is None:
        return [], [], 0, None
    frame = compute(con, spec, scope) if computed is None else computed
    rows = _rows(frame)
    usable = [r for r in rows if (r.get("n_b") or 0) > 0 and (r.get("n_a") or 0) > 0]
    shown = [r for r in usable if not _suppressed(r)]
    last_year = [_comparison(r) for r in shown if r.get("years_back") == 1]
    last_year.sort(key=lambda c: (c.subject, SEASON_ORDER.get(c.season, 9)))
    hidden = sum(_suppressed(r) for r in usable if r.get("years_back") == 1)
    return last_year, trend_points(shown), hidden, frame


def trend_points(rows: list[dict[str, Any]]) -> list[TrendPoint]:
    """The mean of each year (the earlier side of every reported comparison, and this year)."""
    points: dict[tuple[str, str, str], TrendPoint] = {}
    for r in rows:
        for year, n, mean in (
            (r["prior_year"], r["n_b"], r["mean_b"]),
            (r["school_year"], r["n_a"], r["mean_a"]),
        ):
            key = (r["subject"], r["season"], year)
            points[key] = TrendPoint(
                r["subject"], r["season"], year, clean_int(n) or 0, clean_number(mean)
            )
    return sorted(
        points.values(), key=lambda p: (p.subject, SEASON_ORDER.get(p.season, 9), p.school_year)
    )


# --- growth ----------------------------------------------------------------------------------


def _growth(row: dict[str, Any]) -> GrowthResult:
    return GrowthResult(
        subject=row["subject"],
        from_label=f"{row['from_season']} {row['from_year']}",
        to_label=f"{row['to_season']} {row['to_year']}",
        n=clean_int(row.get("n")) or 0,
        dropped=clean_int(row.get("dropped")),  # None: not shown (privacy rule)
        **_numbers(row, "mean_change", "sd_change", "p", "p_vs_expected", "pct_meeting"),
        ci95=_ci95(row),
        expected=clean_number(row.get("expected_growth")),
        note=str(_value(row, "note") or ""),
        start_z=clean_number(row.get("mean_z_from")),
    )


def growth_window(spec: CohortSpec, seasons: list[str]) -> tuple[str, str] | None:
    """(from, to) seasons within the year: the cohort's last test window, and the first window
    before it — the year's first window tested, or fall when the cohort is one season only."""
    if len(spec.season) == 1:
        to = spec.season[0]
        start = canonical.SEASONS[0]
        return None if to == start else (start, to)
    if len(seasons) < 2:
        return None
    return seasons[0], seasons[-1]


def growth(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    year: str,
    seasons: list[str],
    computed: pd.DataFrame | None = None,
) -> tuple[list[GrowthResult], int, list[str]]:
    """Within-year growth of the same students (matched at both ends), per subject
    (`computed`: `matched_growth` over `growth_window`, batched)."""
    compute = optional_function("core.compare.growth", "matched_growth")
    window = growth_window(spec, seasons)
    if compute is None or window is None:
        return [], 0, [] if compute is None or spec.season else [NO_GROWTH.format(year=year)]
    if computed is None:
        computed = compute(con, spec, scope, (window[0], year), (window[1], year))
    rows = _rows(computed)
    matched = [r for r in rows if (r.get("n") or 0) > 0 or _suppressed(r)]
    kept = [_growth(r) for r in matched if not _suppressed(r)]
    note = [] if matched else [NO_GROWTH.format(year=year)]
    return kept, sum(_suppressed(r) for r in matched), note


# --- subgroups -------------------------------------------------------------------------------


def _gap(row: dict[str, Any], earlier: dict[str, Any] | None) -> SubgroupGap:
    trend_word = None
    if earlier is not None and earlier.get("significant_bh"):
        trend_word = "widening" if earlier.get("widened") else "narrowing"
        if earlier.get("movement") == "overtook":  # changed sign: neither wider nor narrower
            trend_word = "overtook"
    return SubgroupGap(
        subject=row["subject"],
        season=row["season"],
        school_year=row["school_year"],
        group=group_label(row["attribute"], str(row["value"])),
        n_group=clean_int(row.get("n_sub")) or 0,
        n_rest=clean_int(row.get("n_rest")) or 0,
        mean_group=clean_number(row.get("mean_sub")),
        **_numbers(row, "mean_rest", "gap", "p", "hedges_g"),
        ci95=_ci95(row),
        significant=bool(row.get("significant_bh")),
        trend=trend_word,
        earlier_gap=clean_number(earlier.get("gap_then")) if earlier else None,
        earlier_year=earlier.get("earlier_year") if earlier else None,
    )


def gaps(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    year: str,
    season: str | None,
    computed: pd.DataFrame | None = None,
    changed: pd.DataFrame | None = None,
) -> tuple[list[SubgroupGap], int, pd.DataFrame | None]:
    """Subgroup gaps in the cohort's latest test window of `year` — asked for exactly as the
    subgroups page asks (so the correction for many comparisons is the page's; `computed`: that
    answer, batched) — with the trend since two years earlier where that year has the gap too
    (`changed`: that `gap_change`, batched)."""
    compute = optional_function("core.compare.subgroups", "subgroup_gaps")
    change = optional_function("core.compare.subgroups", "gap_change")
    if compute is None or season is None:
        return [], 0, None
    frame = compute(con, spec, scope) if computed is None else computed
    if frame is None or frame.empty:
        return [], 0, None
    earlier_year = canonical.previous_year(year, GAP_YEARS_BACK)
    earlier = {}
    if changed is None and change is not None and (frame["school_year"] == earlier_year).any():
        changed = change(frame, year, earlier_year, con=con)
    if changed is not None:
        for r in _rows(changed):
            earlier[(r["subject"], r["season"], r["attribute"], str(r["value"]))] = r
    rows = _rows(frame[(frame["school_year"] == year) & (frame["season"] == season)])
    kept = [
        _gap(r, earlier.get((r["subject"], r["season"], r["attribute"], str(r["value"]))))
        for r in rows
        if not _suppressed(r)
    ]
    return kept, sum(_suppressed(r) for r in rows), frame[frame["school_year"] == year]


# --- alerts ----------------------------------------------------------------------------------


def _within(alert_spec: CohortSpec, spec: CohortSpec) -> bool:
    """An alert concerns the cohort when its definition lies inside the cohort's."""
    if spec.filters:
        return False
    for key in ("school_year", "grade", "subject", "season", "schools"):
        mine = getattr(spec, key)
        theirs = getattr(alert_spec, key)
        if mine and (not theirs or not set(theirs) <= set(mine)):
            return False
    return True


def alerts_for(spec: CohortSpec, alerts: pd.DataFrame | None) -> list[AlertItem]:
    found = []
    for row in _rows(alerts):
        try:
            alert_spec = CohortSpec.from_dict(json.loads(row.get("spec") or "{}"))
        except ValueError:
            continue
        if _within(alert_spec, spec):
            found.append(
                AlertItem(
                    severity=row["severity"],
                    kind=row["kind"],
                    title=row["title"],
                    detail=str(row.get("detail") or ""),
                    subject=alert_spec.subject[0] if alert_spec.subject else None,
                    season=alert_spec.season[0] if alert_spec.season else None,
                    school_year=row.get("school_year"),
                )
            )
    return found


def scope_alerts(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame | None:
    """Every current alert within the scope (compute once, pass to several gather calls)."""
    compute = optional_function("core.alerts.detect", "current_alerts")
    return compute(con, scope) if compute else None


# --- the whole cohort ------------------------------------------------------------------------


def _base(
    con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope, year: str | None
) -> CohortFindings:
    now = spec.replace(school_year=year) if year else spec
    return CohortFindings(
        label=spec.label(),
        spec=spec.to_dict(),
        school_year=year,
        min_n=min_group_size(con),
        n_students=cohort_size(con, now, scope),
        schools=tuple(spec.schools),
    )


def _reveals_a_small_group(
    con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope, min_n: int
) -> bool:
    """A filtered cohort whose numbers would give away the few students its filters leave out
    (the builder's complementary suppression, core.catalog.cohort_options.headcount)."""
    return bool(spec.filters) and not headcount(con, spec, scope, min_n).reportable


def gather_findings(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    *,
    alerts: pd.DataFrame | None = None,
    standards: pd.DataFrame | None = None,
    year: str | None = None,
    frames: dict[str, pd.DataFrame | None] | None = None,
    computed: dict[str, pd.DataFrame] | None = None,
) -> CohortFindings:
    """Everything a narrative of `spec` may say, computed within `scope` by the owning modules.

    A report of many cohorts passes what it computed once for all of them: `alerts` (the scope's
    current alerts), `standards` (this cohort's pooled standards rows), `year` (its current
    school year) and `computed` (its "prior", "growth" and "gaps" tables, `comparison_frames`);
    otherwise each is computed here. `frames`, when given, receives the tables the pages draw
    their charts from ("prior": the prior-years comparison, "gaps": this year's gaps)."""
    year = year or current_year(con, spec, scope)
    base = _base(con, spec, scope, year)
    if year is None or base.n_students < base.min_n:
        return replace(base, suppressed=base.n_students > 0)
    now = spec.replace(school_year=year)
    if _reveals_a_small_group(con, now, scope, base.min_n):
        return replace(base, suppressed=True)
    if standards is None:
        standards = pooled_standards(con, [now], scope)[0]
    done = computed or {}
    found_standings, hidden_std, missing = standings(standards)
    found_prior, points, hidden_prior, prior_frame = prior_years(con, now, scope, done.get("prior"))
    seasons = seasons_tested(standards)
    found_growth, hidden_growth, growth_notes = growth(
        con, now, scope, year, seasons, done.get("growth")
    )
    found_gaps, hidden_gaps, gap_frame = gaps(
        con,
        now,
        scope,
        year,
        seasons[-1] if seasons else None,
        done.get("gaps"),
        done.get("gap_change"),
    )
    if frames is not None:
        frames.update(prior=prior_frame, gaps=gap_frame)
    if alerts is None:
        alerts = scope_alerts(con, scope)
    return replace(
        base,
        standings=tuple(found_standings),
        prior=tuple(found_prior),
        trend=tuple(points),
        growth=tuple(found_growth),
        gaps=tuple(found_gaps),
        alerts=tuple(alerts_for(now, alerts)),
        suppressed_results=hidden_std + hidden_prior + hidden_growth + hidden_gaps,
        missing=tuple(missing + growth_notes),
    )


def comparison_frames(
    con: duckdb.DuckDBPyConnection,
    specs: list[CohortSpec],
    scope: Scope,
    standards: list[pd.DataFrame | None],
) -> list[dict[str, pd.DataFrame]]:
    """Each cohort's "prior", "growth" and "gaps" tables exactly as `gather_findings` asks for
    them one cohort at a time, computed in a few batched queries (`specs` at their current
    school year, `standards` their pooled rows, which set the growth window)."""
    out: list[dict[str, pd.DataFrame]] = [{} for _ in specs]
    batched = (
        ("prior", "core.compare.between_cohorts", "prior_year_comparisons"),
        ("gaps", "core.compare.subgroups", "subgroup_gaps_of"),
    )
    for name, module, function in batched:
        compute = optional_function(module, function)
        for entry, frame in zip(out, compute(con, specs, scope) if compute else [], strict=False):
            entry[name] = frame
    _gap_changes(con, specs, out)
    compute = optional_function("core.compare.growth", "matched_growth_of")
    windows: dict[tuple[tuple[str, str], tuple[str, str]], list[int]] = {}
    for index, (spec, rows) in enumerate(zip(specs, standards, strict=True)):
        window = growth_window(spec, seasons_tested(rows))
        if compute is not None and window is not None and len(spec.school_year) == 1:
            year = spec.school_year[0]
            windows.setdefault(((window[0], year), (window[1], year)), []).append(index)
    for (start, end), members in windows.items():
        found = compute(con, [specs[i] for i in members], scope, start, end)
        for index, frame in zip(members, found, strict=True):
            out[index]["growth"] = frame
    return out


def _gap_changes(
    con: duckdb.DuckDBPyConnection, specs: list[CohortSpec], out: list[dict[str, pd.DataFrame]]
) -> None:
    """Each cohort's gaps now vs two years earlier ("gap_change", as `gaps` asks for it), one
    `gap_change` call per school year for every cohort of that year, each its own family (a
    quick cohort's: its fixed one)."""
    change = optional_function("core.compare.subgroups", "gap_change")
    years: dict[str, list[int]] = {}
    for index, (spec, entry) in enumerate(zip(specs, out, strict=True)):
        frame = entry.get("gaps")
        if change is None or len(spec.school_year) != 1 or frame is None or frame.empty:
            continue
        earlier = canonical.previous_year(spec.school_year[0], GAP_YEARS_BACK)
        if (frame["school_year"] == earlier).any():
            years.setdefault(spec.school_year[0], []).append(index)
    for year, members in years.items():
        parts = [out[i]["gaps"].assign(cohort_index=i) for i in members]
        both = pd.concat(parts, ignore_index=True)
        found = change(both, year, canonical.previous_year(year, GAP_YEARS_BACK), con=con)
        for index in members:
            mine = found[found["cohort_index"] == index]
            out[index]["gap_change"] = mine.drop(columns="cohort_index").reset_index(drop=True)


def gather_many(
    con: duckdb.DuckDBPyConnection,
    specs: list[CohortSpec],
    scope: Scope,
    *,
    alerts: pd.DataFrame | None = None,
    years: list[str | None] | None = None,
    standards: list[pd.DataFrame | None] | None = None,
    frames: list[dict[str, pd.DataFrame | None]] | None = None,
) -> list[CohortFindings]:
    """`gather_findings` of each cohort — the same findings as one at a time — with the alerts,
    the pooled standards and the comparison tables computed once for all of them."""
    alerts = scope_alerts(con, scope) if alerts is None else alerts
    years = years or [current_year(con, spec, scope) for spec in specs]
    now = [spec.replace(school_year=y) if y else spec for spec, y in zip(specs, years, strict=True)]
    standards = standards or pooled_standards(con, now, scope)
    dated = [i for i, year in enumerate(years) if year]
    tables = comparison_frames(con, [now[i] for i in dated], scope, [standards[i] for i in dated])
    computed: dict[int, dict[str, pd.DataFrame]] = dict(zip(dated, tables, strict=True))
    return [
        gather_findings(
            con,
            spec,
            scope,
            alerts=alerts,
            standards=standards[i],
            year=years[i],
            frames=frames[i] if frames is not None else None,
            computed=computed.get(i),
        )
        for i, spec in enumerate(specs)
    ]
