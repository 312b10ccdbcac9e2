"""`python -m core benchmarks [--state XX] [--year YYYY] [--district ID] [--where FLAGS]
[--json|--csv]`:
each district against its state and the nation (core/districts/benchmarks.py has every definition).

--json: {"year", "districts": [...], "state_averages": [...], "national_averages": [...]}, one
record per district with its values, `<metric>_vs_state` / `_vs_national`, 3-year trends with
their `_reason`, `<metric>_quartile_state` with its reason and `<metric>_reading`.
--csv: the district records. Without either: a short table for a person.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

import pandas as pd

from core.access import audit
from core.cli import CommandError, add_outputs, print_csv, print_json, scope_of
from core.districts.benchmarks import (
    Benchmarks,
    benchmark_states,
    benchmark_years,
    district_benchmarks,
)
from core.districts.flags import FlagFilter
from core.warehouse.db import connect


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "benchmarks", help="district vs state vs national: averages, 3-year trends, quartiles"
    )
    parser.add_argument("--state", help="two-letter state code (default: every state)")
    parser.add_argument("--year", type=int, help="fall of the school year (default: latest)")
    parser.add_argument("--district", help="one district id (NCES LEA id)")
    parser.add_argument(
        "--where",
        help="quartile flags to keep, e.g. 'absenteeism well_above and graduation below'",
    )
    add_outputs(parser, "the district records as CSV")
    parser.set_defaults(func=run)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with None for every missing value (NaN, NA), ready for JSON or CSV."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def document(result: Benchmarks) -> dict[str, Any]:
    return {
        "year": result.year,
        "districts": records(result.districts),
        "state_averages": records(result.state_averages),
        "national_averages": records(result.national_averages),
    }


def _explain_empty(con: Any, scope: Any, args: argparse.Namespace, result: Benchmarks) -> None:
    if result.year is None:
        raise CommandError(
            "No district data are loaded: import a district file (python -m core import FILE) "
            "or load the demo (python -m core init --demo)."
        )
    if args.district:
        raise CommandError(f"No district {args.district} in {result.year}.")
    if not args.state:
        years = ", ".join(str(y) for y in benchmark_years(con, scope))
        raise CommandError(f"No district data for {result.year}; years loaded: {years}.")
    known = ", ".join(benchmark_states(con, scope, result.year)) or "none"
    raise CommandError(f"No districts in {args.state} in {result.year}; states loaded: {known}.")


def run(args: argparse.Namespace) -> int:
    where = FlagFilter.parse(args.where) if args.where else FlagFilter()
    with connect(args.db) as con:
        scope = scope_of(args, con)
        result = district_benchmarks(
            con, scope, state=args.state, year=args.year, district=args.district
        )
        if result.districts.empty:
            _explain_empty(con, scope, args, result)
        result = replace(result, districts=where.apply(result.districts))
        detail = {
            "command": "benchmarks",
            "state": args.state,
            "year": result.year,
            "district": args.district,
            "where": where.describe(),
            "rows": len(result.districts),
        }
        audit.log(con, f"cli:{scope.username}", "export", detail)
    if args.csv:
        print_csv(records(result.districts))
    elif args.json:
        print_json(document(result))
    else:
        _print_human(result)
    return 0


def _dashed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), "—")


def _print_human(result: Benchmarks) -> None:
    shown = result.districts.head(25)
    print(
        f"District benchmarks, {result.year}-{(result.year + 1) % 100:02d}: "
        f"{len(result.districts)} districts"
    )
    columns = [
        "district_id",
        "name",
        "state",
        "enrollment",
        "absenteeism",
        "graduation",
        "math_proficiency",
        "read_proficiency",
        "expenditure_pp",
    ]
    print(_dashed(shown[columns].round(1)).to_string(index=False))
    if len(result.districts) > len(shown):
        print(f"… and {len(result.districts) - len(shown)} more (use --csv or --json for all).")
    averages = pd.concat([result.state_averages, result.national_averages])
    print("\nEnrollment-weighted averages:")
    print(_dashed(averages.drop(columns=["year"]).round(1)).to_string(index=False))
