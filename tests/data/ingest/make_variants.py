"""Write the variant files: the rows of basic.csv in other delimiters, quoting, encodings,
line endings, layouts (title lines) and formats (xlsx, json, misnamed). One parametrized test
(tests/ingest/test_variants.py) requires every one to import identically.

Run from the repository root: .venv/bin/python tests/data/ingest/make_variants.py
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent / "variants"
# basic.csv is the source: its rows (accents, quotes, a line break, a tab inside cells, a bad
# score) are the ones every variant must import to; edit them there and run this again.
SOURCE = HERE / "basic.csv"
with SOURCE.open(encoding="utf-8", newline="") as source:
    HEADER, *ROWS = csv.reader(source)
TITLE = ["Lincoln USD — assessment export", "Generated 2025-06-01 by the district office"]


def delimited(
    delimiter: str, quoting: int = csv.QUOTE_MINIMAL, title: bool = False, newline: str = "\n"
) -> str:
    """Records end with `newline`; a line break inside a quoted cell stays "\n" (as Excel
    writes it on Windows too)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    if title:
        buffer.write(newline.join(TITLE) + newline * 2)
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    return buffer.getvalue()


def typed_cell(header: str, value: str) -> object:
    """Excel stores numbers and dates as such, the way a real export does."""
    if value == "":
        return None
    if header in ("Score", "Percentile"):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    if header == "Test Date":
        return dt.datetime.fromisoformat(value)
    if header in ("Student ID", "Grade") and value.isdigit():
        return int(value)
    return value


def workbook(title: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Results"
    if title:
        sheet.append([TITLE[0]])
        sheet.append([TITLE[1]])
        sheet.append([])
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append([typed_cell(h, v) for h, v in zip(HEADER, row, strict=True)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def records() -> str:
    """Nested objects, flattened by the reader ("student.id" matches "Student ID")."""
    out = []
    for row in ROWS:
        item = dict(zip(HEADER, row, strict=True))
        out.append(
            {
                "student": {
                    "id": item.pop("Student ID"),
                    "first_name": item.pop("First Name"),
                    "last_name": item.pop("Last Name"),
                },
                **{k: (None if v == "" else v) for k, v in item.items()},
            }
        )
    return json.dumps(out, ensure_ascii=False, indent=1)


def mixed_encoding() -> bytes:
    """UTF-8 lines with one line saved by an old Windows tool (cp1252)."""
    lines = delimited(",").splitlines(keepends=True)
    # the line of row 1003 (its Note spans two physical lines; neither has accents but the names)
    return b"".join(
        line.encode("cp1252") if line.startswith("1003,") else line.encode("utf-8")
        for line in lines
    )


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    basic = delimited(",")
    if basic.encode("utf-8") != SOURCE.read_bytes():
        raise SystemExit(f"{SOURCE} does not read back as it is written: keep it plain CSV")
    files: dict[str, bytes] = {
        "bom_crlf.csv": b"\xef\xbb\xbf" + delimited(",", newline="\r\n").encode("utf-8"),
        "semicolon.csv": delimited(";").replace("55.5", "55,5").encode("utf-8"),
        "tab.tsv": delimited("\t").encode("utf-8"),
        "pipe.txt": delimited("|").encode("utf-8"),
        "utf16.csv": basic.encode("utf-16"),
        "cp1252.csv": basic.encode("cp1252"),
        "quoted_all.csv": delimited(",", csv.QUOTE_ALL).encode("utf-8"),
        "title_lines.csv": delimited(",", title=True).encode("utf-8"),
        "mixed_encoding.csv": mixed_encoding(),
        "variant.xlsx": workbook(),
        "title_lines.xlsx": workbook(title=True),
        "records.json": records().encode("utf-8"),
    }
    files["csv_named.xlsx"] = basic.encode("utf-8")
    files["xlsx_named.csv"] = files["variant.xlsx"]
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files)} files to {HERE}")


if __name__ == "__main__":
    main()
