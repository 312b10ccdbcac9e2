"""Run by `python -m core bench` in a child process: render every page with AppTest on the
benchmark warehouse, cold (fresh process, empty caches) then warm (the same session again).
Lives in ui/ because it drives Streamlit; core only reads the JSON it prints."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.access.scope import DISTRICT
from ui.navigation import PAGES

ROOT = Path(__file__).resolve().parents[1]


def render(path: str) -> dict:
    app = AppTest.from_file(str(ROOT / path), default_timeout=300)
    app.session_state["scope"] = DISTRICT
    app.session_state["username"] = "bench"
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        app.run()
        timings.append(time.perf_counter() - start)
    errors = [str(e.value)[:200] for e in app.exception]
    return {"cold_s": timings[0], "warm_s": timings[1], "errors": errors}


def main(db_file: str) -> dict:
    os.environ["YARDSTICK_DB"] = db_file
    return {entry.title: render(entry.path) for entry in PAGES}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
