"""`python -m core growth --cohort SPEC --from SEASON[:YEAR] --to SEASON[:YEAR] [--json|--csv]`.

Matched growth (docs/comparisons.md): the cohort as defined at `--to`, each member matched to
their own score at `--from`. A period without a year takes the other period's year, else the spec's
school year. Output shape (a contract): one JSON object for a one-subject cohort, else a list.
Every object has {cohort, n, dropped, mean_change, sd_change, t, df, p, ci95: [lo, hi],
suppressed} plus expected growth and % meeting it (null where no growth expectation exists,
with `expected_source` saying where one comes from), the change against the norm, and counts.
"""

from __future__ import annotations

import argparse
from typing import Any

from core.access import audit
from core.cli import (
    CommandError,
    add_outputs,
    clean_for_json,
    print_csv,
    print_json,
    print_results,
    scope_of,
)
from core.cohorts.spec import CohortSpec, load_spec
from core.compare.growth import Period, matched_growth, parse_period
from core.warehouse.db import connect

STATISTICS = (
    "members", "n", "dropped", "mean_from", "mean_to", "mean_change", "sd_change", "t", "df",
    "p", "d_z", "expected_growth", "expected_source", "pct_meeting", "p_vs_expected",
    "changed_school", "repeated_grade",
)  # fmt: skip


COUNTS = ("members", "n", "dropped", "changed_school", "repeated_grade")


def count(value: Any) -> int | None:
    """A student count as an integer (None when not shown: 1–9 students are never reported)."""
    return None if value is None or value != value else int(value)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("growth", help="matched growth of the same students")
    parser.add_argument("--cohort", required=True, help="cohort spec: JSON file or inline JSON")
    parser.add_argument("--from", dest="from_", required=True, help="SEASON[:YEAR], e.g. fall")
    parser.add_argument("--to", required=True, help="SEASON[:YEAR], e.g. spring:2024-2025")
    add_outputs(parser)
    parser.set_defaults(func=run)


def periods(spec: CohortSpec, from_text: str, to_text: str) -> tuple[Period, Period]:
    """Resolve SEASON[:YEAR] pairs; a missing year comes from the other period or the spec."""
    spec_year = spec.school_year[0] if len(spec.school_year) == 1 else None
    try:
        to_year = parse_period(to_text, "?")[1]
        from_year = parse_period(from_text, "?")[1]
        to = parse_period(to_text, spec_year if to_year == "?" else None)
        from_ = parse_period(from_text, to[1] if from_year == "?" else None)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if int(from_[1][:4]) > int(to[1][:4]):
        raise CommandError("--from must not be later than --to.")
    return from_, to


def contract_record(row: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "cohort": row["cohort"],
        "subject": row["subject"],
        "from": {"season": row["from_season"], "school_year": row["from_year"]},
        "to": {"season": row["to_season"], "school_year": row["to_year"]},
    }
    if not row["suppressed"]:
        record.update({k: row.get(k) for k in STATISTICS})
        record.update({k: count(row.get(k)) for k in COUNTS})
        record["ci95"] = [row.get("ci_lo"), row.get("ci_hi")]
        record["percentile"] = {
            "from": row.get("mean_pct_from"), "to": row.get("mean_pct_to"),
            "change": row.get("pct_change"), "p": row.get("p_pct"),
        }  # fmt: skip
        record["percentile_of_mean"] = {  # beside `percentile` (a mean of students' ones)
            "from": row.get("pct_of_mean_from"), "to": row.get("pct_of_mean_to"),
        }  # fmt: skip
        record["vs_norm"] = {
            "z_from": row.get("mean_z_from"), "z_to": row.get("mean_z_to"),
            "z_change": row.get("z_change"), "p": row.get("p_z"),
        }  # fmt: skip
    record["note"] = row.get("note") or ""
    record["suppressed"] = bool(row["suppressed"])
    return clean_for_json(record)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.cohort)
    from_, to = periods(spec, args.from_, args.to)
    with connect(args.db) as con:
        scope = scope_of(args, con)
        rows = matched_growth(con, spec, scope, from_, to)
        detail = {"command": "growth", "cohort": spec.to_dict(), "from": from_, "to": to}
        audit.log(con, f"cli:{scope.username}", "export", detail)
    records = [contract_record(r) for r in rows.to_dict("records")]
    if args.csv:
        print_csv(records)
    elif args.json:
        print_json(records[0] if len(records) == 1 else records)
    else:
        _print_human(records)
    return 0


def _print_human(records: list[dict]) -> None:
    if not records:
        print("No scores match this cohort within your scope.")
    print_results(records, _head, _result)


def _head(r: dict) -> str:
    head = f"{r['cohort']} ({r['subject']}), {r['from']['season']} {r['from']['school_year']}"
    return head + f" → {r['to']['season']} {r['to']['school_year']}"


def _result(r: dict) -> str:
    dropped = "how many had no earlier score is not shown: see the note"
    if r["dropped"] is not None:  # None: a small count, or one revealing a small group
        dropped = f"{r['dropped']:.0f} dropped for a missing test"
    line = f"{r['n']:.0f} matched ({dropped}), "
    line += f"mean change {r['mean_change']:+.1f} (95% CI {r['ci95'][0]:+.1f} to "
    line += f"{r['ci95'][1]:+.1f}), p = {r['p']:.3g}"
    if r.get("expected_growth") is not None:
        line += f"; expected {r['expected_growth']:+.1f}, {r['pct_meeting']:.0f}% met it"
    return line
