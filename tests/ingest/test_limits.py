"""The resource limits of core/ingest/limits.py: hostile workbooks (a 1 GB cell, three million
rows) generated at run time, small on disk, refused before they are parsed, through the pipeline
and through `python -m core import` in a child process under an address-space limit; and the
warehouse connection's memory_limit and temp_directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from core.ingest import import_file, limits, preview
from core.ingest.detect import FileRefused, detect
from core.ingest.read import _xlsx_chunks
from core.warehouse import db
from tests.ingest.helpers import scalar

REPO = Path(__file__).resolve().parents[2]
HEADER = ("Student ID", "First Name", "Last Name", "Grade", "School")

_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Roster" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _cell(column: str, row: int, text: str) -> str:
    return f'<c r="{column}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


def _row(number: int | None, cells: list[str]) -> str:
    attribute = f' r="{number}"' if number is not None else ""
    return f"<row{attribute}>{''.join(cells)}</row>"


def _student(n: int, row: int) -> str:
    values = (f"S{n:07d}", "Ada", f"Pupil{n}", "5", "Lincoln Elementary")
    return _row(row, [_cell(col, row, v) for col, v in zip("ABCDE", values, strict=True)])


def write_workbook(
    path: Path, pieces, dimension: str = "A1:E3", part: str = "worksheets/sheet1.xml"
) -> Path:
    """A minimal .xlsx whose sheet XML is written piece by piece (never whole in memory). Its
    <dimension> says `dimension`, whatever the rows are: a hostile file fakes it; the sheet is
    the part xl/`part`, wherever that is."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text.replace("worksheets/sheet1.xml", part))
        with archive.open(f"xl/{part}", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
                b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + f'<dimension ref="{dimension}"/><sheetData>'.encode()
                + _row(1, [_cell(c, 1, h) for c, h in zip("ABCDE", HEADER, strict=True)]).encode()
            )
            for piece in pieces:
                sheet.write(piece if isinstance(piece, bytes) else piece.encode())
            sheet.write(b"</sheetData></worksheet>")
    return path


def students(count: int):
    """`count` numbered data rows (rows 2…), in batches of text."""
    for start in range(2, count + 2, 10_000):
        yield "".join(_student(n, n) for n in range(start, min(start + 10_000, count + 2)))


