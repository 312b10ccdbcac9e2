"""The Excel workbook: a header sheet with the filters, one sheet per table, numbers as numeric
cells with set column widths, and formula injection neutralised."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from core.access.scope import DISTRICT
from core.cohorts.spec import CohortSpec
from core.report.data import build_report
from core.report.xlsx import render_xlsx
from core.standards.standing import cohort_vs_norm

EVIL = '=HYPERLINK("http://x","click")'
SPECS = [
    CohortSpec.from_dict({"name": EVIL, "grade": "3", "schools": ["Lincoln Elementary"],
                          "school_year": "2024-2025"}),
    CohortSpec.from_dict({"name": "Grade 4", "grade": "4", "school_year": "2024-2025"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def book(warehouse):
    report = build_report(warehouse, SPECS, DISTRICT, use_model=False)
    return load_workbook(io.BytesIO(render_xlsx(report)))


def test_one_sheet_per_table_after_the_header(book) -> None:
    assert book.sheetnames == [
        "Header",
        "Summary",
        "Against the norm",
        "Against last year",
        "Growth",
        "Subgroup gaps",
        "Narratives",
    ]
    header = {row[0]: row[1] for row in book["Header"].iter_rows(values_only=True)}
    assert header["District"] and "fewer than 10 students" in header["Privacy"]
    assert "School year: 2024-2025" in header["Cohort 2"]


def test_numbers_are_numeric_cells_equal_to_the_page(warehouse, book) -> None:
    sheet = book["Against the norm"]
    columns = [c.value for c in sheet[1]]
    rows = [
        dict(zip(columns, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)
    ]
    page = cohort_vs_norm(warehouse, [s.replace(name="") for s in SPECS], DISTRICT)
    assert len(rows) == len(page)
    for got, want in zip(rows, page.itertuples(), strict=True):
        if want.suppressed:
            assert got["Mean"] is None
            continue
        assert isinstance(got["Mean"], float) and got["Mean"] == pytest.approx(want.mean, rel=1e-12)
        assert isinstance(got["Students"], int | float) and got["Students"] == want.n
    students = columns.index("Students") + 1
    for (cell,) in sheet.iter_rows(min_row=2, min_col=students, max_col=students):
        assert cell.data_type == "n" and cell.number_format == "#,##0"
    mean = columns.index("Mean") + 1
    assert sheet.cell(2, mean).number_format == "0.0"
    assert all(sheet.column_dimensions[c].width >= 8 for c in "ABCDEFG")


def test_formula_injection_is_neutralised(book) -> None:
    values = [
        cell.value
        for name in book.sheetnames
        for row in book[name].iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    assert "'" + EVIL in values
    assert not any(v.startswith(("=", "+", "@")) for v in values)
    assert all(
        c.data_type != "f" for name in book.sheetnames for r in book[name].iter_rows() for c in r
    )
