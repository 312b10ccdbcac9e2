"""Import speed: Yardstick's full pipeline vs DuckDB's read_csv (the floor) vs a row-at-a-time
insert, then a re-import (must add nothing) and an overlapping file (duplicates and updates).

Both sides are timed the same way: read_csv inside this running process, the import inside its
own child process from the call of `import_file` (the function `python -m core import` and the
Upload page call) to its return — see core/bench/child_import.py for why the interpreter start is
left out of the ratio and how it is still reported (`process_seconds`). Peak memory is the
child's whole peak, from the kernel.
"""

from __future__ import annotations

import shutil
import statistics
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.bench import baselines
from core.bench.measure import best_of, run_child


@dataclass(frozen=True)
class ImportRun:
    seconds: float  # import_file, call to return (everything the import does)
    process_seconds: float  # the child process from start to exit (adds Python's start-up)
    peak_rss_mb: float
    summary: dict


def run_import(csv_path: Path, db_file: Path) -> ImportRun:
    """One import into `db_file` in its own process (peak RSS is its own)."""
    run = run_child(["-m", "core.bench.child_import", str(csv_path), str(db_file)])
    if run.returncode != 0:
        raise RuntimeError(f"import failed: {run.stderr.strip()[-500:]}")
    summary = run.json()
    if summary["status"] != "completed":
        raise RuntimeError(f"import failed: {summary['message']}")
    return ImportRun(summary["seconds"], run.seconds, run.peak_rss_mb, summary)


def yardstick_import(csv_path: Path, db_file: Path) -> ImportRun:
    """An import into a fresh warehouse."""
    shutil.rmtree(db_file.parent, ignore_errors=True)
    return run_import(csv_path, db_file)


def write_overlap(csv_path: Path, out: Path, changed: int = 1_000) -> tuple[int, int]:
    """The latest year's rows again, `changed` of them with a new score: (rows, changed)."""
    con = duckdb.connect()
    try:
        con.execute(
            "create table t as select * from read_csv($p, all_varchar = true) "
            "where school_year = (select max(school_year) from read_csv($p, all_varchar = true))",
            {"p": str(csv_path)},
        )
        con.execute(
            "update t set score = (score::double + 1)::varchar where rowid < $n", {"n": changed}
        )
        rows = con.execute("select count(*) from t").fetchone()[0]
        con.execute("copy t to $out (header, delimiter ',')", {"out": str(out)})
        return rows, min(changed, rows)
    finally:
        con.close()


def measure_import(csv_path: Path, work: Path, repeats: int, rows: int) -> dict:
    """Best of `repeats` on each side, the two sides taking turns (a disturbance of the machine
    then hits both rather than one). On a shared machine a quiet moment is likelier to cover the
    short read_csv than the longer import, which skews best against best; each turn's own ratio
    (import, then read_csv right after) is reported too, with their median."""
    runs, floors = [], []
    for _ in range(repeats):
        runs.append(yardstick_import(csv_path, work / "yardstick" / "y.duckdb"))
        floors.append(
            best_of(1, lambda: baselines.read_csv_into_table(csv_path, work / "floor.duckdb"))[0]
        )
    best, floor_s = min(runs, key=lambda r: r.seconds), min(floors)
    turns = [run.seconds / floor for run, floor in zip(runs, floors, strict=True)]
    rowwise = baselines.rowwise_insert_rate(csv_path, work / "rowwise.duckdb")
    db_file = work / "yardstick" / "y.duckdb"
    again = run_import(csv_path, db_file)
    overlap_rows, changed = write_overlap(csv_path, work / "overlap.csv")
    overlap = run_import(work / "overlap.csv", db_file)
    return {
        "rows": rows,
        "seconds": best.seconds,
        "process_seconds": best.process_seconds,
        "rows_per_s": rows / best.seconds,
        "inserted": best.summary["inserted"],
        "rejected": best.summary["rejected"],
        "read_csv_seconds": floor_s,
        "read_csv_rows_per_s": rows / floor_s,
        "ratio_vs_read_csv": best.seconds / floor_s,
        "ratios_per_turn": turns,
        "ratio_median_per_turn": statistics.median(turns),
        "rowwise_rows_per_s": rowwise,
        "rowwise_extrapolated_seconds": rows / rowwise,
        "speedup_vs_rowwise": (rows / rowwise) / best.seconds,
        "reimport_inserted": again.summary["inserted"],
        "reimport_message": again.summary.get("message", ""),
        "overlap": {"rows": overlap_rows, "changed": changed, **_counts(overlap)},
        "peak_rss_mb": max(r.peak_rss_mb for r in runs),
    }


def _counts(run: ImportRun) -> dict:
    keys = ("inserted", "updated", "duplicates", "rejected")
    return {key: run.summary.get(key) for key in keys} | {"seconds": run.seconds}
