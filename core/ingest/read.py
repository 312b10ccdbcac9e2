"""Parse: stage every data row as received (all VARCHAR) into table `raw_rows` of a staging
DuckDB connection. Row order is kept, so `rowid + layout.header_row + 1` is each row's number
as a spreadsheet shows it.

Delimited text streams through DuckDB's read_csv (parallel, no Python per row); only text that is
not UTF-8 is first re-encoded, chunk by chunk. Excel sheets are read in chunks of rows into
Arrow; JSON records are flattened with pandas (JSON exports are small).

UTF-8 delimited text is read straight from its bytes, so the same read (`csv_rows_sql`) can show
the kept raw file's rows again at any time: that is what `staged_<file_id>` is for such files
(core/ingest/pipeline.py), instead of a second copy of every row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from core.ingest import limits
from core.ingest.detect import (
    HEAD_BYTES,
    RESAVE,
    FileRefused,
    Format,
    Layout,
    decode_head,
    decoder_for,
    load_json_records,
    open_workbook,
)
from core.ingest.presets import staged_names
from core.warehouse.db import quote_identifier

RAW_TABLE = "raw_rows"
CHUNK_BYTES = 4 * 1024 * 1024
XLSX_CHUNK_ROWS = 20_000
_LINE_END = re.compile(rb"\r\n|\r|\n")
_RAGGED = ("expected number of columns", "too many columns", "missing columns")


def transcode(path: Path, encoding: str, out: Path) -> Path:
    """Re-encode a text file to UTF-8 in chunks (never the whole file in memory)."""
    decoder = decoder_for(encoding)
    with path.open("rb") as source, out.open("w", encoding="utf-8", newline="") as target:
        first = True
        try:
            while chunk := source.read(CHUNK_BYTES):
                text = decoder.decode(chunk)
                if first:
                    text, first = text.lstrip("\ufeff"), False
                target.write(text)
            target.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:  # a UTF-16 file cut in the middle of a character
            raise FileRefused(
                f"The file is not valid {encoding.upper()} text ({exc.reason} near byte "
                f"{source.tell()}): it may be damaged or cut short. Export it again and import "
                "the new file."
            ) from exc
    return out


@dataclass(frozen=True)
class CsvRead:
    """How a delimited text file was staged straight from its own bytes (not re-encoded)."""

    ragged: bool  # rows with more or fewer fields than the header were padded


def literal(value: object) -> str:
    """A SQL string literal (quotes doubled), for SQL that cannot take bound parameters (view
    definitions). Used for paths, delimiters and constants, never for a file's rows."""
    return "'" + str(value).replace("'", "''") + "'"


def csv_rows_sql(path: Path, layout: Layout, ragged: bool) -> str:
    """SELECT of a delimited file's data rows, every column VARCHAR under its staged name, in
    file order (staging reads it into raw_rows; a view over the kept raw file reads it again).
    Literals, not parameters, so that a view can hold it."""
    names = staged_names(layout.headers)
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, len(names) + 1))
    lenient = ", null_padding = true, parallel = false, strict_mode = false" if ragged else ""
    renamed = ", ".join(f"c{i} as {quote(name)}" for i, name in enumerate(names, start=1))
    return (
        f"select {renamed} from read_csv({literal(path)}, auto_detect = false, header = false, "
        f"skip = {int(layout.title_rows) + 1}, delim = {literal(layout.delimiter or ',')}, "
        f"quote = '\"', escape = '\"', columns = {{{columns}}}, max_line_size = 16777216, "
        f"encoding = 'utf-8'{lenient})"
    )


def _read(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout) -> bool:
    """raw_rows from UTF-8 text; pads ragged rows (reported by validation as blanks) instead of
    failing the file. Returns whether it had to. Errors other than raggedness propagate."""
    try:
        con.execute(f"create or replace table {RAW_TABLE} as {csv_rows_sql(path, layout, False)}")
        return False
    except duckdb.Error as exc:
        if not any(marker in str(exc).lower() for marker in _RAGGED):
            raise
    con.execute(f"create or replace table {RAW_TABLE} as {csv_rows_sql(path, layout, True)}")
    layout.notes.append("Some rows have more or fewer fields than the header.")
    return True


def stage_csv(
    con: duckdb.DuckDBPyConnection, path: Path, layout: Layout, work: Path
) -> CsvRead | None:
    """read_csv into raw_rows; re-encode non-UTF-8 text first. Returns how the file was read
    when it was read straight from `path` (None when it had to be re-encoded or cut)."""
    if layout.encoding not in ("utf-8", "utf-8-sig"):
        source = transcode(path, layout.encoding, work / "utf8.csv")
        _read_or_refuse(
            con, *below_title(source, layout, work), "The file cannot be read as delimited text"
        )
        return None
    source, read_as = below_title(path, layout, work)
    try:
        ragged = _read(con, source, read_as)
        return CsvRead(ragged=ragged) if source == path else None
    except duckdb.Error as exc:
        if "unicode" not in str(exc).lower():
            message = f"The file cannot be read as delimited text ({_first_line(exc)}). {RESAVE}"
            raise FileRefused(message) from exc
    layout.notes.append("Parts of the file are not UTF-8; those bytes were read as Windows-1252.")
    source = transcode(path, "mixed", work / "utf8.csv")
    _read_or_refuse(con, *below_title(source, layout, work), "The file cannot be read")
    return None


