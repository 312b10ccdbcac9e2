"""Vendor presets: files with each vendor's real header row (tests/data/ingest/vendors, written
by make_vendors.py) are recognised and load the values pandas reads from the same file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.ingest import builtin_presets, detect_preset, get_kind, import_file
from core.ingest.presets import check_targets, plan_columns, preset_from_mapping, save_preset
from tests.ingest.helpers import DATA, VARIANTS, frame

VENDORS = DATA / "vendors"
SEASONS = {"Fall": "fall", "Winter": "winter", "Spring": "spring",
           "BOY": "fall", "MOY": "winter", "EOY": "spring"}  # fmt: skip
SUBJECTS = {"Mathematics": "math", "Reading": "reading", "Language Usage": "language",
            "Star Math Enterprise Tests": "math",
            "Star Reading Enterprise Tests": "reading"}  # fmt: skip

# file -> (preset, platform, how pandas derives the expected facts from the raw columns)
CASES = {
    "nwea_map_cdf.csv": ("nwea_map", "nwea_map", lambda r: pd.DataFrame({
        "student_id": r.StudentID, "subject": r.Discipline.map(SUBJECTS),
        "season": r.TermName.str.split().str[0].map(SEASONS),
        "school_year": r.TermName.str.split().str[1], "grade": r.Grade,
        "score": r.TestRITScore.astype(float), "percentile": r.TestPercentile.astype(float)})),
    "star_export.csv": ("star", "star", lambda r: pd.DataFrame({
        "student_id": r["Student Identifier"], "subject": r["Activity Type"].map(SUBJECTS),
        "season": r["Screening Window Name"].map(SEASONS),
        "school_year": r["School Year"].str[:9], "grade": r["Current Grade"],
        "score": r["Scaled Score"].astype(float),
        "percentile": r["Percentile Rank"].astype(float)})),
    "star_math_winter.csv": ("star_math", "star", lambda r: pd.DataFrame({
        "student_id": r.StudentIdentifier, "subject": "math",
        "season": r.ScreeningPeriodWindowName.map(SEASONS), "school_year": r.SchoolYear,
        "grade": r.Grade, "score": r.ScaledScore.astype(float),
        "percentile": r.PercentileRank.astype(float)})),
    "diagnostic_results_math.csv": ("iready_math", "iready", lambda r: _latest_iready(r)),
    "dibels8_benchmark.csv": ("dibels8", "dibels8", lambda r: pd.DataFrame({
        "student_id": r["Student Primary ID"], "subject": "reading",
        "season": r["Benchmark Period"].map(SEASONS), "school_year": "2024-2025",
        "grade": r["Assessment Grade"], "score": r["Composite Score"].astype(float),
        "percentile": r["Composite - National Norm Percentile"].astype(float)})),
}  # fmt: skip


def _latest_iready(raw: pd.DataFrame) -> pd.DataFrame:
    """i-Ready: season from the completion date; of two diagnostics in a window, the later."""
    done = pd.to_datetime(raw["Completion Date"], format="%m/%d/%Y")
    season = done.dt.month.map(lambda m: "fall" if 8 <= m <= 11 else
                               "winter" if m in (12, 1, 2) else "spring")  # fmt: skip
    facts = pd.DataFrame({
        "student_id": raw["Student ID"], "subject": "math", "season": season,
        "school_year": raw["Academic Year"], "grade": raw["Student Grade"],
        "score": raw["Overall Scale Score"].astype(float),
        "percentile": raw["Percentile"].astype(float), "done": done})  # fmt: skip
    latest = facts.sort_values("done").groupby(["student_id", "season"]).tail(1)
    return latest.drop(columns="done")


@pytest.mark.parametrize("name", sorted(CASES))
def test_vendor_file_detected_and_loaded(name: str, db_path: Path) -> None:
    preset, platform, derive = CASES[name]
    raw = pd.read_csv(VENDORS / name, dtype=str, keep_default_na=False)
    summary = import_file(VENDORS / name, db=db_path, origin="cli")

    assert summary.status == "completed", summary.message
    assert summary.preset == preset
    assert summary.rejected == 0
    expected = derive(raw).sort_values(["student_id", "subject", "season"], ignore_index=True)
    loaded = frame(
        db_path,
        "select student_id, subject, season, school_year, grade, score, percentile "
        "from assessments where platform = $p order by 1, 2, 3",
        {"p": platform},
    )
    pd.testing.assert_frame_equal(loaded, expected, check_dtype=False)
    assert summary.inserted == len(expected)


def test_every_preset_cites_its_source_and_maps_known_fields() -> None:
    for name, preset in builtin_presets().items():
        source = preset.source
        assert source.get("cited"), f"{name} cites no source"
        assert source.get("confidence"), f"{name} says nothing of how sure it is"
        kind = get_kind(preset.kind)
        targets = set(preset.columns.values()) | set(preset.constants)
        assert targets <= {*kind.field_names, "ignore", "attribute"}, name


def test_nwea_term_name_feeds_season_and_year(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "terms.csv"
    pd.DataFrame(
        [["1", "Winter 2023-2024", "A", "Mathematics", "4", "201"],
         ["2", "Spring 2024-2025", "A", "Reading", "4", "199"],
         ["3", "Summer 2024", "A", "Reading", "4", "199"]],
        columns=["StudentID", "TermName", "SchoolName", "Discipline", "Grade", "TestRITScore"],
    ).to_csv(path, index=False)  # fmt: skip
    summary = import_file(path, db=db_path, origin="cli")

    assert frame(db_path, "select season, school_year from assessments order by student_id")\
        .values.tolist() == [["winter", "2023-2024"], ["spring", "2024-2025"]]  # fmt: skip
    assert ("'Summer 2024' is not a term like 'Fall 2024-2025'", "TermName") in {
        (e["message"], e["column"]) for e in summary.errors
    }


def test_headers_match_case_and_punctuation_insensitively() -> None:
    headers = ["STUDENT_ID", "school-name", "Grade Level", "school year", "SEASON", "subject",
               "Scale Score"]  # fmt: skip
    detection = detect_preset(headers, "x.csv")
    mapping = plan_columns(headers, detection.preset, get_kind(detection.preset.kind))
    assert detection.preset.name == "generic"
    assert mapping.missing() == []
    assert mapping.as_dict() == {
        "STUDENT_ID": "student_id", "school-name": "school", "Grade Level": "grade",
        "school year": "school_year", "SEASON": "season", "subject": "subject",
        "Scale Score": "score",
    }  # fmt: skip


def test_mapping_file_and_saved_preset(db_path: Path, tmp_path: Path) -> None:
    """--mapping {"source header": "target field"}; the same mapping saved by name is offered
    by auto-detection for a file with those headers."""
    path = tmp_path / "odd.csv"
    pd.DataFrame(
        [["7", "Elm", "5", "2024-2025", "Spring", "Science", "88"]],
        columns=["Kid", "Campus", "Yr", "SY", "Window", "Area", "Pts"],
    ).to_csv(path, index=False)
    mapping = {"Kid": "student_id", "Campus": "school", "Yr": "grade", "SY": "school_year",
               "Window": "season", "Area": "subject", "Pts": "score"}  # fmt: skip
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps(mapping), encoding="utf-8")

    assert import_file(path, db=db_path, origin="cli").status == "failed"
    done = import_file(path, db=db_path, origin="cli", mapping=mapping_file)
    assert done.status == "completed" and done.inserted == 1

    from core.warehouse import db

    with db.connect(db_path) as con:
        save_preset(con, "Elm export", "assessment", mapping, platform="elm_quiz", user="ann")
    again = tmp_path / "odd2.csv"
    pd.DataFrame([["8", "Elm", "5", "2024-2025", "Spring", "Science", "91"]],
                 columns=["Kid", "Campus", "Yr", "SY", "Window", "Area", "Pts"]).to_csv(
        again, index=False)  # fmt: skip
    auto = import_file(again, db=db_path, origin="cli")
    assert (auto.status, auto.preset) == ("completed", "Elm export")
    assert frame(db_path, "select platform, score from assessments where student_id = '8'")\
        .values.tolist() == [["elm_quiz", 91.0]]  # fmt: skip


def test_mapping_to_an_unknown_field_is_refused(db_path: Path) -> None:
    summary = import_file(VARIANTS / "basic.csv", db=db_path, origin="cli",
                          mapping={"Score": "points"})  # fmt: skip
    assert summary.status == "failed"
    assert "Unknown target field(s) points" in summary.message
    with pytest.raises(ValueError, match="Unknown target field"):
        check_targets(preset_from_mapping({"A": "nonsense"}, kind="assessment"))


def test_roster_file_loads_students_and_enrollments(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    rows = [["1", "Ana", "Lee", "Lincoln", "3", "F", "Hispanic", "Y", "N", "Y", "Ortiz", "3A",
             "2024-2025", "Reading Recovery"],
            ["2", "Ben", "Ng", "Lincoln", "3", "M", "Asian", "N", "N", "N", "Ortiz", "3A",
             "2024-2025", ""]]  # fmt: skip
    pd.DataFrame(rows, columns=["Student_Number", "First_Name", "Last_Name", "School",
                                "Grade_Level", "Gender", "Race/Ethnicity", "ELL", "SPED", "FRL",
                                "Teacher", "Section", "School Year", "Program"]).to_csv(
        path, index=False)  # fmt: skip
    summary = import_file(path, db=db_path, origin="cli")

    assert (summary.preset, summary.kind, summary.inserted) == ("roster", "roster", 2)
    students = frame(db_path, "select student_id, first_name, race_ethnicity, ell, sped, frl "
                     "from students order by 1")  # fmt: skip
    assert students.values.tolist() == [["1", "Ana", "Hispanic", True, False, True],
                                         ["2", "Ben", "Asian", False, False, False]]  # fmt: skip
    enrollments = frame(db_path, "select student_id, school_year, grade, teacher, section "
                        "from enrollments order by 1")  # fmt: skip
    assert enrollments.values.tolist() == [["1", "2024-2025", "3", "Ortiz", "3A"],
                                           ["2", "2024-2025", "3", "Ortiz", "3A"]]  # fmt: skip
    assert frame(db_path, "select student_id, value from student_attributes")\
        .values.tolist() == [["1", "Reading Recovery"]]  # fmt: skip
    # a demographic change on the next roster is an update, not a new row
    rows[1][7] = "Y"
    pd.DataFrame(rows, columns=["Student_Number", "First_Name", "Last_Name", "School",
                                "Grade_Level", "Gender", "Race/Ethnicity", "ELL", "SPED", "FRL",
                                "Teacher", "Section", "School Year", "Program"]).to_csv(
        tmp_path / "roster2.csv", index=False)  # fmt: skip
    again = import_file(tmp_path / "roster2.csv", db=db_path, origin="cli")
    assert (again.inserted, again.updated, again.duplicates) == (0, 1, 1)
    assert frame(db_path, "select count(*) from enrollments").values.tolist() == [[2]]


def test_a_hand_mapping_decides_the_kind(db_path: Path, tmp_path: Path) -> None:
    """Unknown headers mapped to roster fields (no score) import as a roster."""
    path = tmp_path / "kids.csv"
    pd.DataFrame([["1", "Elm", "5", "Ortiz"]], columns=["Kid", "Campus", "Yr", "Teach"]).to_csv(
        path, index=False
    )
    summary = import_file(path, db=db_path, origin="cli",
                          mapping={"Kid": "student_id", "Campus": "school", "Yr": "grade",
                                   "Teach": "teacher"})  # fmt: skip
    assert (summary.status, summary.kind, summary.inserted) == ("completed", "roster", 1)
    assert frame(db_path, "select teacher from enrollments").values.tolist() == [["Ortiz"]]
