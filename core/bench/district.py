"""The district benchmarks' speed goal (issue 8): every average, trend, delta and quartile flag of
20,000 districts × 10 years, computed live, in under a second.

Runs `python -m core.districts.timing` in its own process (its peak memory is its own, like the
other measured steps) on generated district-level data in a fresh on-disk DuckDB file.
"""

from __future__ import annotations

from core.bench.measure import run_child

DISTRICTS, YEARS = 20_000, 10
GOAL_SECONDS = 1.0


def measure_district(repeats: int, seed: int) -> dict:
    """{districts, years, rows, seconds (best all-years wall), cpu_seconds, …}, or {error}."""
    size = ["--districts", str(DISTRICTS), "--years", str(YEARS)]
    run = run_child(
        ["-m", "core.districts.timing", *size, "--seed", str(seed), "--repeats", str(repeats)]
    )
    if run.returncode != 0:
        return {"error": run.stderr.strip()[-500:]}
    timing = run.json()
    return {
        "districts": timing["districts"],
        "years": timing["years"],
        "rows": timing["all_years_rows"],
        "seconds": timing["all_years_seconds"],
        "median_seconds": timing["all_years_median_seconds"],
        "cpu_seconds": timing["all_years_cpu_seconds"],
        "latest_year_seconds": timing["latest_year_seconds"],
        "peak_rss_mb": run.peak_rss_mb,
    }


def district_goal(result: dict) -> bool | None:
    seconds = result.get("district", {}).get("seconds")
    return None if seconds is None else seconds < GOAL_SECONDS


def district_lines(district: dict) -> list[str]:
    """The human report's lines for this part (empty when it was skipped)."""
    if not district:
        return []
    if "error" in district:
        return ["", f"District benchmarks: failed: {district['error']}"]
    return [
        "",
        f"District benchmarks ({district['districts']:,} districts × {district['years']} years, "
        f"{district['rows']:,} district-years: averages, trends, deltas, quartile flags)",
        f"  every year at once          {district['seconds']:.3f} s best   "
        f"{district['median_seconds']:.3f} s median   CPU {district['cpu_seconds']:.3f} s",
        f"  latest year (the page)      {district['latest_year_seconds']:.3f} s   "
        f"peak {district['peak_rss_mb']:,.0f} MB",
    ]
