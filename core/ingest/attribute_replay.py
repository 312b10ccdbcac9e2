"""Migration 011's data step: rebuild the per-year student attributes from the kept raw files.

Before 011 a student had one value per attribute (whichever row of a file came last). The SQL of
011 copies that one value to every school year the student has a record in; this step then
replays every completed import with student rows, oldest first, through the same per-year
attribute code an import uses (`merge.upsert_students`), each with the mapping it was imported
with, so each value lands in the school year of the row that carried it.

A warehouse whose kept files cannot all be read again keeps the copied values (a per-year record
made from today's one value) and a setting, `ATTRIBUTE_NOTICE`, makes Home say so until the next
import (core/catalog/overview.py).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa

from core.ingest import merge
from core.ingest.pipeline import _column_headers, prepare
from core.ingest.presets import Mapping, Preset, builtin_presets, saved_presets

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


_RECORD_YEARS = """
    (select student_id, school_year from assessments
     union select student_id, school_year from enrollments)
"""


def _copy_one_value(con: duckdb.DuckDBPyConnection) -> None:
    """Each student's one stored value for every school year they have a record in, and
    student_attributes replaced by its per-year table (011's SQL created it)."""
    con.execute(
        f"""
        insert into student_years
        select s.student_id, y.school_year, s.gender, s.race_ethnicity, s.ell, s.sped, s.frl
        from students s join {_RECORD_YEARS} y using (student_id)
        where coalesce(s.gender, s.race_ethnicity, s.ell::varchar, s.sped::varchar,
                       s.frl::varchar) is not null
        """
    )
    con.execute(
        f"""
        insert into student_attributes_011
        select a.student_id, y.school_year, a.attribute, a.value
        from student_attributes a join {_RECORD_YEARS} y using (student_id)
        """
    )
    con.execute("drop table student_attributes")
    con.execute("alter table student_attributes_011 rename to student_attributes")


def rebuild_attribute_years(con: duckdb.DuckDBPyConnection) -> None:
    """Migration 011's data step (inside its transaction): the one stored value copied to every
    year, then the kept files replayed over it; when any is missing or unreadable, the copied
    values stay and the notice for Home is left."""
    _copy_one_value(con)
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
    presets = {**builtin_presets(), **saved_presets(con)}
    for job, path in zip(found, files, strict=True):
        # Reading a file runs on its own staging connection: a failure there leaves this
        # transaction intact, so the copied values can be put back.
        try:
            rows, mapping = _clean_rows(job, path, presets)
        except Exception:  # noqa: BLE001 - any unreadable kept file means "cannot replay"
            con.execute("delete from student_years")
            con.execute("delete from student_attributes")
            con.execute("insert into student_years select * from _kept_years")
            con.execute("insert into student_attributes select * from _kept_attributes")
            _leave_notice(con)
            break
        _write_students(con, job[0], rows, mapping)
    con.execute("drop table _kept_years")
    con.execute("drop table _kept_attributes")


def _clean_rows(job: tuple, path: Path, presets: dict[str, Preset]) -> tuple[pa.Table, Mapping]:
    """One kept file prepared again with the mapping it was imported with (its preset, and every
    header's target; a one-off preset no longer stored is re-detected from those targets)."""
    _, preset, mapping, file_name, _, started = job
    work = Path(tempfile.mkdtemp(prefix="attribute_replay_"))
    try:
        prepared = prepare(
            path,
            file_name,
            work,
            preset=preset if preset in presets else "auto",
            saved=presets,
            mapping=json.loads(mapping) if mapping else None,
            filed_on=started,
        )
        staging = duckdb.connect(":memory:")
        try:
            staging.execute("attach $p as stg (read_only)", {"p": str(prepared.staging)})
            return staging.sql(prepared.validation.clean_sql).to_arrow_table(), prepared.mapping
        finally:
            staging.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_students(
    con: duckdb.DuckDBPyConnection, job_id: int, rows: pa.Table, mapping: Mapping
) -> None:
    """Only the file's student rows are written again (its facts are already stored)."""
    con.register("_replay_rows", rows)
    con.execute("create or replace temp table _replay_clean as select * from _replay_rows")
    con.unregister("_replay_rows")
    _column_headers(con, mapping)
    columns = merge.present_columns(con, "_replay_clean", merge.STUDENT_COLUMNS)
    merge.upsert_students(con, "_replay_clean", columns, job_id)
    con.execute("drop table _replay_clean")
    con.execute("drop table ingest_columns")


def _leave_notice(con: duckdb.DuckDBPyConnection) -> None:
    """Remember (inside the migration's transaction) that the values are the old one-per-
    student ones, and the import after which the notice is no longer shown."""
    last = con.execute("select coalesce(max(job_id), 0) from import_jobs").fetchone()[0]
    con.execute(
        "insert or replace into settings (key, value, encrypted, updated_by, updated_at) "
        "values ($key, $value, false, 'migration 011', current_timestamp)",
        {"key": ATTRIBUTE_NOTICE, "value": json.dumps({"last_job": int(last)})},
    )
