"""Imports in a child process under an address-space limit (core/ingest/child.py): the same rows
as an import in this process, the same progress; a child that runs out of its allowance, is
killed or breaks leaves a failed job with a message a person can act on, and this process (the
app's, in real life) carries on. The Upload page imports this way.

The hostile children are made with a test hook, not a hostile file: a `sitecustomize.py` on the
child's PYTHONPATH swaps the assessment loader for one that allocates, kills itself or raises —
whatever the file-level limits of the ingest reader refuse by then, this path must still hold.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pandas as pd
import pytest

from core.access.scope import Scope
from core.ingest import bounded_preview, import_file, import_in_child, preview
from core.ingest.child import PREVIEW_STOPPED, memory_message, parse_size
from core.warehouse import db
from tests.conftest import run_page
from tests.ingest.helpers import DATA, VARIANTS, rows, scalar

GB = 2**30
LIMIT = 2 * GB  # a normal import stays well below it (docs: 4 GB default)
SAMPLES = [
    DATA / "vendors" / "nwea_map_cdf.csv",
    VARIANTS / "basic.csv",  # one row rejected: its error stored the same way
    VARIANTS / "variant.xlsx",  # the same rows again: duplicates
    VARIANTS / "records.json",
]
HOOK = """
import os, signal
from core.ingest.kinds import get_kind

kind = get_kind("assessment")

def loader(con, table, job_id):
    {action}

object.__setattr__(kind, "loader", loader)

import core.ingest.pipeline as pipeline

def head_frame(path, layout, rows):
    {action}

pipeline.head_frame = head_frame
"""
ACTIONS = {
    "python_allocates": "bytearray(3 * 2**30)  # beyond the 2 GB allowance at once",
    "duckdb_allocates": (
        "con.execute(\"select string_agg(repeat('x', 4096), '') from range(800000)\").fetchall()"
    ),
    "killed": "os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would",
    "breaks": "raise RuntimeError('boom in the loader')",
}


def warehouse(folder: Path) -> Path:
    path = folder / "yardstick.duckdb"
    with db.connect(path):
        pass
    return path


def stored(path: Path) -> dict[str, pd.DataFrame]:
    """Every table and view of a warehouse, without what differs by run (times, process ids)."""
    out = {}
    with db.connect(path) as con:
        names = con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "order by 1"
        ).fetchall()
        for (name,) in names:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'main' and table_name = $t order by ordinal_position",
                {"t": name},
            ).fetchall()
            kept = [f'"{c}"' for c, kind in columns if "TIMESTAMP" not in kind and c != "pid"]
            out[name] = con.execute(f'select {", ".join(kept)} from "{name}" order by all').df()
    return out


def test_child_stores_what_an_import_in_this_process_stores(tmp_path: Path) -> None:
    """CSV (vendor), Excel, JSON and a file with a rejected row, imported into two fresh
    warehouses: every table holds the same rows, the summaries and progress are the same."""
    here, there = warehouse(tmp_path / "here"), warehouse(tmp_path / "there")
    for sample in SAMPLES:
        seen_here: list[tuple[str, float]] = []
        seen_there: list[tuple[str, float]] = []
        local = import_file(
            sample, db=here, origin="upload", user="ada",
            progress=lambda s, f, seen=seen_here: seen.append((s, f)),
        )  # fmt: skip
        upload = io.BytesIO(sample.read_bytes())
        child = import_in_child(
            upload, db=there, file_name=sample.name, origin="upload", user="ada",
            progress=lambda s, f, seen=seen_there: seen.append((s, f)), memory_limit=LIMIT,
        )  # fmt: skip
        assert local.status == "completed" and local.rows_read > 0
        assert child.to_dict() == local.to_dict()
        assert seen_there == seen_here
        assert seen_there[0] == ("reading", 0.0) and seen_there[-1] == ("loading", 1.0)
    mine, theirs = stored(here), stored(there)
    assert set(mine) == set(theirs) and {"assessments", "import_errors", "raw_files"} <= set(mine)
    for name in mine:
        pd.testing.assert_frame_equal(theirs[name], mine[name], obj=name)
    pids = {pid for (pid,) in rows(there, "select distinct pid from import_jobs")}
    assert os.getpid() not in pids and len(pids) == len(SAMPLES)  # one child each
    assert not any((there.parent / "staging").iterdir())  # the spooled uploads are gone


@pytest.fixture
def hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """hook(action): the next child's assessment loader does `action` instead of loading."""

    def install(action: str) -> None:
        folder = tmp_path / f"hook_{action}"
        folder.mkdir()
        (folder / "sitecustomize.py").write_text(HOOK.format(action=ACTIONS[action]))
        monkeypatch.setenv("PYTHONPATH", str(folder))

    return install


