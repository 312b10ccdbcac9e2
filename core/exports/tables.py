"""Tables leaving the machine as CSV / XLSX: the filters on top, formula injection neutralised."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix a text cell a spreadsheet would run as a formula (OWASP CSV injection) with '.

    Numbers stay numbers: a negative number is data, only *text* starting with '-' is escaped."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame, filters: dict[str, Any] | None = None) -> bytes:
    """CSV with '# key: value' lines describing what the table is (filters, norms, scope)."""
    buffer = io.StringIO()
    for key, value in (filters or {}).items():
        buffer.write(f"# {neutralise(str(key))}: {neutralise(str(value))}\n")
    neutralise_frame(df).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(df: pd.DataFrame, filters: dict[str, Any] | None = None) -> bytes:
    """An Excel workbook: the filters as "key | value" rows on top, a blank row, then the table.

    Text cells are neutralised like the CSV (openpyxl would store "=…" text as a live formula)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Yardstick"
    for key, value in (filters or {}).items():
        sheet.append([neutralise(str(key)), neutralise(str(value))])
    if filters:
        sheet.append([])
    table = neutralise_frame(df)
    sheet.append([str(c) for c in table.columns])
    for row in table.itertuples(index=False):
        sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """Missing values as empty cells; numpy scalars as plain Python numbers."""
    if isinstance(value, list | tuple | dict):
        return neutralise(str(value))
    if pd.isna(value):
        return None
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def xlsx_workbook(sheets: dict[str, pd.DataFrame], filters: dict[str, Any] | None = None) -> bytes:
    """A workbook with the filters on a first "Header" sheet and one sheet per table.

    Numbers stay numeric cells (shown with one decimal, counts whole), text is neutralised,
    header rows are bold and frozen, and column widths follow the longest value (capped)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    header = book.active
    header.title = "Header"
    for key, value in (filters or {}).items():
        header.append([neutralise(str(key)), neutralise(str(value))])
    _fit_columns(header)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title[:31])
        table = neutralise_frame(frame)
        sheet.append([str(c) for c in table.columns])
        for row in table.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        _number_formats(sheet, frame)
        _fit_columns(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _number_formats(sheet: Any, frame: pd.DataFrame) -> None:
    for index, column in enumerate(frame.columns, start=1):
        if not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].dropna()
        whole = pd.api.types.is_integer_dtype(frame[column]) or bool(
            len(values) and (values.astype("float64") % 1 == 0).all() and column_is_count(column)
        )
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = "#,##0" if whole else "0.0"


def column_is_count(name: Any) -> bool:
    """Counts print whole ("Students", "n", "Alerts"); other numbers keep a decimal."""
    text = str(name).lower()
    return text in ("n", "alerts") or "students" in text or text.startswith("n_")


def _fit_columns(sheet: Any) -> None:
    from openpyxl.utils import get_column_letter

    for index, cells in enumerate(sheet.iter_cols(), start=1):
        longest = max((len(str(c.value)) for c in cells if c.value is not None), default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 8), 60)
