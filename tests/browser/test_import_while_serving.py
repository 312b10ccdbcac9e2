"""Two processes, one warehouse, in a real browser: `python -m core import` loads a few hundred
thousand rows while a signed-in admin keeps reloading the Home page. The CLI exits 0 with the
right counts; the page never shows a Python exception, at most the friendly "busy" message; and
every (students, test scores) pair it shows is the one from before the import or from after it,
never a mix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import playwright.sync_api
import pytest

from core.access import users
from core.ingest import import_file
from core.warehouse import db
from tests.browser.test_sign_in import PASSWORD, remembered, sign_in, signed_in
from tests.browser.test_upload import finished
from tests.ingest.test_processes import long_csv

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = playwright.sync_api.expect

ROOT = Path(__file__).resolve().parents[2]
BUSY = "The warehouse is busy with an import right now"
BASE_ROWS, BIG_ROWS = 3_000, 300_000


def file_counts(*files: Path) -> tuple[int, int]:
    """(distinct students, rows) of long-format files, read straight from the CSVs."""
    paths = ", ".join(f"'{f}'" for f in files)
    with duckdb.connect() as con:
        return con.execute(
            f"select count(distinct student_id), count(*) from read_csv([{paths}], all_varchar=1)"
        ).fetchone()


def home_numbers(page) -> tuple[int, int] | str:
    """Reload Home (a new session, signed in by the cookie) and read what it shows: the
    (students, test scores) pair, or "busy"; fail on a Python exception."""
    page.reload()
    students = page.get_by_test_id("stMetric").filter(has_text="Students")
    scores = page.get_by_test_id("stMetric").filter(has_text="Test scores")
    exception = page.get_by_test_id("stException")
    busy = page.get_by_text(BUSY)
    expect(scores.or_(busy).or_(exception).first).to_be_visible(timeout=60_000)
    finished(page)
    if exception.count():
        raise AssertionError(f"the page shows an exception: {exception.first.inner_text()}")
    if busy.count():
        return "busy"

    def value(metric) -> int:
        return int(metric.get_by_test_id("stMetricValue").inner_text().replace(",", ""))

    return value(students), value(scores)


def test_cli_import_while_the_app_serves_pages(tmp_path: Path, streamlit_app, browser_page) -> None:
    warehouse = tmp_path / "warehouse" / "yardstick.duckdb"
    base = long_csv(tmp_path / "base.csv", BASE_ROWS)
    assert import_file(base, db=warehouse, origin="cli").inserted == BASE_ROWS
    with db.connect(warehouse) as con:
        users.add_user(con, "boss", "district_admin", PASSWORD)
    big = long_csv(tmp_path / "big.csv", BIG_ROWS, offset=BASE_ROWS)
    before, after = file_counts(base), file_counts(base, big)

    # A reader that finds the file held waits 1 s (not 15), so the busy path is exercised
    app = streamlit_app(warehouse, {"YARDSTICK_BUSY_WAIT": "1"})
    page = browser_page
    page.goto(app.url)
    sign_in(page, "boss", PASSWORD)
    signed_in(page, "boss")
    remembered(page)  # every reload below is signed in by that cookie
    assert home_numbers(page) == before

    command = [sys.executable, "-m", "core", "import", str(big), "--db", str(warehouse), "--json"]
    cli = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        while cli.poll() is None:
            seen.append(home_numbers(page))
        out, err = cli.communicate(timeout=300)
    finally:
        if cli.poll() is None:
            cli.kill()

    assert cli.returncode == 0, err
    summary = json.loads(out)
    assert (summary["status"], summary["rows_read"], summary["inserted"]) == (
        "completed",
        BIG_ROWS,
        BIG_ROWS,
    )
    assert (summary["updated"], summary["duplicates"], summary["rejected"]) == (0, 0, 0)
    assert summary["errors"] == []
    assert len(seen) >= 2, "the page was loaded while the import ran"
    assert set(seen) <= {before, after, "busy"}, seen
    assert home_numbers(page) == after
    with db.connect(warehouse) as con:
        stored = con.execute(
            "select count(distinct student_id), count(*) from assessments"
        ).fetchone()
    assert stored == after
    assert "Traceback" not in app.output()
