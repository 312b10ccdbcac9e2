"""Streamlit pieces of the district benchmarks page: cached adapters over core, the coloured
districts table, the profile's metric tiles, and audited CSV / XLSX downloads. Core computes;
nothing here touches SQL."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.access import audit
from core.access.scope import Scope
from core.districts import words as words
from core.districts.benchmarks import (
    METRIC_BY_KEY,
    METRICS,
    Benchmarks,
    average_history,
    benchmark_states,
    benchmark_years,
    district_benchmarks,
    district_data_version,
    district_history,
)
from core.exports.tables import csv_bytes
from core.words.markup import literal
from ui import figures
from ui.session import warehouse

CACHE = {"ttl": 900, "show_spinner": False, "max_entries": 64}
VIEWS = ("Values", "vs state", "vs nation", "3-year trends", "Quartile flags")
VIEW_SUFFIX = {
    "Values": "",
    "vs state": "_vs_state",
    "vs nation": "_vs_national",
    "Quartile flags": "_quartile_state",
}
READING_STYLE = {"good": "background-color: #d9f0d3", "bad": "background-color: #f6d5e8"}
DELTA_COLOR = {"good": "normal", "bad": "inverse", "neutral": "off"}
FLAG_LABELS = {
    "well_above": "well above",
    "above": "above",
    "below": "below",
    "well_below": "well below",
}
FLAG_OPTIONS = [(m.key, label) for m in METRICS for label in FLAG_LABELS]


def _version() -> tuple:
    with warehouse() as con:
        return district_data_version(con)


@st.cache_data(**CACHE)
def _years(_scope: Scope, version: tuple) -> list[int]:
    with warehouse() as con:
        return benchmark_years(con, _scope)


@st.cache_data(**CACHE)
def _states(_scope: Scope, year: int, version: tuple) -> list[str]:
    with warehouse() as con:
        return benchmark_states(con, _scope, year)


@st.cache_data(**CACHE)
def _benchmarks(_scope: Scope, state: str, year: int, version: tuple) -> Benchmarks:
    with warehouse() as con:
        return district_benchmarks(con, _scope, state=state, year=year)


@st.cache_data(**CACHE)
def _history(_scope: Scope, district_id: str, state: str, version: tuple) -> tuple:
    with warehouse() as con:
        return district_history(con, _scope, district_id), average_history(con, _scope, state)


def years(scope: Scope) -> list[int]:
    return _years(scope, _version())


def states(scope: Scope, year: int) -> list[str]:
    return _states(scope, year, _version())


def benchmarks(scope: Scope, state: str, year: int) -> Benchmarks:
    return _benchmarks(scope, state, year, _version())


def history(scope: Scope, district_id: str, state: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the district's years, its state's and the nation's averages for every year)."""
    return _history(scope, district_id, state, _version())


def flag_text(option: tuple[str, str]) -> str:
    metric, label = option
    return f"{METRIC_BY_KEY[metric].label}: {FLAG_LABELS[label]}"


def _view_columns(view: str) -> dict[str, str]:
    """Source column → header for one view of the table."""
    if view == "3-year trends":
        return {m.trend_key: f"{m.label} (3-yr)" for m in METRICS}
    suffix = VIEW_SUFFIX[view]
    return {f"{m.key}{suffix}": m.label for m in METRICS}


def _styles(districts: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Cell colours for the notably high or low (top or bottom quartile of the state): green when
    that is favourable, pink when not; the values and flags views only."""
    styles = pd.DataFrame("", index=districts.index, columns=list(columns.values()))
    for metric in METRICS:
        notable = districts[f"{metric.key}_quartile_state"].isin(["well_above", "well_below"])
        reading = districts[f"{metric.key}_reading"].where(notable)
        styles[metric.label] = reading.map(READING_STYLE).fillna("")
    return styles


def district_table(districts: pd.DataFrame, view: str) -> None:
    """Sortable table: name, id, enrollment and the view's eight columns; a value in its state's
    top or bottom quartile is green (favourable) or pink (unfavourable) — high absenteeism or
    pupil-teacher ratio is pink, high graduation green, spending and shares stay uncoloured."""
    columns = {
        "name": "District",
        "district_id": "NCES id",
        "enrollment": "Enrollment",
        **_view_columns(view),
    }
    shown = districts[list(columns)].rename(columns=columns).reset_index(drop=True)
    styler = shown.style.format(precision=1, thousands=",", na_rep="—")
    if view in ("Values", "Quartile flags"):
        metric_columns = {k: v for k, v in columns.items() if v not in ("District", "NCES id")}
        colours = _styles(districts.reset_index(drop=True), metric_columns)
        styler = styler.apply(
            lambda _: colours.reindex(columns=shown.columns, fill_value=""), axis=None
        )
    st.dataframe(styler, hide_index=True, width="stretch", placeholder="—")


def metric_tiles(district: pd.Series, national: pd.Series) -> None:
    """One tile per metric: the value, its difference from the state average (coloured by
    whether higher is better), and under it the nation's average and the 3-year trend; the
    within-state flag in the tile's help."""
    columns = st.columns(4)
    for position, metric in enumerate(METRICS):
        value, delta = district[metric.key], district[f"{metric.key}_vs_state"]
        flag = district[f"{metric.key}_quartile_state"]
        column = columns[position % 4]
        column.metric(
            metric.label,
            words.figure(value, metric),
            None if pd.isna(delta) else f"{words.difference(delta, metric)} vs state",
            delta_color=DELTA_COLOR[metric.higher_is],
            help=f"{metric.unit}; within the state: "
            + (FLAG_LABELS.get(flag, "not flagged") if isinstance(flag, str) else "not flagged"),
        )
        column.caption(
            f"Nation {words.figure(national[metric.key], metric)}"
            f" · 3 years {words.trend(district[metric.trend_key], metric)}"
        )


def profile_sentences(district: pd.Series, state: str) -> None:
    """Where the district is notably high or low in its state, and what changed in 3 years."""
    st.markdown(literal(words.notable_sentence(district, state)))
    changed = words.trend_sentence(district)
    if changed:
        st.markdown(literal(changed))


def downloads(districts: pd.DataFrame, filters: dict[str, Any], username: str) -> None:
    """CSV and Excel of every field of the districts shown (the same records as the CLI)."""

    def record(kind: str) -> None:
        with warehouse() as con:
            detail = {"table": "district benchmarks", "format": kind, "rows": len(districts)}
            audit.log(con, username, "export", {**detail, **filters})

    left, right = st.columns(2)
    left.download_button(
        "Download (CSV)",
        csv_bytes(districts, filters),
        file_name="district_benchmarks.csv",
        mime="text/csv",
        on_click=record,
        args=("csv",),
        key="bench:csv",
    )
    right.download_button(
        "Download (Excel)",
        figures.xlsx(districts, filters),
        file_name="district_benchmarks.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click=record,
        args=("xlsx",),
        key="bench:xlsx",
    )
