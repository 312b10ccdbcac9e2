"""Import jobs: the record of every import attempt (pending → running → completed | failed),
its counts and its errors — what the Import History page and `import --json` show.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from core.exports.tables import csv_bytes

JOB_COLUMNS = [
    "job_id",
    "status",
    "file_name",
    "source",
    "remote_path",
    "preset",
    "kind",
    "rows_read",
    "inserted",
    "updated",
    "duplicates",
    "rejected",
    "errors",
    "warnings",
    "started_at",
    "finished_at",
    "seconds",
    "created_by",
    "message",
    "file_id",
]
ERROR_COLUMNS = ["row", "column", "message", "severity"]


@dataclass
class JobSummary:
    """The outcome of one import (the contract fields of docs/cli.md first, then extras)."""

    job_id: int | None
    status: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)
    message: str = ""
    file_name: str = ""
    already_imported: bool = False
    preset: str | None = None
    kind: str | None = None
    file_id: int | None = None
    added: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def create_job(
    con: duckdb.DuckDBPyConnection,
    *,
    file_name: str,
    source: str,
    remote_path: str | None,
    user: str | None,
    status: str = "pending",
    replay_of: int | None = None,
) -> int:
    return con.execute(
        """
        insert into import_jobs (file_name, source, remote_path, status, created_by, pid,
                                 started_at, replay_of)
        values ($file_name, $source, $remote_path, $status, $user, $pid, $now, $replay_of)
        returning job_id
        """,
        {
            "file_name": file_name,
            "source": source,
            "remote_path": remote_path,
            "status": status,
            "user": user,
            "pid": os.getpid(),
            "now": now(),
            "replay_of": replay_of,
        },
    ).fetchone()[0]


def set_status(con: duckdb.DuckDBPyConnection, job_id: int, status: str) -> None:
    con.execute("update import_jobs set status = $s where job_id = $j", {"s": status, "j": job_id})


def fail_job(
    con: duckdb.DuckDBPyConnection,
    job_id: int,
    message: str,
    *,
    preset: str | None = None,
    kind: str | None = None,
    rows_read: int = 0,
) -> None:
    """A refused or broken import: the job says why; nothing else was written."""
    con.execute(
        """
        update import_jobs set status = 'failed', message = $message, finished_at = $now,
            preset = coalesce($preset, preset), kind = coalesce($kind, kind),
            rows_read = $rows_read
        where job_id = $job_id
        """,
        {
            "message": message,
            "now": now(),
            "preset": preset,
            "kind": kind,
            "rows_read": rows_read,
            "job_id": job_id,
        },
    )
    con.execute(
        "insert into import_errors (job_id, row_number, column_name, message, severity) "
        "values ($job_id, null, null, $message, 'error')",
        {"job_id": job_id, "message": message},
    )


def process_alive(pid: int | None) -> bool:
    """Whether a process still runs: signal 0 probes without touching it, and a process we
    may not signal (PermissionError) exists all the same."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_dead_jobs(con: duckdb.DuckDBPyConnection) -> int:
    """Jobs left pending/running by a process that no longer exists are marked failed. Their
    merge never committed (one transaction), so the warehouse is consistent without them;
    their leftovers on disk (staging folder, raw bytes no stored file refers to) are removed."""
    rows = con.execute(
        "select job_id, pid from import_jobs where status in ('pending', 'running')"
    ).fetchall()
    dead = [job_id for job_id, pid in rows if not process_alive(pid)]
    for job_id in dead:
        fail_job(
            con,
            job_id,
            "The import stopped before it finished (its process ended); nothing from it was "
            "loaded. Import the file again.",
        )
    if dead:
        _sweep_leftovers(con, still_running=len(rows) > len(dead))
    return len(dead)


def fail_jobs_of_process(
    con: duckdb.DuckDBPyConnection, pid: int, since: dt.datetime, message: str
) -> dict[int, str]:
    """The jobs a process that has ended (an import child stopped by its memory limit) started
    since `since` and did not complete, marked failed with `message` instead of whatever it
    managed to record (one problem row, like any failed job); its leftovers are swept like a
    dead job's. Returns each job's status before ("failed": the process recorded it itself)."""
    found = con.execute(
        "select job_id, status from import_jobs where pid = $pid and started_at >= $since "
        "and status <> 'completed' order by job_id",
        {"pid": int(pid), "since": since},
    ).fetchall()
    for job_id, _ in found:
        con.execute("delete from import_errors where job_id = $j", {"j": job_id})
        fail_job(con, job_id, message)
    if found:
        running = con.execute(
            "select count(*) from import_jobs where status in ('pending', 'running')"
        ).fetchone()[0]
        _sweep_leftovers(con, still_running=running > 0)
    return dict(found)


