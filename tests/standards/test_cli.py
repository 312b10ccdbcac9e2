"""`python -m core standards`: the contract's fields, one object vs a list, CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
from scipy.stats import norm

from core import cli
from core.warehouse import db
from tests.standards.seed import seed

CONTRACT = {
    "cohort", "n", "mean", "sd", "median", "norm", "diff", "t", "df", "p", "ci95",
    "effect_size", "category", "suppressed",
}  # fmt: skip
PINNED = {
    "school_year": "2024-2025", "schools": ["Lincoln Elementary"], "grade": "3",
    "subject": "math", "season": "spring",
}  # fmt: skip


@pytest.fixture
def warehouse(db_path):
    with db.connect(db_path) as con:
        seed(con)
    return db_path


def _run(capsys, *args: str):
    code = cli.main(["standards", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_pinned_spec_prints_one_object_with_the_contract(warehouse, capsys) -> None:
    code, out, _ = _run(capsys, "--cohort", json.dumps(PINNED), "--json")
    record = json.loads(out)
    assert code == 0 and isinstance(record, dict)
    assert set(record) >= CONTRACT
    assert record["n"] == 50 and record["suppressed"] is False
    assert record["norm"] == {
        "source": "NWEA MAP Growth 2020 student achievement norms",
        "mean": 201.08,
        "sd": 14.11,
    }
    lo, hi = record["ci95"]
    assert lo < record["diff"] < hi
    # added beside mean_percentile (kept): the norm's percentile rank of the mean (scipy cdf)
    assert record["mean_percentile"] is not None
    assert record["percentile_of_mean"] == pytest.approx(
        100 * norm.cdf(record["mean"], loc=201.08, scale=14.11), rel=1e-9
    )


def test_same_numbers_as_the_page_function(warehouse, capsys) -> None:
    from core.access.scope import DISTRICT
    from core.cohorts.spec import CohortSpec
    from core.standards.standing import cohort_vs_norm

    _, out, _ = _run(capsys, "--cohort", json.dumps(PINNED), "--json")
    with db.connect(warehouse) as con:
        row = cohort_vs_norm(con, CohortSpec.from_dict(PINNED), DISTRICT).iloc[0]
    record = json.loads(out)
    assert (record["t"], record["p"], record["effect_size"]) == (
        row["t"],
        row["p"],
        row["effect_size"],
    )


def test_unpinned_spec_prints_a_list(warehouse, capsys) -> None:
    code, out, _ = _run(capsys, "--cohort", '{"subject": "math", "season": "fall"}', "--json")
    records = json.loads(out)
    assert code == 0 and isinstance(records, list) and len(records) == 6
    assert [r["grade"] for r in records if r["school"] == "Lincoln Elementary"] == ["K", "3", "4"]


def test_by_pools_rows(warehouse, capsys) -> None:
    spec = {**PINNED, "grade": ["3", "4"]}
    _, out, _ = _run(capsys, "--cohort", json.dumps(spec), "--by", "school_year,school", "--json")
    record = json.loads(out)
    assert record["grade"] == "3, 4" and record["n"] == 62


def test_csv_has_a_row_per_result(warehouse, capsys) -> None:
    _, out, _ = _run(capsys, "--cohort", '{"grade": "3", "subject": "math"}', "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 4 and {"n", "mean", "p", "norm_source", "suppressed"} <= set(rows[0])


def test_bad_spec_fails_with_one_line(warehouse, capsys) -> None:
    code, _, err = _run(capsys, "--cohort", '{"grade": "banana"}', "--json")
    assert code == 1 and err.startswith("error: grade: 'banana'") and err.count("\n") == 1
    code, _, err = _run(capsys, "--cohort", "{}", "--by", "teacher")
    assert code == 1 and "--by: teacher" in err
