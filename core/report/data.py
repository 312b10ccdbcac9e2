"""What a report holds — one cohort or a saved set — as plain data the PDF and Excel writers share.

`build_report` computes everything once, within the caller's scope: the standards table exactly
as the standards page asks for it (`cohort_vs_norm`, all cohorts in one query), each cohort's
findings and stored narrative (`core.narrate.store`), and the charts the pages draw. The `*_table`
functions turn that into display tables (numbers stay numbers; rounding happens in the writer),
so a PDF, a workbook and the page always show the same values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import operator
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.narrate.gather import (
    current_year,
    gather_many,
    optional_function,
    pooled_standards,
    scope_alerts,
)
from core.narrate.inputs import CohortFindings
from core.narrate.store import narrative_for
from core.narrate.template import headline_standings
from core.narrate.text import Narrative, prior_is_real, standing_verdict
from core.stats.inference import magnitude
from core.stats.member_counts import nested_withheld
from core.stats.suppression import hide_rows
from core.warehouse import settings
from core.words.comparisons import checked_at_once
from core.words.numbers import fixed

CHART_SCALE = 1.5
ALPHA_REAL = 0.05  # a row's own p under this looks real before the correction
NESTED_REPORT_NOTE = (
    "not shown beside {other}, also in this report: the two differ by fewer than {min_n} "
    "students, whose results they would reveal (student privacy)"
)
PANELS_PER_ROW, PANEL_WIDTH = 3, 150  # px per panel of a faceted chart in the PDF
CHART_TITLE = "Cohort mean and 95% CI against the national norm (black tick)"
PRIOR_TITLE = "This year's mean beside each earlier year's (95% CI), coloured by the comparison"
GAPS_TITLE = "Each subgroup's gap to the rest of the cohort, with its 95% CI"
# vl-convert draws one chart at a time (~0.2–0.5 s each): a report of more cohorts than this
# keeps each cohort's standards chart and the tables, so 30 cohorts still render in seconds.
MAX_ALL_CHARTS = 5
STANDARDS_COLUMNS = {
    "school_year": "School year", "school": "School", "grade": "Grade", "subject": "Subject",
    "season": "Season", "n": "Students", "mean": "Mean", "sd": "SD", "median": "Median",
    "norm_mean": "Norm mean", "diff": "Difference",
    "ci_lo": "95% CI low (before correction)", "ci_hi": "95% CI high (before correction)",
    "effect_size": "Standardized difference", "category": "Against the norm",
    "significant_bh": "Holds after correction", "note": "Note",
}  # fmt: skip


@dataclass(frozen=True)
class CohortSection:
    spec: CohortSpec
    findings: CohortFindings
    narrative: Narrative
    standards: pd.DataFrame  # the standards page's rows for this cohort (suppressed rows kept)
    images: Future | None = None  # → ((title, PNG bytes), …), rendered in the background

    @property
    def charts(self) -> tuple[tuple[str, bytes], ...]:
        """The pages' charts of this cohort as (title, PNG) — waits for the renderer."""
        found = self.images.result() if self.images is not None else ()
        return tuple((title, png) for _, title, png in found)

    def charts_of(self, kind: str) -> list[tuple[str, bytes]]:
        """The charts of one table: "standards", "prior" or "gaps"."""
        found = self.images.result() if self.images is not None else ()
        return [(title, png) for key, title, png in found if key == kind]


@dataclass(frozen=True)
class Report:
    title: str
    district: str
    scope_label: str
    generated_at: dt.datetime
    generated_by: str
    min_n: int
    norms: str
    sections: tuple[CohortSection, ...]

    @property
    def schools(self) -> list[str]:
        named = {s for section in self.sections for s in section.spec.schools}
        return sorted(named)


def scope_label(scope: Scope) -> str:
    if scope.schools is None and scope.sections is None:
        return "the whole district"
    parts = []
    if scope.schools is not None:
        parts.append(", ".join(scope.schools) or "no school")
    if scope.sections is not None:
        parts.append("sections " + (", ".join(scope.sections) or "none"))
    return "; ".join(parts)


def _standards_frame(con: Any, specs: Sequence[CohortSpec], scope: Scope) -> pd.DataFrame:
    compute = optional_function("core.standards.standing", "cohort_vs_norm")
    if compute is None or not specs:
        return pd.DataFrame(columns=["cohort_index", *STANDARDS_COLUMNS])
    return compute(con, list(specs), scope)


