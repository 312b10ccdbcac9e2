"""The limits every imported file must keep, in one place, checked before the file is parsed.

A hostile or broken file can be small on disk and enormous once read: a 1 MB workbook can hold one
1 GB cell, or three million rows. Parsing such a file takes the memory of the process that reads
it (the server, for an upload) and can run for hours. So the numbers below are checked before
anything is parsed:

- every file: its size on disk (the same limit as the Upload page's `server.maxUploadSize`);
- JSON: a smaller size, because JSON records are read into memory whole;
- Excel (.xlsx, a zip of XML parts): the zip directory's uncompressed sizes (Python's zipfile never
  delivers more than an entry declares: a part that lies about its size arrives cut short and
  fails its checksum), then each sheet's XML is streamed through in chunks, counting rows and
  measuring the longest text between two tags. A sheet's own `<dimension>` is never trusted: a
  hostile file omits or fakes it.

While the rows are read (core/ingest/read.py) each cell's text is checked again exactly against
Excel's own limit. Columns are limited elsewhere (the wide-file limit of the column check).
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

MB = 1024 * 1024
# The largest file of any kind; the Upload page's `server.maxUploadSize` (.streamlit/config.toml)
# is the same number, so a file the page accepts is never refused for its size afterwards.
MAX_FILE_MB = int(os.environ.get("YARDSTICK_MAX_FILE_MB", "1024"))
# JSON is read into memory whole (several times its size once flattened into records).
MAX_JSON_MB = int(os.environ.get("YARDSTICK_MAX_JSON_MB", "100"))
# Excel's own limits: no sheet Excel saved goes beyond them.
MAX_ROWS = 1_048_576
# The widest file read (every column, mapped or not; README "Wide files"): each column costs
# planning time in every query over the rows, so a wider file is refused before it is staged.
MAX_COLUMNS = 1_000
MAX_CELL_CHARS = 32_767
# What a workbook's sheets may expand to (all worksheet parts together, uncompressed), and any
# other part (shared strings, styles: read into memory whole when the workbook opens).
MAX_SHEETS_MB = int(os.environ.get("YARDSTICK_MAX_XLSX_SHEETS_MB", "2048"))
MAX_PART_MB = 256
# A cell of 32,767 characters is at most 6 bytes a character in the XML (`&quot;`): any longer
# stretch between two tags cannot be a cell Excel wrote.
MAX_TEXT_BYTES = 6 * MAX_CELL_CHARS
SCAN_CHUNK = 1 * MB

# A run of more than MAX_TEXT_BYTES without a `<` after one (a tag and the text after it).
_LONG_TEXT = re.compile(rb"<[^<]{%d}" % MAX_TEXT_BYTES)
# An `r` attribute (a row's number) of seven characters or more that does not start with a
# letter (a cell's reference does): only rows from 1,000,000 on, so matches are rare.
_BIG_ROW_NUMBER = re.compile(rb"r\s*=\s*[\"']\s*([^A-Za-z\"'\s][^\"']{6,})")
_PREFIX = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)\s*=")
_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")
# Every XML part of the workbook is scanned, not only the usual sheet paths: the workbook's own
# relationships may point a sheet anywhere.
_SCANNED_PART = re.compile(r"^xl/.+\.xml$", re.IGNORECASE)


class FileRefused(ValueError):  # noqa: N818 - reads as a verdict: "the file was refused"
    """The whole file cannot be imported; the message is the one clear reason. (Defined here,
    below detection, so that the limits refuse a file like every other check does.)"""


def _mb(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= MB else f"{size / 1024:,.0f} KB"


def check_file_size(size: int, json: bool = False) -> None:
    """Refuse a file larger than the documented limit for its kind."""
    if size > MAX_FILE_MB * MB:
        raise FileRefused(
            f"The file is {_mb(size)}; Yardstick imports files of up to {MAX_FILE_MB:,} MB. "
            "Split it into smaller files (by school or by school year) and import each one."
        )
    if json and size > MAX_JSON_MB * MB:
        raise FileRefused(
            f"The JSON file is {_mb(size)}; Yardstick reads JSON files of up to {MAX_JSON_MB:,} MB."
            " Export the data as CSV instead, or split it into smaller files."
        )


def check_columns(columns: int) -> None:
    """Refuse a file with more columns than MAX_COLUMNS (checked on the header, before any row)."""
    if columns > MAX_COLUMNS:
        raise FileRefused(
            f"This file has {columns:,} columns; Yardstick reads at most {MAX_COLUMNS:,}. "
            "Remove the columns you don't need, or split the file."
        )


def cell_too_long() -> FileRefused:
    return FileRefused(
        f"A cell is longer than Excel allows ({MAX_CELL_CHARS:,} characters): this is not an "
        "ordinary export. Open the file in Excel, save it as CSV and import the CSV."
    )


def too_many_rows() -> FileRefused:
    return FileRefused(
        f"The sheet has more rows than Excel allows ({MAX_ROWS:,}): this is not an ordinary "
        "export. Split the data into several files (by school or by school year) and import each."
    )


def check_row_cells(row: Iterable[object]) -> None:
    """Refuse a row (as read from a sheet) holding a cell longer than Excel allows."""
    for cell in row:
        if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
            raise cell_too_long()


def check_xlsx(path: Path) -> None:
    """Check a workbook's zip directory, then stream each XML part in bounded memory. A part
    that cannot be inflated (damaged, encrypted, an unsupported compression) refuses the file."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            _check_sizes(parts)
            for part in parts:
                if _SCANNED_PART.match(part.filename):
                    with archive.open(part) as stream:
                        _scan(stream)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError) as exc:
        raise FileRefused(
            f"The Excel workbook is damaged and cannot be read ({exc}). Open it in Excel, save it "
            "again (or as CSV) and import that file."
        ) from exc


