"""One import in a child process under an address-space limit, so that one hostile file (a
decompression bomb, a sheet of a million columns) cannot take down the process that asked for
it — the app every teacher is using. The Upload page imports (and previews Excel and JSON,
`bounded_preview`) this way; the CLI is a process of its own already.

    summary = import_in_child(upload, db=warehouse, file_name="scores.csv", progress=bar)

The parent spools a stream to a staging folder named after its own pid (swept if it dies), then
runs `import_file` in `python -c` with RLIMIT_AS set to YARDSTICK_IMPORT_MEMORY (default 4 GB:
the child holds about 1.1 GB of address space before reading a byte — Python, pandas, DuckDB's
threads — and a 2-million-row CSV imports within 1.5 GB). The child answers on its stdout,
one JSON object a line: {"progress": [stage, fraction]}, then {"summary": {...}} (or
{"preview": {...}}), or {"raise": kind, "message": ...} for the errors the page already shows
plainly (a busy warehouse); anything it prints otherwise goes to its stderr, which the parent
writes to the server log when the child fails.

A child that runs out of its allowance (MemoryError, DuckDB's out-of-memory error, killed) or
ends any other way without a summary leaves its job failed with a message saying what happened
(`jobs.fail_jobs_of_process`, the reaping of dead imports' jobs for one known process): the
parent survives and the page shows the failed job like any other.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

import duckdb
import pandas as pd

from core.access import audit
from core.ingest import jobs, pipeline
from core.ingest.detect import (
    HEAD_BYTES,
    FileRefused,
    Format,
    decode_head,
    sniff_encoding,
    sniff_format,
)
from core.ingest.pipeline import (
    Preview,
    Progress,
    Source,
    _name_of,
    import_file,
    preview,
    spool,
)
from core.warehouse import db as warehouse_db
from core.warehouse.db import connect, transaction, warehouse_path

MEMORY_ENV = "YARDSTICK_IMPORT_MEMORY"
DEFAULT_MEMORY = "4GB"
_UNITS = {"": 1, "b": 1, "kb": 2**10, "mb": 2**20, "gb": 2**30, "tb": 2**40}
_ROOT = Path(__file__).resolve().parents[2]  # where `core` is importable from
_CHILD = "from core.ingest.child import main; raise SystemExit(main())"
# Signs in the child's stderr that it died of its allowance (C++ code may abort, not raise).
_MEMORY_SIGNS = ("MemoryError", "Out of Memory", "OutOfMemory", "bad_alloc", "failed to allocate")
_RAISED: dict[str, type[Exception]] = {
    "busy": warehouse_db.WarehouseBusyError,
    "too_new": warehouse_db.SchemaTooNewError,
    "warehouse": warehouse_db.WarehouseError,
    "value": ValueError,
    "not_found": FileNotFoundError,
}
log = logging.getLogger(__name__)


def parse_size(text: str) -> int | None:
    """ "4GB", "300 MB", "1.5gb" or a number of bytes; "0", "none" or "off" mean no limit."""
    value = text.strip().lower()
    if value in ("", "0", "none", "off", "unlimited"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?b?)", value)
    if match is None:
        raise ValueError(f"{MEMORY_ENV} must be a size such as 4GB or 500MB, not {text!r}.")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def import_memory_limit() -> int | None:
    """The address space one import may use, in bytes ($YARDSTICK_IMPORT_MEMORY, else 4 GB)."""
    return parse_size(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY))


def size_words(limit: int) -> str:
    """4294967296 → "4 GB", 314572800 → "300 MB": the limit as the README and messages say it."""
    if limit >= 2**30:
        return f"{limit / 2**30:.3g} GB"
    return f"{limit / 2**20:.3g} MB"


def memory_message(limit: int | None) -> str:
    allowed = f" ({size_words(limit)})" if limit else ""
    return (
        f"This file needed more memory than Yardstick allows for one import{allowed} and was "
        "stopped; nothing was imported. Split the file or save it as CSV."
    )


def crash_message(returncode: int) -> str:
    how = f"signal {-returncode}" if returncode < 0 else f"code {returncode}"
    return (
        f"The import stopped unexpectedly (its process ended with {how}); nothing was imported. "
        "Import the file again; if it stops again, tell your Yardstick administrator the job "
        "number (the details are in the server log)."
    )


def import_in_child(
    path_or_stream: Source,
    *,
    db: str | os.PathLike | None = None,
    file_name: str | None = None,
    origin: str = "upload",
    preset: str = "auto",
    mapping: dict | str | os.PathLike | None = None,
    user: str | None = None,
    remote_path: str | None = None,
    progress: Progress | None = None,
    platform: str | None = None,
    memory_limit: int | None | str = "setting",
) -> jobs.JobSummary:
    """`import_file` with the same arguments and answer, run in a child process whose address
    space is limited to `memory_limit` bytes (default: import_memory_limit(); None: no limit).
    `mapping` travels as JSON: a dict or a file path. A wrong origin or platform is the
    child's ValueError, raised here."""
    limit = import_memory_limit() if memory_limit == "setting" else memory_limit
    warehouse = warehouse_path(db).resolve()
    staging_root = warehouse.parent / "staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=jobs.staging_folder_name("child"), dir=staging_root))
    try:
        path, _ = spool(path_or_stream, work)
        request = {
            "path": str(Path(path).resolve()),
            "db": str(warehouse),
            "file_name": file_name or _name_of(path_or_stream),
            "origin": origin,
            "preset": preset,
            "mapping": str(Path(mapping).resolve())
            if isinstance(mapping, str | os.PathLike)
            else mapping,
            "user": user,
            "remote_path": remote_path,
            "platform": platform,
            "memory_limit": limit,
        }
        return _import(request, work, progress or (lambda stage, fraction: None))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _child_env() -> dict[str, str]:
    """The parent's environment, `core` importable, and the waits this process uses now (a
    test or the app may have shortened them) handed on."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
    env["YARDSTICK_BUSY_WAIT"] = str(warehouse_db.BUSY_WAIT_SECONDS)
    env["YARDSTICK_IMPORT_WAIT"] = str(pipeline.MERGE_WAIT_SECONDS)
    return env


@dataclass
class _Ended:
    """How a child ended: its answers (progress aside), exit code, stderr, pid, start time."""

    answer: dict[str, Any]
    returncode: int
    errors: str
    pid: int
    since: dt.datetime

    def result(self, key: str) -> Any:
        """The child's answer `key` when it finished normally; the error it reported raised
        here; None when it stopped without answering."""
        if key in self.answer and self.returncode == 0:
            return self.answer[key]
        if "raise" in self.answer:
            raise _RAISED.get(self.answer["raise"], RuntimeError)(self.answer.get("message", ""))
        return None

    @property
    def out_of_memory(self) -> bool:
        """Said so, said so in its stderr (C++ code may abort, not raise), or killed."""
        signs = any(sign in self.errors for sign in _MEMORY_SIGNS)
        killed = self.returncode == -signal.SIGKILL
        return bool(self.answer.get("out_of_memory")) or signs or killed

    def message(self, limit: int | None) -> str:
        return memory_message(limit) if self.out_of_memory else crash_message(self.returncode)

    def log(self, what: str) -> None:
        how = " out of memory" if self.out_of_memory else ""
        log.error(
            "Import child %s (%s) ended with %s%s:\n%s",
            self.pid,
            what,
            self.returncode,
            how,
            self.errors[-20_000:],
        )


def _run_child(request: dict[str, Any], work: Path, progress: Progress) -> _Ended:
    since = jobs.now()
    with (work / "child.stderr").open("w+", encoding="utf-8", errors="replace") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=_child_env(),
            text=True,
            encoding="utf-8",
        )
        with contextlib.suppress(BrokenPipeError):  # a child that died at once: see _Ended
            child.stdin.write(json.dumps(request))
            child.stdin.close()
        answer, interrupted = _read_answers(child.stdout, progress)
        returncode = child.wait()
        stderr.seek(0)
        errors = stderr.read()
    if interrupted is not None:  # the page's run was stopped (a rerun): the import finished
        raise interrupted
    return _Ended(answer, returncode, errors, child.pid, since)


def _import(request: dict[str, Any], work: Path, progress: Progress) -> jobs.JobSummary:
    ended = _run_child(request, work, progress)
    summary = ended.result("summary")
    if summary is not None:
        return jobs.JobSummary(**summary)
    stopped = _record_stopped(request, ended, ended.message(request["memory_limit"]))
    ended.log(f"job {stopped.job_id}, {request['file_name']}")
    return stopped


def _read_answers(
    stream: IO[str], progress: Progress
) -> tuple[dict[str, Any], BaseException | None]:
    """Follow the child's answers to the end: progress as it comes, the summary or error kept.
    A progress callback that raises (Streamlit stopping the page's run) is called no more and
    its exception handed back: the child is still read, so it never blocks on a full pipe."""
    answer: dict[str, Any] = {}
    interrupted: BaseException | None = None
    for line in stream:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            log.warning("Import child said: %s", line.rstrip())
            continue
        if "progress" not in event:
            answer.update(event)
        elif interrupted is None:
            try:
                progress(*event["progress"])
            except BaseException as exc:  # handed back once the child has finished
                interrupted = exc
    return answer, interrupted


def _record_stopped(request: dict[str, Any], ended: _Ended, message: str) -> jobs.JobSummary:
    """The stopped child's job failed with `message` (a job of its own when it died before
    creating one); audited like every import, once (a child that recorded its own failure
    audited it)."""
    with connect(request["db"], wait_seconds=_merge_wait()) as con, transaction(con):
        before = jobs.fail_jobs_of_process(con, ended.pid, ended.since, message)
        job_id = max(before, default=None)
        if job_id is None:
            job_id = jobs.create_job(
                con,
                file_name=request["file_name"],
                source=request["origin"],
                remote_path=request["remote_path"],
                user=request["user"],
                status="failed",
            )
            jobs.fail_job(con, job_id, message)
        if before.get(job_id) != "failed":
            detail = {
                "file": request["file_name"],
                "source": request["origin"],
                "remote_path": request["remote_path"],
                "job_id": job_id,
                "status": "failed",
                "message": message,
            }
            audit.log(con, request["user"], "import", detail)
    with connect(request["db"], wait_seconds=_merge_wait()) as con:
        return jobs.job_summary(con, job_id)


def _merge_wait() -> float:
    return pipeline.MERGE_WAIT_SECONDS


PREVIEW_STOPPED = (
    "Reading this file stopped unexpectedly; nothing was imported. Try again; if it stops "
    "again, save it as CSV, or tell your Yardstick administrator (the details are in the "
    "server log)."
)


def bounded_preview(
    path_or_stream: Source,
    *,
    preset: str = "auto",
    mapping: dict | None = None,
    rows: int = 10,
    db: str | os.PathLike | None = None,
    file_name: str | None = None,
    memory_limit: int | None | str = "setting",
) -> Preview:
    """`preview`, in this process for delimited text (only its first HEAD_BYTES are read), in
    a child under the import's memory limit for Excel and JSON (a workbook's shared strings
    and a JSON document are parsed whole, so a hostile one must not be parsed in the app).
    A child that runs out of memory or breaks gives a Preview refused with the reason."""
    name = file_name or _name_of(path_or_stream)
    if _head_is_text(path_or_stream):
        return preview(
            path_or_stream, preset=preset, mapping=mapping, rows=rows, db=db, file_name=name
        )
    limit = import_memory_limit() if memory_limit == "setting" else memory_limit
    work = Path(tempfile.mkdtemp(prefix="preview_"))
    try:
        path, _ = spool(path_or_stream, work)
        request = {
            "task": "preview",
            "path": str(Path(path).resolve()),
            "db": None if db is None else str(warehouse_path(db).resolve()),
            "file_name": name,
            "preset": preset,
            "mapping": mapping,
            "rows": rows,
            "memory_limit": limit,
        }
        ended = _run_child(request, work, lambda stage, fraction: None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    document = ended.result("preview")
    if document is not None:
        return _preview_from(document)
    ended.log(f"preview of {name}")
    return Preview(name, refused=memory_message(limit) if ended.out_of_memory else PREVIEW_STOPPED)


def _head_is_text(source: Source) -> bool:
    """Whether the file's first bytes say delimited text (not a workbook, not JSON)."""
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    else:
        source.seek(0)
        head = source.read(HEAD_BYTES)
        source.seek(0)
    try:
        if sniff_format(head) is not Format.CSV:
            return False
    except FileRefused:
        return True  # refused from its first bytes alone (.xls, PDF): nothing parsed
    return not decode_head(head, sniff_encoding(head)).lstrip().startswith(("[", "{"))


