"""Cached adapters: core results keyed by the warehouse's data version and the caller's scope, so
pages stay live (a new import changes the key) without recomputing on every rerun."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access.scope import Scope
from core.alerts.detect import current_alerts
from core.catalog.overview import WarehouseSummary, warehouse_summary
from ui.session import data_version, warehouse


@st.cache_data(show_spinner=False, max_entries=64)
def _summary(scope: Scope, version: tuple) -> WarehouseSummary:
    with warehouse() as con:
        return warehouse_summary(con, scope)


@st.cache_data(show_spinner="Checking every cohort for changes…", max_entries=64)
def _alerts(scope: Scope, version: tuple, grouped: bool) -> pd.DataFrame:
    with warehouse() as con:
        return current_alerts(con, scope, grouped=grouped)


def summary(scope: Scope) -> WarehouseSummary:
    return _summary(scope, data_version())


def alerts(scope: Scope, *, grouped: bool = False) -> pd.DataFrame:
    """The current alerts; `grouped`: one per cohort across seasons (a home page's list)."""
    return _alerts(scope, data_version(), grouped)
