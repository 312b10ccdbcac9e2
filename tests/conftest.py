"""Shared fixtures: a migrated warehouse, isolated secrets, a page run as a signed-in user
(AppTest), a real `streamlit run`, a browser.

Browser tests use Debian's Chromium (/usr/bin/chromium) through Playwright; nothing downloads.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import playwright.sync_api
import pytest

from core.bench.concurrency import app_healthy
from core.warehouse import db

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

    from core.access.scope import Scope

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(autouse=True)
def secrets_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets its own secrets file and keys, never the developer's."""
    folder = tmp_path_factory.mktemp("secrets")
    path = folder / "secrets.toml"
    monkeypatch.setenv("YARDSTICK_SECRETS", str(path))
    monkeypatch.setenv("YARDSTICK_FERNET_KEY", "Tyk6KOMZhdWeXPGMTRfKjPHU5fMxuwp8lR4teFbC3iI=")
    monkeypatch.setenv("YARDSTICK_COOKIE_KEY", "test-cookie-key-not-secret-32-bytes-long")
    yield path
    db.keep_open(0)  # app.py run in-process (AppTest) keeps warehouses open: not past its test


@pytest.fixture
def con():
    """A migrated in-memory warehouse."""
    connection = db.memory()
    yield connection
    connection.close()


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary warehouse file (created and migrated), also exported as YARDSTICK_DB."""
    path = tmp_path / "warehouse" / "yardstick.duckdb"
    monkeypatch.setenv("YARDSTICK_DB", str(path))
    with db.connect(path):
        pass
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll a condition (never a fixed sleep); fail with what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def streamlit_app(tmp_path: Path) -> Iterator[Callable[..., AppServer]]:
    """Factory: a real `streamlit run app.py` on a given warehouse, stopped afterwards."""
    started: list[AppServer] = []

    def start(warehouse: Path, extra_env: dict[str, str] | None = None) -> AppServer:
        port = free_port()
        log = tmp_path / f"streamlit-{port}.log"
        env = {**os.environ, "YARDSTICK_DB": str(warehouse), **(extra_env or {})}
        command = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true", "--server.address", "127.0.0.1",
            "--server.port", str(port), "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        handle = log.open("w")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=handle)
        server = AppServer(f"http://127.0.0.1:{port}", process, log)
        started.append(server)
        wait_until(lambda: app_healthy(server.url) or process.poll() is not None, 60, "streamlit")
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{server.output()}")
        return server

    yield start
    for server in started:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run scripts/test.sh (it installs it).")
    with playwright.sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def serve_warehouse(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`path` as the app's warehouse ($YARDSTICK_DB) for AppTest pages, Streamlit's caches empty
    (a cached result of another test's warehouse must not answer)."""
    import streamlit as st

    monkeypatch.setenv("YARDSTICK_DB", str(path))
    st.cache_data.clear()
    return path


def run_page(
    page: str,
    scope: Scope,
    *,
    timeout: float = 60,
    state: dict[str, object] | None = None,
    query: dict[str, str] | None = None,
) -> AppTest:
    """`page` (a path from the repository root, as the app registers it) run in AppTest the way
    a signed-in user opens it: app.py's sign-in leaves the scope and the user name in session
    state. `state` presets more session state (a picker's pending value), `query` the URL's
    query parameters (an insight link's `?spec=`)."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / page), default_timeout=timeout)
    app.session_state["scope"] = scope
    app.session_state["username"] = scope.username
    for key, value in (state or {}).items():
        app.session_state[key] = value
    app.query_params.update(query or {})
    return app.run()
