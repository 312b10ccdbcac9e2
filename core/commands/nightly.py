"""`python -m core nightly`: pull every SFTP source, import, e-mail the admins on failure.

Exit codes: 0 everything imported or nothing new; 1 a source failed (the admins were e-mailed);
75 another nightly run is still going (this one did nothing). For cron and systemd timers: see
docs/nightly.md."""

from __future__ import annotations

import argparse
import sys

from core.cli import CommandError, add_db_option, print_json
from core.sftp.nightly import NightlyReport, NightlyRunningError, interrupted_lines, run_nightly
from core.warehouse.db import warehouse_path

EXIT_ALREADY_RUNNING = 75  # EX_TEMPFAIL: try again later


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "nightly", help="pull every SFTP source and import (for cron); e-mail on failure"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_db_option(parser)
    parser.set_defaults(func=run)


def _print(report: NightlyReport) -> None:
    for line in interrupted_lines(report):
        print(line)
    if not report.outcomes:
        print("No SFTP source is configured; nothing to do.")
    for outcome in report.outcomes:
        state = "ok" if outcome.ok else f"FAILED ({outcome.attempts} attempt(s))"
        print(f"{outcome.source}: {state}. {outcome.message}")
    if report.emailed_to:
        print(f"Failure e-mail sent to {', '.join(report.emailed_to)}.")


def run(args: argparse.Namespace) -> int:
    try:
        report = run_nightly(warehouse_path(args.db))
    except NightlyRunningError as exc:
        raise CommandError(str(exc), code=EXIT_ALREADY_RUNNING) from exc
    if args.json:
        print_json(report.to_dict())
    else:
        _print(report)
    if report.email_error:
        sys.stderr.write(f"warning: the failure e-mail was not sent: {report.email_error}\n")
    if not report.ok:
        failed = [o.source for o in report.outcomes if not o.ok]
        raise CommandError(f"nightly run #{report.run_id}: failed for {', '.join(failed)}")
    return 0
