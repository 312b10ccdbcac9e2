"""Issue 17's CSV edges: a title and a blank line above the header, a bare carriage return in a
quoted field (and files whose lines end in a bare CR), and two imports of the same file at the
same moment. Each file's imported rows are checked against the file's content as pandas reads
it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.ingest import import_file, pipeline
from tests.ingest.helpers import frame, scalar

ROOT = Path(__file__).resolve().parents[2]
HEADER = "Student ID,School,Grade,School Year,Season,Subject,Score,Note"
ROWS = [
    "1,Lincoln,3,2024-2025,Fall,Math,201,plain",
    '2,"Lincoln, North",4,2024-2025,Fall,Reading,195,"said ""hi"""',
    "3,Lincoln,5,2024-2025,Fall,Math,210,last",
]
TITLES = {
    "plain title": "Lincoln USD assessment export\n\n",
    "title starting with a quote": '"Spring" results for Lincoln USD\n\n',
    "quoted title over two lines": '"Lincoln USD\nassessment export"\n\n',
    "title lines ended by CRLF, data by LF": "Lincoln USD export,,,,,,,\r\n,,,,,,,\r\n",
    "Excel's CSV UTF-8 (BOM, CRLF, trailing commas)": "\ufeffLincoln USD export,,,,,,,\n,,,,,,,\n",
    "title with a stray quote": 'Lincoln 5" export\n\n',
    "two titles, two blank lines": "Lincoln USD\nSpring 2025\n\n\n",
}


def expected(text: str) -> pd.DataFrame:
    """The file's data rows as pandas reads them (all text), from the header line on."""
    body = text[text.index(HEADER) :]
    return pd.read_csv(io.StringIO(body, newline=""), dtype=str, keep_default_na=False)


def imported(db: Path) -> pd.DataFrame:
    """The loaded scores and notes, as text, in student order."""
    return frame(
        db,
        """
        select a.student_id as "Student ID", s.name as "School", a.grade as "Grade",
               a.score::int::varchar as "Score", n.value as "Note"
        from assessments a join schools s using (school_id)
        left join student_attributes n on n.student_id = a.student_id and n.attribute = 'note'
        order by a.student_id::int
        """,
    )