def warehouse_folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return Path(row[0]).parent if row and row[0] else None


def staging_folder_name(kind: str) -> str:
    """Staging folders carry their process id, so a sweep can tell abandoned ones."""
    return f"{kind}_p{os.getpid()}_"


def _sweep_leftovers(con: duckdb.DuckDBPyConnection, still_running: bool) -> None:
    folder = warehouse_folder(con)
    if folder is None:
        return
    for path in (folder / "staging").glob("*_p*_*"):
        match = re.match(r"^[a-z]+_p(\d+)_", path.name)
        if match and not process_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
    raw = folder / "raw"
    if still_running or not raw.is_dir():
        return  # a live import may hold bytes it has not committed yet
    known = {row[0] for row in con.execute("select sha256 from raw_files").fetchall()}
    for path in raw.iterdir():
        if path.is_file() and path.name not in known:
            path.unlink(missing_ok=True)


def list_jobs(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    """Import jobs, newest first, with error/warning counts and durations."""
    reap_dead_jobs(con)
    frame = con.execute(
        """
        select j.job_id, j.status, j.file_name, j.source, j.remote_path, j.preset, j.kind,
               j.rows_read, j.inserted, j.updated, j.duplicates, j.rejected,
               count(e.job_id) filter (where e.severity = 'error') as errors,
               count(e.job_id) filter (where e.severity = 'warning') as warnings,
               j.started_at, j.finished_at,
               round(epoch(j.finished_at - j.started_at), 1) as seconds,
               j.created_by, j.message, j.file_id
        from import_jobs j left join import_errors e on e.job_id = j.job_id
        group by all
        order by j.job_id desc
        limit $limit
        """,
        {"limit": int(limit)},
    ).df()
    return frame.reindex(columns=JOB_COLUMNS)


def job_errors(
    con: duckdb.DuckDBPyConnection, job_id: int, limit: int | None = None
) -> pd.DataFrame:
    """Every problem an import found (row numbers as the file shows them), by row."""
    sql = (
        "select row_number as row, column_name as column, message, severity "
        "from import_errors where job_id = $job_id "
        "order by row_number nulls first, severity, column_name"
    )
    params: dict[str, Any] = {"job_id": int(job_id)}
    if limit is not None:
        sql += " limit $limit"
        params["limit"] = int(limit)
    return con.execute(sql, params).df().reindex(columns=ERROR_COLUMNS)


def errors_csv(con: duckdb.DuckDBPyConnection, job_id: int) -> bytes:
    """All of a job's errors as CSV (the download behind the page's sample)."""
    row = con.execute(
        "select file_name from import_jobs where job_id = $j", {"j": int(job_id)}
    ).fetchone()
    return csv_bytes(
        job_errors(con, job_id),
        {"import job": job_id, "file": row[0] if row else "?"},
    )


def _error_dicts(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row, column, message, severity in frame.itertuples(index=False):
        out.append(
            {
                "row": None if pd.isna(row) else int(row),
                "column": None if pd.isna(column) else column,
                "message": message,
                "severity": severity,
            }
        )
    return out


def job_summary(con: duckdb.DuckDBPyConnection, job_id: int, **extra: Any) -> JobSummary:
    """A stored job as a JobSummary (errors included)."""
    row = con.execute(
        """
        select status, rows_read, inserted, updated, duplicates, rejected, message, file_name,
               preset, kind, file_id, added::varchar
        from import_jobs where job_id = $job_id
        """,
        {"job_id": int(job_id)},
    ).fetchone()
    if row is None:
        raise ValueError(f"There is no import job {job_id}.")
    status, rows_read, inserted, updated, duplicates, rejected, message, name = row[:8]
    preset, kind, file_id, added = row[8:]
    return JobSummary(
        job_id=int(job_id),
        status=status,
        rows_read=rows_read,
        inserted=inserted,
        updated=updated,
        duplicates=duplicates,
        rejected=rejected,
        errors=_error_dicts(job_errors(con, job_id)),
        message=message or "",
        file_name=name,
        preset=preset,
        kind=kind,
        file_id=file_id,
        added=json.loads(added) if added else {},
        **extra,
    )
