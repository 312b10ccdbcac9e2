"""Subgroups: within a cohort, each subgroup against the rest — gap in mean and in % proficient,
Welch's test, Hedges' g — and how each gap has moved over the years."""

import streamlit as st

from core.report.charts.compare import gap_chart, gap_trend_chart
from core.stats.families import family_caption
from core.words.comparisons import gap_sentence
from core.words.markup import literal
from ui import compare_cache as cache
from ui import figures
from ui.cohort_widgets import cohort_picker
from ui.compare_panels import download, follow_evidence_link, sentences, table
from ui.narrative_panel import narrative_panel
from ui.session import scope, username, warehouse

COLUMNS = ["subject", "season", "attribute", "value", "n_sub", "mean_sub", "n_rest", "mean_rest",
           "gap", "ci_lo", "ci_hi", "p", "hedges_g", "pct_prof_sub", "pct_prof_rest",
           "prof_gap", "p_adj", "significant_bh", "note"]  # fmt: skip

st.title("⚖️ Subgroups")
st.caption(
    "Each subgroup against the rest of its cohort (members whose value is not recorded are in "
    "neither side). Proficient = at or above the cut score when one is loaded, else the norm "
    "mean. Groups under the minimum size — and a second group that would give one away — are "
    "not shown."
)
current = scope()
focus = follow_evidence_link("subgroups")
with warehouse() as con:
    spec = cohort_picker(con, current, "subgroups")
    gaps = cache.gaps(con, current, spec)
if gaps.empty:
    st.info("No scores match this cohort within your scope.")
    st.stop()
years = sorted(gaps["school_year"].unique())
year = max(spec.school_year) if spec.school_year else years[-1]
latest = gaps[gaps["school_year"] == year]
if latest.empty:
    st.info(f"No scores in {literal(year)} for this cohort.")
    st.stop()

narrative_panel(spec.replace(school_year=year), current, key="subgroups:narrative")
st.subheader(f"Gaps in {literal(year)}")
shown = latest[~latest["suppressed"] & latest["significant_bh"].astype(bool)]
sentences(shown, gap_sentence)
if shown.empty:
    st.caption("No gap survives the false-discovery correction across this table.")
figures.chart(gap_chart, latest)
table(latest, COLUMNS)
st.caption(literal(family_caption(latest)))
download(
    latest, "Download (CSV)", "subgroup gaps", {"cohort": spec.label(), "year": year}, username()
)

st.subheader("How each gap has moved")
groups = sorted((latest["attribute"] + "=" + latest["value"]).unique())
chosen = st.selectbox(
    "Subgroup", groups, index=groups.index(focus) if focus in groups else 0, key="subgroups:trend"
)
figures.chart(gap_trend_chart, gaps, chosen)
span = [y for y in years if y <= year][-5:]
if len(span) >= 2:
    since = span[max(0, len(span) - 3)]
    with warehouse() as con:
        tests = cache.widening(con, gaps[gaps["school_year"].isin(span)], tuple(span), since)
    picked = tests[tests["attribute"] + "=" + tests["value"] == chosen]
    table(
        picked,
        [
            "subject",
            "season",
            "test",
            "years",
            "first_year",
            "first_gap",
            "latest_year",
            "latest_gap",
            "slope",
            "p",
            "p_adj",
            "movement",
            "approximate",
            "verdict",
        ],
    )
    st.caption(
        "Trend: the gap's weighted linear trend across three or more years (points a year); "
        "with fewer years, the latest gap against an earlier one (a t-test that holds for small "
        "groups). Widening = the gap grows in the direction it points; overtook = it changed "
        "sign (the group behind caught up and moved ahead). Approximate = a trend with fewer "
        "than 30 students on a side in some year: read its p as a rough guide. The verdict "
        "(widened / narrowed / overtook) needs the Benjamini–Hochberg-adjusted p under 0.05. "
        f"{literal(family_caption(picked))}"
    )
