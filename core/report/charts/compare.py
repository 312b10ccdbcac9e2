"""Pure Altair builders for the comparisons area (no Streamlit). Each takes the DataFrame the page's
table shows and returns a chart; suppressed rows never reach a chart. Colours follow the standards
charts: better = green, worse = magenta, no change = grey, the norm = black.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from core.report.charts.look import ci_tooltips, mean_tooltips, message_chart, palette_scale
from core.report.charts.standards import CATEGORY_COLORS, NORM_COLOR

DIRECTION_COLORS = {
    "improvement": CATEGORY_COLORS["Above"],
    "no change": CATEGORY_COLORS["At"],
    "decline": CATEGORY_COLORS["Below"],
    "this year": "#2166ac",
}
HEIGHT = 260


def _shown(df: pd.DataFrame, value: str) -> pd.DataFrame:
    if df.empty or value not in df:
        return df.iloc[0:0]
    keep = df[value].notna()
    if "suppressed" in df:
        keep &= ~df["suppressed"].fillna(False).astype(bool)
    return df[keep].copy()


def _empty(message: str) -> alt.Chart:
    return message_chart(message, "#666666")


def _panel(df: pd.DataFrame) -> pd.Series:
    return df["subject"].astype(str) + " · " + df["season"].astype(str)


def prior_year_chart(trend: pd.DataFrame, comparisons: pd.DataFrame) -> alt.FacetChart | alt.Chart:
    """This year's mean beside each earlier year's (bars with 95% CI), each earlier year coloured
    by what the Welch test says about this year against it."""
    data = _shown(trend, "mean")
    if data.empty:
        return _empty("No reportable year to chart.")
    data["panel"] = _panel(data)
    tests = comparisons[["subject", "season", "prior_year", "direction", "diff", "p", "hedges_g"]]
    data = data.merge(
        tests.rename(columns={"prior_year": "school_year"}),
        on=["subject", "season", "school_year"],
        how="left",
    )
    current = comparisons["school_year"].iloc[0] if not comparisons.empty else None
    data["colour"] = data["direction"].fillna("no change")
    data.loc[data["school_year"] == current, "colour"] = "this year"
    data = data[data["school_year"] <= (current or data["school_year"].max())]
    tooltip = [
        alt.Tooltip("school_year:N", title="School year"),
        *mean_tooltips(),
        *ci_tooltips("ci_lo", "ci_hi", ".1f"),
        alt.Tooltip("diff:Q", title="This year minus that year", format="+.1f"),
        alt.Tooltip("hedges_g:Q", title="Hedges' g", format="+.2f"),
        alt.Tooltip("p:Q", title="p", format=".4f"),
    ]
    base = alt.Chart().encode(x=alt.X("school_year:N", title="School year"), tooltip=tooltip)
    bars = base.mark_bar(opacity=0.85).encode(
        y=alt.Y("mean:Q", title="Mean score", scale=alt.Scale(zero=False)),
        color=alt.Color(
            "colour:N", scale=palette_scale(DIRECTION_COLORS), title="This year vs that"
        ),
    )
    whiskers = base.mark_rule(strokeWidth=2, color="#333333").encode(y="ci_lo:Q", y2="ci_hi:Q")
    layered = alt.layer(bars, whiskers, data=data).properties(height=HEIGHT, width=260)
    return layered.facet(facet=alt.Facet("panel:N", title=None), columns=2)


def trend_chart(
    trend: pd.DataFrame, x: str = "school_year", x_title: str = "School year"
) -> alt.FacetChart | alt.Chart:
    """Mean per `x` with its 95% CI band, and the norm mean as a dashed reference line."""
    data = _shown(trend, "mean")
    if data.empty:
        return _empty("No reportable point to chart.")
    data["panel"] = _panel(data)
    tooltip = [
        alt.Tooltip(f"{x}:N", title=x_title),
        *mean_tooltips(),
        *ci_tooltips("ci_lo", "ci_hi", ".1f"),
        alt.Tooltip("norm_mean:Q", title="Norm mean", format=".1f"),
    ]
    order = list(dict.fromkeys(data[x]))
    base = alt.Chart().encode(x=alt.X(f"{x}:N", title=x_title, sort=order), tooltip=tooltip)
    band = base.mark_area(opacity=0.2, color=DIRECTION_COLORS["this year"]).encode(
        y=alt.Y("ci_lo:Q", title="Mean score", scale=alt.Scale(zero=False)), y2="ci_hi:Q"
    )
    line = base.mark_line(point=True, color=DIRECTION_COLORS["this year"]).encode(y="mean:Q")
    norm = base.mark_line(color=NORM_COLOR, strokeDash=[6, 4]).encode(y="norm_mean:Q")
    layered = alt.layer(band, line, norm, data=data).properties(height=HEIGHT, width=300)
    return layered.facet(facet=alt.Facet("panel:N", title=None), columns=2)


def growth_quadrant_chart(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    label: str,
    x_title: str,
    y_title: str,
    x_mid: float,
) -> alt.Chart:
    """Achievement (x) against growth (y), one point per cohort or student, with the norm's
    middle (x_mid) and zero growth-beyond-expectation (y = 0) dividing the four quadrants."""
    data = _shown(df, y)
    data = data[data[x].notna()] if not data.empty else data
    if data.empty:
        return _empty("No reportable cohort with both achievement and growth to chart.")
    tooltip = [
        alt.Tooltip(f"{label}:N", title="Who"),
        alt.Tooltip(f"{x}:Q", format=".1f"),
        alt.Tooltip(f"{y}:Q", format="+.1f"),
    ]
    if "n" in data:
        tooltip.append(alt.Tooltip("n:Q", title="Students"))
    points = (
        alt.Chart(data)
        .mark_circle(size=80, opacity=0.8)
        .encode(
            x=alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(zero=False)),
            y=alt.Y(f"{y}:Q", title=y_title),
            color=alt.condition(
                f"datum['{y}'] >= 0",
                alt.value(CATEGORY_COLORS["Above"]),
                alt.value(CATEGORY_COLORS["Below"]),
            ),
            tooltip=tooltip,
        )
    )
    vertical = alt.Chart(pd.DataFrame({"x": [x_mid]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    horizontal = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(y="y:Q")
    return alt.layer(points, vertical, horizontal).properties(height=360).interactive()


def gap_chart(gaps: pd.DataFrame) -> alt.FacetChart | alt.Chart:
    """Each subgroup's gap to the rest of its cohort with its 95% CI, zero marked."""
    data = _shown(gaps, "gap")
    if data.empty:
        return _empty("No reportable subgroup to chart.")
    data["group"] = data["attribute"].astype(str) + " = " + data["value"].astype(str)
    data["panel"] = _panel(data)
    data["colour"] = (
        data["direction"].map({"improvement": "ahead", "decline": "behind"}).fillna("no clear gap")
    )
    colors = {
        "ahead": CATEGORY_COLORS["Above"],
        "no clear gap": CATEGORY_COLORS["At"],
        "behind": CATEGORY_COLORS["Below"],
    }
    tooltip = [
        alt.Tooltip("group:N", title="Subgroup"),
        alt.Tooltip("n_sub:Q", title="Students in it"),
        alt.Tooltip("n_rest:Q", title="Rest of cohort"),
        alt.Tooltip("gap:Q", title="Gap", format="+.1f"),
        *ci_tooltips("ci_lo", "ci_hi", "+.1f"),
        alt.Tooltip("hedges_g:Q", title="Hedges' g", format="+.2f"),
        alt.Tooltip("prof_gap:Q", title="% proficient gap", format="+.0f"),
    ]
    base = alt.Chart().encode(y=alt.Y("group:N", title=None), tooltip=tooltip)
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("ci_lo:Q", title="Gap to the rest of the cohort (score points)"),
        x2="ci_hi:Q",
        color=alt.Color("colour:N", scale=palette_scale(colors), title="Subgroup is"),
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="gap:Q", color=alt.Color("colour:N", scale=palette_scale(colors), title="Subgroup is")
    )
    zero = alt.Chart().mark_rule(color=NORM_COLOR).encode(x=alt.datum(0))
    layered = alt.layer(bars, points, zero, data=data).properties(width=320)
    return layered.facet(facet=alt.Facet("panel:N", title=None), columns=2)


def gap_trend_chart(gaps: pd.DataFrame, group: str) -> alt.FacetChart | alt.Chart:
    """One subgroup's gap across school years with its 95% CI band (gap = subgroup − rest)."""
    data = _shown(gaps, "gap")
    if not data.empty:
        data = data[data["attribute"] + "=" + data["value"] == group]
    if data.empty:
        return _empty("No reportable year of this gap to chart.")
    data["panel"] = _panel(data)
    base = alt.Chart().encode(
        x=alt.X("school_year:N", title="School year"),
        tooltip=[
            alt.Tooltip("school_year:N"),
            alt.Tooltip("gap:Q", format="+.1f"),
            alt.Tooltip("n_sub:Q", title="Students in it"),
        ],
    )
    band = base.mark_area(opacity=0.2, color=DIRECTION_COLORS["decline"]).encode(
        y=alt.Y("ci_lo:Q", title=f"Gap: {group} minus the rest"), y2="ci_hi:Q"
    )
    line = base.mark_line(point=True, color=DIRECTION_COLORS["decline"]).encode(y="gap:Q")
    zero = alt.Chart().mark_rule(color=NORM_COLOR, strokeDash=[4, 4]).encode(y=alt.datum(0))
    layered = alt.layer(band, line, zero, data=data).properties(height=HEIGHT, width=300)
    return layered.facet(facet=alt.Facet("panel:N", title=None), columns=2)
