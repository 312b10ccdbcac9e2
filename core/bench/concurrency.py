"""Concurrent sessions: N people open the Standards page at once on a real `streamlit run`.

The sessions are websocket clients of Streamlit's own protocol (ui/bench_sessions.py, a child
process because it imports streamlit's protobufs): each signs in through the form, then all
open the Standards page at the same moment, and each is timed until the server has sent the
whole page. Headless Chromium tabs were tried first: twenty of them on the server's own two
cores spent most of the time drawing charts in the browsers (median 100 s, 17 of 20 timed out
while the suite ran alongside), which measures the browsers, not the server a school runs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from core.access.users import add_user, get_user
from core.warehouse import db

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "bench.viewer", "bench-only-passphrase-2026"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_healthy(url: str) -> bool:
    """Whether a `streamlit run` answers its health check yet: a server that is still
    starting refuses the connection, so any OSError means "not yet"."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def start_app(db_file: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "YARDSTICK_DB": str(db_file)}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not app_healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("streamlit did not start for the concurrency benchmark")
        time.sleep(0.2)
    return process, url


def measure_concurrency(db_file: Path, counts: tuple[int, ...] = (5, 20)) -> list[dict]:
    """Median and worst render time per number of simultaneous sessions, and failures (with
    their reasons)."""
    with db.connect(db_file) as con:
        schools = [row[0] for row in con.execute("select name from schools").fetchall()]
        if get_user(con, USER) is None:
            add_user(con, USER, "viewer", PASSWORD, by="bench", schools=schools)
    process, url = start_app(db_file)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "ui.bench_sessions", url, ",".join(map(str, counts)), USER],
            input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, check=False,
        )  # fmt: skip
        if run.returncode != 0:
            error = (run.stderr.strip().splitlines() or ["no output"])[-1][:300]
            return [{"sessions": n, "skipped": f"the session client failed: {error}"}
                    for n in counts]  # fmt: skip
        return json.loads(run.stdout)
    finally:
        process.terminate()
        process.wait(timeout=20)
