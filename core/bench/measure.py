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


def run_child(args: list[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run `python ARGS…`; its wall time and its own peak resident memory."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, *args], env={**os.environ, **(env or {})}, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(seconds, usage.ru_maxrss / 1024, out.read(), err.read(), process.returncode)
