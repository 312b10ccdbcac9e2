"""How fast the district benchmarks are, on generated data in a fresh on-disk DuckDB file.

    python -m core.districts.timing --districts 20000 --years 10 --repeats 3

prints JSON: for the latest year (what the page and the CLI compute: every district's figures,
deltas, 3-year trends and flags, and all state and national averages) and for every year at once
(all_years=True, the speed goal of issue 8), the best-of-N and median wall seconds of
`district_benchmarks` and the process CPU seconds of each run (DuckDB's threads included), so a
busy machine (wall ≫ CPU) can be told apart from a slow query. The benchmark command runs this
in a child process (core/bench/district.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.access.scope import DISTRICT
from core.districts.benchmarks import district_benchmarks
from core.districts.demo_data import generate_districts
from core.warehouse import db


def _runs(repeats: int, step: Callable[[], object]) -> dict[str, float]:
    """Best and median wall seconds and median process CPU seconds of `repeats` runs."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "seconds": min(walls),
        "median_seconds": statistics.median(walls),
        "cpu_seconds": statistics.median(cpus),
    }


def time_district_benchmarks(
    n_districts: int = 20_000, years: int = 10, seed: int = 7, repeats: int = 3
) -> dict[str, Any]:
    """Timings of one year's and of every year's complete answer (after one warm-up each)."""
    frame = generate_districts(n_districts, range(2023 - years, 2023), seed)
    with tempfile.TemporaryDirectory() as folder, db.connect(Path(folder) / "w.duckdb") as con:
        con.register("generated", frame)
        con.execute(
            f"insert into district_years ({', '.join(frame.columns)}) select * from generated"
        )
        con.unregister("generated")
        latest = district_benchmarks(con, DISTRICT)
        everything = district_benchmarks(con, DISTRICT, all_years=True)
        one_year = _runs(repeats, lambda: district_benchmarks(con, DISTRICT))
        all_years = _runs(repeats, lambda: district_benchmarks(con, DISTRICT, all_years=True))
        return {
            "districts": n_districts,
            "years": years,
            "rows": len(frame),
            "repeats": repeats,
            "latest_year_rows": len(latest.districts),
            "all_years_rows": len(everything.districts),
            **{f"latest_year_{key}": value for key, value in one_year.items()},
            **{f"all_years_{key}": value for key, value in all_years.items()},
        }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m core.districts.timing")
    parser.add_argument("--districts", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = time_district_benchmarks(args.districts, args.years, args.seed, args.repeats)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
