"""The class-size experiment's shape end to end through the headless interface, as a district
would run it: export-style headers ("Student ID", "Class Type"), no test declared, shuffled rows.

Two things a real file of this shape broke together: kindergarten rows carried a later year's
class type (the small-class effect came out 30 % too large), and NWEA's RIT norms judged scores
on another scale "Above" by 27 standard deviations. Every number here is checked against
pandas / scipy on the file's own rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader
from scipy import stats as sps

from core.cli import main
from tests.attributes.classsize import GRADES, YEARS, class_size_rows, write

EXPORT_HEADERS = {
    "student_id": "Student ID", "school": "School Name", "grade": "Grade",
    "school_year": "School Year", "season": "Season", "test_date": "Test Date",
    "subject": "Subject", "score": "Score", "class_type": "Class Type", "ell": "ELL",
    "frl": "FRL", "program": "Program",
}  # fmt: skip


def _cli(capsys: pytest.CaptureFixture, *args: str) -> object:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out) if "--json" in args else captured.out


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return class_size_rows()


@pytest.fixture
def warehouse(raw, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    db = tmp_path / "yardstick.duckdb"
    monkeypatch.setenv("YARDSTICK_DB", str(db))
    csv = write(raw.rename(columns=EXPORT_HEADERS), tmp_path / "class_size.csv", "shuffled")
    _cli(capsys, "init")
    job = _cli(capsys, "import", str(csv), "--json")
    assert job["status"] == "completed" and job["rejected"] == 0, job
    assert job["inserted"] == len(raw)
    return db


@pytest.mark.slow
def test_each_grade_compares_its_own_years_class_types_and_gets_no_rit_verdict(
    warehouse, raw, capsys, tmp_path
) -> None:
    for grade, year in zip(GRADES, YEARS, strict=True):
        base = {"school_year": year, "grade": grade, "subject": "math", "season": "spring"}
        out = _cli(
            capsys,
            "compare",
            "--json",
            "--a",
            json.dumps({**base, "filters": {"class_type": "small"}}),
            "--b",
            json.dumps({**base, "filters": {"class_type": "regular"}}),
        )
        rows = raw[(raw["grade"] == grade) & (raw["subject"] == "math")]
        small = rows[rows["class_type"] == "small"]["score"]
        regular = rows[rows["class_type"] == "regular"]["score"]
        ref = sps.ttest_ind(small, regular, equal_var=False)  # scipy: Welch, the row's own year
        assert out["suppressed"] is False
        assert (out["a"]["n"], out["b"]["n"]) == (len(small), len(regular))
        assert out["diff"] == pytest.approx(small.mean() - regular.mean(), rel=1e-9)
        assert out["t"] == pytest.approx(ref.statistic, rel=1e-9)
        assert out["p"] == pytest.approx(ref.pvalue, rel=1e-6)

        record = _cli(
            capsys, "standards", "--cohort", json.dumps(base), "--by", "school_year,grade", "--json"
        )
        record = record if isinstance(record, dict) else record[0]
        assert record["n"] == len(rows) and record["mean"] == pytest.approx(rows["score"].mean())
        assert record["category"] is None and record["norm"]["mean"] is None
        assert "no national norm" in record["note"]

    spec = {
        "school_year": YEARS[0],
        "grade": "K",
        "subject": "math",
        "season": "spring",
        "schools": ["Elm School"],
    }
    pdf = tmp_path / "k.pdf"
    _cli(capsys, "report", "--cohort", json.dumps(spec), "--out", str(pdf), "--template-only")
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages).lower()
    assert "no national norm" in text
    assert "above the national norm" not in text and "below the national norm" not in text
