"""The warehouse file: migrations, version checks, and sharing it between processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from core.warehouse import db


def test_fresh_file_gets_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with db.connect(path) as con:
        versions = [
            r[0] for r in con.sql("select version from schema_version order by 1").fetchall()
        ]
        tables = {
            r[0] for r in con.sql("select table_name from information_schema.tables").fetchall()
        }
    assert versions == [v for v, _, _ in db.migrations()]
    assert {"assessments", "students", "schools", "import_jobs", "audit_log", "users"} <= tables


def test_older_file_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    raw = duckdb.connect(str(path))
    first = db.migrations()[0]
    raw.execute(first[2].read_text())
    raw.execute("insert into schema_version (version, name) values (?, ?)", [first[0], first[1]])
    raw.execute("insert into schools (name) values ('Kept School')")
    raw.close()
    with db.connect(path) as con:
        assert db.schema_version(con) == db.migrations()[-1][0]
        assert con.execute("select name from schools").fetchall() == [("Kept School",)]


def test_newer_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    with db.connect(path) as con:
        con.execute("insert into schema_version (version, name) values (999, 'from_the_future')")
    db._migrated.clear()
    with pytest.raises(db.SchemaTooNewError, match="newer Yardstick"), db.connect(path):
        pass


def test_a_held_file_gives_busy_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    with db.connect(path):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys, time
                con = duckdb.connect({str(path)!r})
                print("held", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(db.WarehouseBusyError, match="busy"), db.connect(path, wait_seconds=0.3):
            pass
    finally:
        holder.communicate("", timeout=10)
    with db.connect(path, wait_seconds=5) as con:
        assert con.execute("select 1").fetchone() == (1,)


def test_a_gap_in_applied_migrations_is_filled(tmp_path: Path) -> None:
    """Migrations written in parallel can land out of order: every missing one still applies."""
    path = tmp_path / "gap.duckdb"
    known = db.migrations()
    first, last = known[0], known[-1]
    raw = duckdb.connect(str(path))
    for version, name, file in (first, last):
        raw.execute(file.read_text())
        raw.execute("insert into schema_version (version, name) values (?, ?)", [version, name])
    raw.close()
    with db.connect(path) as con:
        rows = con.sql("select version from schema_version order by 1").fetchall()
    applied = [r[0] for r in rows]
    assert applied == [v for v, _, _ in known]
