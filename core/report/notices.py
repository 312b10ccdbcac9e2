"""A short file in a report's format (PDF or Excel) that says why it holds no report.

A page's report button builds its file after the click, outside the page run, and its file
name and type are fixed when the button is drawn: when the report cannot be built, the download
is this notice in the same format, so the reader learns why and what to do.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from fpdf import FPDF
from openpyxl import Workbook


def _latin1(text: str) -> str:
    """The PDF core fonts hold Latin-1 only; a notice must never fail on a stray character."""
    return text.encode("latin-1", "replace").decode("latin-1")


def notice_pdf(title: str, lines: Sequence[str]) -> bytes:
    """One page: the title in bold, then each line as a paragraph."""
    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.ln(3)
        pdf.multi_cell(0, 7, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def notice_xlsx(title: str, lines: Sequence[str]) -> bytes:
    """One sheet, "Not built": the title in A1, each line in the rows below."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Not built"
    for row, text in enumerate([title, *lines], start=1):
        sheet.cell(row=row, column=1, value=text)
    sheet.column_dimensions["A"].width = 110
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def notice_file(kind: str, title: str, lines: Sequence[str]) -> bytes:
    """The notice as a "pdf" or "xlsx" file."""
    if kind == "pdf":
        return notice_pdf(title, lines)
    if kind == "xlsx":
        return notice_xlsx(title, lines)
    raise ValueError(f"Unknown file kind {kind!r}; expected pdf or xlsx.")
