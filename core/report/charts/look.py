"""The look every chart shares: colour scales from a palette, the message drawn in place of an
empty chart, and the tooltip rows for n, the mean and its 95% CI, so a reader meets the same
conventions on every page."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd


def palette_scale(colors: Mapping[str, str]) -> alt.Scale:
    """A colour scale whose legend lists the palette's keys in their order (not alphabetically)."""
    return alt.Scale(domain=list(colors), range=list(colors.values()))


def message_chart(message: str, color: str) -> alt.Chart:
    """A short line of text where a chart would be: a page keeps its layout when nothing is
    reportable, and the reader learns why."""
    return (
        alt.Chart(pd.DataFrame({"message": [message]}))
        .mark_text(size=14, color=color)
        .encode(text="message:N")
        .properties(height=60)
    )


def mean_tooltips() -> list[alt.Tooltip]:
    """How many students and their mean, the first rows of every mean chart's tooltip."""
    return [
        alt.Tooltip("n:Q", title="Students"),
        alt.Tooltip("mean:Q", title="Mean", format=".1f"),
    ]


def ci_tooltips(low: str, high: str, number_format: str) -> list[alt.Tooltip]:
    """The 95% CI as two tooltip rows, titled alike on every chart."""
    return [
        alt.Tooltip(f"{low}:Q", title="95% CI low", format=number_format),
        alt.Tooltip(f"{high}:Q", title="95% CI high", format=number_format),
    ]
