"""`python -m core report --cohort SPEC --out FILE.pdf`: the PDF report (and optionally Excel).

Cohorts come from `--cohort` (repeatable; a JSON file or inline JSON), `--saved NAME`
(repeatable; `--saved all` takes every saved cohort the user sees) or `--quick YEAR` (every
grade × school cohort of that school year). The report is audited as a report download.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from fpdf import FPDF  # noqa: F401 — fail early with the import error if fpdf2 is missing

from core.access import audit
from core.catalog.cohort_options import quick_cohorts
from core.cli import CommandError, add_db_option, print_json, scope_of
from core.cohorts.saved import SavedCohortError, get_cohort, list_cohorts
from core.cohorts.spec import CohortSpec, load_spec
from core.report.data import build_report
from core.report.pdf import ReportFontError, render_pdf
from core.report.xlsx import render_xlsx
from core.warehouse.db import connect


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="the PDF report of one cohort or a set")
    parser.add_argument("--cohort", action="append", default=[], help="cohort spec (repeatable)")
    parser.add_argument("--saved", action="append", default=[], help="saved cohort name, or all")
    parser.add_argument("--quick", metavar="YEAR", help="every grade × school cohort of YEAR")
    parser.add_argument("--out", required=True, help="the PDF file to write")
    parser.add_argument("--xlsx", help="also write the tables as an Excel workbook")
    parser.add_argument("--title", help="report title (default: the cohort's name)")
    parser.add_argument(
        "--template-only", action="store_true", help="never ask a model for the narrative"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    add_db_option(parser)
    parser.set_defaults(func=run)


def _specs(args: argparse.Namespace, con, scope) -> list[CohortSpec]:  # noqa: ANN001
    specs = [load_spec(text) for text in args.cohort]
    try:
        for name in args.saved:
            found = list_cohorts(con, scope) if name == "all" else [get_cohort(con, scope, name)]
            specs += [c.spec.replace(name=c.name) for c in found]
    except SavedCohortError as exc:
        raise CommandError(str(exc)) from exc
    if args.quick:
        specs += [s for s in quick_cohorts(con, scope) if s.school_year == (args.quick,)]
    if not specs:
        raise CommandError("Name at least one cohort: --cohort SPEC, --saved NAME or --quick YEAR.")
    return specs


def run(args: argparse.Namespace) -> int:
    started, cpu = time.perf_counter(), time.process_time()
    with connect(args.db) as con:
        scope = scope_of(args, con)
        specs = _specs(args, con, scope)
        report = build_report(con, specs, scope, title=args.title, use_model=not args.template_only)
        try:
            pdf = render_pdf(report)
        except ReportFontError as exc:
            raise CommandError(str(exc)) from exc
        Path(args.out).write_bytes(pdf)
        if args.xlsx:
            Path(args.xlsx).write_bytes(render_xlsx(report))
        detail = {"command": "report", "cohorts": [s.to_dict() for s in specs], "out": args.out}
        audit.log(con, f"cli:{scope.username}", "report_download", detail)
    summary = {
        "out": args.out,
        "xlsx": args.xlsx,
        "cohorts": len(specs),
        "pages": pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages"),
        "bytes": len(pdf),
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"Wrote {args.out}: {summary['cohorts']} cohort(s), {summary['pages']} pages, "
            f"in {summary['seconds']} s."
        )
    return 0
