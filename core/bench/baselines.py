"""The obvious alternatives Yardstick is measured against, written the way a script would do it.

They live here, not in the product: DuckDB's own read_csv (the floor for an import), a
row-at-a-time insert (a hand-written ETL loop), and a per-cohort query loop with scipy per
cohort (a straightforward statistics script). Each writes to a fresh on-disk DuckDB file, like ours.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import duckdb
import numpy as np
from scipy import stats as sps

_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def read_csv_into_table(csv_path: Path, db_file: Path) -> int:
    """DuckDB's plain read_csv into a table: no detection of vendors, no mapping, no validation."""
    db_file.unlink(missing_ok=True)
    con = duckdb.connect(str(db_file), config=_CONFIG)
    try:
        con.execute("create table t as select * from read_csv(?)", [str(csv_path)])
        return con.execute("select count(*) from t").fetchone()[0]
    finally:
        con.close()


def rowwise_insert_rate(csv_path: Path, db_file: Path, sample_rows: int = 5_000) -> float:
    """Rows per second of one INSERT per row (parameters bound), measured on a sample."""
    db_file.unlink(missing_ok=True)
    con = duckdb.connect(str(db_file), config=_CONFIG)
    try:
        with csv_path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = [row for _, row in zip(range(sample_rows), reader, strict=False)]
        columns = ", ".join(f"c{i} varchar" for i in range(len(header)))
        con.execute(f"create table t ({columns})")
        marks = ", ".join("?" for _ in header)
        start = time.perf_counter()
        for row in rows:  # deliberately row by row: this is the baseline being measured
            con.execute(f"insert into t values ({marks})", row)
        return len(rows) / (time.perf_counter() - start)
    finally:
        con.close()


def per_cohort_loop(
    db_file: Path, norms: dict[tuple[str, str, str], float], limit: int | None = None
) -> int:
    """One query per grade × school × year × subject × season cohort, then scipy per cohort."""
    con = duckdb.connect(str(db_file), read_only=True, config=_CONFIG)
    try:
        cohorts = con.execute(
            "select distinct a.grade, a.school_id, a.school_year, a.subject, a.season "
            "from assessments a order by all"
        ).fetchall()
        for grade, school_id, year, subject, season in cohorts[:limit]:
            scores = np.array(
                [
                    r[0]
                    for r in con.execute(
                        "select score from assessments where grade = ? and school_id = ? "
                        "and school_year = ? and subject = ? and season = ?",
                        [grade, school_id, year, subject, season],
                    ).fetchall()
                ]
            )
            mu = norms.get((subject, grade, season))
            if mu is not None and len(scores) >= 10:
                sps.ttest_1samp(scores, mu)
        return len(cohorts[:limit])
    finally:
        con.close()
