"""Every bad input of issue 2: a clear message, and the warehouse exactly as it was (a refused
file) or only the good rows loaded with the bad ones reported."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from core.ingest import import_file
from tests.ingest.helpers import VARIANTS, frame, scalar, write_csv

HEADER = "Student ID,School,Grade,School Year,Season,Subject,Score\n"
COLUMNS = HEADER.strip().split(",")
DATA_TABLES = ("raw_files", "assessments", "students", "schools", "enrollments")


def counts(db: Path) -> dict[str, int]:
    return {t: scalar(db, f"select count(*) from {t}") for t in DATA_TABLES}


def refused(db: Path, path: Path, reason: str) -> None:
    """Nothing but a failed job was written, and its message says why."""
    before = counts(db)
    summary = import_file(path, db=db, origin="cli")
    assert summary.status == "failed"
    assert reason.lower() in summary.message.lower(), summary.message
    assert counts(db) == before
    assert not list((db.parent / "raw").glob("*")) if (db.parent / "raw").exists() else True
    jobs = frame(db, "select status, message from import_jobs where job_id = $j",
                 {"j": summary.job_id})  # fmt: skip
    assert jobs.status.tolist() == ["failed"]
    assert [e["message"] for e in summary.errors] == [summary.message]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "empty"),
        ("blank_lines.csv", b"\n\n  \n", "empty"),
        ("header_only.csv", HEADER.encode(), "no data rows"),
        ("garbage.csv", bytes(range(256)) * 64, "binary"),
        ("old_excel.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "97-2003"),
        ("archive.xlsx", b"PK\x03\x04" + bytes(100), "zip"),
        ("no_score.csv", b"Student ID,School,Grade,Subject\n1,A,3,Math\n", "no score column"),
        ("no_student.csv", b"Name,Score\nAna,200\n", "no student id column"),
        ("one_column.csv", b"Student ID:Score:School\n1:200:A\n", "only one column"),
        ("not_json.json", b'[{"a": 1}, oops', "json"),
    ],
)
def test_structurally_unusable_file_is_refused_whole(
    name: str, content: bytes, reason: str, db_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    refused(db_path, path, reason)


def test_unknown_preset_is_refused(db_path: Path) -> None:
    summary = import_file(VARIANTS / "basic.csv", db=db_path, origin="cli", preset="nope")
    assert summary.status == "failed"
    assert "no preset called 'nope'" in summary.message


def test_csv_content_named_xlsx_and_xlsx_named_csv_read_by_content(db_path: Path) -> None:
    for name in ("csv_named.xlsx", "xlsx_named.csv"):
        summary = import_file(VARIANTS / name, db=db_path, origin="cli")
        assert summary.status == "completed", summary.message
    assert scalar(db_path, "select count(*) from assessments") == 6


def test_wrong_delimiter_in_name_is_sniffed(db_path: Path, tmp_path: Path) -> None:
    """A semicolon file called .csv and a tab file called .txt read by their content."""
    text = (VARIANTS / "basic.csv").read_text(encoding="utf-8")
    frame_in = pd.read_csv(VARIANTS / "basic.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "export.csv"
    frame_in.to_csv(path, sep=";", index=False)
    assert import_file(path, db=db_path, origin="cli").inserted == 6
    assert text  # the source file is untouched


def test_out_of_range_negative_and_text_scores_rejected_others_load(
    db_path: Path, tmp_path: Path
) -> None:
    scores = ["201", "-5", "abc", " 215 ", "1,250", ""]  # students 1-6, file rows 2-7
    rows = [
        [str(i), "Lincoln", "3", "2024-2025", "Fall", "Math", s] for i, s in enumerate(scores, 1)
    ]
    path = write_csv(tmp_path / "scores.csv", COLUMNS, rows)
    summary = import_file(path, db=db_path, origin="cli")

    assert (summary.rows_read, summary.inserted, summary.rejected) == (6, 3, 3)
    errors = {(e["row"], e["column"]): e["message"] for e in summary.errors}
    assert errors == {
        (3, "Score"): "-5 is outside the valid range (at least 0)",
        (4, "Score"): "'abc' is not a number",
        (7, "Score"): "blank: score is required",
    }
    loaded = frame(db_path, "select student_id, score from assessments order by 1")
    assert loaded.values.tolist() == [["1", 201.0], ["4", 215.0], ["5", 1250.0]]


def test_platform_range_from_preset(db_path: Path, tmp_path: Path) -> None:
    """NWEA's RIT range 100-350: 512 is reported with the row number and the platform."""
    path = tmp_path / "map.csv"
    pd.DataFrame(
        [
            ["11", "Fall 2024-2025", "Lincoln", "Mathematics", "3", "512", "55"],
            ["12", "Fall 2024-2025", "Lincoln", "Mathematics", "3", "198", "140"],
        ],
        columns=["StudentID", "TermName", "SchoolName", "Discipline", "Grade", "TestRITScore",
                 "TestPercentile"],
    ).to_csv(path, index=False)  # fmt: skip
    summary = import_file(path, db=db_path, origin="cli")

    assert summary.preset == "nwea_map"
    assert (summary.inserted, summary.rejected) == (1, 1)
    messages = {(e["row"], e["column"], e["severity"]): e["message"] for e in summary.errors}
    assert messages == {
        (2, "TestRITScore", "error"): (
            "512 is outside the valid range for NWEA MAP Growth scores (100-350)"
        ),
        (3, "TestPercentile", "warning"): (
            "140 is outside the valid range for NWEA MAP Growth percentiles (1-99)"
        ),
    }
    # the out-of-range percentile is not loaded, the row's score is
    assert frame(db_path, "select score, percentile is null as blank from assessments")\
        .values.tolist() == [[198.0, True]]  # fmt: skip


