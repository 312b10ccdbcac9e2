"""Cached adapters for the standards pages: core results keyed on the specs (as JSON), the scope,
the split and the warehouse's data version (which changes with every import, setting and upload
of standards), so reruns with the same widgets read no data. Core stays the only place that
computes."""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from core.access.scope import Scope
from core.catalog.cohort_options import Headcount, headcount, quick_cohorts
from core.cohorts import saved as saved_cohorts
from core.cohorts.spec import CohortSpec, load_spec
from core.standards.detail import Distribution, export_header, score_distribution
from core.standards.standing import cohort_vs_norm, standards_in_use
from core.warehouse import db
from core.warehouse.settings import min_group_size
from ui.cohort_widgets import scope_key

CACHE = {"ttl": 900, "show_spinner": False, "max_entries": 64}


def _key(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple:
    return (scope_key(scope), db.data_version(con))


@st.cache_data(**CACHE)
def _results(_con, _scope, specs: tuple[str, ...], by: tuple[str, ...], key: tuple) -> pd.DataFrame:
    return cohort_vs_norm(_con, [load_spec(s) for s in specs], _scope, by=by)


def results(
    con: duckdb.DuckDBPyConnection, scope: Scope, specs: list[CohortSpec], by: tuple[str, ...]
) -> pd.DataFrame:
    return _results(con, scope, tuple(s.to_json() for s in specs), by, _key(con, scope))


@st.cache_data(**CACHE)
def _distribution(_con, _scope, spec: str, key: tuple) -> Distribution:
    return score_distribution(_con, load_spec(spec), _scope)


def distribution(con: duckdb.DuckDBPyConnection, scope: Scope, spec: CohortSpec) -> Distribution:
    return _distribution(con, scope, spec.to_json(), _key(con, scope))


@st.cache_data(**CACHE)
def _headcount(_con, _scope, spec: str, key: tuple) -> Headcount:
    return headcount(_con, load_spec(spec), _scope, min_group_size(_con))


def members(con: duckdb.DuckDBPyConnection, scope: Scope, spec: CohortSpec) -> Headcount:
    return _headcount(con, scope, spec.to_json(), _key(con, scope))


@st.cache_data(**CACHE)
def _quick(_con, _scope, key: tuple) -> list[CohortSpec]:
    return quick_cohorts(_con, _scope)


def quick(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[CohortSpec]:
    return _quick(con, scope, _key(con, scope))


def saved(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[saved_cohorts.SavedCohort]:
    """Not cached: a save / rename / delete must show at once (a small table)."""
    return saved_cohorts.list_cohorts(con, scope)


def header(
    con: duckdb.DuckDBPyConnection, scope: Scope, specs: list[CohortSpec], by: tuple[str, ...]
) -> dict[str, str]:
    return export_header(standards_in_use(con), specs, scope, by)
