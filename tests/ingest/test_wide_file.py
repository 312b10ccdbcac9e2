"""A wide file (issue 17): 50 students and thousands of extra columns once took 13 GB and 69 s.

Both wide imports run `python -m core import` in a child process under an address-space limit
(so a regression fails the test instead of taking the machine's memory), and the child's peak
resident memory is read from the kernel (os.wait4). The bound asserted is memory, not time.
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from core.ingest import attribute_years, import_file, preview
from core.ingest.limits import MAX_COLUMNS
from core.warehouse.canonical import normalize_header
from tests.ingest.helpers import frame

ROOT = Path(__file__).resolve().parents[2]
ADDRESS_LIMIT = 4_000_000_000  # bytes: the child dies rather than the machine
PEAK_LIMIT_KB = 1_000_000  # < 1 GB resident, what the issue asks
ID_HEADERS = ["Student_Number", "First_Name", "Last_Name", "School_Name", "Grade_Level",
              "School_Year"]  # fmt: skip


def _wide_csv(path: Path, extra: int, rows: int = 50, seed: int = 17) -> Path:
    """A roster with `extra` columns beyond the student's own (values short, some blank, some
    padded with spaces), like the 231 KB file of the issue."""
    rng = random.Random(seed)
    header = ID_HEADERS + [f"Flag {i:04d}" for i in range(extra)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for r in range(rows):
            person = [f"S{r:04d}", f"First{r}", f"Last{r}", "Lincoln Elementary", str(3 + r % 3),
                      "2025-26"]  # fmt: skip
            writer.writerow(person + [rng.choice(["Y", "N", "", " A ", "7"]) for _ in range(extra)])
    return path


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))


def _import_in_child(path: Path, db: Path, tmp: Path) -> tuple[int, str, str, int]:
    """`python -m core import PATH --json` in a child under ADDRESS_LIMIT; returns its exit code,
    stdout, stderr and peak resident memory in kB (ru_maxrss of that child alone)."""
    out, err = tmp / "stdout.txt", tmp / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "core", "import", str(path), "--db", str(db), "--json"],
            cwd=ROOT, stdout=stdout, stderr=stderr, preexec_fn=_limited,
        )  # fmt: skip
        killer = threading.Timer(600, child.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            killer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, out.read_text(), err.read_text(), usage.ru_maxrss


def test_a_file_wider_than_the_limit_is_refused_at_once(tmp_path: Path) -> None:
    path = _wide_csv(tmp_path / "wide.csv", extra=2_000)
    code, stdout, stderr, peak = _import_in_child(path, tmp_path / "w.duckdb", tmp_path)
    message = (
        f"This file has {2_000 + len(ID_HEADERS):,} columns; Yardstick reads at most "
        f"{MAX_COLUMNS:,}. Remove the columns you don't need, or split the file."
    )
    assert code == 1
    assert stderr.strip() == f"error: wide.csv: {message}"
    assert json.loads(stdout)["status"] == "failed"
    assert peak < PEAK_LIMIT_KB, f"peak {peak:,} kB"
    assert frame(tmp_path / "w.duckdb", "select * from students").empty
    assert preview(path).refused == message  # the Upload page says so before importing


def test_a_file_just_under_the_limit_imports_in_bounded_memory(tmp_path: Path) -> None:
    extra = MAX_COLUMNS - len(ID_HEADERS)
    path = _wide_csv(tmp_path / "wide.csv", extra=extra)
    code, stdout, stderr, peak = _import_in_child(path, tmp_path / "w.duckdb", tmp_path)
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert (summary["status"], summary["inserted"], summary["rejected"]) == ("completed", 50, 0)
    assert peak < PEAK_LIMIT_KB, f"peak {peak:,} kB"

    # pandas: every non-blank cell of an extra column, trimmed, is one stored attribute value
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    cells = raw.melt(id_vars=ID_HEADERS, var_name="header", value_name="value")
    cells["value"] = cells["value"].str.strip()
    cells = cells[cells["value"] != ""]
    expected = pd.DataFrame(
        {
            "student_id": cells["Student_Number"],
            "school_year": "2025-2026",
            "attribute": cells["header"].map(normalize_header),
            "value": cells["value"],
        }
    )
    stored = frame(
        tmp_path / "w.duckdb",
        "select student_id, school_year, attribute, value from student_attributes",
    )
    key = ["student_id", "attribute"]
    assert len(stored) == len(expected) > 40 * extra
    pd.testing.assert_frame_equal(
        stored.sort_values(key).reset_index(drop=True),
        expected.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )


CONFLICT_HEADERS = ["student_id", "school", "grade", "school_year", "season", "test_date",
                    "subject", "score", "ell", "class_type", "bus", "club", "lunch"]  # fmt: skip
CONFLICT_ROWS = [
    ["1", "Elm", "3", "2024-2025", "fall", "2024-09-10", "math", "200", "Y", "small", "4", "", "a"],
    ["1", "Elm", "3", "2024-2025", "spring", "2025-04-02", "math", "210", "N", "small", "", "x",
     "b"],
    ["1", "Elm", "3", "2024-2025", "winter", "", "math", "205", "Y", "big", "5", "y", "a"],
    ["2", "Elm", "3", "2024-2025", "spring", "2025-04-02", "math", "190", "N", "regular", "7",
     "chess", "a"],
    ["2", "Elm", "3", "2024-2025", "spring", "2025-04-02", "reading", "191", "N", "aide", "7",
     "", "b"],
    ["3", "Elm", "2", "2023-2024", "spring", "2024-04-02", "math", "180", "Y", "small", "", "",
     ""],
]  # fmt: skip


def _stored_attributes(db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    values = frame(db, "select * from student_attributes order by all")
    warnings = frame(db, "select row_number, column_name, message from import_errors order by all")
    return values, warnings


def test_reading_the_extra_columns_in_batches_never_changes_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Conflicting values across several extra columns: one column per batch and all columns in
    one batch store the same values and the same warnings."""
    path = tmp_path / "scores.csv"
    pd.DataFrame(CONFLICT_ROWS, columns=CONFLICT_HEADERS).to_csv(path, index=False)
    results = []
    for batch in (1, 100):
        monkeypatch.setattr(attribute_years, "ATTRIBUTE_BATCH", batch)
        db = tmp_path / f"batch{batch}.duckdb"
        summary = import_file(path, db=db, origin="cli", preset="generic")
        assert summary.status == "completed", summary.message
        results.append(_stored_attributes(db))
    (one_by_one, one_by_one_warnings), (together, together_warnings) = results
    pd.testing.assert_frame_equal(one_by_one, together)
    pd.testing.assert_frame_equal(one_by_one_warnings, together_warnings)
    kept = {(r.student_id, r.attribute): r.value for r in together.itertuples()}
    assert kept[("1", "class_type")] == "small"  # spring, the latest test, says small
    assert kept[("1", "bus")] == "4"  # spring is blank; undated winter ranks after dated fall
    assert kept[("2", "class_type")] == "aide"  # same day, one each: alphabetical
    assert ("3", "club") not in kept  # blank never stored
    assert set(together_warnings["column_name"]) == {"ell", "class_type", "bus", "club",
                                                     "lunch"}  # fmt: skip
