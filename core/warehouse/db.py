"""Opening the warehouse: where it lives, its schema version, and sharing it between processes.

DuckDB lets one process hold a database file at a time. The app, the CLI import and the nightly
job are separate processes, so nobody keeps the file open for long: every unit of work opens it,
does its reads or its one write transaction, and closes it. A process that finds the file held
waits a bounded time and then raises `WarehouseBusyError`, which pages and the CLI show plainly.
Readers never see half an import because an import is a single transaction.

Opening the file costs ~50 ms (the catalog is read), and a page run does several units of work;
twenty people at once would queue on it. So the app (and only a long-running process that asks,
with `keep_open`) keeps the file open while it is in use and for a moment after, handing each
unit of work a cursor of the one open database. It lets go at once when another process is
waiting: a process that finds the file held leaves its pid in `<file>.waiting/` until it gets
in, and a holder that sees a waiter stops handing out cursors, closes the file when the last one
is returned, and holds back its own reopening until the waiter has had its turn.
"""

from __future__ import annotations

import importlib
import os
import re
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.warehouse import private_files

DEFAULT_DB = Path("data/yardstick.duckdb")
MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_WAIT_SECONDS = float(os.environ.get("YARDSTICK_BUSY_WAIT", "15"))
_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# Migrations whose data step needs Python (a replay of stored files): version → "module:function"
# taking the connection, run inside the migration's transaction right after its SQL file.
_PYTHON_STEPS = {11: "core.ingest.attribute_replay:rebuild_attribute_years"}
_migrated: set[str] = set()
_migrate_lock = threading.Lock()
# DuckDB shares one database instance per file within a process; two threads creating it at the
# same moment can collide ("Unique file handle conflict"), so opening is serialised per process.
_open_lock = threading.Lock()
_linger_seconds = 0.0  # see keep_open
_YIELD_SECONDS = 2.0  # how long a holder that let a waiter in stays away before reopening


class WarehouseError(RuntimeError):
    """A problem with the warehouse file that the user can act on."""


class WarehouseBusyError(WarehouseError):
    """Another process (an import, the nightly job) holds the warehouse right now."""


class SchemaTooNewError(WarehouseError):
    """The file was written by a newer Yardstick than this one."""


