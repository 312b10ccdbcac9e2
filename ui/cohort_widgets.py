"""Cohort widgets shared by the builder, standards and comparison pages.

`cohort_picker(con, scope, key)` draws the spec widgets (school years, schools, grade, subject,
season, and a filter for every attribute the warehouse holds) and returns the CohortSpec they
describe. `load_into_picker(key, spec)` (usable as a button callback) fills the widgets from a
saved or quick cohort on the next run. Options are cached per scope and data version.
"""

from __future__ import annotations

from typing import Any

import duckdb
import streamlit as st

from core.access.scope import Scope
from core.catalog.cohort_options import (
    CohortOptions,
    attribute_label,
    cohort_attributes,
    cohort_options,
)
from core.cohorts.spec import BOOLEAN_ATTRIBUTES, CohortSpec
from core.warehouse import db
from core.words.markup import literal

DIMENSIONS = (
    ("school_year", "School year(s)", "school_years"),
    ("schools", "School(s)", "schools"),
    ("grade", "Grade(s)", "grades"),
    ("subject", "Subject(s)", "subjects"),
    ("season", "Season(s)", "seasons"),
)
_YES_NO = {
    "true": "Yes (this school year)",
    "false": "No (this school year)",
    "ever": "Ever (this or an earlier year)",
    "former": "Former (earlier year, not this one)",
}


def scope_key(scope: Scope) -> tuple:
    """A hashable stand-in for a Scope in cache keys."""
    return (scope.username, scope.role, scope.schools, scope.sections)


@st.cache_data(ttl=900, show_spinner=False, max_entries=64)
def cached_options(
    _con: duckdb.DuckDBPyConnection, _scope: Scope, key: tuple, version: tuple
) -> tuple[CohortOptions, dict[str, list[str]]]:
    return cohort_options(_con, _scope), cohort_attributes(_con, _scope)


def picker_choices(
    con: duckdb.DuckDBPyConnection, scope: Scope
) -> tuple[CohortOptions, dict[str, list[str]]]:
    return cached_options(con, scope, scope_key(scope), db.data_version(con))


def load_into_picker(key: str, spec: CohortSpec) -> None:
    """Fill the picker `key` from a spec from the next run on (a callback, or before a rerun),
    until a person changes one of its widgets."""
    st.session_state[f"{key}:pending"] = spec.to_dict()


def _keep_changed(key: str) -> None:
    """A person changed a picker widget: the loaded spec stops holding the widgets."""
    st.session_state.pop(f"{key}:pending", None)


def _apply_pending(key: str, options: CohortOptions, attributes: dict[str, list[str]]) -> None:
    """Set the widgets to the loaded spec on every run until a person changes one. Set once, the
    values can be lost to the browser: a run that set them and is followed at once by another
    (the cookie component reruns the app after a sign-in) may never be drawn, and the browser
    then draws the next run's widgets empty while the server holds the spec."""
    pending = st.session_state.get(f"{key}:pending")
    if pending is None:
        return
    spec = CohortSpec.from_dict(pending)
    for name, _, attr in DIMENSIONS:
        allowed = getattr(options, attr)
        st.session_state[f"{key}:{name}"] = [v for v in getattr(spec, name) if v in allowed]
    chosen = spec.filter_dict
    for name, values in attributes.items():
        st.session_state[f"{key}:f:{name}"] = [v for v in chosen.get(name, ()) if v in values]
    st.session_state[f"{key}:loaded"] = spec


def _dimension_widgets(key: str, options: CohortOptions, columns: Any) -> dict[str, list[str]]:
    chosen: dict[str, list[str]] = {}
    for column, (name, label, attr) in zip(columns, DIMENSIONS, strict=True):
        values = list(getattr(options, attr))
        widget = f"{key}:{name}"
        if widget not in st.session_state:
            st.session_state[widget] = values[-1:] if name == "school_year" else []
        chosen[name] = column.multiselect(
            label,
            values,
            key=widget,
            placeholder="All",
            help="Leave empty for all.",
            on_change=_keep_changed,
            args=(key,),
        )
    return chosen


def _yes_no(value: str) -> str:
    return _YES_NO.get(value, value)


def _filter_widgets(key: str, attributes: dict[str, list[str]]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    active = sum(bool(st.session_state.get(f"{key}:f:{n}")) for n in attributes)
    title = f"Student filters ({active} active)" if active else "Student filters"
    with st.expander(title, expanded=bool(active)):
        if not attributes:
            st.caption("No student attributes are loaded yet.")
        columns = st.columns(3)
        for index, (name, values) in enumerate(attributes.items()):
            picked = columns[index % 3].multiselect(
                literal(attribute_label(name)),
                values,
                key=f"{key}:f:{name}",
                placeholder="Any",
                format_func=_yes_no if name in BOOLEAN_ATTRIBUTES else str,
                on_change=_keep_changed,
                args=(key,),
            )
            if picked:
                filters[name] = picked
    return filters


def cohort_picker(con: duckdb.DuckDBPyConnection, scope: Scope, key: str) -> CohortSpec:
    """The spec widgets; returns the CohortSpec they describe (empty widget = "all")."""
    options, attributes = picker_choices(con, scope)
    _apply_pending(key, options, attributes)
    chosen = _dimension_widgets(key, options, st.columns(len(DIMENSIONS)))
    filters = _filter_widgets(key, attributes)
    spec = CohortSpec.from_dict({**chosen, "filters": filters})
    loaded = st.session_state.get(f"{key}:loaded")
    # A loaded cohort keeps its name only while the widgets still describe it.
    if isinstance(loaded, CohortSpec) and loaded.replace(name="") == spec:
        return loaded
    return spec


def spec_caption(spec: CohortSpec) -> str:
    """One line saying what a spec covers, for captions and download file headers."""
    return spec.label()
