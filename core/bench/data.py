"""The benchmark's synthetic district: the demo generator at scale, written as the two files
the import is measured on (generic long format and an NWEA-style Combined Data File)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.demo.district import generate
from core.demo.files import write_long_csv
from core.demo.population import School
from core.demo.vendors import write_nwea_csv

ELEMENTARY, MIDDLE = 15, 5


def bench_schools(students: int) -> tuple[School, ...]:
    """Enough schools that each has a realistic size (~2,000 students per K-5 school at 60k)."""
    scale = max(1, round(students / 60_000 * (ELEMENTARY + MIDDLE)))
    n_elem = max(2, round(scale * ELEMENTARY / (ELEMENTARY + MIDDLE)))
    n_mid = max(1, scale - n_elem)
    elementary = tuple(
        School(
            f"Elementary {i + 1:02d}",
            f"E{i + 1:02d}",
            0,
            5,
            1.0,
            0.25 + 0.03 * (i % 12),
            0.3 * ((i % 7) - 3) / 3,
        )
        for i in range(n_elem)
    )
    middle = tuple(
        School(f"Middle {i + 1:02d}", f"M{i + 1:02d}", 6, 8, 1.0, 0.45, 0.1 * ((i % 3) - 1))
        for i in range(n_mid)
    )
    return elementary + middle


@dataclass(frozen=True)
class BenchFiles:
    long_csv: Path
    nwea_csv: Path
    rows: int
    students: int
    years: tuple[str, ...]


def write_bench_files(folder: Path, students: int, years: int, seed: int) -> BenchFiles:
    """Generate the district and write both files (DuckDB COPY: seconds for millions of rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    district = generate(students, years, seed, schools=bench_schools(students))
    long_csv = write_long_csv(district.scores, folder / f"long_{students}.csv")
    nwea_csv = write_nwea_csv(district.scores, folder / f"nwea_{students}.csv")
    return BenchFiles(
        long_csv, nwea_csv, len(district.scores), len(district.students), district.years
    )
