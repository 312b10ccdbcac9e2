"""Migration 011's data step: rebuild the per-year student attributes from the kept raw files.

Before 011 a student had one value per attribute (whichever row of a file came last). The SQL of
011 copies that one value to every school year the student has a record in; this step then
replays every completed import with student rows, oldest first, through the same per-year
attribute code an import uses (`merge.upsert_students`), each with the mapping it was imported
with, so each value lands in the school year of the row that carried it.

A warehouse whose kept files cannot all be read again keeps the copied values (a per-year record
made from today's one value) and a setting, `ATTRIBUTE_NOTICE`, makes Home say so until the next
import (core/overview.py).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import duckdb

from core.ingest.detect import FileRefused

ATTRIBUTE_NOTICE = "attributes_per_year_fallback"
_STUDENT_KINDS = ("assessment", "roster")


def _warehouse_folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    path = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()[0]
    return Path(path).parent if path else None


def _jobs(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        """
        select j.job_id, j.preset, j.mapping::varchar, f.file_name, f.stored_path,
               j.started_at::date
        from import_jobs j join raw_files f on f.file_id = j.file_id
        where j.status = 'completed' and j.kind in $kinds
        order by j.job_id
        """,
        {"kinds": list(_STUDENT_KINDS)},
    ).fetchall()


def rebuild_attribute_years(con: duckdb.DuckDBPyConnection) -> None:
    """Replay the kept files into student_years / student_attributes (inside the migration's
    transaction); when any is missing or unreadable, keep the copied values and leave the
    notice for Home."""
    if not con.execute("select count(*) from students").fetchone()[0]:
        return
    folder = _warehouse_folder(con)
    found = _jobs(con)
    files = [folder / stored if folder and stored else None for _, _, _, _, stored, _ in found]
    if not found or any(path is None or not path.is_file() for path in files):
        _leave_notice(con)
        return
    con.execute("create temp table _kept_years as select * from student_years")
    con.execute("create temp table _kept_attributes as select * from student_attributes")
    con.execute("delete from student_years")
    con.execute("delete from student_attributes")
    try:
        for job, path in zip(found, files, strict=True):
            _replay_one(con, job, path)
    except (FileRefused, ValueError, duckdb.Error):
        con.execute("delete from student_years")
        con.execute("delete from student_attributes")
        con.execute("insert into student_years select * from _kept_years")
        con.execute("insert into student_attributes select * from _kept_attributes")
        _leave_notice(con)
    con.execute("drop table _kept_years")
    con.execute("drop table _kept_attributes")


def _replay_one(con: duckdb.DuckDBPyConnection, job: tuple, path: Path) -> None:
    """One stored file prepared again with its own mapping; only its student rows are
    written (the facts are already there)."""
    from core.ingest import merge
    from core.ingest.pipeline import _column_headers, prepare

    job_id, preset, mapping, file_name, _, started = job
    work = Path(tempfile.mkdtemp(prefix="attribute_replay_"))
    try:
        prepared = prepare(path, file_name, work, preset=preset or "auto",
                           mapping=json.loads(mapping) if mapping else None,
                           filed_on=started)  # fmt: skip
        staging = duckdb.connect(":memory:")
        try:
            staging.execute("attach $p as stg (read_only)", {"p": str(prepared.staging)})
            clean = staging.sql(prepared.validation.clean_sql).to_arrow_table()
        finally:
            staging.close()
        con.register("_replay_rows", clean)
        con.execute("create or replace temp table _replay_clean as select * from _replay_rows")
        con.unregister("_replay_rows")
        _column_headers(con, prepared.mapping)
        columns = merge.present_columns(con, "_replay_clean", merge.STUDENT_COLUMNS)
        merge.upsert_students(con, "_replay_clean", columns, job_id)
        con.execute("drop table _replay_clean")
        con.execute("drop table ingest_columns")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _leave_notice(con: duckdb.DuckDBPyConnection) -> None:
    """Remember (inside the migration's transaction) that the values are the old one-per-
    student ones, and the import after which the notice is no longer shown."""
    last = con.execute("select coalesce(max(job_id), 0) from import_jobs").fetchone()[0]
    con.execute(
        "insert or replace into settings (key, value, encrypted, updated_by, updated_at) "
        "values ($key, $value, false, 'migration 011', current_timestamp)",
        {"key": ATTRIBUTE_NOTICE, "value": json.dumps({"last_job": int(last)})},
    )
