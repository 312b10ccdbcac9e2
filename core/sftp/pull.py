"""Import now: fetch the newest matching files a source has not delivered before and run each
through the same import pipeline as the Upload page (core.ingest.import_in_child, origin "sftp").

A file is streamed to disk in bounded windows (never whole into memory), hashed as it arrives,
and checked afterwards: its size must equal what the server said, and the server's size and
modification time must not have moved during the download (a file still being written is
refused, not half-imported). A file whose content hash the warehouse already holds is skipped and
says so; a file pulled before with the same path, size and time is skipped without downloading.
The warehouse is opened only for short reads and the import's own transaction, never while the
network is in use, so the app keeps working during a long download.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from core.sftp.connect import (
    CONNECT_TIMEOUT,
    RemoteFile,
    SftpError,
    StepCallback,
    Target,
    _Steps,
    list_matching,
    load_target,
    open_session,
)
from core.sftp.registry import utc_now
from core.warehouse import private_files
from core.warehouse.db import WarehouseBusyError, connect, transaction, warehouse_path

MAX_FILES_PER_PULL = 10
REQUEST_SIZE = 32_768  # paramiko's largest SFTP read request
WINDOW = 8 * 1024 * 1024  # bytes requested ahead at most: memory stays flat for any file size
SUMMED = ("rows_read", "inserted", "updated", "duplicates", "rejected")

DownloadProgress = Callable[[RemoteFile, int], None]


@dataclass(frozen=True)
class Download:
    remote: RemoteFile
    local_path: Path
    sha256: str
    size: int


@dataclass
class PullResult:
    """What one pull did: an import summary per new file, the files skipped, the failures."""

    source: str
    jobs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    problem: SftpError | None = None
    left_alone: int = 0
    problem_job_id: int | None = None  # the failed job recorded for `problem`

    @property
    def job_id(self) -> int | None:
        """The last file's import job; with none imported, the failed job recorded last (a
        failed connection, then a failed download), so a failure names its job too."""
        if self.jobs:
            return self.jobs[-1].get("job_id")
        recorded = [f["job_id"] for f in self.failed if f.get("job_id") is not None]
        return recorded[-1] if recorded else self.problem_job_id

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.failed

    @property
    def transient(self) -> bool:
        """Worth retrying: every failure was of a kind that may pass (network, busy, growing)."""
        problems = [self.problem] if self.problem else []
        kinds = [f.get("transient", False) for f in self.failed]
        return bool(problems or kinds) and all(p.transient for p in problems) and all(kinds)

    @property
    def message(self) -> str:
        if self.problem is not None:
            return str(self.problem)
        parts = [f"{len(self.jobs)} file(s) imported"] if self.jobs else ["No new file to import"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} already imported (skipped)")
        parts += [f"{f['name']}: {f['message']}" for f in self.failed]
        if self.left_alone:
            parts.append(
                f"{self.left_alone} older matching file(s) left alone (a pull takes the "
                f"{MAX_FILES_PER_PULL} newest)"
            )
        return "; ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        """The import contract's job summary (summed over the files, the last job's id), plus
        `jobs` (one summary per file), `skipped` and `failed`."""
        errors = [e for job in self.jobs for e in job.get("errors", [])]
        return {
            "source": self.source,
            "job_id": self.job_id,
            "status": "completed" if self.ok else "failed",
            **{name: sum(int(job.get(name) or 0) for job in self.jobs) for name in SUMMED},
            "errors": errors,
            "message": self.message,
            "already_imported": bool(self.skipped) and not self.jobs and self.ok,
            "jobs": self.jobs,
            "skipped": self.skipped,
            "failed": self.failed,
            "problem": self.problem.to_dict() if self.problem else None,
        }


def _growing(remote: RemoteFile, before: Any, after: Any) -> SftpError:
    return SftpError(
        "file_growing",
        f"{remote.name} was still being written while it downloaded (size {before.st_size:,} → "
        f"{after.st_size:,} bytes). It was not imported.",
        "It is tried again on the next pull. If this keeps happening, schedule the nightly pull "
        "later than the vendor's export.",
        transient=True,
    )


def _windows(start: int, size: int) -> list[tuple[int, int]]:
    """The read requests for the next window: at most WINDOW bytes from `start`."""
    end = min(start + WINDOW, size)
    return [(offset, min(REQUEST_SIZE, end - offset)) for offset in range(start, end, REQUEST_SIZE)]


def _stream(
    source: Any, out: Any, digest: Any, remote: RemoteFile, size: int, on_progress: Any
) -> int:
    written = 0
    while written < size:
        chunks = _windows(written, size)
        for data in source.readv(chunks):
            out.write(data)
            digest.update(data)
            written += len(data)
        if written < chunks[-1][0] + chunks[-1][1]:  # the file shrank under us
            break
        if on_progress is not None:
            on_progress(remote, written)
    return written


def download(
    client: Any, remote: RemoteFile, folder: Path, on_progress: DownloadProgress | None = None
) -> Download:
    """Stream one remote file to a new file in `folder`, hashing it; refuse a moving file."""
    before = client.stat(remote.path)
    size = int(before.st_size or 0)
    handle, name = tempfile.mkstemp(prefix=".sftp-", suffix=Path(remote.name).suffix, dir=folder)
    local = Path(name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out, client.open(remote.path, "rb") as source:
            written = _stream(source, out, digest, remote, size, on_progress)
        after = client.stat(remote.path)
        if (after.st_size, after.st_mtime) != (before.st_size, before.st_mtime):
            raise _growing(remote, before, after)
        if written != size:
            raise SftpError(
                "incomplete",
                f"The download of {remote.name} is incomplete ({written:,} of {size:,} bytes).",
                "It is tried again on the next pull.",
                transient=True,
            )
    except BaseException:
        local.unlink(missing_ok=True)
        raise
    return Download(remote, local, digest.hexdigest(), written)


def _already_pulled(con: duckdb.DuckDBPyConnection, source: str) -> dict[tuple, int | None]:
    """(remote path, size, mtime) → job id, for files pulled before whose content is stored."""
    rows = con.execute(
        """
        select f.remote_path, f.size_bytes, f.mtime, max(f.job_id)
        from sftp_files f
        join raw_files r on r.sha256 = f.sha256
        where f.source_name = ? and f.outcome in ('imported', 'already_imported')
        group by all
        """,
        [source],
    ).fetchall()
    return {(path, size, mtime): job for path, size, mtime, job in rows}


def _imported_job(con: duckdb.DuckDBPyConnection, sha256: str) -> tuple[bool, int | None]:
    row = con.execute(
        """
        select r.file_id, max(j.job_id)
        from raw_files r left join import_jobs j on j.file_id = r.file_id and j.status = 'completed'
        where r.sha256 = ?
        group by r.file_id
        """,
        [sha256],
    ).fetchone()
    return (row is not None, row[1] if row else None)


def _skip(remote: RemoteFile, job_id: int | None, how: str) -> dict[str, Any]:
    where = f" (job #{job_id})" if job_id else ""
    return {
        "name": remote.name,
        "remote_path": remote.path,
        "size": remote.size,
        "job_id": job_id,
        "message": f"{remote.name} was already imported{where}; skipped {how}.",
    }


def _fetch_new(
    target: Target,
    folder: Path,
    seen: dict[tuple, int | None],
    result: PullResult,
    on_step: StepCallback | None,
    on_progress: DownloadProgress | None,
) -> list[Download]:
    steps = _Steps(on_step, time.monotonic() + CONNECT_TIMEOUT)
    downloads: list[Download] = []
    with open_session(target, steps=steps) as session:
        files = list_matching(session, target, steps)
        result.left_alone = max(0, len(files) - MAX_FILES_PER_PULL)
        for remote in reversed(files[:MAX_FILES_PER_PULL]):  # oldest first: newest lands last
            key = (remote.path, remote.size, remote.mtime)
            if key in seen:
                result.skipped.append(_skip(remote, seen[key], "without downloading"))
                continue
            try:
                downloads.append(download(session.client, remote, folder, on_progress))
            except SftpError as exc:
                result.failed.append(_failure(remote, exc.reason, exc.transient))
            except OSError as exc:
                result.failed.append(_failure(remote, f"download failed ({exc})", True))
    return downloads


def _failure(remote: RemoteFile, message: str, transient: bool) -> dict[str, Any]:
    return {
        "name": remote.name,
        "remote_path": remote.path,
        "message": message,
        "transient": transient,
    }


def _record_file(db: Path, source: str, item: Download, job_id: int | None, outcome: str) -> None:
    with connect(db) as con, transaction(con):
        con.execute(
            "insert into sftp_files (source_name, remote_path, size_bytes, mtime, sha256, job_id, "
            "outcome, pulled_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                source,
                item.remote.path,
                item.size,
                item.remote.mtime,
                item.sha256,
                job_id,
                outcome,
                utc_now(),
            ],
        )


def _import_one(
    item: Download, target: Target, db: Path, user: str | None, progress: Any, result: PullResult
) -> None:
    # lazy: core.ingest loads pandas and pyarrow, paid only when a file arrives (a nightly run
    # with nothing new, `python -m core nightly` from cron, stays light)
    from core.ingest import import_in_child

    with connect(db) as con:
        known, job_id = _imported_job(con, item.sha256)
    if known:
        result.skipped.append(_skip(item.remote, job_id, "after downloading (same content)"))
        _record_file(db, target.name, item, job_id, "already_imported")
        return
    # in a child process under the import memory limit, as an upload: a hostile file from a
    # vendor's server stops only its own import (the app's "Import now" runs in the server)
    summary = import_in_child(
        item.local_path,
        db=db,
        file_name=item.remote.name,
        origin="sftp",
        preset=target.preset,
        user=user,
        remote_path=item.remote.path,
        progress=progress,
    ).to_dict()
    summary = {**summary, "remote_path": item.remote.path, "size": item.size}
    if summary.get("already_imported"):
        result.skipped.append(_skip(item.remote, summary.get("job_id"), "(same content)"))
        _record_file(db, target.name, item, summary.get("job_id"), "already_imported")
        return
    result.jobs.append(summary)
    outcome = "imported" if summary.get("status") == "completed" else "failed"
    _record_file(db, target.name, item, summary.get("job_id"), outcome)
    if outcome == "failed":
        failure = _failure(item.remote, summary.get("message") or "import failed", False)
        result.failed.append({**failure, "job_id": summary.get("job_id")})


def record_failed_job(
    db: Path, target: Target, message: str, user: str | None, remote_path: str | None = None
) -> int:
    """A pull that failed before any import still leaves a job, so Import History shows it."""
    # lazy: core.ingest loads pandas and pyarrow, paid only when a pull fails (see _import_one)
    from core.ingest import jobs

    with connect(db) as con, transaction(con):
        job_id = jobs.create_job(
            con,
            file_name=f"{target.pattern} from {target.name}",
            source="sftp",
            remote_path=remote_path or target.remote_dir,
            user=user,
            status="running",
        )
        jobs.fail_job(con, job_id, message, preset=target.preset)
    return job_id


def pull_source(
    name: str,
    *,
    db: str | os.PathLike[str] | None = None,
    user: str | None = None,
    on_step: StepCallback | None = None,
    on_download: DownloadProgress | None = None,
    progress: Any = None,
    record_failures: bool = True,
) -> PullResult:
    """Import now for one source (the page's button, `sftp pull`, and each nightly source).

    A failure is also recorded as a failed import job (unless `record_failures` is off: the
    nightly job records only its last attempt)."""
    path = warehouse_path(db)
    with connect(path) as con:
        target = load_target(con, name)
        seen = _already_pulled(con, name)
    result = PullResult(source=name)
    folder = private_files.private_dir(path.parent / "incoming")
    try:
        downloads = _fetch_new(target, folder, seen, result, on_step, on_download)
    except SftpError as exc:
        result.problem = exc
        if record_failures:
            record_failures_as_jobs(path, target, result, user)
        return result
    try:
        for item in downloads:
            _import_one(item, target, path, user, progress, result)
    except WarehouseBusyError as exc:
        result.failed.append({"name": target.name, "message": str(exc), "transient": True})
    finally:
        for item in downloads:
            item.local_path.unlink(missing_ok=True)
    if record_failures:
        record_failures_as_jobs(path, target, result, user)
    return result


def record_failures_as_jobs(db: Path, target: Target, result: PullResult, user: str | None) -> None:
    """Failed downloads (and a failed connection) become failed jobs; failed imports have theirs.
    Each job's id goes back into `result`, so the summary names the job Import History shows."""
    if result.problem is not None:
        result.problem_job_id = record_failed_job(db, target, str(result.problem), user)
    for failure in result.failed:
        if "job_id" not in failure and failure.get("remote_path"):
            failure["job_id"] = record_failed_job(
                db, target, failure["message"], user, failure["remote_path"]
            )
