"""A message carried across reruns to the sign-in screen ("You are signed out.", "Account …
created. Sign in below."). Its own module because both the sign-in gate (ui/auth.py) and the
first-run set-up it draws (ui/first_run.py) write it; imports run auth → first_run → flash."""

from __future__ import annotations

import streamlit as st

_MESSAGE = "auth_message"  # (kind, text) shown above the sign-in form


def flash(kind: str, text: str) -> None:
    """A message shown above the sign-in form until the next sign-in."""
    st.session_state[_MESSAGE] = (kind, text)


def show() -> None:
    kind, text = st.session_state.get(_MESSAGE, (None, None))
    if text:
        {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)(text)


def clear() -> None:
    st.session_state.pop(_MESSAGE, None)
