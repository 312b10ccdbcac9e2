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