def same_rows(count: int, batch: int = 10_000):
    """`count` identical data rows without row or cell numbers (both are optional in the XML):
    a few hundred KB once zipped."""
    values = ("S1", "Ada", "Pupil", "5", "Lincoln Elementary")
    row = "<row>" + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values) + "</row>"
    block = (row * batch).encode()
    for _ in range(count // batch):
        yield block
    yield row * (count % batch)


def one_huge_cell(size: int):
    """One data row whose School cell holds `size` characters (streamed 1 MB at a time)."""
    first = "".join(
        _cell(c, 2, v) for c, v in zip("ABCD", ("S1", "Ada", "Pupil", "5"), strict=True)
    )
    yield f'<row r="2">{first}<c r="E2" t="inlineStr"><is><t>'
    block = b"x" * (1 << 20)
    for _ in range(size // len(block)):
        yield block
    yield b"x" * (size % len(block))
    yield "</t></is></c></row>"


def bomb_cell(folder: Path) -> Path:
    """~1 MB on disk, one 1 GB cell."""
    return write_workbook(folder / "cell_bomb.xlsx", one_huge_cell(1 << 30))


def bomb_rows(folder: Path) -> Path:
    """Under 1 MB on disk, three million rows; the dimension says three."""
    return write_workbook(folder / "row_bomb.xlsx", same_rows(3_000_000))


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {"cell": bomb_cell(folder), "rows": bomb_rows(folder)}


def _nothing_written(warehouse: Path) -> None:
    for table in ("students", "assessments", "enrollments", "schools", "raw_files"):
        assert scalar(warehouse, f"select count(*) from {table}") == 0, table
    raw = warehouse.parent / "raw"
    assert not [p for p in raw.rglob("*") if p.is_file()] if raw.exists() else True


CELL = "A cell is longer than Excel allows (32,767 characters)"
ROWS = "The sheet has more rows than Excel allows (1,048,576)"


def test_bombs_are_small_on_disk(bombs: dict[str, Path]) -> None:
    assert bombs["cell"].stat().st_size < 3 * limits.MB
    assert bombs["rows"].stat().st_size < 4 * limits.MB
    with zipfile.ZipFile(bombs["cell"]) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 1 << 30


@pytest.mark.parametrize(("bomb", "message"), [("cell", CELL), ("rows", ROWS)])
def test_pipeline_refuses_before_parsing(
    bombs: dict[str, Path], tmp_path: Path, bomb: str, message: str
) -> None:
    warehouse = tmp_path / "wh" / "yardstick.duckdb"
    summary = import_file(bombs[bomb], db=warehouse, origin="cli")
    assert summary.status == "failed"
    assert summary.message.startswith(message)
    assert "\n" not in summary.message
    _nothing_written(warehouse)
    assert preview(bombs[bomb]).refused.startswith(message)


@pytest.mark.parametrize(("bomb", "message"), [("cell", CELL), ("rows", ROWS)])
def test_cli_refuses_in_bounded_memory(
    bombs: dict[str, Path], tmp_path: Path, bomb: str, message: str
) -> None:
    """`python -m core import` under a 3 GB address-space limit: one line on stderr, exit 1,
    no traceback. Peak memory and seconds are printed (pytest -s), not asserted."""
    warehouse = tmp_path / "yardstick.duckdb"
    out, err = tmp_path / "out", tmp_path / "err"
    command = ["prlimit", "--as=3000000000", "--", sys.executable, "-m", "core", "import"]
    started = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(
            [*command, str(bombs[bomb]), "--db", str(warehouse)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=stdout,
            stderr=stderr,
        )
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    print(f"\n{bomb} bomb: {seconds:.1f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MB")
    lines = err.read_text().splitlines()
    assert child.returncode == 1, lines
    assert len(lines) == 1 and "Traceback" not in out.read_text() + err.read_text()
    assert lines[0].startswith(f"error: {bombs[bomb].name}: {message}")
    _nothing_written(warehouse)


def test_longest_cell_excel_allows_is_read_one_more_is_refused(tmp_path: Path) -> None:
    """The exact limit: the scan before parsing counts bytes (6 a character at most), the read
    counts characters."""
    warehouse = tmp_path / "yardstick.duckdb"
    fits = write_workbook(tmp_path / "fits.xlsx", one_huge_cell(limits.MAX_CELL_CHARS))
    assert detect(fits).headers == list(HEADER)
    too_long = write_workbook(tmp_path / "long.xlsx", one_huge_cell(limits.MAX_CELL_CHARS + 1))
    with pytest.raises(FileRefused, match=r"A cell is longer than Excel allows \(32,767"):
        detect(too_long)
    summary = import_file(too_long, db=warehouse, origin="cli")
    assert summary.status == "failed" and summary.message.startswith(CELL)


def test_rows_and_cells_are_checked_again_while_read(tmp_path: Path, monkeypatch) -> None:
    """Beyond the rows detection samples, a cell of 32,768 characters (few enough bytes to pass
    the scan) is refused while the rows are read; and so is a row past the limit (rows a scan
    could not recognise, e.g. under a prefix declared only on the row)."""
    rows = [_student(n, n) for n in range(2, 250)]
    rows[238] = rows[238].replace("Lincoln Elementary", "y" * (limits.MAX_CELL_CHARS + 1))
    late = write_workbook(tmp_path / "late.xlsx", rows)
    summary = import_file(late, db=tmp_path / "yardstick.duckdb", origin="cli")
    assert summary.status == "failed" and summary.message.startswith(CELL)
    _nothing_written(tmp_path / "yardstick.duckdb")
    honest = write_workbook(tmp_path / "ok.xlsx", students(5))
    layout = detect(honest)
    monkeypatch.setattr(limits, "MAX_ROWS", 4)
    with pytest.raises(FileRefused, match="more rows than Excel allows"):
        list(_xlsx_chunks(honest, layout))


def test_rows_are_counted_not_taken_from_the_dimension(tmp_path: Path) -> None:
    """Rows without numbers are counted (one more than Excel allows is refused); one row
    numbered beyond Excel's last is refused (the reader would otherwise yield every empty row up
    to it); an honest workbook imports."""
    unnumbered = write_workbook(tmp_path / "bare.xlsx", same_rows(limits.MAX_ROWS + 1))
    with pytest.raises(FileRefused, match="more rows than Excel allows"):
        detect(unnumbered)
    far = write_workbook(tmp_path / "far.xlsx", [_student(1, 2), _student(2, 5_000_000)])
    with pytest.raises(FileRefused, match="more rows than Excel allows"):
        detect(far)
    spelled = write_workbook(tmp_path / "spelled.xlsx", ["<row spans='1:5' r = ' +5_000_000 '/>"])
    with pytest.raises(FileRefused, match="more rows than Excel allows"):
        detect(spelled)  # as int() reads it, like the reader
    honest = write_workbook(tmp_path / "ok.xlsx", students(3), dimension="A1")
    with zipfile.ZipFile(honest, "a") as archive:  # a theme's `dir` is not a row's `r`
        archive.writestr("xl/theme/theme1.xml", '<a:theme><a:s dir="5400000"/></a:theme>')
    assert detect(honest).headers == list(HEADER)
    summary = import_file(honest, db=tmp_path / "yardstick.duckdb", origin="cli")
    assert summary.status == "completed", summary.message
    assert summary.rows_read == 3


def test_a_sheet_stored_elsewhere_is_scanned_too(tmp_path: Path) -> None:
    """The workbook's relationships, not the usual path, say where a sheet is."""
    elsewhere = write_workbook(tmp_path / "moved.xlsx", students(3), part="data/rows.xml")
    assert detect(elsewhere).headers == list(HEADER)
    bomb = write_workbook(tmp_path / "moved_bomb.xlsx", one_huge_cell(1 << 24), part="x.xml")
    with pytest.raises(FileRefused, match=r"A cell is longer than Excel allows"):
        detect(bomb)


def test_a_damaged_workbook_is_refused_in_one_line(tmp_path: Path) -> None:
    workbook = write_workbook(tmp_path / "broken.xlsx", students(2_000))
    data = bytearray(workbook.read_bytes())
    start = data.index(b"xl/worksheets/sheet1.xml") + 200  # inside the sheet's deflated bytes
    data[start : start + 64] = bytes(64)
    workbook.write_bytes(bytes(data))
    with pytest.raises(FileRefused, match=r"^The Excel workbook is damaged and cannot be read"):
        detect(workbook)


def test_xml_excel_never_writes_is_refused(tmp_path: Path) -> None:
    comment = write_workbook(tmp_path / "c.xlsx", ["<!--" + "<>" * 200_000 + "-->"])
    with pytest.raises(FileRefused, match="XML that Excel never writes"):
        detect(comment)


def test_sheets_that_would_expand_too_far_are_refused(tmp_path, monkeypatch) -> None:
    workbook = write_workbook(tmp_path / "big.xlsx", students(30_000))
    monkeypatch.setattr(limits, "MAX_SHEETS_MB", 1)
    with pytest.raises(FileRefused, match=r"would expand to \d+ MB once opened, beyond the 1 MB"):
        detect(workbook)


def test_file_size_limits(tmp_path: Path, monkeypatch) -> None:
    csv = tmp_path / "scores.csv"
    csv.write_text("Student ID,Grade\n" + "S1,5\n" * 300_000)
    monkeypatch.setattr(limits, "MAX_FILE_MB", 1)
    with pytest.raises(FileRefused, match=r"imports files of up to 1 MB\. Split it"):
        detect(csv)
    records = tmp_path / "scores.json"
    records.write_text("[" + ",".join(['{"Student ID": "S1", "Grade": 5}'] * 40_000) + "]")
    monkeypatch.setattr(limits, "MAX_FILE_MB", 1024)
    monkeypatch.setattr(limits, "MAX_JSON_MB", 1)
    with pytest.raises(FileRefused, match=r"JSON files of up to 1 MB\. Export the data as CSV"):
        detect(records)


def test_upload_limit_is_the_file_limit() -> None:
    """The Upload page accepts exactly the files the pipeline accepts by size."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limits.MAX_FILE_MB == 1024


def test_warehouse_connections_have_memory_limit_and_temp_directory(tmp_path, monkeypatch):
    """A big query spills to a private folder next to the warehouse instead of dying."""
    previous = os.umask(0o022)
    try:
        warehouse = tmp_path / "yardstick.duckdb"
        with db.connect(warehouse) as con:
            memory = con.execute("select current_setting('memory_limit')").fetchone()[0]
            temp = con.execute("select current_setting('temp_directory')").fetchone()[0]
    finally:
        os.umask(previous)
    assert Path(temp) == tmp_path / "yardstick.duckdb.tmp"
    assert Path(temp).is_dir() and Path(temp).stat().st_mode & 0o777 == 0o700
    assert _bytes(memory) == pytest.approx(db.default_memory_bytes(), rel=0.06)  # shown as 1.8 GiB
    monkeypatch.setenv("YARDSTICK_DB_MEMORY", "700MB")
    with db.connect(tmp_path / "other.duckdb") as con:
        memory = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert _bytes(memory) == pytest.approx(700e6, rel=0.03)


def test_memory_limit_fits_an_address_space_limit() -> None:
    """In an upload's import child (RLIMIT_AS), DuckDB must spill before the process dies."""
    child = (
        "import resource; hard = resource.getrlimit(resource.RLIMIT_AS)[1]; "
        "resource.setrlimit(resource.RLIMIT_AS, (4_000_000_000, hard)); "
        "from core.warehouse import db; print(db.default_memory_bytes())"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert int(done.stdout) == min(1_000_000_000, db.default_memory_bytes())


def _bytes(setting: str) -> float:
    number, unit = setting.split()
    return float(number) * {"MiB": 2**20, "GiB": 2**30, "MB": 1e6, "GB": 1e9}[unit]
