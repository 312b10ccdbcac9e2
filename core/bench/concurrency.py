"""Concurrent sessions: N people open the Standards page at once on a real `streamlit run`.

Each session is its own headless Chromium context (Debian's /usr/bin/chromium; nothing is
downloaded) that signs in, then opens the page; the time from navigation to the first results
table is the render time. Playwright is a test dependency: without it this part reports why it
was skipped instead of failing the whole benchmark.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from core import db
from core.users import add_user, get_user

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "bench.viewer", "bench-only-passphrase-2026"
# The page's results summary (or its 'nothing matches' note) marks a finished render.
RESULT = re.compile(r"comparisons tested|No scores match")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
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
    while not _healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("streamlit did not start for the concurrency benchmark")
        time.sleep(0.2)
    return process, url


async def _settle(page) -> None:
    """Wait for the sign-in cookie component's own rerun to finish: Streamlit drops a form
    submitted while a run is cut short (see tests/browser/test_sign_in.py)."""
    frame = page.frame_locator('iframe[title$="CookieManager.cookie_manager"]')
    await frame.locator("#root > *").first.wait_for(state="attached")
    await page.locator('[data-test-script-state="notRunning"]').first.wait_for(state="attached")


async def _session(browser, url: str, ready: asyncio.Barrier) -> float:
    """Sign in and let the home page settle, wait for every other session, then all open the
    Standards page at the same moment: the measured time is that page alone under load."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        page.set_default_timeout(180_000)
        await page.goto(url)
        await _settle(page)
        await page.get_by_label("Username").fill(USER)
        await page.get_by_label("Password", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_text(f"Signed in as {USER}").wait_for()
        await page.get_by_text("What needs attention").wait_for()
        await page.get_by_text("Checking every cohort").wait_for(state="hidden")
        await ready.wait()
        start = time.perf_counter()
        await page.goto(f"{url}/standards")
        await page.get_by_text(RESULT).first.wait_for()
        return time.perf_counter() - start
    finally:
        await context.close()


async def _sessions(url: str, count: int) -> list[float | None]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ready = asyncio.Barrier(count)
        results = await asyncio.gather(
            *(_session(browser, url, ready) for _ in range(count)), return_exceptions=True
        )
        await browser.close()
    return [r if isinstance(r, float) else None for r in results]


def measure_concurrency(db_file: Path, counts: tuple[int, ...] = (5, 20)) -> list[dict]:
    """Median and worst render time per number of simultaneous sessions, and failures."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return [{"sessions": n, "skipped": "playwright is not installed"} for n in counts]
    if not Path(CHROMIUM).exists():
        return [{"sessions": n, "skipped": f"{CHROMIUM} is missing"} for n in counts]
    with db.connect(db_file) as con:
        schools = [row[0] for row in con.execute("select name from schools").fetchall()]
        if get_user(con, USER) is None:
            add_user(con, USER, "viewer", PASSWORD, by="bench", schools=schools)
    process, url = start_app(db_file)
    try:
        out = []
        for count in counts:
            times = asyncio.run(_sessions(url, count))
            ok = [t for t in times if t is not None]
            out.append({
                "sessions": count,
                "median_s": statistics.median(ok) if ok else None,
                "worst_s": max(ok) if ok else None,
                "failures": len(times) - len(ok),
            })  # fmt: skip
        return out
    finally:
        process.terminate()
        process.wait(timeout=20)