def _preview_document(seen: Preview) -> dict[str, Any]:
    """A Preview as JSON: its fields, the rows as columns + data (every cell text or null)."""
    document = {f.name: getattr(seen, f.name) for f in fields(Preview)}
    if seen.rows is not None:
        document["rows"] = {"columns": list(seen.rows.columns), "data": seen.rows.values.tolist()}
    return document


def _preview_from(document: dict[str, Any]) -> Preview:
    table = document.pop("rows")
    if table is not None:
        table = pd.DataFrame(table["data"], columns=table["columns"], dtype=object)
    return Preview(**document, rows=table)


# ---- the child ----------------------------------------------------------------------------


def limit_address_space(limit: int | None) -> None:
    """RLIMIT_AS for this process: an allocation beyond it fails (MemoryError in Python, an
    out-of-memory error in DuckDB) instead of growing until the machine swaps or the kernel's
    OOM killer picks a victim — perhaps the app."""
    if not limit:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _ran_out_of_memory(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, MemoryError | duckdb.OutOfMemoryException):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _raised_kind(exc: Exception) -> str | None:
    for kind, cls in _RAISED.items():  # most specific first
        if isinstance(exc, cls):
            return kind
    return None


def main() -> int:
    """The child: read the request on stdin, import, answer on stdout (see the module doc)."""
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else written to stdout (a library's print) goes to the log

    def say(**event: Any) -> None:
        try:
            answers.write(json.dumps(event, default=str) + "\n")
            answers.flush()
        except OSError:  # the parent is gone: the import still finishes, in Import history
            pass

    request = json.load(sys.stdin)
    limit_address_space(request.pop("memory_limit"))
    path = request.pop("path")
    try:
        if request.pop("task", "import") == "preview":
            say(preview=_preview_document(preview(path, **request)))
            return 0
        summary = import_file(path, progress=lambda s, f: say(progress=[s, f]), **request)
    except Exception as exc:
        if _ran_out_of_memory(exc):
            traceback.print_exc()  # to the parent's server log: where the allowance ran out
            say(out_of_memory=True)
            return 3
        kind = _raised_kind(exc)
        if kind is None:
            raise
        say(**{"raise": kind, "message": str(exc)})
        return 2
    say(summary=summary.to_dict())
    return 0