def assert_nothing_loaded(path: Path) -> None:
    for table in ("assessments", "students", "raw_files"):
        assert scalar(path, f"select count(*) from {table}") == 0, table
    assert not list((path.parent / "raw").glob("*"))  # the kept copy swept
    assert not any((path.parent / "staging").iterdir())  # the child's work folder swept


@pytest.mark.parametrize("action", ["python_allocates", "duckdb_allocates", "killed"])
def test_child_beyond_its_memory_fails_its_job(
    action: str, tmp_path: Path, hook, caplog: pytest.LogCaptureFixture
) -> None:
    """Python's MemoryError, DuckDB's out-of-memory error, or SIGKILL: the job is failed with the
    educator's message (naming the limit), audited, nothing loaded; this process goes on and
    imports the same file normally once the hook is gone."""
    path = warehouse(tmp_path / "w")
    hook(action)
    sample = VARIANTS / "basic.csv"
    with caplog.at_level(logging.ERROR, logger="core.ingest.child"):
        summary = import_in_child(sample, db=path, user="ada", memory_limit=LIMIT)

    expected = memory_message(LIMIT)
    assert "(2 GB)" in expected and expected.startswith("This file needed more memory")
    assert summary.status == "failed" and summary.message == expected
    assert summary.errors == [
        {"row": None, "column": None, "message": expected, "severity": "error"}
    ]
    assert rows(path, "select status, message, created_by from import_jobs") == [
        ("failed", expected, "ada")
    ]
    assert scalar(path, "select count(*) from audit_log where action = 'import'") == 1
    assert_nothing_loaded(path)
    assert "out of memory" in caplog.text  # the child's own account goes to the server log

    os.environ.pop("PYTHONPATH")  # monkeypatch restores it afterwards
    again = import_in_child(sample, db=path, user="ada", memory_limit=LIMIT)
    assert again.status == "completed" and again.inserted == 6


