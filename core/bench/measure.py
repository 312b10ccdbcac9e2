"""Timing and memory measurement for the benchmark: best-of-N wall time, child-process peak RSS.

Peak memory comes from the kernel's rusage of one child process (os.wait4 → ru_maxrss), so each
measured step runs in its own `python …` process and nothing the parent holds inflates it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    returncode: int

    def json(self) -> Any:
        return json.loads(self.stdout)


def best_of(
    repeats: int, step: Callable[[], Any], before: Callable[[], None] | None = None
) -> tuple[float, Any]:
    """The fastest of `repeats` runs (the one least disturbed by the rest of the machine)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        if before:
            before()
        start = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - start)
    return best, result


# The measured command is started by a small launcher process, not forked from the benchmark
# itself: a child's ru_maxrss starts at its parent's resident size at fork time (the copied
# address space counts until exec), so a child forked from a benchmark holding 700 MB reported
# at least 700 MB whatever it used. The launcher is a fresh interpreter of ~10 MB.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\n{MARK} {usage.ru_maxrss}\\n")
sys.stderr.flush()
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""
_MARK = "__yardstick_child_peak_rss_kb__"


def run_child(args: list[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run `python ARGS…`; its wall time and its own peak resident memory."""
    launcher = _LAUNCHER.replace("{MARK}", _MARK)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", launcher, *args],
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=err,
        )
        returncode = process.wait()
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stderr, _, peak = err.read().rpartition(f"\n{_MARK} ")
        peak_kb = float(peak.strip() or 0)
        return ChildRun(seconds, peak_kb / 1024, out.read(), stderr.rstrip("\n"), returncode)
