"""`python -m core init [--demo]`: create or upgrade the warehouse, optionally with the demo."""

from __future__ import annotations

import argparse

from core.cli import add_db_option, print_json
from core.warehouse.db import connect, schema_version, warehouse_path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init", help="create the warehouse (--demo: load the demo district)"
    )
    parser.add_argument("--demo", action="store_true", help="load the synthetic demo district")
    parser.add_argument("--seed", type=int, default=2024, help="demo generator seed")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_db_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = warehouse_path(args.db)
    summary: dict = {"db": str(path)}
    with connect(path) as con:
        summary["schema_version"] = schema_version(con)
    if args.demo:
        # lazy: the demo generator (pandas, scipy) loads only for --demo, not for a plain init
        from core.demo.district import load_demo

        summary["demo"] = load_demo(path, seed=args.seed)
    if args.json:
        print_json(summary)
    else:
        print(f"Warehouse ready at {path} (schema version {summary['schema_version']}).")
        if args.demo:
            demo = summary["demo"]
            print(
                f"Demo district loaded: {demo.get('students', '?')} students, "
                f"{demo.get('scores', '?')} scores; sample files in {demo.get('samples_dir', '?')}."
            )
    return 0