def test_unknown_grade_season_subject_reported(db_path: Path, tmp_path: Path) -> None:
    rows = [
        ["1", "Lincoln", "13", "2024-2025", "Fall", "Math", "200"],
        ["2", "Lincoln", "3", "2024-2025", "Summer", "Math", "200"],
        ["3", "Lincoln", "3", "2024-2025", "Fall", "Art", "200"],
        ["4", "Lincoln", "3", "2025", "Fall", "Math", "200"],
        ["5", "Lincoln", "Grade 03", "2024-25", "autumn", "Mathematics", "200"],
    ]
    path = write_csv(tmp_path / "codes.csv", COLUMNS, rows)
    summary = import_file(path, db=db_path, origin="cli")

    assert (summary.inserted, summary.rejected) == (1, 4)
    assert {(e["row"], e["column"], e["message"]) for e in summary.errors} == {
        (2, "Grade", "'13' is not a grade (PK, K, 1-12)"),
        (3, "Season", "'Summer' is not a season (fall, winter, spring)"),
        (4, "Subject", "'Art' is not a subject Yardstick knows (math, reading, language, science)"),
        (5, "School Year", "'2025' is not a school year like 2024-2025"),
    }
    loaded = frame(db_path, "select grade, school_year, season, subject from assessments")
    assert loaded.values.tolist() == [["3", "2024-2025", "fall", "math"]]


def test_dates_in_several_formats_and_seasons_from_dates(db_path: Path, tmp_path: Path) -> None:
    """No season column: season and school year come from the test date, whatever its format."""
    dates = ["2024-09-16", "9/17/2024", "09/18/24", "19.09.2024", "Jan 21, 2025",
             "2025-03-04 10:30:00", "25/04/2025", "31/31/2025"]  # fmt: skip
    rows = [[str(i), "Lincoln", "3", "Math", "200", d] for i, d in enumerate(dates, start=1)]
    path = tmp_path / "dates.csv"
    pd.DataFrame(rows, columns=["Student ID", "School", "Grade", "Subject", "Score",
                                "Test Date"]).to_csv(path, index=False)  # fmt: skip
    summary = import_file(path, db=db_path, origin="cli")

    loaded = frame(
        db_path, "select student_id, test_date::varchar as d, season, school_year "
        "from assessments order by student_id::int"
    )  # fmt: skip
    assert loaded.values.tolist() == [
        ["1", "2024-09-16", "fall", "2024-2025"],
        ["2", "2024-09-17", "fall", "2024-2025"],
        ["3", "2024-09-18", "fall", "2024-2025"],
        ["4", "2024-09-19", "fall", "2024-2025"],
        ["5", "2025-01-21", "winter", "2024-2025"],
        ["6", "2025-03-04", "spring", "2024-2025"],
        ["7", "2025-04-25", "spring", "2024-2025"],
    ]
    row9 = [e for e in summary.errors if e["row"] == 9]
    assert {e["message"] for e in row9} == {
        "'31/31/2025' is not a date (use 2024-09-15 or 9/15/2024)",
        "blank: season is required (and cannot be read from term or test_date)",
        "blank: school year is required (and cannot be read from term or test_date)",
    }


def test_thousands_separators_and_decimal_commas(db_path: Path, tmp_path: Path) -> None:
    """US files: "1,234.5" and a lone decimal comma "55,5"; semicolon files: "1.234,5"."""
    us = tmp_path / "us.csv"
    us.write_text(HEADER.replace("Score", "Score,Percentile") +
                  '1,A,3,2024-2025,Fall,Math,"1,234.5","55,5"\n', encoding="utf-8")  # fmt: skip
    eu = tmp_path / "eu.csv"
    eu.write_text(HEADER.replace(",", ";").replace("Score", "Score;Percentile") +
                  "2;A;3;2024-2025;Fall;Math;1.234,5;55,5\n", encoding="utf-8")  # fmt: skip
    for path in (us, eu):
        assert import_file(path, db=db_path, origin="cli").inserted == 1
    loaded = frame(db_path, "select score, percentile from assessments order by student_id")
    assert loaded.values.tolist() == [[1234.5, 55.5], [1234.5, 55.5]]