def _check_sizes(parts: list[zipfile.ZipInfo]) -> None:
    sheets = sum(p.file_size for p in parts if _SHEET_PART.match(p.filename))
    if sheets > MAX_SHEETS_MB * MB:
        raise FileRefused(
            f"The workbook's sheets would expand to {_mb(sheets)} once opened, beyond the "
            f"{MAX_SHEETS_MB:,} MB Yardstick reads. Split the data into several files (by school "
            "or by school year), or save it as CSV, and import each."
        )
    for part in parts:
        if not _SHEET_PART.match(part.filename) and part.file_size > MAX_PART_MB * MB:
            raise FileRefused(
                f"The workbook's part {part.filename} would expand to {_mb(part.file_size)} once "
                f"opened (at most {MAX_PART_MB} MB): this is not an ordinary export. Open the file "
                "in Excel, save it as CSV and import the CSV."
            )


def _scan(stream: zipfile.ZipExtFile) -> None:
    """Stream one XML part: no text between two tags longer than a cell can be, no DOCTYPE,
    entity, CDATA or comment (Excel writes none; each can hide unbounded text), and at most
    MAX_ROWS rows, each numbered within them (only sheets have rows). Only the text from the last
    `<` of a chunk on is carried to the next, so memory stays at about one chunk. Everything here
    runs in C (bytes search and count, regular expressions with a literal start): ~1 s per
    200 MB of XML."""
    carry = b""
    rows = 0
    tags: list[bytes] = []  # how a row's start tag begins
    while chunk := stream.read(SCAN_CHUNK):
        buffer = carry + chunk
        tags = tags or _row_tags(buffer)
        cut = max(buffer.rfind(b"<"), 0)
        done, carry = buffer[:cut], buffer[cut:]
        if len(carry) > MAX_TEXT_BYTES:
            raise cell_too_long()
        rows = _check_block(done, rows, tags)
    _check_block(carry, rows, tags)


def _row_tags(head: bytes) -> list[bytes]:
    """How a row's start tag begins: `<row`, and `<x:row` for each prefix the head declares
    (a few generators write prefixed tags). The only other element starting so is rowBreaks,
    written once at most. Rows prefixed otherwise are still counted as they are read."""
    return [b"<row"] + [b"<" + p + b":row" for p in set(_PREFIX.findall(head))]


def _check_block(block: bytes, rows: int, tags: list[bytes]) -> int:
    """Check whole tags and the text between them; returns the rows counted so far."""
    first = block.find(b"<")
    if (first if first >= 0 else len(block)) > MAX_TEXT_BYTES or _LONG_TEXT.search(block):
        raise cell_too_long()
    if b"<!" in block:
        raise FileRefused(
            "The workbook holds XML that Excel never writes (a DOCTYPE, CDATA or comment). "
            "Open the file in Excel, save it again (or as CSV) and import that file."
        )
    rows += sum(block.count(tag) for tag in tags) - block.count(b"<rowBreaks")
    if rows > MAX_ROWS or any(_beyond_last_row(block, m) for m in _BIG_ROW_NUMBER.finditer(block)):
        raise too_many_rows()
    return rows


def _beyond_last_row(block: bytes, match: re.Match[bytes]) -> bool:
    """An attribute named exactly `r` (not `dir`) whose value, as the reader will take it
    (int() allows spaces, a sign, underscores), is beyond the last row."""
    if match.start() == 0 or block[match.start() - 1 : match.start()] not in b" \t\r\n":
        return False
    try:
        return int(match.group(1).decode("ascii", "replace")) > MAX_ROWS
    except ValueError:
        return False