def assert_rows_match(db: Path, text: str) -> None:
    want = expected(text)[["Student ID", "School", "Grade", "Score", "Note"]]
    pd.testing.assert_frame_equal(imported(db), want.reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("title", TITLES, ids=list(TITLES))
def test_title_and_blank_line_above_the_header(title: str, db_path: Path, tmp_path: Path) -> None:
    """Every data row is imported (none lost to the title), with its spreadsheet row number."""
    text = TITLES[title] + HEADER + "\n" + "\n".join(ROWS) + "\n"
    if title.startswith("Excel"):
        text = text.replace("\n", "\r\n")
    path = tmp_path / "titled.csv"
    path.write_bytes(text.encode("utf-8"))
    summary = import_file(path, db=db_path, origin="cli")

    assert summary.status == "completed", summary.message
    assert (summary.rows_read, summary.inserted, summary.rejected) == (3, 3, 0)
    body = text.lstrip("\ufeff").replace("\r\n", "\n")
    title_lines = body[: body.index(HEADER)].count("\n")
    assert_rows_match(db_path, body)
    staged = frame(db_path, 'select _row_number, "Student ID" from staged_1 order by 1')
    first = title_lines + 2  # the header is line title_lines + 1
    assert staged.values.tolist() == [[first, "1"], [first + 1, "2"], [first + 2, "3"]]


def test_title_above_the_header_in_a_cp1252_file(db_path: Path, tmp_path: Path) -> None:
    """The re-encoded path cuts the title too."""
    text = '"Élèves" — résultats\n\n' + HEADER + "\n" + "\n".join(ROWS) + "\n"
    path = tmp_path / "titled_cp1252.csv"
    path.write_bytes(text.encode("cp1252"))
    summary = import_file(path, db=db_path, origin="cli")
    assert (summary.status, summary.inserted) == ("completed", 3), summary.message
    assert_rows_match(db_path, text)


LINE_ENDS = {"LF": "\n", "CRLF": "\r\n", "CR (old Mac)": "\r"}


@pytest.mark.parametrize("ending", LINE_ENDS, ids=list(LINE_ENDS))
def test_bare_cr_inside_a_quoted_field_is_kept(ending: str, db_path: Path, tmp_path: Path) -> None:
    """ "a\\rb" is one cell holding a carriage return, whatever ends the file's lines."""
    end = LINE_ENDS[ending]
    rows = [*ROWS[:2], '3,Lincoln,5,2024-2025,Fall,Math,210,"before\rafter"']
    text = end.join([HEADER, *rows]) + end
    path = tmp_path / "cr.csv"
    path.write_bytes(text.encode("utf-8"))
    summary = import_file(path, db=db_path, origin="cli")

    assert summary.status == "completed", summary.message
    assert (summary.rows_read, summary.inserted, summary.rejected) == (3, 3, 0)
    note = scalar(db_path, "select value from student_attributes where student_id = '3'")
    assert note == "before\rafter"
    assert expected(text).loc[2, "Note"] == "before\rafter"  # pandas reads the same cell
    assert_rows_match(db_path, text)


def test_bare_cr_in_an_unquoted_field_is_refused_in_one_line(db_path: Path, tmp_path: Path) -> None:
    """A lone CR outside quotes in a file of LF lines: refused with one plain line saying what
    to do (the rows around it could not be told apart with certainty); nothing loaded."""
    path = tmp_path / "cr_unquoted.csv"
    path.write_bytes(f"{HEADER}\n{ROWS[0]}\n1,A,3,2024-2025,Fall,Math,200,x\ry\n".encode())
    summary = import_file(path, db=db_path, origin="cli")
    assert summary.status == "failed"
    assert "\n" not in summary.message
    assert summary.message.startswith("The file cannot be read as delimited text")
    assert summary.message.endswith("save it as CSV and import that file.")
    assert scalar(db_path, "select count(*) from assessments") == 0


def _big_file(path: Path, students: int) -> Path:
    rows = [f"{i},Lincoln,3,2024-2025,Fall,Math,{150 + i % 100},n{i}" for i in range(students)]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_same_file_loaded_first_by_another_import_reads_already_imported(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, made certain: import B has started (past its "already imported" check) when
    import A of the same bytes loads; B then answers "already imported (job A)" from inside its
    load, instead of failing on raw_files' unique sha256."""
    path = _big_file(tmp_path / "same.csv", 50)
    merge = pipeline.merge
    first: list = []

    def other_import_loads_first(*args, **kwargs):
        monkeypatch.setattr(pipeline, "merge", merge)
        first.append(import_file(path, db=db_path, origin="cli"))
        return merge(*args, **kwargs)

    monkeypatch.setattr(pipeline, "merge", other_import_loads_first)
    second = import_file(path, db=db_path, origin="cli")

    assert (first[0].status, first[0].inserted) == ("completed", 50)
    assert second.status == "completed" and second.already_imported
    assert (second.inserted, second.updated) == (0, 0)
    assert f"(job {first[0].job_id})" in second.message
    assert second.message.startswith("Already imported")
    assert scalar(db_path, "select count(*) from raw_files") == 1
    assert scalar(db_path, "select count(*) from assessments") == 50
    assert (db_path.parent / "raw").is_dir() and len(list((db_path.parent / "raw").iterdir())) == 1
    jobs = frame(db_path, "select job_id, status, file_id from import_jobs order by 1")
    assert jobs.values.tolist() == [[1, "completed", 1], [2, "completed", 1]]


@pytest.mark.slow
def test_two_cli_imports_of_one_file_at_the_same_moment(db_path: Path, tmp_path: Path) -> None:
    """Two `python -m core import` processes started together on one file: exactly one inserts
    the rows, the other says already imported (job N); no traceback, both exit 0."""
    path = _big_file(tmp_path / "together.csv", 60_000)
    env = {**os.environ, "YARDSTICK_DB": str(db_path)}
    command = [sys.executable, "-m", "core", "import", str(path), "--json"]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    results = [(p.wait(timeout=600), *p.communicate()) for p in processes]

    for code, _, stderr in results:
        assert code == 0, stderr
        assert "Traceback" not in stderr
    documents = [json.loads(stdout) for _, stdout, _ in results]
    loaded = [d for d in documents if not d["already_imported"]]
    assert [d["inserted"] for d in loaded] == [60_000]
    again = [d for d in documents if d["already_imported"]]
    assert len(again) == 1 and again[0]["inserted"] == 0
    assert f"(job {loaded[0]['job_id']})" in again[0]["message"]
    assert scalar(db_path, "select count(*) from raw_files") == 1
    assert scalar(db_path, "select count(*) from assessments") == 60_000
