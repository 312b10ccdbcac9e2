"""`python -m core benchmarks`: the contract's JSON fields, CSV, filters and one-line failures."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core.access.scope import DISTRICT
from core.cli import main
from core.districts.benchmarks import METRICS, district_benchmarks
from core.warehouse import db
from tests.benchmarks.conftest import fixed_districts, insert_districts

FIELDS = [
    "district_id", "name", "state", "year", "enrollment",
    *(m.key for m in METRICS),
    *(f"{m.key}_vs_state" for m in METRICS),
    *(f"{m.key}_vs_national" for m in METRICS),
    *(m.trend_key for m in METRICS),
    *(f"{m.trend_key}_reason" for m in METRICS),
    *(f"{m.key}_quartile_state" for m in METRICS),
    *(f"{m.key}_reading" for m in METRICS),
]  # fmt: skip
AVERAGE_FIELDS = ["state", "year", "districts", "enrollment", *(m.key for m in METRICS)]


@pytest.fixture
def loaded(db_path):
    with db.connect(db_path) as con:
        insert_districts(con, fixed_districts())
    return db_path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["benchmarks", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_every_field_and_the_same_numbers_as_core(loaded, capsys) -> None:
    code, out, _ = _run(capsys, "--state", "aa", "--year", "2022", "--json")
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"year", "districts", "state_averages", "national_averages"}
    assert document["year"] == 2022 and len(document["districts"]) == 5
    for record in document["districts"]:
        assert set(FIELDS) <= set(record)
    for row in document["state_averages"] + document["national_averages"]:
        assert set(AVERAGE_FIELDS) <= set(row)
    assert [r["state"] for r in document["state_averages"]] == ["AA"]
    assert [r["state"] for r in document["national_averages"]] == ["US"]
    with db.connect(loaded) as con:
        want = district_benchmarks(con, DISTRICT, state="AA", year=2022)
    big = next(r for r in document["districts"] if r["district_id"] == "0100001")
    row = want.districts.set_index("district_id").loc["0100001"]
    assert big["math_proficiency_vs_state"] == pytest.approx(row.math_proficiency_vs_state)
    assert document["state_averages"][0]["expenditure_pp"] == pytest.approx(
        want.state_averages.expenditure_pp.iloc[0]
    )
    gap = next(r for r in document["districts"] if r["district_id"] == "0100005")
    assert gap["graduation_trend_3yr"] is None
    assert gap["graduation_trend_3yr_reason"] == "no value for 2019"


def test_csv_is_the_district_records(loaded, capsys) -> None:
    code, out, _ = _run(capsys, "--year", "2022", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 20
    assert set(FIELDS) <= set(rows[0])
    one = next(r for r in rows if r["district_id"] == "0200001")
    assert one["math_proficiency_quartile_state"] == ""  # BB has 3 districts


def test_one_district_and_human_output(loaded, capsys) -> None:
    code, out, _ = _run(capsys, "--district", "0300004", "--json")
    assert code == 0 and [d["district_id"] for d in json.loads(out)["districts"]] == ["0300004"]
    code, out, _ = _run(capsys, "--state", "CC")
    assert code == 0 and "8 districts" in out and "Enrollment-weighted averages" in out


def test_where_filters_by_quartile_flags(loaded, capsys) -> None:
    code, out, _ = _run(capsys, "--year", "2022", "--where", "math well_above", "--json")
    kept = json.loads(out)["districts"]
    assert code == 0 and {r["district_id"] for r in kept} == {
        "0300007",
        "0300008",
        "0400003",
        "0400004",
        "0100005",
    }
    code, _, err = _run(capsys, "--where", "math sky high")
    assert code == 1 and "absenteeism well_above" in err


def test_failures_are_one_line(db_path, loaded, capsys) -> None:
    code, _, err = _run(capsys, "--state", "ZZ")
    assert code == 1 and err.strip().count("\n") == 0
    assert "states loaded: AA, BB, CC, DD" in err
    code, _, err = _run(capsys, "--year", "2031")
    assert code == 1 and "No district data for 2031; years loaded: 2022, 2021" in err


def test_empty_warehouse_says_what_to_do(db_path, capsys) -> None:
    code, _, err = _run(capsys, "--json")
    assert code == 1 and "No district data are loaded" in err
