"""An exception in a page never shows a traceback: the person reads a plain message with a short
error id, and the traceback goes to the server log under that id, so an administrator can find
it from what the person tells them.

app.py runs the sign-in gate and the page inside `reported()`. Whatever escapes it (a widget
callback runs before the page) meets `client.showErrorDetails = "none"` in
.streamlit/config.toml: Streamlit's own generic message, the details only in the server log.
"""

from __future__ import annotations

import logging
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import streamlit as st

MESSAGE = (
    "Something went wrong on this page (error id {error_id}). Try again; if it keeps happening, "
    "give this id to your Yardstick administrator."
)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
log = logging.getLogger("yardstick.app")
_handler_lock = threading.Lock()


@contextmanager
def reported() -> Iterator[None]:
    """Catch what a page raises: st.rerun, st.stop and st.switch_page end a run by raising
    Streamlit's ScriptControlException, a BaseException, so they pass through untouched."""
    _log_to_server()
    try:
        yield
    except Exception:
        error_id = secrets.token_hex(3)
        log.exception(
            "error id %s: a page failed (user %s)",
            error_id,
            st.session_state.get("username") or "not signed in",
        )
        st.error(MESSAGE.format(error_id=error_id))


def _log_to_server() -> None:
    """The "yardstick" loggers write to the server's stderr with a time stamp: these errors and
    core's notices (a file made private at start-up). Once per process."""
    parent = logging.getLogger("yardstick")
    with _handler_lock:
        if not parent.handlers:
            handler = _Stderr()
            handler.setFormatter(logging.Formatter(LOG_FORMAT))
            parent.addHandler(handler)
            parent.setLevel(logging.INFO)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged (as logging's last-resort handler
    does), not the stream it found when it was made: a replaced stderr is followed."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass
