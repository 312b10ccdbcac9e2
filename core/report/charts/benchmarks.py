"""Pure Altair builders for district benchmarks (no Streamlit): district vs state vs nation per
metric, trend lines over the years, and where a district sits among its state's districts.

One palette everywhere: the district is blue, its state orange, the nation grey; a judgement
(good / bad / neutral, from `<metric>_reading`) is green / magenta / grey, the same colours the
standards pages use for above / below. Metrics have different units, so each gets its own panel
and its own y scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt
import pandas as pd

from core.districts.benchmarks import METRIC_BY_KEY, METRICS
from core.report.charts.look import message_chart, palette_scale

SERIES_COLORS = {"District": "#2b6cb0", "State": "#dd6b20", "Nation": "#718096"}
READING_COLORS = {"good": "#1b7837", "bad": "#c51b7d", "neutral": "#7f7f7f"}
PANEL_WIDTH = 170
HEIGHT = 150
ALL_METRICS = tuple(m.key for m in METRICS)


def _label(metric: str) -> str:
    found = METRIC_BY_KEY[metric]
    return f"{found.label} ({found.unit})"


def _empty(message: str) -> alt.Chart:
    return message_chart(message, "#555555")


def comparison_frame(
    district: Mapping[str, Any],
    state_average: Mapping[str, Any],
    national_average: Mapping[str, Any],
    metrics: Iterable[str] = ALL_METRICS,
) -> pd.DataFrame:
    """Long rows (metric, label, series, where, value) for one district and its two averages."""
    rows = []
    for metric in metrics:
        for series, source, where in (
            ("District", district, district.get("name")),
            ("State", state_average, state_average.get("state")),
            ("Nation", national_average, "US"),
        ):
            value = source.get(metric)
            if value is not None and not pd.isna(value):
                rows.append(
                    {
                        "metric": metric,
                        "label": _label(metric),
                        "series": series,
                        "where": where,
                        "value": float(value),
                    }
                )
    return pd.DataFrame(rows, columns=["metric", "label", "series", "where", "value"])


def district_vs_averages_chart(
    district: Mapping[str, Any],
    state_average: Mapping[str, Any],
    national_average: Mapping[str, Any],
    metrics: Iterable[str] = ALL_METRICS,
) -> alt.FacetChart | alt.Chart:
    """One panel per metric: the district's bar beside its state's and the nation's
    (enrollment-weighted averages)."""
    data = comparison_frame(district, state_average, national_average, metrics)
    if data.empty:
        return _empty("No figures for this district in this year.")
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=alt.X("series:N", sort=list(SERIES_COLORS), title=None),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("series:N", scale=palette_scale(SERIES_COLORS), title=None),
            tooltip=[
                alt.Tooltip("label:N", title="Metric"),
                alt.Tooltip("where:N", title="Who"),
                alt.Tooltip("value:Q", title="Value", format=",.1f"),
            ],
        )
        .properties(width=PANEL_WIDTH, height=HEIGHT)
    )
    return (
        alt.layer(bars, data=data)
        .facet(facet=alt.Facet("label:N", title=None, sort=[_label(m) for m in metrics]), columns=4)
        .resolve_scale(y="independent")
    )


def trend_frame(
    history: pd.DataFrame, averages: pd.DataFrame, metrics: Iterable[str] = ALL_METRICS
) -> pd.DataFrame:
    """Long rows (year, metric, label, series, value) from `district_history` (one district)
    and `average_history` (its state's rows and the national 'US' rows)."""
    metrics = list(metrics)
    state = history["state"].iloc[0] if not history.empty else None
    parts = []
    for series, frame in (
        ("District", history),
        ("State", averages[averages["state"] == state]),
        ("Nation", averages[averages["state"] == "US"]),
    ):
        long = frame.melt(id_vars=["year"], value_vars=metrics, var_name="metric")
        long["series"] = series
        parts.append(long)
    data = pd.concat(parts, ignore_index=True).dropna(subset=["value"])
    data["label"] = data["metric"].map(_label)
    data["year"] = data["year"].astype(int)
    return data[["year", "metric", "label", "series", "value"]]


def trend_chart(
    history: pd.DataFrame, averages: pd.DataFrame, metrics: Iterable[str] = ALL_METRICS
) -> alt.FacetChart | alt.Chart:
    """Each metric over the years: the district's line with its state's and the nation's. A
    year without a value (biennial absenteeism) is a gap in the points, not an invented one."""
    metrics = list(metrics)
    data = trend_frame(history, averages, metrics)
    if data.empty:
        return _empty("No years to draw for this district.")
    base = alt.Chart().encode(
        x=alt.X("year:O", title=None),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", scale=palette_scale(SERIES_COLORS), title=None),
        tooltip=[
            alt.Tooltip("label:N", title="Metric"),
            alt.Tooltip("series:N", title="Who"),
            alt.Tooltip("year:O", title="Year (fall)"),
            alt.Tooltip("value:Q", title="Value", format=",.1f"),
        ],
    )
    lines = base.mark_line(strokeWidth=2) + base.mark_point(filled=True, size=40)
    return (
        alt.layer(lines, data=data)
        .properties(width=PANEL_WIDTH, height=HEIGHT)
        .facet(facet=alt.Facet("label:N", title=None, sort=[_label(m) for m in metrics]), columns=4)
        .resolve_scale(y="independent")
    )


def distribution_frame(districts: pd.DataFrame, district_id: str, metric: str) -> pd.DataFrame:
    """The state's districts on one metric, the chosen one marked, with its quartile label and
    reading (the colour of the judgement, never of the label alone)."""
    data = districts[
        ["district_id", "name", metric, f"{metric}_quartile_state", f"{metric}_reading"]
    ].dropna(subset=[metric])
    data = data.rename(
        columns={
            metric: "value",
            f"{metric}_quartile_state": "quartile",
            f"{metric}_reading": "reading",
        }
    )
    data["chosen"] = data["district_id"] == district_id
    # a steady vertical spread (golden-ratio steps) so dots do not hide each other
    spread = (pd.Series(range(len(data)), index=data.index) * 0.618034) % 1 * 1.6 - 0.8
    data["jitter"] = spread.where(~data["chosen"], 0.0)
    data["reading"] = data["reading"].fillna("neutral")
    data["quartile"] = data["quartile"].fillna("not flagged")
    return data.reset_index(drop=True)


def state_distribution_chart(
    districts: pd.DataFrame, district_id: str, metric: str, state_average: float | None = None
) -> alt.LayerChart | alt.Chart:
    """Every district of the state as a dot on one metric; the chosen district large and
    coloured by its reading; the state's enrollment-weighted average as a line."""
    data = distribution_frame(districts, district_id, metric)
    if data.empty:
        return _empty("No district in this state reports this figure this year.")
    x = alt.X("value:Q", title=_label(metric), scale=alt.Scale(zero=False))
    tooltip = [
        alt.Tooltip("name:N", title="District"),
        alt.Tooltip("value:Q", title="Value", format=",.1f"),
        alt.Tooltip("quartile:N", title="Within the state"),
    ]
    jitter = alt.Y("jitter:Q", axis=None, scale=alt.Scale(domain=[-1, 1]))
    others = (
        alt.Chart(data[~data["chosen"]])
        .mark_circle(size=45, color=SERIES_COLORS["Nation"], opacity=0.5)
        .encode(x=x, y=jitter, tooltip=tooltip)
    )
    chosen = (
        alt.Chart(data[data["chosen"]])
        .mark_point(size=260, filled=True, stroke="#000000", strokeWidth=1.5)
        .encode(
            x=x,
            y=jitter,
            color=alt.Color(
                "reading:N",
                scale=palette_scale(READING_COLORS),
                title="Reading",
            ),
            tooltip=tooltip,
        )
    )
    layers = [others, chosen]
    if state_average is not None and not pd.isna(state_average):
        average = pd.DataFrame({"value": [float(state_average)], "what": ["State average"]})
        layers.append(
            alt.Chart(average)
            .mark_rule(color=SERIES_COLORS["State"], strokeWidth=2, strokeDash=[6, 3])
            .encode(
                x="value:Q", tooltip=[alt.Tooltip("value:Q", title="State average", format=",.1f")]
            )
        )
    return alt.layer(*layers).properties(height=120)