def warehouse_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: explicit path, else $YARDSTICK_DB, else data/yardstick.duckdb."""
    chosen = path or os.environ.get("YARDSTICK_DB") or DEFAULT_DB
    return Path(chosen).expanduser()


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc)
    if "unique file handle conflict" in text.lower():
        return True
    return "lock" in text.lower() and (
        "conflicting" in text.lower() or "could not set" in text.lower()
    )


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """DuckDB draws a progress bar on stdout for long queries even when stdout is not a
    terminal: that would corrupt `--json` output."""
    con.execute("set enable_progress_bar = false")
    return con


def default_memory_bytes() -> int:
    """A quarter of the machine's memory (the app, an import and the nightly job may each hold
    a warehouse connection at once, and the staging of an import has its own limit); in a
    process with an address-space limit (an upload's import child), a quarter of that, so
    DuckDB spills before the process is stopped."""
    quarter = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return quarter if soft == resource.RLIM_INFINITY else min(quarter, soft // 4)


def _limits(path: Path) -> dict[str, str]:
    """memory_limit ($YARDSTICK_DB_MEMORY, a DuckDB size such as "2GB"; default a quarter of
    the memory) and a temp_directory next to the file, private (0700), so that a query larger
    than the limit spills to disk instead of failing with OutOfMemory."""
    memory = os.environ.get("YARDSTICK_DB_MEMORY") or f"{default_memory_bytes() // 2**20}MiB"
    if str(path) == ":memory:":
        return {"memory_limit": memory}
    spill = private_files.private_dir(path.with_name(path.name + ".tmp"))
    return {"memory_limit": memory, "temp_directory": str(spill)}


def _open(path: Path, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    marker = None
    config = {**_CONFIG, **_limits(path)}
    try:
        while True:
            try:
                with _open_lock:
                    return _quiet(duckdb.connect(str(path), config=config))
            except (duckdb.IOException, duckdb.ResourceInUseException) as exc:
                if not _is_lock_error(exc):
                    raise WarehouseError(f"Cannot open the warehouse {path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        "The warehouse is busy with an import right now; try again in a moment."
                    ) from exc
                marker = marker or _announce_waiting(path)
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)


def _waiting_dir(path: Path) -> Path:
    return path.with_name(path.name + ".waiting")


def _announce_waiting(path: Path) -> Path | None:
    """Tell a process that keeps the file open (the app) that this one wants it."""
    marker = _waiting_dir(path) / str(os.getpid())
    try:
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
    except OSError:  # a read-only folder: the holder lets go after its linger anyway
        return None
    return marker


def _others_waiting(path: Path) -> bool:
    """A live process other than this one waits for the file (stale markers are removed)."""
    try:
        names = os.listdir(_waiting_dir(path))
    except OSError:
        return False
    for name in names:
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            os.kill(int(name), 0)
            return True
        except ProcessLookupError:
            with suppress(OSError):
                (_waiting_dir(path) / name).unlink()
        except PermissionError:  # alive, another user's
            return True
    return False


def keep_open(seconds: float) -> None:
    """Keep each warehouse open for `seconds` after its last unit of work in this process, and
    share one open database between threads (the app calls this; 0 turns it off)."""
    global _linger_seconds
    _linger_seconds = max(0.0, seconds)
    if not _linger_seconds:
        release_all()


@dataclass
class _Held:
    """One warehouse this process keeps open: the connection that anchors it, the cursors out."""

    anchor: duckdb.DuckDBPyConnection
    users: int = 0
    draining: bool = False
    timer: threading.Timer | None = None


_held: dict[Path, _Held] = {}
_away_until: dict[Path, float] = {}


def release_all() -> None:
    """Close every warehouse this process keeps open with no unit of work running."""
    with _open_lock:
        for path, held in list(_held.items()):
            if held.users == 0:
                _close_held(path, held)


def _close_held(path: Path, held: _Held) -> None:
    """Called with _open_lock held."""
    if held.timer is not None:
        held.timer.cancel()
    held.anchor.close()
    _held.pop(path, None)


def _expire(path: Path, held: _Held) -> None:
    with _open_lock:
        if _held.get(path) is held and held.users == 0:
            _close_held(path, held)


def _borrow(path: Path, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """A cursor of the open warehouse; opens it when needed. While another process waits for
    the file, no new cursor is handed out until it has been closed and the waiter let in."""
    deadline = time.monotonic() + wait_seconds
    while True:
        with _open_lock:
            held = _held.get(path)
            if held is not None and not held.draining and _others_waiting(path):
                held.draining = True
                if held.users == 0:
                    _close_held(path, held)
                    _away_until[path] = time.monotonic() + _YIELD_SECONDS
                    held = None
            if held is not None and not held.draining:
                if held.timer is not None:
                    held.timer.cancel()
                    held.timer = None
                held.users += 1
                return _quiet(held.anchor.cursor())
            stay_away = held is not None or (
                time.monotonic() < _away_until.get(path, 0.0) and _others_waiting(path)
            )
        if stay_away and time.monotonic() < deadline:
            time.sleep(0.02)
            continue
        anchor = _open(path, max(0.0, deadline - time.monotonic()))
        with _open_lock:
            if path in _held:  # another thread opened it meanwhile: the instance is shared
                anchor.close()
                continue
            held = _Held(anchor, users=1)
            _held[path] = held
            return _quiet(anchor.cursor())


def _give_back(path: Path, cursor: duckdb.DuckDBPyConnection) -> None:
    with _open_lock:
        cursor.close()
        held = _held.get(path)
        if held is None:
            return
        held.users -= 1
        if held.users > 0:
            return
        if held.draining or _others_waiting(path):
            _close_held(path, held)
            _away_until[path] = time.monotonic() + _YIELD_SECONDS
            return
        held.timer = threading.Timer(_linger_seconds, _expire, (path, held))
        held.timer.daemon = True
        held.timer.start()


@contextmanager
def connect(
    path: str | os.PathLike[str] | None = None, *, wait_seconds: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating and migrating it if needed) for one unit of work."""
    db = warehouse_path(path)
    if str(db) != ":memory:":
        private_files.make_dirs(db.parent)
        private_files.protect(db)  # before DuckDB creates a file: its .wal comes later
    wait = BUSY_WAIT_SECONDS if wait_seconds is None else wait_seconds
    if _linger_seconds and str(db) != ":memory:":
        key = db.resolve()
        con = _borrow(key, wait)
        try:
            ensure_schema(con, key=str(key))
            yield con
        finally:
            _give_back(key, con)
        return
    con = _open(db, wait)
    try:
        ensure_schema(con, key=str(db.resolve()) if str(db) != ":memory:" else None)
        yield con
    finally:
        with _open_lock:  # the last close tears the shared instance down: not while one opens
            con.close()


def memory() -> duckdb.DuckDBPyConnection:
    """A migrated in-memory warehouse (tests, benchmarks' baselines)."""
    con = _quiet(duckdb.connect(":memory:", config=_CONFIG))
    ensure_schema(con)
    return con


def migrations() -> list[tuple[int, str, Path]]:
    found = []
    for file in sorted(MIGRATIONS.glob("*.sql")):
        match = _MIGRATION_NAME.match(file.name)
        if match:
            found.append((int(match.group(1)), match.group(2), file))
    return found


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute("select coalesce(max(version), 0) from schema_version").fetchone()[0]


def ensure_schema(con: duckdb.DuckDBPyConnection, key: str | None = None) -> int:
    """Apply pending migrations, each in its own transaction; refuse a file from the future."""
    if key is not None and key in _migrated:
        return -1
    with _migrate_lock:
        applied = _applied_versions(con)
        known = migrations()
        newest = known[-1][0] if known else 0
        current = max(applied, default=0)
        if current > newest:
            raise SchemaTooNewError(
                f"This warehouse was written by a newer Yardstick (schema {current}; this version "
                f"knows up to {newest}). Upgrade Yardstick, or open another warehouse with --db."
            )
        # Every migration not yet applied, not only those above the highest applied: migrations
        # numbered in parallel may land out of order, and each must still reach every file.
        for version, name, file in known:
            if version not in applied:
                _apply(con, version, name, file)
        if key is not None:
            _migrated.add(key)
        return newest


def _applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    if schema_version(con) == 0:
        return set()
    return {row[0] for row in con.execute("select version from schema_version").fetchall()}


def _apply(con: duckdb.DuckDBPyConnection, version: int, name: str, file: Path) -> None:
    con.execute("begin transaction")
    try:
        con.execute(file.read_text(encoding="utf-8"))
        if version in _PYTHON_STEPS:
            module, function = _PYTHON_STEPS[version].split(":")
            getattr(importlib.import_module(module), function)(con)
        con.execute("insert into schema_version (version, name) values (?, ?)", [version, name])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One all-or-nothing write: commit on success, roll back on any exception."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def quote_identifier(name: str) -> str:
    """Escape an identifier for SQL; values are always bound as parameters instead."""
    return '"' + name.replace('"', '""') + '"'


def data_version(con: duckdb.DuckDBPyConnection) -> tuple:
    """Changes whenever an import lands or a setting/standard changes: the UI keys caches on it so
    results are live without recomputing on every rerun."""
    return con.execute(
        """
        select
            (select coalesce(max(job_id), 0) from import_jobs where status = 'completed'),
            (select coalesce(max(updated_at)::varchar, '') from settings),
            (select count(*) from assessments)
        """
    ).fetchone()
