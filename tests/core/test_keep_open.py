"""The app keeps the warehouse open between units of work (core.warehouse.db.keep_open) yet lets
another process in: at once when that process waits for it, and after the linger when idle."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.warehouse import db
from tests.conftest import wait_until

REPO = Path(__file__).resolve().parents[2]
WRITE = """
import sys, time
from core.warehouse import db
from tests.conftest import wait_until
start = time.monotonic()
with db.connect(sys.argv[1], wait_seconds=float(sys.argv[2])) as con:
    con.execute("insert into schools (school_id, name) values (901, 'Writer School')")
print(time.monotonic() - start)
"""


def write_from_another_process(path: Path, wait_seconds: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WRITE, str(path), str(wait_seconds)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def schools(path: Path) -> int:
    with db.connect(path) as con:
        return con.execute("select count(*) from schools").fetchone()[0]


@pytest.fixture
def kept_open(db_path: Path):
    with db.connect(db_path):
        pass
    yield db_path
    db.keep_open(0)


def test_units_of_work_share_one_open_database(kept_open: Path) -> None:
    db.keep_open(30)
    with db.connect(kept_open) as first:
        first.execute("insert into schools (school_id, name) values (1, 'Adams')")
    held = dict(db._held)
    with db.connect(kept_open) as second:
        assert second.execute("select name from schools").fetchall() == [("Adams",)]
    assert db._held == held and len(held) == 1  # the same database, not reopened
    db.keep_open(0)
    assert db._held == {}
    assert write_from_another_process(kept_open, 0).returncode == 0  # the file was let go


def test_an_idle_app_lets_go_after_its_linger(kept_open: Path) -> None:
    db.keep_open(2.0)
    assert schools(kept_open) == 0
    assert kept_open.resolve() in db._held  # kept open after the unit of work …
    wait_until(lambda: not db._held, 30, "the idle app to let the warehouse go")  # … then not
    run = write_from_another_process(kept_open, 0)  # no waiting at all
    assert run.returncode == 0, run.stderr
    assert schools(kept_open) == 1


def test_a_waiting_process_gets_in_while_the_app_is_busy(kept_open: Path) -> None:
    """Readers keep borrowing the warehouse without pause; a writer in another process still
    gets in within a few seconds, and readers see the count before or after, never an error
    other than the friendly busy one."""
    db.keep_open(30)
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.append(schools(kept_open))
            except db.WarehouseBusyError:
                pass
            except BaseException as exc:  # noqa: BLE001 - the test reports any other error
                errors.append(exc)
            time.sleep(0.005)  # pacing the readers, not a wait for a condition

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(seen) >= 10 and db._held, 60, "the readers to hold the warehouse")
        run = write_from_another_process(kept_open, 20)
        read_before = len(seen)
        wait_until(lambda: len(seen) >= read_before + 3, 60, "reads after the writer finished")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    # with a 30 s linger and readers that never pause, only the app letting go for the waiting
    # writer (and keeping away meanwhile) lets it in before its own 20 s wait runs out
    assert run.returncode == 0, run.stderr
    assert kept_open.resolve() in db._away_until  # the app yielded to the waiter
    assert errors == []
    assert set(seen) == {0, 1} and seen[-1] == 1
