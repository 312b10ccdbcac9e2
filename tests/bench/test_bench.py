"""The benchmark itself must not rot: a small run produces every figure, and they are sane
(not fast — speed is measured by `python -m core bench`, never asserted in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_small_benchmark_produces_every_figure(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "core", "bench", "--students", "2000", "--years", "2",
         "--repeats", "1", "--skip", "concurrency", "--json", "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    imp, stats = result["import"], result["stats"]
    assert imp["rows"] == result["data"]["rows"] == imp["inserted"] > 10_000
    assert imp["rejected"] == 0 and imp["reimport_inserted"] == 0
    assert imp["overlap"]["updated"] == imp["overlap"]["changed"] == 1000
    assert imp["overlap"]["duplicates"] == imp["overlap"]["rows"] - 1000
    assert imp["overlap"]["inserted"] == 0
    for key in ("seconds", "rows_per_s", "read_csv_seconds", "ratio_vs_read_csv",
                "rowwise_rows_per_s", "peak_rss_mb"):  # fmt: skip
        assert imp[key] > 0, key
    assert stats["cohorts"] > 0 and stats["comparisons"] > 0 and stats["loop_cohorts"] > 0
    assert stats["speedup_vs_loop"] == pytest.approx(stats["loop_seconds"] / stats["seconds"])
    assert all(not page["errors"] for page in result["pages"].values()), result["pages"]
    assert {"Standards", "Prior cohorts", "Growth", "Subgroups"} <= set(result["pages"])
    assert [row["factor"] for row in result["scaling"]] == [0.1, 1.0, 3.0]
    assert (
        result["scaling"][0]["rows"] < result["scaling"][1]["rows"] < result["scaling"][2]["rows"]
    )
    assert set(result["goals"]) >= {"import_within_3x_read_csv", "stats_50x_loop", "linear_scaling",
                                    "district_benchmarks_under_1s"}  # fmt: skip
    district = result["district"]
    assert (district["districts"], district["years"], district["rows"]) == (20_000, 10, 200_000)
    assert 0 < district["seconds"] <= district["median_seconds"] and district["cpu_seconds"] > 0
    report = result["report"]  # every grade × school cohort of the latest year (fewer than 30)
    assert 0 < report["cohorts"] < 30 and report["pages"] >= report["cohorts"] + 2
    assert 0 < report["seconds"] <= report["median_seconds"] and report["cpu_seconds"] > 0
    assert "report_30_cohorts_under_20s" in result["goals"]
    assert result["machine"]["cores"] >= 1


@pytest.mark.slow
def test_concurrent_sessions_sign_in_and_render_the_standards_page(tmp_path: Path) -> None:
    """The concurrency part on a real `streamlit run`: every session signs in through the form
    and gets the Standards page with its results (the client checks the page's own text)."""
    from core.bench.concurrency import measure_concurrency
    from core.demo.district import load_demo

    warehouse = tmp_path / "demo.duckdb"
    load_demo(warehouse, 3, students_per_year=300, years=2)
    rows = measure_concurrency(warehouse, counts=(3,))
    assert [row["sessions"] for row in rows] == [3]
    assert rows[0]["failures"] == 0, rows[0]["errors"]
    assert 0 < rows[0]["median_s"] <= rows[0]["worst_s"]
