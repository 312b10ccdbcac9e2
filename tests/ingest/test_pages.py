"""Upload and Import History pages in AppTest: upload a file, read the preview, import, see the
summary numbers and the errors; fix an unmapped file with the mapping editor; non-admins are
refused."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.access.scope import Scope
from core.ingest import errors_csv, import_file
from core.warehouse import db
from tests.conftest import run_page
from tests.ingest.helpers import VARIANTS, scalar


def page(name: str, role: str = "district_admin") -> AppTest:
    return run_page(f"app_pages/{name}", Scope(username="ada", role=role))


def text(app: AppTest) -> str:
    parts = [*app.markdown, *app.caption, *app.info, *app.success, *app.warning, *app.error]
    return " ".join(str(p.value) for p in parts)


def test_upload_import_shows_summary_and_errors(db_path: Path) -> None:
    app = page("upload.py")
    assert not app.exception
    app.file_uploader(key="upload:files").set_value(
        ("results.csv", (VARIANTS / "basic.csv").read_bytes(), "text/csv")
    ).run()
    assert not app.exception
    assert "Recognised as **Generic long format" in text(app)
    assert len(app.dataframe) == 1  # the preview rows
    app.button[-1].click().run()  # Import

    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {
        "Rows read": "7",
        "Inserted": "6",
        "Updated": "0",
        "Duplicates": "0",
        "Rejected": "1",
    }
    assert "'n/a' is not a number" in app.dataframe[-1].value["message"].tolist()
    assert "Download all 1 problems (CSV)" in [b.label for b in app.get("download_button")]
    assert "6 students (6 new)" in text(app)
    assert scalar(db_path, "select count(*) from assessments") == 6
    assert scalar(db_path, "select created_by from import_jobs") == "ada"
    assert scalar(db_path, "select count(*) from audit_log where action = 'import'") == 1


def test_problems_without_a_column_or_row_show_blank_cells(db_path: Path, tmp_path: Path) -> None:
    """A duplicate row's warning names no column, a failed file's problem no row: the table on
    the page and the CSV download leave those cells blank. (Streamlit draws a missing value as
    "None" unless the table's placeholder says otherwise.)"""
    basic = (VARIANTS / "basic.csv").read_text(encoding="utf-8")
    twice = basic + basic.splitlines(keepends=True)[1]  # the first test exported again
    app = page("upload.py")
    app.file_uploader(key="upload:files").set_value(("twice.csv", twice.encode(), "text/csv")).run()
    app.button[-1].click().run()  # Import
    assert not app.exception
    table = app.dataframe[-1]
    assert table.proto.HasField("placeholder") and table.proto.placeholder == ""
    shown = table.value
    duplicate = shown[shown["severity"] == "warning"]
    assert duplicate["message"].str.startswith("duplicate of row").all() and len(duplicate) == 1
    assert duplicate["column"].isna().all()  # drawn as the placeholder: blank
    assert shown[shown["severity"] == "error"]["column"].tolist() == ["Score"]
    row = int(duplicate["row"].iloc[0])
    job = scalar(db_path, "select max(job_id) from import_jobs")
    with db.connect(db_path) as con:
        lines = errors_csv(con, job).decode("utf-8").splitlines(keepends=True)
    body = "".join(line for line in lines if not line.startswith("# "))  # the file's caption
    listed = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    assert listed.set_index("row").loc[str(row), "column"] == ""  # not "None" or "nan"

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    import_file(empty, db=db_path, origin="cli")
    history = page("import_history.py")
    failed = history.dataframe[-1]
    assert failed.proto.HasField("placeholder") and failed.proto.placeholder == ""
    assert failed.value["message"].tolist() == ["The file is empty."]
    assert failed.value[["row", "column"]].isna().all(axis=None)


def test_unmapped_file_gets_the_mapping_editor(db_path: Path) -> None:
    """Unknown headers: the page says which fields are missing and shows every column with the
    field it maps to, editable; importing as is refuses the file with the same reason."""
    app = page("upload.py")
    content = (
        b"Kid,Campus,Yr,SY,Window,Area,Pts\n7,Elm,5,2024-2025,Spring,Science,88\n"
        b"8,Elm,5,2024-2025,Spring,Science,91\n"
    )
    app.file_uploader(key="upload:files").set_value(("odd.csv", content, "text/csv")).run()

    assert "Some required fields have no column: student_id, score" in text(app)
    preview_rows, editor = app.dataframe[0].value, app.dataframe[1].value
    assert preview_rows["Kid"].tolist() == ["7", "8"]
    assert editor["column in the file"].tolist() == [
        "Kid",
        "Campus",
        "Yr",
        "SY",
        "Window",
        "Area",
        "Pts",
    ]
    assert [b.label for b in app.button] == ["Save mapping", "Import"]
    app.button[-1].click().run()
    assert "Not imported: No student id column found" in text(app)
    assert scalar(db_path, "select count(*) from assessments") == 0


HOLD = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
    "time.sleep(120)"
)


@contextmanager
def held(warehouse: Path) -> Iterator[None]:
    """Another process holds the warehouse, as `python -m core import` does while it loads."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_upload_while_another_process_holds_the_warehouse(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading and importing a file while the warehouse is held: the busy message, not a
    traceback, and nothing imported; once it is free the same upload imports."""
    monkeypatch.setattr(db, "BUSY_WAIT_SECONDS", 0.2)
    app = page("upload.py")
    upload = ("results.csv", (VARIANTS / "basic.csv").read_bytes(), "text/csv")
    with held(db_path):
        app.file_uploader(key="upload:files").set_value(upload).run()
        assert not app.exception
        assert "busy with an import right now" in text(app)
    app.run()
    assert "Recognised as **Generic long format" in text(app)
    with held(db_path):
        app.button[-1].click().run()  # Import
        assert not app.exception
        assert "busy with an import right now. Nothing was imported" in text(app)
    assert scalar(db_path, "select count(*) from import_jobs") == 0
    app.button[-1].click().run()
    assert not app.exception
    assert {m.label: m.value for m in app.metric}["Inserted"] == "6"


def test_import_history_lists_jobs_with_problems(db_path: Path, tmp_path: Path) -> None:
    import_file(VARIANTS / "basic.csv", db=db_path, origin="cli")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    import_file(empty, db=db_path, origin="sftp", remote_path="/exports/empty.csv")
    app = page("import_history.py")

    assert not app.exception
    jobs = app.dataframe[0].value
    assert jobs["status"].tolist() == ["failed", "completed"]
    assert jobs["remote_path"].tolist()[0] == "/exports/empty.csv"
    assert jobs["inserted"].tolist() == [0, 6]
    assert "The file is empty." in text(app)


@pytest.mark.parametrize("name", ["upload.py", "import_history.py"])
def test_only_district_admins(name: str, db_path: Path) -> None:
    app = page(name, role="school_admin")
    assert "Only a district admin" in text(app)
    assert not app.get("file_uploader")