def test_duplicated_header_names_first_used_second_kept_as_attribute(
    db_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "dup_headers.csv"
    path.write_text(
        "Student ID,School,Grade,School Year,Season,Subject,Score,Score,Note,Note\n"
        "1,A,3,2024-2025,Fall,Math,200,999,x,y\n",
        encoding="utf-8",
    )
    summary = import_file(path, db=db_path, origin="cli")
    assert summary.inserted == 1
    assert scalar(db_path, "select score from assessments") == 200.0
    staged = frame(db_path, "select * exclude (_ingested_at) from staged_1")
    assert list(staged.columns) == ["_row_number", "_source_file", "Student ID", "School",
                                    "Grade", "School Year", "Season", "Subject", "Score",
                                    "Score_2", "Note", "Note_2"]  # fmt: skip
    attributes = frame(db_path, "select attribute, value from student_attributes order by 1")
    assert attributes.values.tolist() == [["note", "x"]]


def test_two_hundred_columns(db_path: Path, tmp_path: Path) -> None:
    extra = [f"Extra Field {i}" for i in range(193)]
    header = COLUMNS + extra
    rows = [[str(s), "A", "3", "2024-2025", "Fall", "Math", str(200 + s)]
            + [f"v{s}_{i}" for i in range(193)] for s in range(1, 6)]  # fmt: skip
    path = tmp_path / "wide.csv"
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    assert len(header) == 200
    summary = import_file(path, db=db_path, origin="cli")
    assert (summary.inserted, summary.rejected) == (5, 0)
    got = frame(db_path, "select count(*) n, count(distinct attribute) a from student_attributes")
    assert got.values.tolist() == [[5 * 193, 193]]
    assert (
        scalar(
            db_path,
            "select value from student_attributes where student_id = '4' "
            "and attribute = 'extra_field_192'",
        )
        == "v4_192"
    )


def test_duplicate_keys_inside_one_file_reported_newest_loaded(
    db_path: Path, tmp_path: Path
) -> None:
    rows = [
        ["1", "A", "3", "2024-2025", "Fall", "Math", "200", "2024-09-10"],
        ["1", "A", "3", "2024-2025", "Fall", "Math", "210", "2024-09-20"],
        ["1", "A", "3", "2024-2025", "Fall", "Math", "205", "2024-09-15"],
        ["2", "A", "3", "2024-2025", "Fall", "Math", "190", "2024-09-10"],
        ["2", "A", "3", "2024-2025", "Fall", "Math", "190", "2024-09-10"],
    ]
    path = write_csv(tmp_path / "retests.csv", [*COLUMNS, "Test Date"], rows)
    summary = import_file(path, db=db_path, origin="cli")

    assert (summary.rows_read, summary.inserted, summary.duplicates, summary.rejected) == (
        5, 2, 3, 0,
    )  # fmt: skip
    assert frame(db_path, "select student_id, score from assessments order by 1").values.tolist() \
        == [["1", 210.0], ["2", 190.0]]  # fmt: skip
    warnings = {e["row"]: e["message"] for e in summary.errors}
    assert warnings[2].startswith(
        "same student id, platform, subject, school year, season as row 3"
    )
    assert warnings[4].startswith("same student id")
    assert warnings[5].startswith("duplicate of row 6")


def test_blank_rows_and_ragged_rows(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        HEADER + "1,A,3,2024-2025,Fall,Math,200\n\n2,A,3,2024-2025,Fall,Math\n"
        "3,A,3,2024-2025,Fall,Math,220,extra\n",
        encoding="utf-8",
    )
    summary = import_file(path, db=db_path, origin="cli")
    assert summary.status == "completed"
    assert summary.inserted == 2
    assert [e["message"] for e in summary.errors if e["severity"] == "error"] == [
        "blank: score is required"
    ]


def test_quoted_fields_with_newlines_and_commas(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text(
        HEADER.strip() + ",Comment\n"
        '1,"Lincoln, North",3,2024-2025,Fall,Math,200,"two\nlines, with ""quotes"""\n'
        "2,Lincoln,3,2024-2025,Fall,Math,oops,plain\n",
        encoding="utf-8",
    )
    summary = import_file(path, db=db_path, origin="cli")
    assert summary.inserted == 1
    assert scalar(db_path, "select name from schools") == "Lincoln, North"
    assert scalar(db_path, "select value from student_attributes") == 'two\nlines, with "quotes"'
    # the bad row is the file's third record (header = row 1)
    assert [e["row"] for e in summary.errors] == [3]


@pytest.mark.skipif(os.name != "posix", reason="permission bits")
def test_unreadable_path_is_a_clear_error(tmp_path: Path, db_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No such file"):
        import_file(tmp_path / "missing.csv", db=db_path, origin="cli")
