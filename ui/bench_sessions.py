"""Run by `python -m core bench` in a child process: N people on a real `streamlit run` sign in
and then open the Standards page at the same moment; each open is timed until the server has
sent the whole page (its `script_finished`).

Each session speaks Streamlit's own websocket protocol (the BackMsg / ForwardMsg protobufs the
browser sends and receives), so the figure is the server's: twenty headless Chromium tabs on the
same two cores would mostly measure the browsers drawing charts, which a real user's own machine
does. A hand-written client because no library speaks this protocol; it lives in ui/ because it
imports streamlit's protobufs (core never imports streamlit).
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
# The page's results summary (or its 'nothing matches' note) marks a finished render.
RESULT = re.compile(r"comparisons? tested|No scores match")
TIMEOUT_S = 180.0


@dataclass
class Run:
    """What one script run sent: its widgets by label, its text, and any exception."""

    widgets: dict[str, str] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)


class Session:
    """One browser tab's worth of protocol: connect, rerun with widget values, read a run."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pages: dict[str, str] = {}  # page name → script hash

    async def __aenter__(self) -> Session:
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.socket = await connect(
            ws_url, subprotocols=["streamlit"], origin=self.url, max_size=None
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.socket.close()

    async def rerun(self, page: str = "", widgets: dict[str, object] | None = None) -> Run:
        message = BackMsg()
        state = message.rerun_script
        state.page_script_hash = self.pages.get(page, "")
        for widget_id, value in (widgets or {}).items():
            widget = state.widget_states.widgets.add(id=widget_id)
            if value is True:
                widget.trigger_value = True
            else:
                widget.string_value = str(value)
        await self.socket.send(message.SerializeToString())
        return await self._read_run()

    async def _read_run(self) -> Run:
        """Messages until a run finishes successfully (a run the app itself restarts with
        st.rerun is followed by the one that counts)."""
        run = Run()
        while True:
            raw = await asyncio.wait_for(self.socket.recv(), TIMEOUT_S)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                _collect(msg.delta.new_element, run)
            elif kind == "script_finished":
                if msg.script_finished == FINISHED:
                    return run
                run = Run()


def _collect(element, run: Run) -> None:
    kind = element.WhichOneof("type")
    body = getattr(element, kind)
    if kind == "exception":
        run.exceptions.append(f"{body.type}: {body.message}"[:200])
    elif hasattr(body, "label") and hasattr(body, "id") and body.id:
        run.widgets[body.label] = body.id
    elif hasattr(body, "body") and isinstance(body.body, str):
        run.text.append(body.body)


async def _sign_in(session: Session, user: str, password: str) -> None:
    form = await session.rerun()
    missing = {"Username", "Password", "Sign in"} - form.widgets.keys()
    if missing:
        raise RuntimeError(f"no sign-in form (missing {sorted(missing)}): {form.text[:3]}")
    home = await session.rerun(
        widgets={
            form.widgets["Username"]: user,
            form.widgets["Password"]: password,
            form.widgets["Sign in"]: True,
        }
    )
    if not any(f"Signed in as **{user}**" in text for text in home.text):
        raise RuntimeError(f"sign-in failed: {home.text[:3]}")


async def _open_standards(url: str, user: str, password: str, ready: asyncio.Barrier) -> float:
    async with Session(url) as session:
        try:
            await _sign_in(session, user, password)
        finally:
            await ready.wait()  # a session that failed still releases the others
        start = time.perf_counter()
        page = await session.rerun("Standards")
        elapsed = time.perf_counter() - start
        if page.exceptions:
            raise RuntimeError(f"the page raised {page.exceptions[0]}")
        if not any(RESULT.search(text) for text in page.text):
            raise RuntimeError(f"no results on the page: {page.text[:3]}")
        return elapsed


def _reason(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:200]


async def _sessions(url: str, count: int, user: str, password: str) -> dict:
    ready = asyncio.Barrier(count)
    results = await asyncio.gather(
        *(_open_standards(url, user, password, ready) for _ in range(count)),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, float)]
    errors = [_reason(r) for r in results if not isinstance(r, float)]
    return {
        "sessions": count,
        "median_s": statistics.median(ok) if ok else None,
        "worst_s": max(ok) if ok else None,
        "failures": len(errors),
        "errors": sorted(set(errors)),
        "client": "websocket",
    }


def main(url: str, counts: list[int], user: str, password: str) -> list[dict]:
    return [asyncio.run(_sessions(url, count, user, password)) for count in counts]


if __name__ == "__main__":
    url, counts, user = sys.argv[1], sys.argv[2], sys.argv[3]
    password = sys.stdin.readline().strip()  # not on the command line, where `ps` shows it
    print(json.dumps(main(url, [int(c) for c in counts.split(",")], user, password)))
