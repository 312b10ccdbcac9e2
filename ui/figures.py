"""Charts and download files built once per input, shared by every session.

Building an Altair chart and validating its Vega-Lite spec, or writing an Excel file, costs a
few hundred milliseconds of the server's CPU on each script run; twenty people on the same page
would pay it twenty times over (`python -m core bench`'s concurrency figure). Keyed on the
builder and its inputs (the frames the page shows), so a new import or another cohort builds
anew and the same view never does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import streamlit as st

from core.exports.tables import xlsx_bytes

CACHE = {"show_spinner": False, "max_entries": 256, "ttl": 3600}


@st.cache_data(**CACHE)
def _spec(_build: Callable[..., alt.TopLevelMixin], name: str, args: tuple, kwargs: dict) -> dict:
    return _build(*args, **kwargs).to_dict()  # validated once, here


def chart(build: Callable[..., alt.TopLevelMixin], *args: Any, **kwargs: Any) -> None:
    """`st.altair_chart(build(*args, **kwargs))`, with the spec built once per input."""
    name = f"{build.__module__}.{build.__qualname__}"  # the key (a function is not hashable)
    st.vega_lite_chart(_spec(build, name, args, kwargs), width="stretch")


@st.cache_data(**CACHE)
def xlsx(*args: Any, **kwargs: Any) -> bytes:
    """core.exports.tables.xlsx_bytes, written once per table and header."""
    return xlsx_bytes(*args, **kwargs)