def below_title(path: Path, layout: Layout, work: Path) -> tuple[Path, Layout]:
    """The file to read and how: itself, or a copy from the header line on when the lines above
    the header hold a quote character or end differently from the header line. DuckDB's `skip`
    counts a quoted title as one record, drops every row after a title like `"Spring" results`,
    and counts lines by the ending it detected; the copy leaves it nothing to count.
    `title_rows` counts physical lines (ended by CRLF, CR or LF), as detection does."""
    if not layout.title_rows:
        return path, layout
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    ends = list(islice(_LINE_END.finditer(head), layout.title_rows + 1))
    if len(ends) <= layout.title_rows:
        return path, layout
    start = ends[layout.title_rows - 1].end()
    if b'"' not in head[:start] and len({m.group() for m in ends}) == 1:
        return path, layout
    body = work / "body.csv"
    with path.open("rb") as source, body.open("wb") as target:
        source.seek(start)
        shutil.copyfileobj(source, target, CHUNK_BYTES)
    return body, replace(layout, title_rows=0)


def _read_or_refuse(
    con: duckdb.DuckDBPyConnection, source: Path, layout: Layout, refusal: str
) -> None:
    try:
        _read(con, source, layout)
    except duckdb.Error as exc:
        raise FileRefused(f"{refusal} ({_first_line(exc)}). {RESAVE}") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def cell_text(value: object) -> str | None:
    """An Excel/JSON cell as the text a CSV export would have shown."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN: a key missing from a JSON record
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | dict):
        import json

        return json.dumps(value)
    text = str(value)
    return None if text.strip() == "" else text


def _insert_chunks(
    con: duckdb.DuckDBPyConnection, names: list[str], chunks: Iterator[list[list]]
) -> None:
    schema = pa.schema([(name, pa.string()) for name in names])
    columns = ", ".join(f"{quote(n)} varchar" for n in names)
    con.execute(f"create or replace table {RAW_TABLE} ({columns})")
    for rows in chunks:
        arrays = [
            pa.array([cell_text(row[i]) if i < len(row) else None for row in rows], pa.string())
            for i in range(len(names))
        ]
        con.register("_batch", pa.Table.from_arrays(arrays, schema=schema))
        con.execute(f"insert into {RAW_TABLE} select * from _batch")
        con.unregister("_batch")


def quote(name: str) -> str:
    return quote_identifier(name)


def _xlsx_chunks(
    path: Path, layout: Layout, chunk_rows: int = XLSX_CHUNK_ROWS
) -> Iterator[list[list]]:
    workbook = open_workbook(path)
    try:
        sheet = workbook[layout.sheet] if layout.sheet else workbook.worksheets[0]
        chunk: list[list] = []
        rows = enumerate(sheet.iter_rows(min_row=layout.header_row + 1, values_only=True))
        for number, row in rows:
            if number + layout.header_row >= limits.MAX_ROWS:  # a row detection could not see
                raise limits.too_many_rows()
            if not any(cell is not None and str(cell).strip() != "" for cell in row):
                continue  # Excel keeps formatted empty rows; CSV readers skip blank lines too
            limits.check_row_cells(row)  # exact, where detection's scan counted bytes
            chunk.append(list(row))
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    finally:
        workbook.close()


def refuse_too_wide(layout: Layout) -> None:
    """Refuse a file with more columns than limits.MAX_COLUMNS, before any row is read."""
    limits.check_columns(len(layout.headers))


def stage_file(
    con: duckdb.DuckDBPyConnection, path: Path, layout: Layout, work: Path
) -> tuple[int, CsvRead | None]:
    """Stage the rows (a file wider than limits.MAX_COLUMNS is refused first); returns how many data
    rows the file has, and how it was read when it was delimited text read straight from its
    bytes (else None)."""
    refuse_too_wide(layout)
    direct = None
    if layout.format is Format.CSV:
        direct = stage_csv(con, path, layout, work)
    elif layout.format is Format.XLSX:
        _insert_chunks(con, staged_names(layout.headers), _xlsx_chunks(path, layout))
    else:
        records = load_json_records(path, layout.encoding)
        rows = [[record.get(h) for h in layout.headers] for record in records]
        _insert_chunks(con, staged_names(layout.headers), iter([rows]))
    return con.execute(f"select count(*) from {RAW_TABLE}").fetchone()[0], direct


def head_frame(path: Path, layout: Layout, rows: int) -> pd.DataFrame:
    """The first data rows as text (for previews), columns named like the staged table."""
    names = staged_names(layout.headers)
    if layout.format is Format.CSV:
        with path.open("rb") as handle:
            text = decode_head(handle.read(HEAD_BYTES), layout.encoding)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter or ",")
        data = []
        for record in reader:
            if reader.line_num <= layout.title_rows + 1 or not any(c.strip() for c in record):
                continue
            data.append(record)
            if len(data) > rows:
                break
        data = data[:rows]
    elif layout.format is Format.XLSX:
        data = next(_xlsx_chunks(path, layout, chunk_rows=rows), [])[:rows]
    else:
        records = load_json_records(path, layout.encoding)[:rows]
        data = [[record.get(h) for h in layout.headers] for record in records]
    table = [
        [cell_text(row[i]) if i < len(row) else None for i in range(len(names))] for row in data
    ]
    return pd.DataFrame(table, columns=names, dtype=object)
