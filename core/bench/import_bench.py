"""Import speed: Yardstick's full pipeline vs DuckDB's read_csv (the floor) vs a row-at-a-time
insert, then a re-import (must add nothing) and an overlapping file (duplicates and updates)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from core.bench import baselines
from core.bench.measure import ChildRun, best_of, run_child


def yardstick_import(csv_path: Path, db_file: Path) -> ChildRun:
    """`python -m core import` into a fresh warehouse, in its own process (peak RSS is its own)."""
    shutil.rmtree(db_file.parent, ignore_errors=True)
    run = run_child(["-m", "core", "--db", str(db_file), "import", str(csv_path), "--json"])
    if run.returncode != 0:
        raise RuntimeError(f"import failed: {run.stderr.strip()[-500:]}")
    return run


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
    runs = [yardstick_import(csv_path, work / "yardstick" / "y.duckdb") for _ in range(repeats)]
    best = min(runs, key=lambda r: r.seconds)
    summary = best.json()
    floor_s, _ = best_of(
        repeats, lambda: baselines.read_csv_into_table(csv_path, work / "floor.duckdb")
    )
    rowwise = baselines.rowwise_insert_rate(csv_path, work / "rowwise.duckdb")
    db_file = work / "yardstick" / "y.duckdb"
    again = run_child(["-m", "core", "--db", str(db_file), "import", str(csv_path), "--json"])
    overlap_rows, changed = write_overlap(csv_path, work / "overlap.csv")
    overlap = run_child(
        ["-m", "core", "--db", str(db_file), "import", str(work / "overlap.csv"), "--json"]
    )
    return {
        "rows": rows,
        "seconds": best.seconds,
        "rows_per_s": rows / best.seconds,
        "inserted": summary["inserted"],
        "rejected": summary["rejected"],
        "read_csv_seconds": floor_s,
        "read_csv_rows_per_s": rows / floor_s,
        "ratio_vs_read_csv": best.seconds / floor_s,
        "rowwise_rows_per_s": rowwise,
        "rowwise_extrapolated_seconds": rows / rowwise,
        "speedup_vs_rowwise": (rows / rowwise) / best.seconds,
        "reimport_inserted": again.json()["inserted"],
        "reimport_message": again.json().get("message", ""),
        "overlap": {"rows": overlap_rows, "changed": changed, **_counts(overlap)},
        "peak_rss_mb": max(r.peak_rss_mb for r in runs),
    }


def _counts(run: ChildRun) -> dict:
    summary = run.json()
    keys = ("inserted", "updated", "duplicates", "rejected")
    return {key: summary.get(key) for key in keys} | {"seconds": run.seconds}