def test_child_that_breaks_fails_its_job_plainly(
    tmp_path: Path, hook, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected error in the child: the job failed with a plain message (no exception
    text), the traceback in the server log."""
    path = warehouse(tmp_path / "w")
    hook("breaks")
    with caplog.at_level(logging.ERROR, logger="core.ingest.child"):
        summary = import_in_child(VARIANTS / "basic.csv", db=path, memory_limit=LIMIT)
    assert summary.status == "failed"
    assert summary.message.startswith("The import stopped unexpectedly (its process ended with")
    assert "boom" not in summary.message
    assert "RuntimeError: boom in the loader" in caplog.text
    assert_nothing_loaded(path)


def test_errors_cross_the_process_boundary(tmp_path: Path) -> None:
    """A wrong argument is the same ValueError as from import_file (a busy warehouse likewise:
    tests/ingest/test_pages.py)."""
    with pytest.raises(ValueError, match="origin must be one of"):
        import_in_child(VARIANTS / "basic.csv", db=tmp_path / "w.duckdb", origin="email")
    with pytest.raises(ValueError, match="platform must be one of"):
        import_in_child(VARIANTS / "basic.csv", db=warehouse(tmp_path), platform="sat")


@pytest.mark.parametrize(
    ("text", "size"),
    [("4GB", 4 * GB), ("300 MB", 300 * 2**20), ("1.5gb", int(1.5 * GB)), ("off", None)],
)
def test_memory_setting(text: str, size: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.ingest.child import import_memory_limit

    assert parse_size(text) == size
    monkeypatch.setenv("YARDSTICK_IMPORT_MEMORY", text)
    assert import_memory_limit() == size
    monkeypatch.delenv("YARDSTICK_IMPORT_MEMORY")
    assert import_memory_limit() == 4 * GB
    with pytest.raises(ValueError, match="YARDSTICK_IMPORT_MEMORY must be a size"):
        parse_size("lots")


def upload_page(db_path: Path):
    app = run_page("app_pages/upload.py", Scope(username="ada", role="district_admin"))
    app.file_uploader(key="upload:files").set_value(
        ("results.csv", (VARIANTS / "basic.csv").read_bytes(), "text/csv")
    ).run()
    app.button[-1].click().run()  # Import
    assert not app.exception
    return app


def test_upload_page_imports_in_a_child(db_path: Path) -> None:
    app = upload_page(db_path)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Inserted"] == "6" and metrics["Rejected"] == "1"
    assert app.get("progress")[0].value == 100  # the bar, finished
    assert scalar(db_path, "select pid from import_jobs") != os.getpid()


def test_upload_page_shows_a_child_out_of_memory(
    db_path: Path, hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YARDSTICK_IMPORT_MEMORY", "2GB")
    hook("python_allocates")
    app = upload_page(db_path)
    shown = [e.value for e in app.error]
    assert shown == [f"Not imported: {memory_message(LIMIT)}"]
    assert scalar(db_path, "select status from import_jobs") == "failed"


PREVIEWED = [VARIANTS / "variant.xlsx", VARIANTS / "records.json", VARIANTS / "basic.csv"]


@pytest.mark.parametrize("sample", PREVIEWED, ids=lambda p: p.name)
def test_bounded_preview_is_the_preview(sample: Path, db_path: Path) -> None:
    """Excel and JSON are previewed in a child, delimited text here: the same Preview."""
    upload = io.BytesIO(sample.read_bytes())
    seen = bounded_preview(upload, db=db_path, file_name=sample.name, memory_limit=LIMIT)
    local = preview(sample, db=db_path)
    assert seen.refused is None and seen.rows is not None and len(seen.rows) > 0
    pd.testing.assert_frame_equal(seen.rows, local.rows)
    seen.rows = local.rows = None
    assert seen == local


def test_text_preview_stays_here_and_hostile_preview_stops_in_the_child(
    db_path: Path, hook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Only the first 256 KB of delimited text are read: no child (none could start here).
    An Excel file whose reading runs out of memory, or breaks, is refused with the reason."""
    hook("python_allocates")
    with caplog.at_level(logging.ERROR, logger="core.ingest.child"):
        refused = bounded_preview(VARIANTS / "variant.xlsx", db=db_path, memory_limit=LIMIT)
    assert refused.refused == memory_message(LIMIT)
    assert "preview of variant.xlsx" in caplog.text and "MemoryError" in caplog.text
    os.environ.pop("PYTHONPATH")
    hook("breaks")
    broken = bounded_preview(VARIANTS / "records.json", db=db_path, memory_limit=LIMIT)
    assert broken.refused == PREVIEW_STOPPED

    def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("a text file's preview started a child")

    monkeypatch.setattr("core.ingest.child.subprocess.Popen", no_child)
    text = bounded_preview(VARIANTS / "basic.csv", db=db_path, memory_limit=LIMIT)
    assert text.refused is None and text.preset == "generic"


def test_upload_page_previews_excel_in_a_child(db_path: Path) -> None:
    app = run_page("app_pages/upload.py", Scope(username="ada", role="district_admin"))
    app.file_uploader(key="upload:files").set_value(
        ("scores.xlsx", (VARIANTS / "variant.xlsx").read_bytes(), "application/octet-stream")
    ).run()
    assert not app.exception
    assert any("Read as XLSX" in str(c.value) for c in app.caption)
    assert app.dataframe[0].value.shape[0] > 0  # the preview rows, back from the child
