"""The Excel workbook of a report: the filters on a header sheet, one sheet per table (every
cohort's rows together, with a Cohort column), numbers as numeric cells, text neutralised
against formula injection (core.exports.tables)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from core.exports.tables import xlsx_workbook
from core.report.data import (
    CohortSection,
    Report,
    gaps_table,
    growth_table,
    prior_table,
    spec_lines,
    standards_table,
    summary_table,
)

TABLES: dict[str, Callable[[CohortSection], pd.DataFrame]] = {
    "Against the norm": standards_table,
    "Against last year": prior_table,
    "Growth": growth_table,
    "Subgroup gaps": gaps_table,
}


def header(report: Report) -> dict[str, str]:
    out = {
        "Report": report.title,
        "District": report.district,
        "Generated": f"{report.generated_at:%Y-%m-%d %H:%M} by {report.generated_by}",
        "Data visible to this report": report.scope_label,
        "Compared against": report.norms,
        "Privacy": f"groups of fewer than {report.min_n} students are not reported",
    }
    for number, section in enumerate(report.sections, start=1):
        out[f"Cohort {number}"] = f"{section.findings.label} — " + "; ".join(
            spec_lines(section.spec)
        )
    return out


def _stacked(report: Report, make: Callable[[CohortSection], pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for section in report.sections:
        frame = make(section)
        if not frame.empty:
            parts.append(frame.assign(Cohort=section.findings.label))
    if not parts:
        return pd.DataFrame({"Cohort": []})
    both = pd.concat(parts, ignore_index=True)
    return both[["Cohort", *[c for c in both.columns if c != "Cohort"]]]


def narratives_table(report: Report) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for section in report.sections:
        story = section.narrative
        rows.append({"Cohort": section.findings.label, "Part": "Summary", "Text": story.summary})
        for title, items in story.sections():
            rows += [{"Cohort": section.findings.label, "Part": title, "Text": t} for t in items]
    return pd.DataFrame(rows)


def render_xlsx(report: Report) -> bytes:
    sheets = {"Summary": summary_table(report)}
    sheets.update({title: _stacked(report, make) for title, make in TABLES.items()})
    sheets["Narratives"] = narratives_table(report)
    return xlsx_workbook(sheets, header(report))