def _withhold(standards: pd.DataFrame, withheld: dict[int, str], min_n: int) -> pd.DataFrame:
    """The standards rows of cohorts withheld beside another of the report, hidden."""
    if not withheld or standards.empty:
        return standards
    other = standards["cohort_index"].map(withheld).fillna("")
    notes = [NESTED_REPORT_NOTE.format(other=o, min_n=min_n) for o in other]
    return hide_rows(standards, (other != "").to_numpy(), notes, min_n, keep=["cohort_index"])


def withheld_findings(findings: CohortFindings, beside: str) -> CohortFindings:
    """A cohort the report withholds (core.stats.member_counts.nested_withheld): no results, and
    the narrative says why."""
    if not beside:
        return findings
    return dataclasses.replace(
        findings,
        suppressed=True,
        withheld_beside=beside,
        standings=(),
        prior=(),
        trend=(),
        growth=(),
        gaps=(),
        suppressed_results=0,
    )


def chart_png(chart: Any) -> bytes:
    """An Altair chart as the page draws it, rendered offline by vl-convert."""
    spec = chart.to_dict(validate=False)
    inner = spec.get("spec")
    if "facet" in spec and isinstance(inner, dict) and "width" not in inner:
        # Page layout only (same data and marks): three wider panels a row suit an A4 page.
        spec["columns"] = PANELS_PER_ROW
        spec["spec"]["width"] = PANEL_WIDTH
    return _rendered(json.dumps(spec, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _rendered(spec: str) -> bytes:
    """A Vega-Lite spec as PNG, once: the same chart (the same cohort and data) in another
    report, or the same report downloaded again, is not drawn again (~0.1 s each)."""
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=CHART_SCALE)


def _reportable(frame: pd.DataFrame | None, value: str) -> bool:
    if frame is None or frame.empty or value not in frame:
        return False
    return bool((~frame["suppressed"].astype(bool) & frame[value].notna()).any())


@dataclass(frozen=True)
class ChartJob:
    """What one cohort's charts are drawn from (the pages' own tables)."""

    standards: pd.DataFrame
    prior: pd.DataFrame | None
    gaps: pd.DataFrame | None
    years: pd.DataFrame | None  # the cohort's yearly trend (prior-years chart), read beforehand
    every_chart: bool = True  # False: the standards chart only (a report of many cohorts)


def chart_images(job: ChartJob) -> tuple[tuple[str, str, bytes], ...]:
    """The pages' charts of one cohort as PNG: standards, earlier years, subgroup gaps — each
    only when it has something reportable (charts never show what the tables hide)."""
    images = []
    norm_chart = optional_function("core.report.charts.standards", "norm_comparison_chart")
    if norm_chart is not None and _reportable(job.standards, "norm_mean"):
        images.append(("standards", CHART_TITLE, chart_png(norm_chart(job.standards))))
    prior_chart = optional_function("core.report.charts.compare", "prior_year_chart")
    if job.every_chart and prior_chart and job.years is not None:
        images.append(("prior", PRIOR_TITLE, chart_png(prior_chart(job.years, job.prior))))
    gap_chart = optional_function("core.report.charts.compare", "gap_chart")
    if job.every_chart and gap_chart is not None and _reportable(job.gaps, "gap"):
        images.append(("gaps", GAPS_TITLE, chart_png(gap_chart(job.gaps))))
    return tuple(images)


def _yearly_trend(
    con: Any, prior: pd.DataFrame | None, spec: CohortSpec, scope: Scope
) -> pd.DataFrame | None:
    """The trend the prior-years chart draws, read in the caller's thread: the chart worker never
    touches the warehouse (it may outlive the caller's connection when no PDF is written)."""
    trend = optional_function("core.compare.between_cohorts", "yearly_trend")
    if trend is None or not _reportable(prior, "diff"):
        return None
    return trend(con, spec.replace(school_year=None), scope)


def build_report(
    con: Any,
    specs: Sequence[CohortSpec],
    scope: Scope,
    *,
    title: str | None = None,
    use_model: bool = True,
    charts: bool = True,
    now: dt.datetime | None = None,
) -> Report:
    """Everything the report shows, computed once within `scope` (`charts`: render the pages'
    charts as PNG — the PDF needs them, the workbook does not)."""
    alerts = scope_alerts(con, scope)
    years = [current_year(con, spec, scope) for spec in specs]
    current = [
        spec.replace(school_year=y) if y else spec for spec, y in zip(specs, years, strict=True)
    ]
    withheld = nested_withheld(con, current, scope, settings.min_group_size(con))
    standards = _withhold(
        _standards_frame(con, current, scope), withheld, settings.min_group_size(con)
    )
    cohort_rows = [
        standards[standards["cohort_index"] == i] if len(standards) else standards
        for i in range(len(specs))
    ]
    # A cohort of one year, one school and one grade has the same rows split or pooled.
    pinned = all(len(s.school_year) == len(s.schools) == len(s.grade) == 1 for s in current)
    pooled = cohort_rows if pinned else pooled_standards(con, current, scope)
    # vl-convert releases the GIL: the charts render in a worker while the cohorts are gathered,
    # the narratives written and the PDF laid out. A report of many cohorts draws only the
    # standards chart, so those start now; a suppressed cohort's is never used.
    painter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-charts")
    every_chart = len(specs) <= MAX_ALL_CHARTS
    early: dict[int, Future] = {}
    for index, rows in enumerate(cohort_rows if charts and not every_chart else []):
        job = ChartJob(rows, None, None, None, every_chart=False)
        early[index] = painter.submit(chart_images, job)
    frames: list[dict[str, pd.DataFrame | None]] = [{} for _ in specs]
    found = gather_many(
        con, list(specs), scope, alerts=alerts, years=years, standards=pooled, frames=frames
    )
    found = [withheld_findings(f, withheld.get(i, "")) for i, f in enumerate(found)]
    sections = []
    for index, (spec, findings) in enumerate(zip(specs, found, strict=True)):
        story = narrative_for(con, spec, scope, findings=findings, use_model=use_model)
        rows = cohort_rows[index].iloc[0:0] if findings.suppressed else cohort_rows[index]
        images = None
        if charts and not findings.suppressed:
            tables = frames[index]
            prior = tables.get("prior")
            years = _yearly_trend(con, prior, current[index], scope) if every_chart else None
            job = ChartJob(rows, prior, tables.get("gaps"), years, every_chart)
            images = early.get(index) or painter.submit(chart_images, job)
        sections.append(CohortSection(current[index], findings, story, rows, images))
    painter.shutdown(wait=False)
    norms = sorted({s.norm_source for f in found for s in f.standings if s.norm_source})
    norms += _sets_used(cohort_rows)
    return Report(
        title=title or (specs[0].label() if len(specs) == 1 else f"{len(specs)} cohorts"),
        district=str(settings.get(con, "district_name") or "District"),
        scope_label=scope_label(scope),
        generated_at=now or dt.datetime.now().replace(microsecond=0),
        generated_by=scope.username,
        min_n=settings.min_group_size(con),
        norms="; ".join(norms) or "none applied",
        sections=tuple(sections),
    )


def _sets_used(frames: list[pd.DataFrame]) -> list[str]:
    """The district cut-score and target sets the report's rows used, each with the school
    years it judged ("cut scores State (2023-2024) for 2023-2024, 2024-2025")."""
    said = []
    for kind, column in (("cut scores", "cut_set"), ("targets", "target_set")):
        rows = (
            pd.concat(
                [f[["school_year", column]] for f in frames if column in f], ignore_index=True
            )
            if frames
            else pd.DataFrame()
        )
        if rows.empty or rows[column].isna().all():
            continue
        years = (
            rows.dropna(subset=[column])
            .groupby(column)["school_year"]
            .agg(lambda v: ", ".join(sorted({str(y) for y in v})))
        )
        said += [f"{kind} {name} for {used}" for name, used in years.items()]
    return said


# --- display tables (numbers stay numbers) ---------------------------------------------------


def spec_lines(spec: CohortSpec) -> list[str]:
    """The cohort's definition in words, one filter a line (the cover and header sheet)."""
    data = spec.to_dict()
    lines = []
    for key, label in (
        ("school_year", "School year"),
        ("schools", "Schools"),
        ("grade", "Grade"),
        ("subject", "Subject"),
        ("season", "Season"),
    ):
        value = data.get(key)
        lines.append(
            f"{label}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
            if value
            else f"{label}: all"
        )
    for name, value in data.get("filters", {}).items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"Filter {name}: {shown}")
    return lines


