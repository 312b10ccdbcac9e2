"""Cached adapters for the comparison pages: the core functions keyed on the spec (as JSON), the
scope and the warehouse's data version, so a rerun with the same widgets reads no data and an
import or a settings change refreshes everything. Core stays the only place that computes."""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from core.access.scope import Scope
from core.alerts import watch_list
from core.cohorts.spec import CohortSpec, load_spec
from core.compare import between_cohorts, growth, subgroups
from core.warehouse import db
from ui.cohort_widgets import scope_key

CACHE = {"ttl": 900, "show_spinner": False, "max_entries": 64}


def _key(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple:
    return (scope_key(scope), db.data_version(con))


@st.cache_data(**CACHE)
def _prior(_con, _scope, spec: str, key: tuple, years_back: int | None) -> pd.DataFrame:
    return between_cohorts.prior_year_comparison(_con, load_spec(spec), _scope, years_back)


def prior(con, scope: Scope, spec: CohortSpec, years_back: int | None = None) -> pd.DataFrame:
    return _prior(con, scope, spec.to_json(), _key(con, scope), years_back)


@st.cache_data(**CACHE)
def _trend(_con, _scope, spec: str, key: tuple) -> pd.DataFrame:
    return between_cohorts.yearly_trend(_con, load_spec(spec), _scope)


def trend(con, scope: Scope, spec: CohortSpec) -> pd.DataFrame:
    return _trend(con, scope, spec.to_json(), _key(con, scope))


@st.cache_data(**CACHE)
def _pair(_con, _scope, spec_a: str, spec_b: str, key: tuple) -> pd.DataFrame:
    a, b = load_spec(spec_a), load_spec(spec_b)
    return between_cohorts.compare_cohorts(_con, a, b, _scope)


def pair(con, scope: Scope, spec_a: CohortSpec, spec_b: CohortSpec) -> pd.DataFrame:
    return _pair(con, scope, spec_a.to_json(), spec_b.to_json(), _key(con, scope))


@st.cache_data(**CACHE)
def _proficiency(_con, _scope, spec: str, year: str, key: tuple) -> pd.DataFrame:
    cohort = load_spec(spec)
    return between_cohorts.all_proficiency_changes(_con, _scope, school_years=[year], spec=cohort)


@st.cache_data(**CACHE)
def _widening(_con, gaps: pd.DataFrame, span: tuple[str, ...], since: str, key: tuple):
    return subgroups.widening_tests(gaps, list(span), since, con=_con)


def widening(con, gaps: pd.DataFrame, span: tuple[str, ...], since: str) -> pd.DataFrame:
    """subgroups.widening_tests of the gaps on the page (keyed on the gaps themselves; a quick
    cohort's tests read their fixed family)."""
    return _widening(con, gaps, span, since, db.data_version(con))


def proficiency(con, scope: Scope, spec: CohortSpec, year: str) -> pd.DataFrame:
    return _proficiency(
        con, scope, spec.replace(school_year=None).to_json(), year, _key(con, scope)
    )


@st.cache_data(**CACHE)
def _growth(_con, _scope, spec: str, from_: tuple, to: tuple, key: tuple) -> pd.DataFrame:
    return growth.matched_growth(_con, load_spec(spec), _scope, from_, to)


def matched(con, scope: Scope, spec: CohortSpec, from_: tuple, to: tuple) -> pd.DataFrame:
    return _growth(con, scope, spec.to_json(), tuple(from_), tuple(to), _key(con, scope))


@st.cache_data(**CACHE)
def _growth_grid(_con, _scope, spec: str, from_: tuple, to: tuple, key: tuple) -> pd.DataFrame:
    cohort = load_spec(spec)
    return growth.all_matched_growth(_con, _scope, from_, to, spec=cohort)


def matched_grid(con, scope: Scope, spec: CohortSpec, from_: tuple, to: tuple) -> pd.DataFrame:
    return _growth_grid(con, scope, spec.to_json(), tuple(from_), tuple(to), _key(con, scope))


@st.cache_data(**CACHE)
def _path(_con, _scope, spec: str, periods: tuple, key: tuple) -> pd.DataFrame:
    cohort = load_spec(spec)
    return growth.growth_trajectory(_con, cohort, _scope, list(periods))


def trajectory(con, scope: Scope, spec: CohortSpec, periods: list[tuple]) -> pd.DataFrame:
    return _path(con, scope, spec.to_json(), tuple(map(tuple, periods)), _key(con, scope))


@st.cache_data(**CACHE)
def _gaps(_con, _scope, spec: str, key: tuple) -> pd.DataFrame:
    return subgroups.subgroup_gaps(_con, load_spec(spec), _scope)


def gaps(con, scope: Scope, spec: CohortSpec) -> pd.DataFrame:
    return _gaps(con, scope, spec.replace(school_year=None).to_json(), _key(con, scope))


@st.cache_data(**CACHE)
def _watch(_con, _scope, spec: str, key: tuple) -> watch_list.WatchList:
    return watch_list.watch_list(_con, load_spec(spec), _scope)


def watch(con, scope: Scope, spec: CohortSpec) -> watch_list.WatchList:
    """The watch list of one school year and subject (students: only roles that see them)."""
    return _watch(con, scope, spec.to_json(), _key(con, scope))
