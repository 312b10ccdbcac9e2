"""The report figure of the benchmark: a real `python -m core report` of saved cohorts, timed in
its own process on a fresh copy of the warehouse (speed itself is never asserted in tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.bench.report_speed import measure_report, report_goal, report_lines
from core.warehouse import db
from tests.reports.seed import seed


@pytest.mark.slow
def test_the_report_figure_times_a_real_report_of_saved_cohorts(tmp_path: Path) -> None:
    path = tmp_path / "yardstick.duckdb"
    with db.connect(path) as con:
        seed(con)
    report = measure_report(path, repeats=2)
    # every grade × school cohort of the latest year: grades 3 and 4 at three schools
    assert report["cohorts"] == 6
    assert report["pages"] >= 1 + 1 + 6  # cover, summary, a page per cohort
    assert 0 < report["seconds"] <= report["median_seconds"] and report["cpu_seconds"] > 0
    assert report["peak_rss_mb"] > 0
    with db.connect(path) as con:  # measured on copies: the warehouse itself is untouched
        assert con.execute("select count(*) from saved_cohorts").fetchone()[0] == 0
    assert report_goal({"report": report}) is None  # fewer than 30 cohorts: not the goal
    assert report_goal({"report": {**report, "cohorts": 30, "seconds": 12.0}}) is True
    assert report_goal({"report": {**report, "cohorts": 30, "seconds": 21.0}}) is False
    assert report_goal({}) is None
    lines = report_lines(report)
    assert "6 cohorts" in lines[1] and f"{report['seconds']:.2f} s best" in lines[2]
    assert report_lines({}) == [] and "failed" in report_lines({"error": "boom"})[1]
