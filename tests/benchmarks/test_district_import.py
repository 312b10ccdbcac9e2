"""District files through the one import pipeline: preset detection, blanks never overwrite,
impossible values reported by row while the rest of the row loads, the Urban Institute portal's
long files and missing-data codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.access.scope import DISTRICT
from core.cli import main
from core.districts.benchmarks import district_benchmarks
from core.ingest import builtin_presets, detect_preset, import_file, job_errors, list_jobs
from core.warehouse import db

DATA = Path(__file__).resolve().parents[1] / "data" / "districts"


def _import(name: str, warehouse: Path):
    return import_file(DATA / name, db=warehouse, origin="cli", user="tester")


def _rows(warehouse: Path) -> dict[tuple[str, int], dict]:
    with db.connect(warehouse) as con:
        frame = con.execute("select * exclude (updated_at) from district_years").df()
    return {(r["district_id"], r["year"]): r for r in frame.to_dict("records")}


def _errors(summary) -> set[tuple[int, str, str]]:
    return {(e["row"], e["severity"], e["message"]) for e in summary.errors}


def test_generic_file_is_detected_and_impossible_values_skip_only_themselves(db_path) -> None:
    summary = _import("state_report.csv", db_path)
    assert summary.status == "completed" and summary.preset == "district_generic"
    assert (summary.rows_read, summary.inserted, summary.rejected) == (5, 4, 1)
    assert summary.added["states"] == ["CA"] and summary.added["years"] == [2022]
    errors = _errors(summary)
    # row numbers are the file's own (header = row 1)
    assert (4, "warning", "250 is outside the valid range (0-100)") in errors
    assert (
        4,
        "warning",
        "0 teachers: the pupil-teacher ratio would be impossible; not loaded",
    ) in errors
    assert (4, "warning", "$0 per pupil is impossible; not loaded") in errors
    assert (
        5,
        "warning",
        "4500 students with disabilities is more than the district's pupils; not loaded",
    ) in errors
    assert (6, "error", "'abc' has no year in it (use 2022 or 2022-23)") in errors
    rows = _rows(db_path)
    gamma = rows[("0600003", 2022)]  # id read as a number: zeros restored; state from the id
    assert gamma["state"] == "CA" and gamma["name"] == "Gamma Joint Unified"
    assert gamma["graduation_rate_pct"] == 91.0 and gamma["math_proficiency_pct"] == 38.0
    assert gamma["enrollment"] == 5000
    for blanked in ("chronic_absenteeism_pct", "teachers_fte", "expenditure_pp"):
        assert gamma[blanked] != gamma[blanked]  # NaN: not loaded
    delta = rows[("0600004", 2022)]
    assert delta["state"] == "CA"  # "California"
    assert delta["swd_count"] is None or delta["swd_count"] != delta["swd_count"]
    assert delta["enrollment"] == 4000
    assert ("0600005", 2022) not in rows and len(rows) == 4
    alpha = rows[("0600001", 2022)]
    assert alpha["enrollment"] == 12000 and alpha["teachers_fte"] == 560
    assert alpha["expenditure_pp"] == 15200


def test_blank_cells_never_overwrite_and_same_file_adds_nothing(db_path) -> None:
    _import("state_report.csv", db_path)
    again = _import("state_report.csv", db_path)
    assert again.inserted == 0 and again.already_imported
    update = _import("state_report_blanks.csv", db_path)
    assert (update.inserted, update.updated, update.duplicates) == (0, 1, 1)
    alpha = _rows(db_path)[("0600001", 2022)]
    assert alpha["graduation_rate_pct"] == 89.0  # the new value
    assert alpha["name"] == "Alpha Unified" and alpha["enrollment"] == 12000  # blanks kept these
    assert alpha["math_proficiency_pct"] == 41.5


def test_urban_institute_downloads_fill_one_row_per_district_year(db_path) -> None:
    files = (
        "urban_ccd_directory.csv",
        "urban_edfacts_grad_rates.csv",
        "urban_ccd_finance.csv",
        "urban_edfacts_assessments.csv",
    )
    summaries = [_import(name, db_path) for name in files]
    assert {s.preset for s in summaries} == {"urban_institute_ccd"}
    assert all(s.status == "completed" and s.rejected == 0 for s in summaries)
    assert summaries[1].added["subgroup_rows_skipped"] == 2
    assert summaries[3].added["subgroup_rows_skipped"] == 2
    rows = _rows(db_path)
    alpha = rows[("0600001", 2019)]
    assert (alpha["name"], alpha["state"], alpha["enrollment"]) == ("Alpha Unified", "CA", 11800)
    assert alpha["graduation_rate_pct"] == 87.0  # the all-students row, not a subgroup's
    assert (alpha["math_proficiency_pct"], alpha["read_proficiency_pct"]) == (40.0, 47.0)
    # exp_current_elsec_total / enrollment_fall_responsible
    assert alpha["expenditure_pp"] == pytest.approx(177_000_000 / 11_800)
    texas = rows[("4800010", 2019)]
    assert texas["state"] == "TX" and texas["read_proficiency_pct"] != texas["read_proficiency_pct"]
    beta = rows[("0600002", 2019)]  # -1 / -2 / -3: missing, not applicable, suppressed
    assert beta["teachers_fte"] == 140
    assert beta["enrollment"] is None or beta["enrollment"] != beta["enrollment"]
    assert beta["expenditure_pp"] != beta["expenditure_pp"]
    assert not [e for s in summaries for e in s.errors]  # codes are not errors


def test_district_presets_leave_student_files_alone() -> None:
    student_file = ["Student ID", "School", "Grade", "School Year", "Season", "Subject", "Score"]
    assert detect_preset(student_file).preset.kind == "assessment"
    district_file = ["LEAID", "Year", "Enrollment", "Graduation Rate"]
    assert detect_preset(district_file).preset.name == "district_generic"
    urban = ["year", "leaid", "lea_name", "fips", "enrollment", "teachers_total_fte"]
    assert detect_preset(urban).preset.name == "urban_institute_ccd"


def test_bad_rows_are_rejected_and_counted_good_rows_still_load(db_path) -> None:
    summary = _import("district_errors.csv", db_path)
    assert summary.status == "completed" and summary.preset == "district_generic"
    # a row without a district id (validator), one without a year, one without any state
    assert (summary.rows_read, summary.inserted, summary.rejected) == (9, 6, 3)
    assert "3 rejected" in summary.message
    errors = {(e["row"], e["column"], e["severity"], e["message"]) for e in summary.errors}
    # every problem: the file's row number (header = row 1) and the file's own column
    assert errors == {
        (3, "Enrollment", "warning", "'abc' is not a number"),
        (4, "Enrollment", "warning", "-50 is outside the valid range (at least 0)"),
        (5, "Chronic Absenteeism Rate", "warning", "130 is outside the valid range (0-100)"),
        (5, "Graduation Rate", "warning", "101 is outside the valid range (0-100)"),
        (5, "Math Proficiency %", "warning", "-5 is outside the valid range (0-100)"),
        (6, "State", "warning", "'ZZ' is not a US state; CA was taken from the district id"),
        (
            7,
            "State",
            "error",
            "'ZZ' is not a US state: use its two-letter code (e.g. CA), its name or its FIPS code",
        ),
        (8, "School Year", "error", "'last year' has no year in it (use 2022 or 2022-23)"),
        (9, "District ID", "error", "blank: district id (NCES LEA id) is required"),
    }
    rows = _rows(db_path)
    assert sorted(district for district, _ in rows) == [
        "0600011",
        "0600012",
        "0600013",
        "0600014",
        "0600015",
        "0600017",
    ]
    bad_enrollment = rows[("0600012", 2022)]
    assert bad_enrollment["enrollment"] is None or pd.isna(bad_enrollment["enrollment"])
    assert bad_enrollment["graduation_rate_pct"] == 88  # the rest of the row loaded
    rates = rows[("0600014", 2022)]
    for blanked in ("chronic_absenteeism_pct", "graduation_rate_pct", "math_proficiency_pct"):
        assert pd.isna(rates[blanked])
    assert (rates["enrollment"], rates["read_proficiency_pct"]) == (2000, 45)
    assert rows[("0600015", 2022)]["state"] == "CA"
    # a blank absenteeism rate is not an error
    assert pd.isna(rows[("0600017", 2022)]["chronic_absenteeism_pct"])
    assert not [e for e in summary.errors if e["row"] in (2, 10)]


def test_rejected_rows_show_in_import_history_and_the_cli_json(db_path, capsys) -> None:
    code = main(["import", str(DATA / "district_errors.csv"), "--json", "--db", str(db_path)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and (doc["status"], doc["rejected"], doc["inserted"]) == ("completed", 3, 6)
    no_year = "'last year' has no year in it (use 2022 or 2022-23)"
    assert {"row": 8, "column": "School Year", "severity": "error", "message": no_year} in doc[
        "errors"
    ]
    with db.connect(db_path) as con:
        job = list_jobs(con).iloc[0]
        listed = job_errors(con, int(job.job_id))
    assert (job.rejected, job.errors, job.warnings) == (3, 3, 6)
    assert len(listed) == 9 and listed.row.tolist() == sorted(listed.row.tolist())


def test_biennial_absenteeism_gaps_are_not_errors(db_path) -> None:
    summary = _import("district_biennial.csv", db_path)
    assert summary.preset == "district_generic"
    assert (summary.rows_read, summary.inserted, summary.rejected) == (8, 8, 0)
    assert summary.errors == []
    rows = _rows(db_path)
    assert rows[("LOCAL-1", 2021)]["state"] == "OR"  # FIPS column given as the state's name
    assert rows[("4100002", 2019)]["chronic_absenteeism_pct"] == 9.0
    assert pd.isna(rows[("4100002", 2022)]["chronic_absenteeism_pct"])
    with db.connect(db_path) as con:
        latest = district_benchmarks(con, DISTRICT, year=2022).districts.set_index("district_id")
    trend = latest.loc["4100002"]  # 2021 against 2019: the two latest points
    assert (trend.absenteeism_trend_from_year, trend.absenteeism_trend_to_year) == (2019, 2021)
    assert trend.absenteeism_trend_3yr == pytest.approx(2.0)


def test_portal_codes_are_blanks_and_other_negatives_are_reported(db_path) -> None:
    summary = _import("urban_ccd_directory_odd_codes.csv", db_path)
    assert summary.preset == "urban_institute_ccd" and summary.rejected == 0
    assert [(e["row"], e["column"], e["severity"], e["message"]) for e in summary.errors] == [
        (
            2,
            "enrollment",
            "warning",
            "-5 is negative and not one of the portal's missing-data "
            "codes (-1, -2, -3, -9); not loaded",
        )
    ]
    rows = _rows(db_path)
    alpha, beta = rows[("0600001", 2020)], rows[("0600002", 2020)]
    assert pd.isna(alpha["enrollment"]) and pd.isna(alpha["ell_count"])
    assert alpha["swd_count"] == 1500 and alpha["teachers_fte"] == 560
    assert pd.isna(beta["swd_count"]) and pd.isna(beta["teachers_fte"])


@pytest.mark.parametrize(
    ("name", "year", "enrollments", "skipped"),
    [
        ("urban_ccd_enrollment.csv", 2020, {"0600001": 12000, "4800010": 25100}, 4),
        ("urban_ccd_enrollment_labels.csv", 2021, {"0600001": 12100}, 2),  # labelled download
    ],
)
def test_ccd_enrollment_by_grade_loads_only_the_total_row(
    db_path, name: str, year: int, enrollments: dict, skipped: int
) -> None:
    summary = _import(name, db_path)
    assert summary.preset == "urban_institute_ccd"
    assert (summary.rejected, summary.errors) == (0, [])
    assert summary.added["subgroup_rows_skipped"] == skipped
    rows = _rows(db_path)
    assert {d: r["enrollment"] for (d, y), r in rows.items() if y == year} == enrollments


def test_every_portal_mapping_says_where_it_comes_from() -> None:
    preset = builtin_presets()["urban_institute_ccd"]
    assert set(preset.columns) == set(preset.source["columns"])
    assert all(len(note) > 20 for note in preset.source["columns"].values())