def summary_table(report: Report) -> pd.DataFrame:
    rows = []
    for section in report.sections:
        f = section.findings
        verdicts = "; ".join(
            f"{s.subject} {s.season}: {standing_verdict(s).replace(' national norm', ' norm')}"
            for s in headline_standings(f)
        )
        changes = "; ".join(
            f"{c.subject} {c.season}: {c.direction}" for c in f.prior if prior_is_real(c)
        )
        rows.append(
            {
                "Cohort": f.label,
                "School year": f.school_year or "",
                "Students": None if f.suppressed else f.n_students,
                "Against the norm": "not reported (small group)" if f.suppressed else verdicts,
                "Real changes since last year": changes or ("" if f.suppressed else "none"),
                "Alerts": len(f.alerts),
            }
        )
    return pd.DataFrame(rows)


def standards_table(section: CohortSection) -> pd.DataFrame:
    frame = section.standards
    columns = [c for c in STANDARDS_COLUMNS if c in frame.columns]
    out = frame[columns].rename(columns=STANDARDS_COLUMNS).reset_index(drop=True)
    if "Holds after correction" in out:
        # a row never tested (no norm for its scale or grade, implausible, suppressed) has no
        # verdict to hold: None, which the PDF prints "–" and the workbook leaves blank
        holds = out["Holds after correction"].map({True: "yes", False: "no"})
        out["Holds after correction"] = holds.where(tested(frame).to_numpy(), None)
    if "Note" in out and "p" in frame:
        out["Note"] = [
            _join_notes(a, b) for a, b in zip(out["Note"], correction_notes(frame), strict=True)
        ]
    return out


