"""load_demo: the demo district goes through the import pipeline whole, and every sample file
imports with its preset detected from the headers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.demo.district import generate, load_demo
from core.demo.samples import FULL_FILE
from core.ingest import import_file
from core.warehouse import db

SMALL = {"students_per_year": 300, "seed": 5}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A small demo district loaded into a fresh warehouse file: (summary, district, path)."""
    path = tmp_path_factory.mktemp("demo") / "warehouse" / "yardstick.duckdb"
    summary = load_demo(path, SMALL["seed"], students_per_year=SMALL["students_per_year"])
    return summary, generate(SMALL["students_per_year"], seed=SMALL["seed"]), path


def query(path, sql: str) -> pd.DataFrame:
    with db.connect(path) as con:
        return con.execute(sql).df()


def test_every_generated_row_is_in_the_warehouse(loaded):
    summary, district, path = loaded
    assert summary["scores"] == len(district.scores)
    assert summary["students"] == len(district.students)
    assert summary["job"]["status"] == "completed"
    assert summary["job"]["inserted"] == len(district.scores)
    stored = query(
        path,
        "select a.student_id, sc.name as school, a.grade, a.school_year, a.season, a.subject, "
        "a.score, a.percentile, a.platform from assessments a join schools sc using (school_id)",
    )
    assert len(stored) == len(district.scores)
    assert set(stored["platform"]) == {"nwea_map"}
    keys = ["student_id", "subject", "school_year", "season"]
    both = district.scores.astype({"season": str, "subject": str}).merge(
        stored, on=keys, suffixes=("", "_db"), validate="1:1"
    )
    assert len(both) == len(district.scores)
    assert (both["score"] == both["score_db"]).all()
    assert (both["percentile"] == both["percentile_db"]).all()
    assert (both["school"] == both["school_db"]).all()
    assert (both["grade"] == both["grade_db"]).all()


def test_students_enrollments_and_attributes(loaded):
    _, district, path = loaded
    students = query(path, "select * from students order by student_id")
    expected = district.students.sort_values("student_id").reset_index(drop=True)
    assert students["student_id"].tolist() == expected["student_id"].tolist()
    for column in ("first_name", "last_name", "gender", "race_ethnicity", "ell", "sped", "frl"):
        assert students[column].tolist() == expected[column].tolist(), column
    # recorded per school year; the demo gives each student one value every year
    attributes = query(path, "select distinct student_id, attribute, value from student_attributes")
    wide = attributes.pivot(index="student_id", columns="attribute", values="value")
    merged = expected.set_index("student_id")[["program", "class_type"]]
    merged = merged.join(wide.add_suffix("_db"))
    assert (merged["program"] == merged["program_db"]).all()
    assert (merged["class_type"] == merged["class_type_db"]).all()
    enrollments = query(
        path,
        "select e.student_id, e.school_year, sc.name as school, e.grade, e.teacher, e.section "
        "from enrollments e join schools sc using (school_id)",
    )
    tested = district.scores[["student_id", "school_year"]].drop_duplicates()
    generated = district.enrollments.merge(tested, on=["student_id", "school_year"])
    assert len(enrollments) == len(generated)
    both = generated.merge(enrollments, on=["student_id", "school_year"], suffixes=("", "_db"))
    for column in ("school", "grade", "teacher", "section"):
        assert (both[column] == both[f"{column}_db"]).all(), column


def test_loading_again_adds_nothing(loaded):
    summary, district, path = loaded
    again = load_demo(path, SMALL["seed"], students_per_year=SMALL["students_per_year"])
    assert again["job"]["inserted"] == 0
    assert query(path, "select count(*) as n from assessments")["n"][0] == len(district.scores)
    assert again["files"] == summary["files"]


def test_samples_are_listed_in_the_readme(loaded):
    summary, _, _ = loaded
    readme = next(p for p in summary["files"] if p.endswith("README.txt"))
    text = Path(readme).read_text(encoding="utf-8")
    for path in summary["files"]:
        name = path.rsplit("/", 1)[-1]
        if name != "README.txt":
            assert f"- {name}:" in text


EXPECTED_PRESETS = {
    "generic_long_sample.csv": "generic",
    "roster.csv": "roster",
    "nwea_map_combined_data_file.csv": "nwea_map",
    "renaissance_star.csv": "star",
    "iready_diagnostic_results_math.csv": "iready_math",
    "dibels8_benchmark.csv": "dibels8",
}


def test_every_sample_has_an_expected_preset(loaded):
    summary, _, _ = loaded
    samples = {Path(p).name for p in summary["files"]} - {FULL_FILE, "README.txt"}
    assert samples == set(EXPECTED_PRESETS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PRESETS))
def test_each_sample_imports_with_its_preset_detected(loaded, tmp_path, name):
    summary, district, _ = loaded
    sample = next(p for p in summary["files"] if p.endswith("/" + name))
    rows = len(pd.read_csv(sample, dtype=str))
    fresh = tmp_path / "fresh.duckdb"
    job = import_file(sample, db=fresh, origin="cli")
    assert job.preset == EXPECTED_PRESETS[name]
    assert job.status == "completed"
    assert (job.rows_read, job.rejected, job.inserted) == (rows, 0, rows)
    if name == "roster.csv":
        return
    # the file's season, year, subject and percentile derive back to the generated test event
    stored = query(fresh, "select student_id, subject, school_year, season, percentile "
                          "from assessments")  # fmt: skip
    keys = ["student_id", "subject", "school_year", "season"]
    generated = district.scores.astype({"season": str, "subject": str})
    both = stored.merge(generated, on=keys, suffixes=("", "_generated"), validate="1:1")
    assert len(both) == rows
    assert (both["percentile"] == both["percentile_generated"]).all()


@pytest.mark.parametrize("name", ["generic_long_sample.csv", "nwea_map_combined_data_file.csv"])
def test_a_sample_of_the_demo_scores_is_already_there(loaded, name):
    summary, _, path = loaded
    sample = next(p for p in summary["files"] if p.endswith("/" + name))
    job = import_file(sample, db=path, origin="cli")
    assert job.status == "completed"
    assert (job.inserted, job.updated, job.rejected) == (0, 0, 0)
    assert job.duplicates == job.rows_read > 0


def test_full_file_is_the_one_loaded(loaded):
    summary, _, path = loaded
    full = next(p for p in summary["files"] if p.endswith("/" + FULL_FILE))
    with duckdb.connect() as con:
        rows = con.execute("select count(*) from read_csv($p)", {"p": full}).fetchone()[0]
    assert rows == summary["scores"]
    jobs = query(path, "select file_name, source from import_jobs order by job_id")
    assert jobs.iloc[0].tolist() == [FULL_FILE, "demo"]
