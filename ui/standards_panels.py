"""Streamlit components of the standards pages: the result table with human headers, verdicts,
the BH summary, the three charts and audited CSV / XLSX downloads. No statistics here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access import audit
from core.exports.tables import csv_bytes
from core.report.charts.standards import (
    distribution_chart,
    norm_comparison_chart,
    proficiency_chart,
)
from core.standards.detail import (
    COLUMN_MEANINGS,
    Distribution,
    export_frame,
    proficiency_long,
    untested_blank,
    verdicts,
)
from core.stats.families import family_caption
from core.words.markup import literal
from ui import figures
from ui.session import warehouse

LABELS = {
    "cohort": "Cohort", "filters": "Filters", "school_year": "Year", "school": "School",
    "grade": "Grade", "subject": "Subject", "season": "Season", "n": "n", "mean": "Mean",
    "sd": "SD", "median": "Median", "mean_percentile": "Mean of students' percentiles",
    "percentile_of_mean": "Percentile of the mean",
    "pct_at_or_above_norm": "% at/above norm median", "pct_proficient": "% proficient",
    "pct_at_or_above_target": "% at/above target", "target": "Target",
    "norm_mean": "Norm mean", "norm_sd": "Norm SD", "diff": "Difference", "t": "t", "df": "df",
    "p": "p", "ci_lo": "95% CI low", "ci_hi": "95% CI high", "effect_size": "Std. difference",
    "category": "Category", "p_adj": "p (BH)", "significant_bh": "Holds after BH",
    "norm_source": "Norms", "platform": "Platform", "note": "Note", "suppressed": "Suppressed",
    "cut_set": "Cut-score set", "target_set": "Target set", "bh_family": "BH family",
}  # fmt: skip
PERCENT = ("pct_at_or_above_norm", "pct_proficient", "pct_at_or_above_target")
HIDDEN = ("cohort_index", "n_without_norm", "norm_source", "platform", "cut_set_year",
          "target_set_year", "percentile_source", "bh_family_size")  # fmt: skip


def percentile_label(df: pd.DataFrame) -> str:
    """ "Mean national percentile (Star)": the vendor whose percentiles these are."""
    sources = df.get("percentile_source", pd.Series(dtype=object)).dropna().unique()
    if len(sources) == 1:
        return f"Mean {sources[0]}"
    return "Mean percentile (each test's own)"


def result_table(df: pd.DataFrame) -> None:
    """The table: rounded for reading only (exports keep full precision)."""
    shown = untested_blank(df).drop(columns=[c for c in HIDDEN if c in df.columns])
    config = {}
    for column in shown.columns:
        label = LABELS.get(column, column.replace("share ", "% "))
        if column == "mean_percentile":
            label = percentile_label(df)
        if column in PERCENT or column.startswith("share "):
            config[column] = st.column_config.NumberColumn(label, format="percent")
        elif column in ("n", "df"):
            config[column] = st.column_config.NumberColumn(label, format="%d")
        elif column in ("p", "p_adj"):
            config[column] = st.column_config.NumberColumn(label, format="%.4f")
        elif pd.api.types.is_float_dtype(shown[column]):
            config[column] = st.column_config.NumberColumn(label, format="%.2f")
        else:
            config[column] = st.column_config.Column(label)
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


def bh_summary(df: pd.DataFrame) -> None:
    tested = df["p"].notna()
    held = int(df["significant_bh"].fillna(False).astype(bool).sum())
    hidden = int(df["suppressed"].sum())
    count = int(tested.sum())
    st.caption(
        f"{count} comparison{'' if count == 1 else 's'} tested; {held} hold after the "
        "Benjamini–Hochberg "
        f"false-discovery correction within their family. {hidden} row(s) suppressed for "
        f"privacy (not tested, so in no family). {literal(family_caption(df))}"
    )


def verdict_list(df: pd.DataFrame, limit: int = 6) -> None:
    lines = verdicts(df)
    for line in lines[:limit]:
        st.markdown(f"- {literal(line)}")
    if len(lines) > limit:
        with st.expander(f"All {len(lines)} verdicts"):
            st.markdown("\n".join(f"- {literal(line)}" for line in lines[limit:]))


def charts(df: pd.DataFrame, distribution: Distribution | None) -> None:
    names = ["Mean vs norm", "Score distribution", "Proficiency bands"]
    mean_tab, dist_tab, band_tab = st.tabs(names)
    with mean_tab:
        figures.chart(norm_comparison_chart, df)
        st.caption("Dots: cohort means with 95% CI bars; black ticks: the norm mean of the grade.")
    with dist_tab:
        if distribution is None:
            st.info("Pick one cohort to see its score distribution.")
        else:
            figures.chart(distribution_chart, distribution)
            notes = distribution.summary["note"].dropna().unique()
            st.caption(literal(" · ".join(n for n in notes if n)))
    with band_tab:
        long = proficiency_long(df)
        if long.empty:
            st.info(
                "No cut scores are loaded for these cohorts "
                "(a district admin adds them on Standards & norms)."
            )
        else:
            figures.chart(proficiency_chart, long)


def downloads(df: pd.DataFrame, header: dict[str, str], user: str, name: str) -> None:
    table = export_frame(df)
    header = {**header, **{f"column {k}": v for k, v in COLUMN_MEANINGS.items() if k in table}}

    def record(kind: str) -> None:
        cohorts = {k: v for k, v in header.items() if "cohort" in k}
        detail = {"table": name, "format": kind, "rows": len(table), **cohorts}
        with warehouse() as con:
            audit.log(con, user, "export", detail)

    left, right = st.columns(2)
    left.download_button("Download table (CSV)", csv_bytes(table, header), f"{name}.csv",
                         "text/csv", on_click=record, args=("csv",))  # fmt: skip
    right.download_button(
        "Download table (Excel)", figures.xlsx(table, header), f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click=record, args=("xlsx",),
    )  # fmt: skip
