"""How fast the district benchmarks are, on generated data in a fresh on-disk DuckDB file.

    python -m core.district_timing --districts 20000 --years 10 --repeats 3

prints JSON: the best-of-N wall time of `district_benchmarks` for the latest year (what the page
and the CLI compute: every district's figures, deltas, 3-year trends and flags, and all state and
national averages) and for every year at once (all_years=True). The benchmark command can call
`time_district_benchmarks` directly.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from core import db
from core.district_benchmarks import district_benchmarks
from core.district_demo import generate_districts
from core.scope import DISTRICT


def _best(repeats: int, step: Any) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def time_district_benchmarks(
    n_districts: int = 20_000, years: int = 10, seed: int = 7, repeats: int = 3
) -> dict[str, Any]:
    """Best-of-`repeats` seconds for one year's and for every year's complete answer."""
    frame = generate_districts(n_districts, range(2023 - years, 2023), seed)
    with tempfile.TemporaryDirectory() as folder, db.connect(Path(folder) / "w.duckdb") as con:
        con.register("generated", frame)
        con.execute(f"insert into district_years ({', '.join(frame.columns)}) "
                    f"select * from generated")  # fmt: skip
        con.unregister("generated")
        latest = district_benchmarks(con, DISTRICT)
        everything = district_benchmarks(con, DISTRICT, all_years=True)
        return {
            "districts": n_districts,
            "years": years,
            "rows": len(frame),
            "latest_year_rows": len(latest.districts),
            "all_years_rows": len(everything.districts),
            "latest_year_seconds": _best(repeats, lambda: district_benchmarks(con, DISTRICT)),
            "all_years_seconds": _best(
                repeats, lambda: district_benchmarks(con, DISTRICT, all_years=True)
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m core.district_timing")
    parser.add_argument("--districts", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = time_district_benchmarks(args.districts, args.years, args.seed, args.repeats)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
