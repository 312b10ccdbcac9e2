"""`python -m core bench [--students N] [--years Y] [--skip PARTS] [--json]`: the benchmark."""

from __future__ import annotations

import argparse
import sys

from core.cli import CommandError, add_db_option, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="performance benchmark against the alternatives")
    parser.add_argument("--students", type=int, default=60_000, help="students a year (60000)")
    parser.add_argument("--years", type=int, default=5, help="school years (5)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3, help="best of N on each side (3)")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to skip: stats,pages,concurrency,scaling,district,report",
    )
    parser.add_argument("--workdir", help="keep the generated files and warehouses here")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    add_db_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: core.bench sits above commands in the layers (it measures them; tests/core/
    # test_architecture.py) and loads its generator, baselines, pandas and scipy
    from core.bench import PARTS, run_benchmark
    from core.bench.report import human_report

    skip = tuple(p.strip() for p in args.skip.split(",") if p.strip())
    unknown = [p for p in skip if p not in PARTS]
    if unknown:
        raise CommandError(f"--skip: unknown part(s) {', '.join(unknown)}; use {', '.join(PARTS)}")
    if args.students < 500 or args.years < 2:
        raise CommandError("--students must be at least 500 and --years at least 2")
    result = run_benchmark(
        args.students,
        args.years,
        skip=skip,
        seed=args.seed,
        repeats=args.repeats,
        workdir=args.workdir,
        say=lambda text: sys.stderr.write(f"bench: {text}\n"),
    )
    if args.json:
        print_json(result)
    else:
        sys.stdout.write(human_report(result))
    return 0