def tested(frame: pd.DataFrame) -> pd.Series:
    """Rows that went through the false-discovery correction (an adjusted p exists)."""
    return frame["p_adj"].notna() if "p_adj" in frame else frame["p"].notna()


def correction_notes(frame: pd.DataFrame) -> list[str]:
    """Why a row whose 95% CI leaves out 0 is still At: the interval is the row's own, the
    verdict is after the correction for many comparisons. '' for every other row."""
    held = (
        frame["significant_bh"].fillna(False).astype(bool) if "significant_bh" in frame else False
    )
    lone = tested(frame) & frame["p"].lt(ALPHA_REAL) & ~held
    return [
        f"{row['subject']} {row['season']}: its 95% CI ({fixed(row['ci_lo'])} to "
        f"{fixed(row['ci_hi'])}) is before the correction for many comparisons; "
        f"{checked_at_once(row.get('bh_family_size'))}, a difference this size could be chance"
        if flag
        else ""
        for flag, row in zip(lone, frame.to_dict("records"), strict=True)
    ]


def _join_notes(first: Any, second: str) -> str | None:
    parts = [str(p) for p in (first, second) if isinstance(p, str) and p]
    return "; ".join(parts) if parts else first


def _ci_low(item: Any) -> float | None:
    return item.ci95[0] if item.ci95 else None


def _ci_high(item: Any) -> float | None:
    return item.ci95[1] if item.ci95 else None


def _size(item: Any) -> str:
    return magnitude(item.hedges_g)


# Display columns of the findings tables: header → attribute, or a function of the finding.
# One mapping per table, so the PDF, the workbook and the page read the same columns.
Column = str | Callable[[Any], Any]
PRIOR_COLUMNS: dict[str, Column] = {
    "Subject": "subject",
    "Season": "season",
    "This year": "school_year",
    "Compared with": "prior_year",
    "Students now": "n_a",
    "Mean now": "mean_a",
    "Students then": "n_b",
    "Mean then": "mean_b",
    "Difference": "diff",
    "95% CI low (before correction)": _ci_low,
    "95% CI high (before correction)": _ci_high,
    "Size": _size,
    "Hedges' g": "hedges_g",
    "Verdict": lambda c: c.direction if prior_is_real(c) else "no real change",
}
GROWTH_COLUMNS: dict[str, Column] = {
    "Subject": "subject",
    "From": "from_label",
    "To": "to_label",
    "Matched students": "n",
    "Missing a test": lambda g: "not shown (privacy)" if g.dropped is None else g.dropped,
    "Mean change": "mean_change",
    "SD of change": "sd_change",
    "95% CI low": _ci_low,
    "95% CI high": _ci_high,
    "Expected growth": "expected",
    "% meeting expected": "pct_meeting",
}
GAPS_COLUMNS: dict[str, Column] = {
    "Group": "group",
    "Subject": "subject",
    "Season": "season",
    "Students in group": "n_group",
    "Students in the rest": "n_rest",
    "Group mean": "mean_group",
    "Rest mean": "mean_rest",
    "Gap": "gap",
    "Size": _size,
    "Real gap (after correction)": lambda g: "yes" if g.significant else "no",
    "Trend": lambda g: g.trend or "",
}


def findings_table(items: Sequence[Any], columns: dict[str, Column]) -> pd.DataFrame:
    """One display row per finding: the three findings tables differ only in their columns."""
    getters = {
        header: operator.attrgetter(column) if isinstance(column, str) else column
        for header, column in columns.items()
    }
    return pd.DataFrame([{header: get(item) for header, get in getters.items()} for item in items])


def prior_table(section: CohortSection) -> pd.DataFrame:
    return findings_table(section.findings.prior, PRIOR_COLUMNS)


def growth_table(section: CohortSection) -> pd.DataFrame:
    return findings_table(section.findings.growth, GROWTH_COLUMNS)


def gaps_table(section: CohortSection) -> pd.DataFrame:
    return findings_table(section.findings.gaps, GAPS_COLUMNS)
