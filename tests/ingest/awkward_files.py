"""The awkward-file corpus, written at run time (small on disk, nothing big committed): the
committed variant and vendor files, the structurally bad inputs, the CSV edges of issue 17,
seeded random bytes, and truncations of valid CSV, Excel and JSON files."""

from __future__ import annotations

import random
from pathlib import Path

from tests.ingest.helpers import DATA, VARIANTS

HEADER = "Student ID,School,Grade,School Year,Season,Subject,Score"
ROWS = ["1,A,3,2024-2025,Fall,Math,200", "2,A,3,2024-2025,Fall,Math,210"]

# name -> bytes: files that were refused, misread or raised a traceback at some point
EDGES: dict[str, bytes] = {
    "empty.csv": b"",
    "blank_lines.csv": b"\n\n  \n",
    "header_only.csv": (HEADER + "\n").encode(),
    "binary.csv": bytes(range(256)) * 64,
    "old_excel.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
    "pdf.csv": b"%PDF-1.7\n" + bytes(200),
    "zip_not_xlsx.xlsx": b"PK\x03\x04" + bytes(100),
    "not_json.json": b'[{"a": 1}, oops',
    "json_scalar.json": b"[1, 2, 3]",
    "json_empty.json": b"[]",
    "json_nested_lists.json": b'{"a": [1], "b": [2]}',
    "one_column.csv": b"Student ID:Score:School\n1:200:A\n",
    "title_blank.csv": f"Lincoln USD export\n\n{HEADER}\n{ROWS[0]}\n{ROWS[1]}\n".encode(),
    "quoted_title.csv": f'"Spring" results\n\n{HEADER}\n{ROWS[0]}\n{ROWS[1]}\n'.encode(),
    "cr_only_lines.csv": f'{HEADER},Note\r{ROWS[0]},"a\rb"\r{ROWS[1]},c\r'.encode(),
    "cr_in_quotes.csv": f'{HEADER},Note\n{ROWS[0]},"a\rb"\n{ROWS[1]},c\n'.encode(),
    "cr_unquoted.csv": f"{HEADER},Note\n{ROWS[0]},a\rb\n{ROWS[1]},c\n".encode(),
    "unterminated_quote.csv": f'{HEADER}\n{ROWS[0]}\n2,"A,3,2024-2025,Fall,Math,210\n'.encode(),
    "stray_quotes.csv": f'{HEADER}\n1,"A"x,3,2024-2025,Fall,Math,200\n{ROWS[1]}\n'.encode(),
    "nul_in_cell.csv": f"{HEADER}\n{ROWS[0]}\x00\n{ROWS[1]}\n".encode(),
    "utf16_odd_length.csv": "\ufeff".encode("utf-16-le") + HEADER.encode("utf-16-le") + b"\x00",
    "only_delimiters.csv": b",,,,\n,,,,\n",
    "header_is_numbers.csv": b"1,2,3\n4,5,6\n",
    "huge_field.csv": f'{HEADER}\n1,A,3,2024-2025,Fall,Math,"{"x" * 300_000}"\n'.encode(),
    "bad_utf8_title.csv": b"\xff\xfe\xfd title\n\n" + f"{HEADER}\n{ROWS[0]}\n".encode(),
    "xlsx_garbage_inside.xlsx": b"PK\x03\x04" + b"xl/workbook.xml" + bytes(300),
}


def _zip_with_workbook_name(seed: int) -> bytes:
    """A real zip holding xl/workbook.xml whose content is random bytes."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", random.Random(seed).randbytes(500))
        archive.writestr("[Content_Types].xml", b"<Types/>")
    return buffer.getvalue()


def random_files(seeds: range) -> dict[str, bytes]:
    """Seeded random bytes, alone and behind a CSV header, a JSON bracket or a zip signature."""
    files: dict[str, bytes] = {}
    for seed in seeds:
        noise = random.Random(seed).randbytes(random.Random(seed).randint(1, 4000))
        files[f"random_{seed}.csv"] = noise
        files[f"random_after_header_{seed}.csv"] = (HEADER + "\n").encode() + noise
        files[f"random_json_{seed}.json"] = b"[" + noise
        files[f"random_zip_{seed}.xlsx"] = b"PK\x03\x04" + noise
    files["zip_random_workbook.xlsx"] = _zip_with_workbook_name(0)
    return files


def truncations(fractions: tuple[float, ...] = (0.1, 0.5, 0.9)) -> dict[str, bytes]:
    """Valid CSV, Excel and JSON files cut short (a download interrupted)."""
    files: dict[str, bytes] = {}
    for source in ("basic.csv", "variant.xlsx", "records.json", "utf16.csv"):
        data = (VARIANTS / source).read_bytes()
        for fraction in fractions:
            cut = max(1, int(len(data) * fraction))
            files[f"cut_{int(fraction * 100)}_{source}"] = data[:cut]
        files[f"cut_last_byte_{source}"] = data[:-1]
    return files


def corpus_files() -> list[Path]:
    """The committed corpus: every variant and vendor file the ingest tests read."""
    return sorted(p for p in DATA.glob("*/*") if p.is_file() and p.suffix != ".py")


def write_corpus(folder: Path, seeds: range = range(4)) -> list[Path]:
    """Every awkward file written into `folder`; returns the paths to import (committed ones
    in place)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = corpus_files()
    for name, content in {**EDGES, **random_files(seeds), **truncations()}.items():
        path = folder / name
        path.write_bytes(content)
        paths.append(path)
    return paths
