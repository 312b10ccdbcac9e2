"""Importing again adds nothing: same bytes → "already imported"; overlapping rows from another
file → duplicates or updates, never doubled; a blank cell never overwrites; replay re-maps."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from core.ingest import import_file, replay
from tests.ingest.helpers import VARIANTS, frame, scalar

COLUMNS = ["Student ID", "School", "Grade", "School Year", "Season", "Subject", "Score",
           "Percentile", "Gender", "Program"]  # fmt: skip


def write(path: Path, rows: list[list[str]]) -> Path:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


def fact_rows(db: Path) -> list[list]:
    return (
        frame(
            db,
            "select student_id, subject, season, score, percentile from assessments "
            "order by 1, 2, 3",
        )
        .astype(object)
        .where(lambda f: f.notna(), None)
        .values.tolist()
    )


def test_same_file_twice_is_already_imported(db_path: Path, tmp_path: Path) -> None:
    first = import_file(VARIANTS / "basic.csv", db=db_path, origin="cli")
    copy = tmp_path / "renamed copy.csv"
    copy.write_bytes((VARIANTS / "basic.csv").read_bytes())
    again = import_file(copy, db=db_path, origin="upload", user="ann")

    assert first.inserted == 6 and not first.already_imported
    assert again.status == "completed" and again.already_imported
    assert (again.inserted, again.updated, again.rows_read) == (0, 0, 0)
    assert "already imported" in again.message.lower()
    assert f"job {first.job_id}" in again.message
    assert again.file_id == first.file_id
    assert scalar(db_path, "select count(*) from assessments") == 6
    assert scalar(db_path, "select count(*) from raw_files") == 1
    assert len(list((db_path.parent / "raw").iterdir())) == 1


def test_overlapping_rows_are_duplicates_or_updates_never_doubled(
    db_path: Path, tmp_path: Path
) -> None:
    base = [
        ["1", "A", "3", "2024-2025", "Fall", "Math", "200", "50", "F", "Arts"],
        ["2", "A", "3", "2024-2025", "Fall", "Math", "210", "60", "M", "Arts"],
        ["3", "A", "3", "2024-2025", "Fall", "Math", "220", "70", "F", ""],
    ]
    later = [
        ["1", "A", "3", "2024-2025", "Fall", "Math", "200", "50", "F", "Arts"],  # same
        ["2", "A", "3", "2024-2025", "Fall", "Math", "215", "", "", ""],  # score changed
        ["4", "A", "3", "2024-2025", "Fall", "Math", "230", "80", "M", "STEM"],  # new
    ]
    import_file(write(tmp_path / "a.csv", base), db=db_path, origin="cli")
    summary = import_file(write(tmp_path / "b.csv", later), db=db_path, origin="cli")

    assert (summary.inserted, summary.updated, summary.duplicates) == (1, 1, 1)
    assert fact_rows(db_path) == [
        ["1", "math", "fall", 200.0, 50.0],
        ["2", "math", "fall", 215.0, 60.0],  # blank percentile kept the stored 60
        ["3", "math", "fall", 220.0, 70.0],
        ["4", "math", "fall", 230.0, 80.0],
    ]
    # blank gender/program never overwrite what the first file said
    students = frame(db_path, "select student_id, gender from students order by 1")
    assert students.values.tolist() == [["1", "F"], ["2", "M"], ["3", "F"], ["4", "M"]]
    programs = frame(
        db_path, "select student_id, value from student_attributes where attribute = 'program' "
        "order by 1"
    )  # fmt: skip
    assert programs.values.tolist() == [["1", "Arts"], ["2", "Arts"], ["4", "STEM"]]
    # the grain holds: no key twice (data checks that must return zero rows)
    assert (
        scalar(
            db_path,
            "select count(*) from (select student_id, platform, subject, school_year, season "
            "from assessments group by all having count(*) > 1)",
        )
        == 0
    )
    assert (
        scalar(
            db_path,
            "select count(*) from (select student_id, school_year, school_id, section "
            "from enrollments group by all having count(*) > 1)",
        )
        == 0
    )
    assert (
        scalar(
            db_path,
            "select count(*) from (select student_id, attribute from student_attributes "
            "group by all having count(*) > 1)",
        )
        == 0
    )


def test_a_changed_extra_column_replaces_the_stored_value(db_path: Path, tmp_path: Path) -> None:
    """An extra column (a student attribute) keeps one row per student × attribute: a new
    non-blank value replaces the stored one, the file's later row wins, a blank keeps it."""
    first = [["1", "A", "3", "2024-2025", "Fall", "Math", "200", "50", "F", "Arts"],
             ["2", "A", "3", "2024-2025", "Fall", "Math", "210", "60", "M", "Arts"]]  # fmt: skip
    second = [["1", "A", "3", "2024-2025", "Winter", "Math", "205", "51", "F", "STEM"],
              ["1", "A", "3", "2024-2025", "Spring", "Math", "209", "52", "F", "Music"],
              ["2", "A", "3", "2024-2025", "Winter", "Math", "215", "61", "M", ""]]  # fmt: skip
    import_file(write(tmp_path / "a.csv", first), db=db_path, origin="cli")
    import_file(write(tmp_path / "b.csv", second), db=db_path, origin="cli")
    programs = frame(db_path, "select student_id, value from student_attributes "
                     "where attribute = 'program' order by 1")  # fmt: skip
    assert programs.values.tolist() == [["1", "Music"], ["2", "Arts"]]


