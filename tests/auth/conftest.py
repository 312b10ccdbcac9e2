"""A small two-school district for account and scope tests (one fixture function seeds it)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from core.access import users
from core.warehouse import db

SCHOOLS = ("Lincoln Elementary", "Washington Elementary")
# student, school, section, teacher, score (grade 3 math, spring 2024-2025)
ROWS = [
    ("L1", 1, "L-3A", "Ms. Rivera", 200.0),
    ("L2", 1, "L-3A", "Ms. Rivera", 204.0),
    ("L3", 1, "L-3A", "Ms. Rivera", 210.0),
    ("L4", 1, "L-3B", "Mr. Chen", 190.0),
    ("L5", 1, "L-3B", "Mr. Chen", 195.0),
    ("W1", 2, "W-3A", "Ms. Okafor", 220.0),
    ("W2", 2, "W-3A", "Ms. Okafor", 215.0),
]
PASSWORD = "tidy river lantern 42"


def seed_district(con: duckdb.DuckDBPyConnection) -> None:
    for school_id, name in enumerate(SCHOOLS, start=1):
        con.execute("insert into schools (school_id, name) values (?, ?)", [school_id, name])
    for student, school_id, section, teacher, score in ROWS:
        con.execute(
            "insert into students (student_id, first_name, last_name) values (?, ?, ?)",
            [student, f"First{student}", f"Last{student}"],
        )
        con.execute(
            "insert into enrollments values (?, '2024-2025', ?, '3', ?, ?)",
            [student, school_id, teacher, section],
        )
        con.execute(
            "insert into assessments (student_id, platform, subject, school_year, season, "
            "school_id, grade, score) values (?, 'generic', 'math', '2024-2025', 'spring', ?, "
            "'3', ?)",
            [student, school_id, score],
        )


@pytest.fixture
def district(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    seed_district(con)
    return con


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt's cost is a security setting, not behaviour under test: keep the suite quick."""
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo district (two years, ~300 students a year) with its four demo accounts, all
    with PASSWORD; one per test module, since the modules write to its audit log."""
    from core.demo.district import load_demo

    path = tmp_path_factory.mktemp("demo") / "yardstick.duckdb"
    load_demo(path, 7, students_per_year=300, years=2)
    with db.connect(path) as con:
        users.add_demo_users(con, PASSWORD, by="test")
    return path
