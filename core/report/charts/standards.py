"""Pure Altair builders for the standards area (no Streamlit): each takes the DataFrame the table
shows and returns a chart. Suppressed rows never reach a chart; colours for Above / At / Below
come from one palette; tooltips carry n and the 95% CI; clicking the legend highlights a category
or band.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from core.report.charts.look import ci_tooltips, mean_tooltips, palette_scale
from core.standards.detail import Distribution, order_grades, row_title

CATEGORY_COLORS = {"Above": "#1b7837", "At": "#7f7f7f", "Below": "#c51b7d", "Not tested": "#bdbdbd"}
NORM_COLOR = "#222222"
BAND_SCHEME = "redyellowgreen"
HEIGHT = 260


def reportable(df: pd.DataFrame) -> pd.DataFrame:
    """Rows a chart may draw: not suppressed and with a mean (privacy rule: charts never show
    what the table hides)."""
    if df.empty:
        return df
    shown = df[~df["suppressed"].astype(bool) & df["mean"].notna()].copy()
    shown["category"] = shown["category"].fillna("Not tested")
    shown["series"] = shown["school"].astype(str) + " · " + shown["school_year"].astype(str)
    shown["title"] = shown.apply(row_title, axis=1)
    shown["mean_lo"] = shown["norm_mean"] + shown["ci_lo"]
    shown["mean_hi"] = shown["norm_mean"] + shown["ci_hi"]
    shown["panel"] = shown["subject"] + " · " + shown["season"]
    return shown


TOOLTIP = [
    alt.Tooltip("title:N", title="Cohort"),
    *mean_tooltips(),
    alt.Tooltip("norm_mean:Q", title="Norm mean", format=".1f"),
    alt.Tooltip("diff:Q", title="Difference", format="+.1f"),
    *ci_tooltips("mean_lo", "mean_hi", ".1f"),
    alt.Tooltip("effect_size:Q", title="Effect size", format="+.2f"),
    alt.Tooltip("p:Q", title="p", format=".4f"),
    alt.Tooltip("significant_bh:N", title="Holds after BH"),
    alt.Tooltip("category:N", title="Category"),
    alt.Tooltip("norm_source:N", title="Norms"),
]


def norm_comparison_chart(df: pd.DataFrame) -> alt.FacetChart | alt.Chart:
    """Cohort mean with its 95% CI bar, against the norm mean (black tick), across grades;
    one panel per subject × season, one offset mark per school · year."""
    data = reportable(df)
    if data.empty:
        return _empty("No reportable cohort to chart.")
    pick = alt.selection_point(fields=["category"], bind="legend")
    x = alt.X("grade:N", sort=order_grades(data["grade"]), title="Grade")
    offset = alt.XOffset("series:N", title="School · year")
    base = alt.Chart().encode(x=x, xOffset=offset, tooltip=TOOLTIP)
    color = alt.Color("category:N", scale=palette_scale(CATEGORY_COLORS), title="Against the norm")
    bars = base.mark_rule(strokeWidth=2).encode(
        y=alt.Y("mean_lo:Q", title="RIT score", scale=alt.Scale(zero=False)),
        y2="mean_hi:Q",
        color=color,
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
    )
    points = base.mark_point(filled=True, size=70).encode(
        y="mean:Q",
        color=color,
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
    )
    norm = base.mark_tick(color=NORM_COLOR, thickness=2, size=18).encode(y="norm_mean:Q")
    layered = alt.layer(bars, points, norm, data=data).add_params(pick)
    return layered.properties(height=HEIGHT).facet(
        facet=alt.Facet("panel:N", title=None), columns=2
    )


def distribution_chart(dist: Distribution) -> alt.FacetChart | alt.Chart:
    """The cohort's score histogram (every bar ≥ the minimum group size) against the norm
    distribution of students in the same grades (a normal curve from the norm mean and sd)."""
    if dist.bins.empty:
        return _empty("No reportable score distribution.")
    bars = dist.bins.assign(kind="Cohort", x=dist.bins["bin_start"], x2=dist.bins["bin_end"])
    bars = bars.assign(y=bars["share_per_bin_width"])
    curve = dist.curve.assign(kind="National norm", x=dist.curve["score"], y=dist.curve["share"])
    data = pd.concat([bars, curve], ignore_index=True)
    data["panel"] = data["subject"] + " · " + data["season"]
    pick = alt.selection_point(fields=["kind"], bind="legend")
    domain = ["Cohort", "National norm"]
    scale = alt.Scale(domain=domain, range=["#4575b4", NORM_COLOR])
    color = alt.Color("kind:N", scale=scale, title=None)
    fade = alt.condition(pick, alt.value(0.85), alt.value(0.15))
    x = alt.X("x:Q", title="RIT score", scale=alt.Scale(zero=False))
    y = alt.Y("y:Q", title="Share of students per 5 RIT", axis=alt.Axis(format="%"))
    tooltip = [
        alt.Tooltip("x:Q", title="From"),
        alt.Tooltip("x2:Q", title="To"),
        alt.Tooltip("n:Q", title="Students"),
        alt.Tooltip("share:Q", title="Share", format=".0%"),
    ]
    hist = (
        alt.Chart()
        .transform_filter("datum.kind == 'Cohort'")
        .mark_bar(stroke="white")
        .encode(x=x, x2="x2:Q", y=y, y2=alt.datum(0), color=color, opacity=fade, tooltip=tooltip)
    )
    line = (
        alt.Chart()
        .transform_filter("datum.kind == 'National norm'")
        .mark_line(strokeWidth=2)
        .encode(x=x, y=y, color=color, opacity=fade)
    )
    layered = alt.layer(hist, line, data=data).add_params(pick).properties(height=HEIGHT)
    return layered.facet(facet=alt.Facet("panel:N", title=None), columns=2)


def proficiency_chart(long: pd.DataFrame) -> alt.Chart:
    """% of students in each proficiency band, stacked, one bar per reported row."""
    if long.empty:
        return _empty("No cut scores are loaded for these cohorts.")
    bands = long.sort_values("band_order").drop_duplicates("band")["band"].tolist()
    pick = alt.selection_point(fields=["band"], bind="legend")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("row:N", title=None, sort=None),
            x=alt.X(
                "share:Q", stack="normalize", title="Share of students", axis=alt.Axis(format="%")
            ),
            color=alt.Color(
                "band:N", sort=bands, scale=alt.Scale(scheme=BAND_SCHEME), title="Band"
            ),
            order=alt.Order("band_order:Q"),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.2)),
            tooltip=[
                alt.Tooltip("row:N", title="Cohort"),
                alt.Tooltip("band:N", title="Band"),
                alt.Tooltip("share:Q", title="Share", format=".0%"),
                alt.Tooltip("n:Q", title="Students"),
            ],
        )
        .add_params(pick)
    )


def _empty(message: str) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"text": [message]})).mark_text(size=14).encode(text="text:N")
