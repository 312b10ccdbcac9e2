"""The report buttons (ui/report_button.py) while an import holds the warehouse.

The buttons build their file after the click, on another thread, outside the page run: nothing
they do can reach the page, and an exception only makes Streamlit log it and show "Failed to
generate file for download" under the button for five seconds. So the file waits for the import
(the button keeps spinning) and, if the warehouse is still busy after that, the download is a
file of the same kind saying why there is no report and what to do — never an error.

AppTest draws the buttons; the test records the callable Streamlit registers for each and calls
it, as a click does, so the bytes checked are the bytes a user downloads."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.warehouse import db
from tests.reports.test_page_reports import CLICKS, RecordingFiles
from tests.standards.seed import seed
from ui import report_button

HOLD = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
    "time.sleep(float(sys.argv[2]))"
)


@pytest.fixture(autouse=True)
def record_clicks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remember each download button's deferred callable (as the page report tests do)."""
    monkeypatch.setattr("streamlit.testing.v1.app_test.MediaFileManager", RecordingFiles)


@pytest.fixture
def warehouse(db_path: Path) -> Path:
    with db.connect(db_path) as con:
        seed(con)
    return db_path


def buttons() -> None:
    """A page's report buttons for Lincoln Elementary's grade 3."""
    from core.cohorts.spec import CohortSpec  # AppTest runs this function's source on its own
    from ui.report_button import report_download

    report_download(CohortSpec.from_dict({"grade": "3", "schools": ["Lincoln Elementary"]}))


def click(kind: str) -> bytes:
    """What clicking "Download report (PDF|Excel)" downloads."""
    app = AppTest.from_function(buttons, default_timeout=60)
    app.session_state["scope"] = Scope(
        username="pat", role="school_admin", schools=("Lincoln Elementary",)
    )
    app.session_state["username"] = "pat"
    app.run()
    assert not app.exception
    label = {"pdf": "📄 Download report (PDF)", "xlsx": "📊 Download report (Excel)"}[kind]
    [button] = [b for b in app.get("download_button") if b.proto.label == label]
    return CLICKS[button.proto.deferred_file_id]()


@contextmanager
def held(warehouse: Path, seconds: float = 120) -> Iterator[subprocess.Popen]:
    """Another process holds the warehouse for `seconds`, as `python -m core import` does."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def downloads_logged(warehouse: Path) -> int:
    with db.connect(warehouse) as con:
        return con.execute(
            "select count(*) from audit_log where action = 'report_download'"
        ).fetchone()[0]


def test_a_busy_warehouse_downloads_a_notice_not_an_error(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_button, "REPORT_WAIT_SECONDS", 0.5)
    with held(warehouse):
        pdf, xlsx = click("pdf"), click("xlsx")
    text = " ".join(pdf_text(pdf).split())
    assert "could not be built" in text and "busy with an import" in text
    assert "Click the download button again" in text
    sheet = load_workbook(io.BytesIO(xlsx)).active
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "could not be built" in cells and "busy with an import" in cells
    assert downloads_logged(warehouse) == 0  # no report went out


def test_the_report_waits_for_an_import_to_finish(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_WAIT_SECONDS", 0.2)  # pages give up quickly; the report waits
    with held(warehouse, seconds=2) as holder:
        pdf = click("pdf")
        assert holder.poll() is not None  # built only once the import let go
    text = pdf_text(pdf)
    assert "Lincoln Elementary" in text and "could not be built" not in text
    assert downloads_logged(warehouse) == 1


def test_an_unreadable_warehouse_downloads_a_notice(tmp_path: Path) -> None:
    broken = tmp_path / "yardstick.duckdb"
    broken.write_text("not a warehouse")
    spec = CohortSpec.from_dict({"grade": "3"})
    data = report_button.build_file(broken, (spec,), Scope(username="ada"), "ada", "xlsx")
    cells = [c.value for c in load_workbook(io.BytesIO(data)).active["A"]]
    assert cells[0].startswith("This report could not be built")
    assert cells[1].startswith("The warehouse cannot be opened")
