"""The nightly job (`python -m core nightly`, from cron / a systemd timer / Task Scheduler): pull
every configured SFTP source, retry what may pass (network, a busy warehouse, a file still being
written) up to RETRIES times with growing waits, record the outcome as import jobs and a
nightly_runs row, and e-mail the admins when anything failed.

Never two at once: an OS lock (flock; msvcrt on Windows) on a file next to the warehouse; a
second run exits at once saying so. Holding the lock also proves that a run still marked
'running' died mid-way (power cut, out of memory): the next run marks it failed, as interrupted,
before it starts. It never holds the warehouse while it talks to a server:
every read or write is a short core.warehouse.db.connect, and each import is the pipeline's one
transaction, so the app keeps working and its readers see the data before or after an import,
never half of it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from core.sftp import mail, registry
from core.sftp.connect import load_target
from core.sftp.pull import PullResult, pull_source, record_failed_job, record_failures_as_jobs
from core.warehouse import private_files
from core.warehouse.db import WarehouseError, connect, transaction, warehouse_path

try:  # POSIX
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

RETRIES = 3
USER = "nightly"
_WINDOWS_LOCK_OFFSET = 1 << 20  # lock a byte past the holder's note so others can still read it


class NightlyRunningError(RuntimeError):
    """Another nightly run holds the lock."""


def backoff_seconds() -> float:
    """First wait before a retry (then doubled): 30 s, or YARDSTICK_NIGHTLY_BACKOFF."""
    return float(os.environ.get("YARDSTICK_NIGHTLY_BACKOFF", "30"))


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".nightly.lock")


def _try_lock(handle: Any) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    handle.seek(_WINDOWS_LOCK_OFFSET)
    try:
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


@contextmanager
def nightly_lock(db: Path) -> Iterator[None]:
    """Hold an exclusive flock for the run; the OS drops it if the process dies."""
    path = lock_path(db)
    private_files.make_dirs(path.parent)
    handle = path.open("a+", encoding="utf-8")
    try:
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise NightlyRunningError(
                f"A nightly run is already in progress ({holder}); this one did nothing. "
                f"If no run is active, the lock is released by itself; the lock file is {path}."
            )
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {dt.datetime.now():%Y-%m-%d %H:%M:%S}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


@dataclass
class SourceOutcome:
    source: str
    attempts: int
    result: PullResult | None = None
    error: str | None = None
    failed_job_id: int | None = None  # the failed job recorded when no pull result came back

    @property
    def ok(self) -> bool:
        return self.error is None and self.result is not None and self.result.ok

    @property
    def message(self) -> str:
        return self.error or (self.result.message if self.result else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "attempts": self.attempts,
            "message": self.message,
            "pull": self.result.to_dict() if self.result else None,
            "job_id": self.result.job_id if self.result else self.failed_job_id,
        }


@dataclass
class NightlyReport:
    run_id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    outcomes: list[SourceOutcome] = field(default_factory=list)
    emailed_to: tuple[str, ...] = ()
    email_error: str | None = None
    interrupted_runs: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def count(self, what: str) -> int:
        return sum(len(getattr(o.result, what)) for o in self.outcomes if o.result)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": "completed" if self.ok else "failed",
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "sources": [o.to_dict() for o in self.outcomes],
            "imported": self.count("jobs"),
            "skipped": self.count("skipped"),
            "failed": sum(not o.ok for o in self.outcomes),
            "emailed_to": list(self.emailed_to),
            "email_error": self.email_error,
            "interrupted_runs": self.interrupted_runs,
        }


def _pull_once(name: str, db: Path) -> tuple[PullResult | None, str | None, bool]:
    """(result, error, worth retrying) for one attempt; nothing escapes."""
    try:
        result = pull_source(name, db=db, user=USER, record_failures=False)
    except WarehouseError as exc:
        return None, str(exc), True
    except (registry.SourceError, ValueError, RuntimeError) as exc:
        return None, str(exc), False
    except Exception as exc:  # one broken source must not stop the others
        return None, f"Unexpected error: {exc!r}", False
    return result, None, (not result.ok and result.transient)


def pull_with_retries(
    name: str, db: Path, *, wait: float, sleep: Callable[[float], None] = time.sleep
) -> SourceOutcome:
    outcome = SourceOutcome(name, 0)
    for attempt in range(RETRIES + 1):
        outcome.attempts = attempt + 1
        outcome.result, outcome.error, retry = _pull_once(name, db)
        if outcome.ok or not retry or attempt == RETRIES:
            break
        sleep(wait * 2**attempt)
    _record_final(db, outcome)
    return outcome


def _record_final(db: Path, outcome: SourceOutcome) -> None:
    """Only the last attempt's failures become jobs (three retries are not three failures)."""
    if outcome.ok:
        return
    try:
        with connect(db) as con:
            target = load_target(con, outcome.source)
        if outcome.result is not None:
            record_failures_as_jobs(db, target, outcome.result, USER)
        else:
            outcome.failed_job_id = record_failed_job(db, target, outcome.message, USER)
    except (WarehouseError, registry.SourceError):
        pass  # the run's own record and the e-mail still carry the failure