def test_replay_with_a_changed_mapping_without_reupload(db_path: Path, tmp_path: Path) -> None:
    """A file whose score column had an unknown name: first refused by auto-detection... but
    mapped by hand it loads; replaying the stored file with another mapping updates in place."""
    path = tmp_path / "vendor.csv"
    pd.DataFrame(
        [["1", "A", "3", "2024-2025", "Fall", "Math", "200", "205"],
         ["2", "A", "3", "2024-2025", "Fall", "Math", "210", "212"]],
        columns=["Student ID", "School", "Grade", "School Year", "Season", "Subject",
                 "Raw Points", "Adjusted Points"],
    ).to_csv(path, index=False)  # fmt: skip
    refused = import_file(path, db=db_path, origin="cli")
    assert refused.status == "failed" and "No score column" in refused.message

    first = import_file(path, db=db_path, origin="cli", mapping={"Raw Points": "score"})
    assert first.inserted == 2
    again = replay(first.file_id, {"Adjusted Points": "score", "Raw Points": "ignore"},
                   db=db_path)  # fmt: skip

    assert again.status == "completed", again.message
    assert (again.inserted, again.updated, again.file_id) == (0, 2, first.file_id)
    assert [r[3] for r in fact_rows(db_path)] == [205.0, 212.0]
    assert scalar(db_path, "select count(*) from raw_files") == 1
    stored = json.loads(scalar(db_path, "select mapping::varchar from import_jobs "
                               "where job_id = $j", {"j": again.job_id}))  # fmt: skip
    assert stored["Adjusted Points"] == "score" and stored["Raw Points"] == "ignore"
    assert scalar(db_path, "select replay_of from import_jobs where job_id = $j",
                  {"j": again.job_id}) == first.file_id  # fmt: skip


def test_staged_rows_kept_as_received(db_path: Path) -> None:
    summary = import_file(VARIANTS / "title_lines.csv", db=db_path, origin="cli")
    staged = frame(db_path, f"select * from staged_{summary.file_id} order by _row_number")
    raw = pd.read_csv(VARIANTS / "title_lines.csv", skiprows=3, dtype=str, keep_default_na=False)

    assert staged["_row_number"].tolist() == list(range(5, 12))  # header is the file's row 4
    assert set(staged["_source_file"]) == {"title_lines.csv"}
    assert staged["_ingested_at"].notna().all()
    received = staged.drop(columns=["_row_number", "_source_file", "_ingested_at"]).fillna("")
    pd.testing.assert_frame_equal(received, raw, check_dtype=False)
    stored = frame(db_path, "select format, encoding, delimiter, title_rows, row_count, "
                   "stored_path, sha256 from raw_files").iloc[0]  # fmt: skip
    assert (stored.format, stored.delimiter, stored.title_rows, stored.row_count) == (
        "csv", ",", 3, 7,
    )  # fmt: skip
    assert (db_path.parent / stored.stored_path).read_bytes() == (
        VARIANTS / "title_lines.csv"
    ).read_bytes()


def test_upload_stream_and_path_give_the_same_file(db_path: Path) -> None:
    """An upload is a binary stream; it is hashed like the path, so it is the same file."""
    with (VARIANTS / "basic.csv").open("rb") as stream:
        first = import_file(stream, db=db_path, origin="upload", file_name="basic.csv")
    second = import_file(VARIANTS / "basic.csv", db=db_path, origin="cli")
    assert first.inserted == 6
    assert second.already_imported
