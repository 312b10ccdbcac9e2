"""The sample files a newcomer can try on the Upload page, written next to the warehouse.

`write_samples` writes the whole demo district in the generic long format (the file `load_demo`
imports), a small generic sample, a roster and one file per vendor preset, plus README.txt
saying what each is. Vendor files reuse the demo's own students and scores (renamed to the
vendor's export headers, from core/presets/*.json), so importing one into the demo warehouse
shows duplicates, not new students.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from core.demo_files import latest_school_sample, write_long_csv, write_roster_csv

FULL_FILE = "demo_district_long.csv"
SAMPLE_SCHOOL = "Washington Elementary"

README = """Yardstick demo district - sample files (synthetic data: no real student is described)

Made by `python -m core init --demo` (seed {seed}). Try them on the Upload page: the format of
each file is detected from its headers. Importing a file twice adds nothing the second time.

{listing}

Names are drawn from lists of common names; scores are drawn around the NWEA MAP Growth 2020
student achievement norms (norms/nwea_2020_student.csv). Planted truths (a declining cohort, a
widening gap, cohorts to celebrate) are described in core/demo.py.
"""

DESCRIPTIONS = {
    FULL_FILE: "the whole demo district in the generic long format (one score per row, "
    "{rows:,} rows): the file the demo loads; importing it again adds nothing.",
    "generic_long_sample.csv": "the generic long format, {school}, {year} only ({rows:,} rows).",
    "roster.csv": "a student roster as an SIS exports it (PowerSchool-style headers): every "
    "student enrolled in {year} with demographics, school, grade, teacher and section "
    "({rows:,} rows).",
}


def _describe(name: str, rows: int, district) -> str:
    text = DESCRIPTIONS[name].format(rows=rows, school=SAMPLE_SCHOOL, year=district.years[-1])
    return textwrap.fill(f"- {name}: {text}", width=96, subsequent_indent="  ")


def write_samples(district, folder: Path, seed: int) -> dict[str, Path]:
    """Write every sample file and README.txt into `folder`; returns {file name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    latest = district.years[-1]
    small = latest_school_sample(district, SAMPLE_SCHOOL)
    written = {
        FULL_FILE: (write_long_csv(district.scores, folder / FULL_FILE), len(district.scores)),
        "generic_long_sample.csv": (
            write_long_csv(small, folder / "generic_long_sample.csv"),
            len(small),
        ),
        "roster.csv": (
            write_roster_csv(district, latest, folder / "roster.csv"),
            int((district.enrollments["school_year"] == latest).sum()),
        ),
    }
    listing = "\n".join(_describe(name, rows, district) for name, (_, rows) in written.items())
    readme = folder / "README.txt"
    readme.write_text(README.format(seed=seed, listing=listing), encoding="utf-8")
    return {name: path for name, (path, _) in written.items()} | {"README.txt": readme}