def interrupted_message(stale_id: int, run_id: int) -> str:
    """What a run found dead means, in the log, the runs table and the failure e-mail."""
    return (
        f"Nightly run #{stale_id} never finished (the computer lost power, or the process ran "
        f"out of memory or was stopped); run #{run_id} marked it failed. Each import is all or "
        "nothing, so no file was half-imported; files it did not reach are pulled again. If this "
        "keeps happening, check the machine's memory and the nightly log."
    )


def _mark_interrupted(con: duckdb.DuckDBPyConnection, run_id: int) -> list[int]:
    """Runs still 'running' died mid-way: this run holds the lock, so none of them is alive."""
    stale = con.execute(
        "select run_id from nightly_runs where status = 'running' and run_id <> ? order by run_id",
        [run_id],
    ).fetchall()
    for (stale_id,) in stale:
        detail = {
            "run_id": stale_id,
            "status": "failed",
            "interrupted": True,
            "message": interrupted_message(stale_id, run_id),
            "marked_by_run": run_id,
        }
        con.execute(
            "update nightly_runs set status = 'failed', detail = ? where run_id = ?",
            [json.dumps(detail), stale_id],
        )
    return [stale_id for (stale_id,) in stale]


def _start_run(db: Path) -> tuple[int, dt.datetime, list[str], list[int]]:
    with connect(db) as con, transaction(con):
        started = registry.utc_now()
        run_id = con.execute(
            "insert into nightly_runs (started_at, status, pid) values (?, 'running', ?) "
            "returning run_id",
            [started, os.getpid()],
        ).fetchone()[0]
        interrupted = _mark_interrupted(con, run_id)
        names = [source.name for source in registry.list_sources(con)]
    return run_id, started, names, interrupted


def _finish_run(db: Path, report: NightlyReport) -> None:
    summary = report.to_dict()
    with connect(db) as con, transaction(con):
        report.finished_at = registry.utc_now()
        con.execute(
            "update nightly_runs set finished_at = ?, status = ?, sources = ?, imported = ?, "
            "skipped = ?, failed = ?, detail = ?, emailed_to = ?, email_error = ? "
            "where run_id = ?",
            [
                report.finished_at,
                summary["status"],
                len(report.outcomes),
                summary["imported"],
                summary["skipped"],
                summary["failed"],
                json.dumps(summary, default=str),
                ", ".join(report.emailed_to) or None,
                report.email_error,
                report.run_id,
            ],
        )


def interrupted_lines(report: NightlyReport) -> list[str]:
    return [interrupted_message(stale, report.run_id) for stale in report.interrupted_runs]


def failure_email(report: NightlyReport) -> tuple[str, str]:
    failed = [o for o in report.outcomes if not o.ok]
    subject = f"Yardstick nightly import: {len(failed)} of {len(report.outcomes)} source(s) failed"
    lines = [
        f"The nightly import run #{report.run_id} (started {report.started_at:%Y-%m-%d %H:%M} UTC) "
        "did not complete everything.",
        "",
    ]
    for outcome in report.outcomes:
        state = "OK" if outcome.ok else f"FAILED after {outcome.attempts} attempt(s)"
        lines += [f"* {outcome.source}: {state}", f"  {outcome.message}", ""]
    lines += [f"{line}\n" for line in interrupted_lines(report)]
    lines.append(
        "Open Yardstick → SFTP & e-mail settings → Test connection to see each step, and "
        "Import History for the jobs. Nothing partial was imported."
    )
    return subject, "\n".join(lines)


def _notify(db: Path, report: NightlyReport) -> None:
    try:
        with connect(db) as con:
            config = mail.smtp_config(con)
            to = mail.recipients(con)
        subject, body = failure_email(report)
        mail.send(config, to, subject, body)
        report.emailed_to = tuple(to)
    except (mail.MailError, WarehouseError) as exc:
        report.email_error = str(exc)


def run_nightly(
    db: str | os.PathLike[str] | None = None,
    *,
    wait: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> NightlyReport:
    """Pull every source once (with retries), record the run, e-mail on failure."""
    path = warehouse_path(db)
    with nightly_lock(path):
        run_id, started, names, interrupted = _start_run(path)
        report = NightlyReport(run_id, started, interrupted_runs=interrupted)
        first_wait = backoff_seconds() if wait is None else wait
        for name in names:
            report.outcomes.append(pull_with_retries(name, path, wait=first_wait, sleep=sleep))
        if not report.ok:
            _notify(path, report)
        _finish_run(path, report)
    return report
