"""District files through the one import pipeline: preset detection, blanks never overwrite,
impossible values reported by row while the rest of the row loads, the Urban Institute portal's
long files and missing-data codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import db
from core.ingest import detect_preset, import_file

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
    assert (summary.rows_read, summary.inserted) == (5, 4)
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
    files = ("urban_ccd_directory.csv", "urban_edfacts_grad_rates.csv", "urban_ccd_finance.csv",
             "urban_edfacts_assessments.csv")  # fmt: skip
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
