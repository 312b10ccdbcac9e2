"""Streamlit components shared by the comparison pages: evidence links, result tables with human
column names, sentences, and audited CSV downloads. No statistics here (core computes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core.access import audit
from core.alerts.detect import spec_from_query
from core.exports.tables import csv_bytes
from core.words.markup import literal
from ui.cohort_widgets import load_into_picker
from ui.session import warehouse

LABELS = {
    "school_year": "Year", "prior_year": "Compared with", "school": "School", "grade": "Grade",
    "subject": "Subject", "season": "Season", "cohort_a": "Cohort A", "cohort_b": "Cohort B",
    "n_a": "n (A)", "mean_a": "Mean (A)", "sd_a": "SD (A)", "n_b": "n (B)", "mean_b": "Mean (B)",
    "sd_b": "SD (B)", "diff": "Difference", "t": "t", "df": "df", "p": "p", "ci_lo": "95% CI low",
    "ci_hi": "95% CI high", "hedges_g": "Hedges' g", "direction": "Direction",
    "p_adj": "p (BH)", "significant_bh": "Holds after BH", "note": "Note", "overlap": "Shared",
    "sets_note": "Proficiency standards",
    "members": "Members", "n": "Matched", "dropped": "Dropped (missing test)",
    "mean_from": "Mean before", "mean_to": "Mean after", "mean_change": "Mean change",
    "sd_change": "SD of change", "expected_growth": "Expected growth",
    "pct_meeting": "% meeting expected", "mean_pct_from": "Mean of students' percentiles before",
    "mean_pct_to": "Mean of students' percentiles after", "pct_of_mean_from":
    "Percentile of the mean before", "pct_of_mean_to": "Percentile of the mean after",
    "mean_z_from": "Std. diff. before",
    "mean_z_to": "Std. diff. after", "z_change": "Change in std. diff.",
    "changed_school": "Changed school", "repeated_grade": "Repeated grade",
    "attribute": "Attribute", "value": "Subgroup", "n_sub": "n (subgroup)",
    "mean_sub": "Mean (subgroup)", "n_rest": "n (rest)", "mean_rest": "Mean (rest)",
    "gap": "Gap", "pct_prof_sub": "% proficient (subgroup)", "pct_prof_rest": "% proficient (rest)",
    "prof_gap": "% proficient gap", "pct_a": "% proficient (this year)",
    "pct_b": "% proficient (then)", "change": "Change (points)", "movement": "Movement",
    "approximate": "p approximate",
}  # fmt: skip


def follow_evidence_link(key: str, also: dict[str, Any] | None = None) -> str:
    """Load the cohort an alert's or an insight's link carries (`?spec=`) into picker `key`,
    once per link, with the widget state in `also` (the standards page's "One cohort");
    returns the link's focus ("ell=yes", "proficiency") or ""."""
    raw = st.query_params.get("spec")
    spec = spec_from_query(raw)
    if spec is not None and st.session_state.get(f"{key}:link") != raw:
        st.session_state[f"{key}:link"] = raw
        st.session_state.update(also or {})
        load_into_picker(key, spec)
    return st.query_params.get("focus", "") if spec is not None else ""


def table(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """A result table: chosen columns, human headers, numbers rounded for reading only."""
    shown = df[[c for c in columns if c in df.columns]].rename(columns=LABELS)
    numeric = shown.select_dtypes("number").columns
    config = {c: st.column_config.NumberColumn(format="%.3g" if c.startswith("p") else "%.2f")
              for c in numeric}  # fmt: skip
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


def sentences(df: pd.DataFrame, words: Callable[[pd.Series], str]) -> None:
    for _, row in df.iterrows():
        st.markdown("- " + literal(words(row)))


def download(df: pd.DataFrame, label: str, what: str, filters: dict, username: str) -> None:
    """CSV of exactly what the table shows (suppressed cells blank), audited on click."""

    def record() -> None:
        with warehouse() as con:
            audit.log(con, username, "export", {"table": what, **filters})

    st.download_button(
        label,
        csv_bytes(df, {"table": what, **filters}),
        file_name=f"{what.replace(' ', '_')}.csv",
        mime="text/csv",
        on_click=record,
        key=f"download:{what}",
    )
