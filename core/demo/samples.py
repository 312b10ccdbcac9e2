"""The sample files a newcomer can try on the Upload page, written next to the warehouse.

`write_samples` writes the whole demo district in the generic long format (the file `load_demo`
imports), a small generic sample, a roster and one file per vendor preset, plus README.txt
saying what each is. Vendor files reuse the demo's own students (headers from
core/presets/*.json); see core/demo/vendors.py for what their scores mean.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.demo.files import roster_frame, write_long_csv, write_roster_csv
from core.demo.vendors import write_dibels_csv, write_iready_csv, write_nwea_csv, write_star_csv
from core.warehouse import private_files

FULL_FILE = "demo_district_long.csv"

README = """Yardstick demo district - sample files (synthetic data: no real student is described)

Made by `python -m core init --demo` (seed {seed}). Try them on the Upload page: the format of
each file is detected from its headers (and, for i-Ready, from the file name). Importing a file
twice adds nothing the second time.

{listing}

Names are drawn from lists of common names; scores are drawn around the NWEA MAP Growth 2020
student achievement norms (norms/nwea_2020_student.csv). Star, i-Ready and DIBELS scores are the
same students' scores re-expressed on an illustrative scale of each vendor's range: they show how
an import works and are not those vendors' norms. Planted truths (a declining cohort, a widening
gap, cohorts to celebrate) are described in core/demo/district.py.
"""


@dataclass(frozen=True)
class Sample:
    """One sample file: its name, which rows, how it is written, what the README says."""

    name: str
    rows: Callable[[object], pd.DataFrame]
    write: Callable[[pd.DataFrame, Path], Path]
    about: str


def _latest(district, school: str | None = None, subject: str | None = None) -> pd.DataFrame:
    scores = district.scores
    keep = scores["school_year"] == district.years[-1]
    if school:
        keep &= scores["school"] == school
    if subject:
        keep &= scores["subject"] == subject
    return scores[keep]


SAMPLES = (
    Sample(
        FULL_FILE,
        lambda d: d.scores,
        write_long_csv,
        "the whole demo district in the generic long format (one score per row): the file the "
        "demo loads; importing it again adds nothing.",
    ),
    Sample(
        "generic_long_sample.csv",
        lambda d: _latest(d, "Washington Elementary"),
        write_long_csv,
        "the generic long format of the design: Washington Elementary, latest year.",
    ),
    Sample(
        "roster.csv",
        lambda d: roster_frame(d, d.years[-1]),
        write_roster_csv,
        "a student roster as an SIS exports it (PowerSchool-style headers): every student "
        "enrolled in the latest year with demographics, school, grade, teacher and section.",
    ),
    Sample(
        "nwea_map_combined_data_file.csv",
        lambda d: _latest(d, "Lincoln Elementary"),
        write_nwea_csv,
        "an NWEA MAP Growth Combined Data File (TermName 'Fall 2024-2025', TestRITScore, "
        "TestPercentile): Lincoln Elementary, latest year. These are the demo's own scores, so "
        "importing it into the demo finds every row already there.",
    ),
    Sample(
        "renaissance_star.csv",
        lambda d: _latest(d, "Roosevelt Elementary"),
        write_star_csv,
        "a Renaissance Star export (Activity Type, Scaled Score, Percentile Rank, Screening "
        "Window Name): Roosevelt Elementary, latest year, math and reading.",
    ),
    Sample(
        "iready_diagnostic_results_math.csv",
        lambda d: _latest(d, "Maple Grove K-8 Academy", "math"),
        write_iready_csv,
        "an i-Ready diagnostic_results export (Overall Scale Score, Percentile, Overall Relative "
        "Placement; season from Completion Date; subject from the file name): Maple Grove K-8 "
        "Academy, latest year, math.",
    ),
    Sample(
        "dibels8_benchmark.csv",
        lambda d: _latest(d, "Lincoln Elementary", "reading"),
        write_dibels_csv,
        "an Amplify mCLASS DIBELS 8th Edition benchmark export (Benchmark Period BOY/MOY/EOY, "
        "Composite Score, Composite Level): Lincoln Elementary, latest year, reading.",
    ),
)


def _describe(sample: Sample, rows: int) -> str:
    return textwrap.fill(
        f"- {sample.name}: {sample.about} ({rows:,} rows)", width=96, subsequent_indent="  "
    )


def write_samples(district, folder: Path, seed: int) -> dict[str, Path]:
    """Write every sample file and README.txt into `folder`; returns {file name: path}."""
    private_files.make_dirs(folder)
    written: dict[str, Path] = {}
    listing = []
    for sample in SAMPLES:
        rows = sample.rows(district)
        written[sample.name] = sample.write(rows, folder / sample.name)
        listing.append(_describe(sample, len(rows)))
    readme = folder / "README.txt"
    readme.write_text(README.format(seed=seed, listing="\n".join(listing)), encoding="utf-8")
    return written | {"README.txt": readme}
