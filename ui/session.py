"""What every page needs from the session: the warehouse, the signed-in user's scope, the user.

Pages open the warehouse per use (`with warehouse() as con:`) instead of holding it, so a CLI
import or the nightly job can write between reruns; when the file is busy the page says so and
stops instead of crashing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import streamlit as st

from core.access.scope import Scope
from core.warehouse import db
from core.words.markup import literal


def db_path() -> Path:
    return db.warehouse_path()


@contextmanager
def warehouse_errors(advice: str = "Wait a moment, then reload.") -> Iterator[None]:
    """Around any core call that opens the warehouse itself (an import, a preview): a busy or
    unreadable file becomes a message that ends the run, not a traceback."""
    try:
        yield
    except db.WarehouseBusyError:
        st.warning(f"⏳ The warehouse is busy with an import right now. {advice}")
        st.stop()
    except db.WarehouseError as exc:
        st.error(f"The warehouse cannot be opened: {literal(str(exc))}")
        st.stop()


@contextmanager
def warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for one block of work; a busy or unreadable file becomes a message."""
    with warehouse_errors(), db.connect(db_path()) as con:
        yield con


def scope() -> Scope:
    """The signed-in user's scope, set by the sign-in gate; no scope means no data."""
    current = st.session_state.get("scope")
    if not isinstance(current, Scope):
        st.error("Please sign in to see this page.")
        st.stop()
    return current


def username() -> str:
    return st.session_state.get("username") or scope().username


def data_version() -> tuple:
    """Cache key part that changes when the warehouse's content does."""
    with warehouse() as con:
        return db.data_version(con)


def rerun_with_success(key: str, text: str) -> None:
    """Rerun the page so it reads a change back, and say `text` once in that run (the page
    calls `show_rerun_success(key)` near its top): a message shown before st.rerun is lost."""
    st.session_state[key] = text
    st.rerun()


def show_rerun_success(key: str) -> None:
    """The success message a change left for this run (`rerun_with_success`), shown once."""
    text = st.session_state.pop(key, None)
    if text:
        st.success(text)
