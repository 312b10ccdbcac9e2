"""Detect what a file is from its bytes (never its name): Excel workbook, JSON, or delimited
text; the text's encoding and delimiter; and the header row below any vendor title lines.

Only the head of the file is read here (a few hundred KB), so detection costs the same for a
2-million-row file as for a 20-row one.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.ingest import limits
from core.ingest.limits import FileRefused
from core.ingest.presets import builtin_presets, header_key

HEAD_BYTES = 256 * 1024
SAMPLE_ROWS = 200
HEADER_SEARCH_ROWS = 30
DELIMITERS = (",", "\t", ";", "|")
RESAVE = "Open it in a spreadsheet program, save it as CSV and import that file."


class Format(enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


@dataclass(frozen=True)
class Layout:
    """How to read a file. `title_rows` rows/lines sit above the header row, so the header is
    row `title_rows + 1` and the first data row `title_rows + 2` as a spreadsheet shows them."""

    format: Format
    headers: list[str]
    encoding: str = "utf-8"
    delimiter: str | None = None
    title_rows: int = 0
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def header_row(self) -> int:
        return self.title_rows + 1


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return bytes([byte]).decode("latin-1")


def _mixed_utf8(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 as Windows-1252: files pasted together from a UTF-8
    system and an old Windows one read correctly, and pure cp1252 files too."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_cp1252_char(b) for b in bad), error.end


codecs.register_error("yardstick_mixed", _mixed_utf8)


def decoder_for(encoding: str) -> codecs.IncrementalDecoder:
    if encoding in ("cp1252", "mixed"):
        return codecs.getincrementaldecoder("utf-8")(errors="yardstick_mixed")
    return codecs.getincrementaldecoder(encoding)(errors="strict")


def sniff_encoding(head: bytes) -> str:
    """utf-8-sig / utf-16 by BOM; UTF-16 without BOM by its zero bytes; utf-8 if the head
    decodes; otherwise cp1252, or "mixed" when valid UTF-8 sequences sit among cp1252 bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if sample and sample.count(0) > len(sample) // 4:
        odd_zeros = sample[1::2].count(0)
        return "utf-16-le" if odd_zeros > sample[0::2].count(0) else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    has_utf8_sequences = any(
        0xC2 <= b0 <= 0xF4 and 0x80 <= b1 <= 0xBF for b0, b1 in zip(head, head[1:], strict=False)
    )
    return "mixed" if has_utf8_sequences and _decodes_partly_utf8(head) else "cp1252"


def _decodes_partly_utf8(head: bytes) -> bool:
    """True when some multi-byte characters decode as UTF-8 (not just cp1252 lookalikes)."""
    text = head.decode("utf-8", errors="ignore")
    return any(ord(ch) > 127 for ch in text)


def decode_head(head: bytes, encoding: str) -> str:
    text = decoder_for(encoding).decode(head, final=False)
    return text.lstrip("\ufeff")


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    return "\x00" in text or control > max(2, len(text) // 100)


def sniff_format(head: bytes) -> Format:
    """By content: a zip holding xl/workbook.xml is xlsx; text starting with [ or { is JSON."""
    if head.startswith(b"PK\x03\x04"):
        return Format.XLSX
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            "This is an old Excel 97-2003 (.xls) workbook; save it as .xlsx or CSV and try again."
        )
    if head.startswith(b"%PDF"):
        raise FileRefused("This is a PDF document, not a data file (CSV, Excel or JSON).")
    return Format.CSV


def _rows(text: str, delimiter: str, complete: bool) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not complete and len(rows) > 1:
        rows = rows[:-1]  # the sample may end mid-row
    return rows[:SAMPLE_ROWS]


def _filled(row: list) -> int:
    return sum(1 for cell in row if cell is not None and str(cell).strip() != "")


def sniff_delimiter(text: str, complete: bool) -> str:
    """The delimiter that splits the sample into the most consistent number of columns (> 1)."""

    def score(delimiter: str) -> tuple:
        try:
            rows = [r for r in _rows(text, delimiter, complete) if _filled(r)]
        except csv.Error:
            return (False, 0.0, 0)
        if not rows:
            return (False, 0.0, 0)
        tail = rows[len(rows) // 4 :] or rows
        width, count = Counter(len(r) for r in tail).most_common(1)[0]
        return (width > 1, round(count / len(tail), 1), width)

    return max(DELIMITERS, key=score)


def header_index(rows: list[list], known_headers: set[str]) -> int:
    """The first row naming at least two known headers; else the first row about as wide as
    the data below it (a title line has one filled cell; the header row has many)."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = {header_key(c) for c in row if c is not None and str(c).strip()}
        if len(keys & known_headers) >= 2:
            return index
    widths = [_filled(r) for r in rows]
    filled_rows = [w for w in widths if w]
    if not filled_rows:
        return 0
    typical = Counter(filled_rows[len(filled_rows) // 4 :] or filled_rows).most_common(1)[0][0]
    for index, width in enumerate(widths[:HEADER_SEARCH_ROWS]):
        if width >= max(2, (typical + 1) // 2) or (typical == 1 and width):
            return index
    return 0


def known_header_keys() -> set[str]:
    keys: set[str] = set()
    for preset in builtin_presets().values():
        keys.update(header_key(h) for h in preset.columns)
    return keys


def _physical_lines_before(text: str, delimiter: str, row_index: int) -> int:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for _ in range(row_index):
        next(reader)
    return reader.line_num


def _header_row(text: str, delimiter: str, complete: bool) -> tuple[list[str], int]:
    """The header row's cells and how many physical lines sit above it."""
    try:
        rows = _rows(text, delimiter, complete)
        index = header_index(rows, known_header_keys())
        title_rows = _physical_lines_before(text, delimiter, index)
    except csv.Error as exc:  # e.g. a cell longer than Python's csv field limit
        reason = str(exc)
        if "field limit" in reason:
            reason = f"a cell holds more than {csv.field_size_limit():,} characters"
        raise FileRefused(
            f"The file cannot be read as delimited text ({reason}). {RESAVE}"
        ) from exc
    return [cell.strip() for cell in rows[index]], title_rows


def detect_csv(head: bytes, complete: bool) -> Layout:
    encoding = sniff_encoding(head)
    text = decode_head(head, encoding)
    if _looks_binary(text):
        raise FileRefused(
            "The file holds binary data, not text: it is not a CSV, Excel or JSON file."
        )
    if not text.strip():
        raise FileRefused("The file is empty.")
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return Layout(Format.JSON, headers=[], encoding=encoding)
    delimiter = sniff_delimiter(text, complete)
    headers, title_rows = _header_row(text, delimiter, complete)
    while headers and not headers[-1]:
        headers.pop()  # trailing delimiters
    notes = []
    if encoding in ("cp1252", "mixed"):
        notes.append(
            "The file is not UTF-8; it was read as Windows-1252"
            + (" where its bytes were not UTF-8 (mixed encodings)." if encoding == "mixed" else ".")
        )
    return Layout(
        Format.CSV,
        headers=headers,
        encoding=encoding,
        delimiter=delimiter,
        title_rows=title_rows,
        notes=notes,
    )


def open_workbook(path: Path):  # noqa: ANN201 - openpyxl's Workbook
    """Read-only workbook from the bytes: a file handle, so the name's extension (.csv on a
    real workbook) does not matter to openpyxl."""
    from openpyxl import load_workbook

    workbook = load_workbook(path.open("rb"), read_only=True, data_only=True)
    for sheet in workbook.worksheets:
        # A sheet's <dimension> is the writer's claim: read-only openpyxl would cut every row
        # and column beyond a false one (or pad to a huge one). The rows themselves decide.
        sheet.reset_dimensions()
    return workbook


def detect_xlsx(path: Path) -> Layout:
    if not zipfile.is_zipfile(path) or "xl/workbook.xml" not in zipfile.ZipFile(path).namelist():
        raise FileRefused("This is a ZIP archive, not an Excel workbook (.xlsx).")
    limits.check_xlsx(path)  # sizes, rows and cell lengths before openpyxl parses anything
    try:
        workbook = open_workbook(path)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise FileRefused(f"The Excel workbook cannot be read: {exc}") from exc
    try:
        for sheet in workbook.worksheets:
            rows = [list(r) for r in sheet.iter_rows(max_row=SAMPLE_ROWS, values_only=True)]
            for row in rows:
                limits.check_row_cells(row)
            if any(_filled(r) for r in rows):
                index = header_index(rows, known_header_keys())
                headers = ["" if c is None else str(c).strip() for c in rows[index]]
                while headers and not headers[-1]:
                    headers.pop()
                return Layout(Format.XLSX, headers=headers, title_rows=index, sheet=sheet.title)
    finally:
        workbook.close()
    raise FileRefused("The Excel workbook has no data on any sheet.")


def detect(path: Path) -> Layout:
    """Sniff a file on disk (the upload, SFTP download or CLI path, spooled already)."""
    size = path.stat().st_size
    if size == 0:
        raise FileRefused("The file is empty.")
    limits.check_file_size(size)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if sniff_format(head) is Format.XLSX:
        return detect_xlsx(path)
    layout = detect_csv(head, complete=size <= HEAD_BYTES)
    if layout.format is Format.JSON:
        limits.check_file_size(size, json=True)
        return detect_json_headers(path, layout.encoding)
    return layout


def load_json_records(path: Path, encoding: str) -> list[dict]:
    """An array of records, {"key": [records]}, or JSON Lines; nested objects flattened with
    "." ("student": {"id": 1} -> "student.id")."""
    import pandas as pd

    text = decoder_for(encoding).decode(path.read_bytes(), final=True).lstrip("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise FileRefused(f"The JSON cannot be read: {exc.msg} (line {exc.lineno}).") from exc
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise FileRefused("The JSON is not a list of records (objects with the same keys).")
    frame = pd.json_normalize(data, sep=".")
    return frame.to_dict(orient="records") if len(frame) else []


def detect_json_headers(path: Path, encoding: str) -> Layout:
    import pandas as pd

    records = load_json_records(path, encoding)
    headers = list(pd.DataFrame.from_records(records).columns) if records else []
    if not headers:
        raise FileRefused("The JSON holds no records.")
    return Layout(Format.JSON, headers=[str(h) for h in headers], encoding=encoding)
