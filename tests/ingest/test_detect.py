"""Detection from bytes: format, encoding, delimiter, header row; and preview()."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from core.ingest import preview
from core.ingest.detect import (
    FileRefused,
    Format,
    detect,
    header_index,
    known_header_keys,
    sniff_delimiter,
    sniff_encoding,
    sniff_format,
)
from tests.ingest.helpers import VARIANTS

TEXT = "Student ID,Name\n1,José Zoë\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("cp1252"), "cp1252"),
        ("Name\nJosé\n".encode() + "Zoë\n".encode("cp1252"), "mixed"),
    ],
)
def test_encoding_from_bytes(data: bytes, encoding: str) -> None:
    assert sniff_encoding(data) == encoding


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", ","),
        ("a;b;c\n1;2,5;3\n4;5;6\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ('name,note\n"Lee, Ann","x; y"\n"Ng, Bo","p; q"\n', ","),
    ],
)
def test_delimiter_is_the_most_consistent_split(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text, complete=True) == delimiter


def test_header_row_below_title_lines() -> None:
    rows = [
        ["District export"],
        ["Generated today"],
        [],
        ["Student ID", "Score", "Grade"],
        ["1", "200", "3"],
    ]
    assert header_index(rows, known_header_keys()) == 3
    unknown = [["Report"], ["Kid", "Pts", "Yr"], ["1", "2", "3"], ["4", "5", "6"]]
    assert header_index(unknown, set()) == 1


@pytest.mark.parametrize(
    ("head", "message"),
    [(b"\xd0\xcf\x11\xe0rest", "97-2003"), (b"%PDF-1.7", "PDF")],
)
def test_formats_refused_with_a_reason(head: bytes, message: str) -> None:
    with pytest.raises(FileRefused, match=message):
        sniff_format(head)


def test_detect_layouts() -> None:
    assert detect(VARIANTS / "title_lines.csv").title_rows == 3
    assert detect(VARIANTS / "xlsx_named.csv").format is Format.XLSX
    assert detect(VARIANTS / "csv_named.xlsx").format is Format.CSV
    json_layout = detect(VARIANTS / "records.json")
    assert json_layout.format is Format.JSON
    assert json_layout.headers[:3] == ["School", "Grade", "School Year"]
    assert "student.id" in json_layout.headers


def test_preview_reads_maps_and_never_writes(tmp_path: Path) -> None:
    seen = preview(VARIANTS / "title_lines.xlsx", rows=3)
    assert (seen.format, seen.header_row, seen.preset, seen.kind) == (
        "xlsx",
        4,
        "generic",
        "assessment",
    )
    assert seen.rows["Student ID"].tolist() == ["1001", "1002", "1003"]
    assert seen.mapping["Score"] == "score" and seen.mapping["Class Type"] == "attribute"
    assert seen.missing == []
    broken = tmp_path / "x.csv"
    broken.write_bytes(b"")
    assert preview(broken).refused == "The file is empty."
