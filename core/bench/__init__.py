"""`python -m core bench`: one honest, repeatable measurement of Yardstick's speed against the
obvious alternatives, on one generated district, in one run (issue 9; the contract in docs/cli.md).

Each measured step that needs its own memory figure runs in a child process (core/bench/
measure.py); baselines write to fresh on-disk DuckDB files like ours (core/bench/baselines.py).
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np

from core import __version__
from core.bench import baselines
from core.bench.concurrency import measure_concurrency
from core.bench.data import write_bench_files
from core.bench.district import district_goal, measure_district
from core.bench.import_bench import measure_import, yardstick_import
from core.bench.measure import best_of, run_child
from core.bench.report_speed import COHORTS, measure_report, report_goal
from core.standards.norms import load_norm_set
from core.warehouse import db

PARTS = ("import", "stats", "pages", "concurrency", "scaling", "district", "report")
SCALES = (0.1, 1.0, 3.0)


def _stats_child(db_file: Path, repeats: int) -> dict:
    run = run_child(["-m", "core.bench.child_stats", str(db_file), str(repeats)])
    if run.returncode != 0:
        raise RuntimeError(f"statistics failed: {run.stderr.strip()[-500:]}")
    return run.json() | {"peak_rss_mb": run.peak_rss_mb}


def _norm_means(db_file: Path) -> dict[tuple[str, str, str], float]:
    with db.connect(db_file) as con:
        frame = load_norm_set(con).values
    return {
        (r.subject, r.grade, r.season): float(r.mean)
        for r in frame[["subject", "grade", "season", "mean"]].itertuples()
    }


def measure_stats(db_file: Path, repeats: int) -> dict:
    ours = _stats_child(db_file, repeats)
    norms = _norm_means(db_file)
    loop_s, looped = best_of(repeats, lambda: baselines.per_cohort_loop(db_file, norms))
    return ours | {
        "loop_seconds": loop_s,
        "loop_cohorts": looped,
        "speedup_vs_loop": loop_s / ours["seconds"],
    }


def measure_pages(db_file: Path) -> dict:
    run = run_child(["-m", "ui.bench_pages", str(db_file)])
    if run.returncode != 0:
        return {"error": run.stderr.strip()[-500:]}
    return run.json()


def measure_scaling(work: Path, students: int, years: int, seed: int, at_1x: dict) -> list[dict]:
    rows = []
    for factor in SCALES:
        if factor == 1.0:
            rows.append({"factor": 1.0, **at_1x})
            continue
        folder = work / f"scale_{factor}"
        files = write_bench_files(folder, max(500, int(students * factor)), years, seed)
        imported = yardstick_import(files.long_csv, folder / "db" / "y.duckdb")
        stats = _stats_child(folder / "db" / "y.duckdb", 1)
        rows.append(
            {
                "factor": factor,
                "rows": files.rows,
                "import_s": imported.seconds,
                "stats_s": stats["seconds"]
                + stats["comparisons_seconds"]
                + stats["growth_seconds"],
            }
        )
        shutil.rmtree(folder, ignore_errors=True)
    for row in rows:
        row["import_us_per_row"] = row["import_s"] / row["rows"] * 1e6
        row["stats_us_per_row"] = row["stats_s"] / row["rows"] * 1e6
    return rows


def slope(rows: list[dict], key: str) -> float:
    """Slope of log(time) against log(rows): 1.0 is linear cost, below 1 fixed costs dominate."""
    x = np.log([r["rows"] for r in rows])
    y = np.log([max(r[key], 1e-9) for r in rows])
    return float(np.polyfit(x, y, 1)[0])


def machine() -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.strip()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "yardstick": __version__,
        "commit": commit or None,
    }


def goals(result: dict) -> dict[str, bool | None]:
    imp, stats = result.get("import", {}), result.get("stats", {})
    pages = {k: v for k, v in result.get("pages", {}).items() if isinstance(v, dict)}
    conc = [c for c in result.get("concurrency", []) if c.get("sessions") == 20]
    scaling = result.get("scaling", [])

    def known(value: object, test: Callable[[object], bool]) -> bool | None:
        return None if value is None else bool(test(value))

    return {
        "import_within_3x_read_csv": known(imp.get("ratio_vs_read_csv"), lambda r: r <= 3),
        "import_peak_under_1_5_gb": known(imp.get("peak_rss_mb"), lambda m: m < 1536),
        "reimport_adds_nothing": known(imp.get("reimport_inserted"), lambda n: n == 0),
        "stats_under_1s": known(stats.get("seconds"), lambda s: s < 1),
        "stats_50x_loop": known(stats.get("speedup_vs_loop"), lambda s: s >= 50),
        "prior_year_under_1s": known(stats.get("comparisons_seconds"), lambda s: s < 1),
        "growth_under_2s": known(stats.get("growth_seconds"), lambda s: s < 2),
        "pages_under_2s_warm": known(
            pages or None, lambda p: all(v["warm_s"] < 2 for v in p.values())
        ),
        "concurrency_20_no_failure_worst_under_5s": known(
            conc[0] if conc and "failures" in conc[0] else None,
            lambda c: c["failures"] == 0 and (c["worst_s"] or math.inf) < 5,
        ),
        "linear_scaling": known(
            result.get("scaling_slope", {}).get("import") if scaling else None, lambda s: s <= 1.15
        ),
        "district_benchmarks_under_1s": district_goal(result),
        "report_30_cohorts_under_20s": report_goal(result),
    }


def run_benchmark(
    students: int = 60_000,
    years: int = 5,
    *,
    skip: tuple[str, ...] = (),
    seed: int = 7,
    repeats: int = 3,
    workdir: Path | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> dict:
    work = Path(workdir or tempfile.mkdtemp(prefix="yardstick-bench-"))
    result: dict = {"machine": machine(), "students": students, "years": years, "seed": seed}
    try:
        say(f"generating {students:,} students × {years} years …")
        files = write_bench_files(work / "data", students, years, seed)
        result["data"] = {
            "rows": files.rows,
            "students": files.students,
            "long_csv": files.long_csv.name,
            "nwea_csv": files.nwea_csv.name,
        }
        db_file = work / "yardstick" / "y.duckdb"
        say("import (ours, read_csv, row by row, re-import, overlap) …")
        result["import"] = measure_import(files.long_csv, work, repeats, files.rows)
        if "stats" not in skip:
            say("live statistics (ours vs a per-cohort loop) …")
            result["stats"] = measure_stats(db_file, repeats)
        if "pages" not in skip:
            say("pages (AppTest, cold and warm) …")
            result["pages"] = measure_pages(db_file)
        if "report" not in skip:
            say(f"report (PDF of {COHORTS} saved cohorts) …")
            result["report"] = measure_report(db_file, repeats)
        if "concurrency" not in skip:
            say("concurrent sessions (5 and 20, websocket clients of a real streamlit run) …")
            result["concurrency"] = measure_concurrency(db_file)
        if "scaling" not in skip and "stats" in result:
            say("scaling (0.1×, 1×, 3×) …")
            stats = result["stats"]
            at_1x = {
                "rows": files.rows,
                "import_s": result["import"]["seconds"],
                "stats_s": stats["seconds"]
                + stats["comparisons_seconds"]
                + stats["growth_seconds"],
            }
            result["scaling"] = measure_scaling(work, students, years, seed, at_1x)
            result["scaling_slope"] = {
                k: slope(result["scaling"], f"{k}_s") for k in ("import", "stats")
            }
        if "district" not in skip:
            say("district benchmarks (20,000 districts × 10 years) …")
            result["district"] = measure_district(repeats, seed)
        result["goals"] = goals(result)
        return result
    finally:
        if workdir is None:
            shutil.rmtree(work, ignore_errors=True)
