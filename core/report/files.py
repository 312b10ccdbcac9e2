"""A report as a downloadable file, audited: what a page's "Download report" button serves."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from core.access import audit
from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.report.data import build_report
from core.report.pdf import render_pdf
from core.report.xlsx import render_xlsx

KINDS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def file_name(specs: Sequence[CohortSpec], kind: str) -> str:
    """yardstick-report-grade-3-lincoln-elementary.pdf (or -N-cohorts)."""
    label = specs[0].label() if len(specs) == 1 else f"{len(specs)} cohorts"
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:60] or "cohort"
    return f"yardstick-report-{slug}.{kind}"


def report_file(
    con: Any,
    specs: Sequence[CohortSpec],
    scope: Scope,
    username: str | None,
    kind: str = "pdf",
    *,
    use_model: bool = True,
) -> bytes:
    """The report of `specs` within `scope` as PDF or XLSX bytes; the download is audited."""
    if kind not in KINDS:
        raise ValueError(f"Unknown report kind {kind!r}; expected pdf or xlsx.")
    report = build_report(con, list(specs), scope, use_model=use_model, charts=kind == "pdf")
    data = render_pdf(report) if kind == "pdf" else render_xlsx(report)
    detail = {"kind": kind, "cohorts": [s.to_dict() for s in specs], "bytes": len(data)}
    audit.log(con, username, "report_download", detail)
    return data
