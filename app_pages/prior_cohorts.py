"""Prior cohorts: this year's cohort against the same definition in earlier years (different
students), the trend across years, any two cohorts, and the same students a year earlier."""

import streamlit as st

from core.compare.between_cohorts import no_earlier_year
from core.report.charts.compare import prior_year_chart, trend_chart
from core.stats.families import family_caption
from core.warehouse import canonical
from core.words.comparisons import growth_sentence, pair_sentence, prior_sentence
from core.words.markup import literal
from ui import compare_cache as cache
from ui import figures
from ui.cohort_widgets import cohort_picker
from ui.compare_panels import download, follow_evidence_link, sentences, table
from ui.narrative_panel import narrative_panel
from ui.session import scope, username, warehouse

VIEWS = ("Earlier years", "Trend", "Any two cohorts", "Same students")
COMPARISON = ["subject", "season", "school_year", "prior_year", "n_a", "mean_a", "sd_a", "n_b",
              "mean_b", "sd_b", "diff", "ci_lo", "ci_hi", "t", "df", "p", "hedges_g",
              "direction", "p_adj", "significant_bh", "note"]  # fmt: skip

st.title("📅 Prior cohorts")
st.caption(
    "The same definition in each earlier school year (this year's grade 3 against last year's "
    "grade 3 — different students), with Welch's t-test, its 95% CI and Hedges' g. "
    "Improvement / decline and “Holds after BH” read the Benjamini–Hochberg-adjusted p: a quick "
    "cohort (one school, grade and year, no filters) is adjusted among every quick cohort of the "
    "district that year, so its verdict is the same on every page; other cohorts among the "
    "comparisons shown together."
)
current = scope()
focus = follow_evidence_link("prior")
with warehouse() as con:
    spec = cohort_picker(con, current, "prior")
    comparisons = cache.prior(con, current, spec)
    trend = cache.trend(con, current, spec.replace(school_year=None))
if comparisons.empty:
    st.info("No scores match this cohort within your scope. Widen the choices above.")
    st.stop()
year = comparisons["school_year"].iloc[0]
nothing_earlier = no_earlier_year(comparisons)
if nothing_earlier:
    st.info(
        f"No earlier year is loaded to compare with: {literal(year)} is the first school year in "
        "the warehouse. To compare this cohort with the students before it, a district admin can "
        "load an earlier year's export on the Upload page. Meanwhile, compare it with any other "
        "cohort under **Any two cohorts** below, and with the norm on the Standards page."
    )
if len(spec.school_year) > 1:
    st.caption(
        f"Several school years are picked: {literal(year)}, the latest, is compared with the rest."
    )
filters = {"cohort": spec.label(), "school_year": year}
narrative_panel(spec, current, key="prior:narrative")
view = st.segmented_control("View", VIEWS, default=VIEWS[0], key="prior:view") or VIEWS[0]

if view == "Earlier years" and nothing_earlier:
    figures.chart(prior_year_chart, trend, comparisons)  # this year's mean alone
elif view == "Earlier years":
    sentences(comparisons, prior_sentence)
    figures.chart(prior_year_chart, trend, comparisons)
    table(comparisons, COMPARISON)
    st.caption(literal(family_caption(comparisons)))
    download(comparisons, "Download (CSV)", "prior years", filters, username())
    if focus == "proficiency":
        with warehouse() as con:
            shares = cache.proficiency(con, current, spec, year)
        st.subheader("% proficient, this year against last year")
        table(shares, ["school", "grade", "subject", "season", "n_a", "pct_a", "n_b", "pct_b",
                       "change", "p", "p_adj", "sets_note"])  # fmt: skip

elif view == "Trend":
    shown = trend[~trend["suppressed"]]
    reportable = shown["school_year"].nunique()
    if reportable < 3:
        st.info(f"A trend needs three reportable years; this cohort has {reportable}.")
    else:
        figures.chart(trend_chart, trend)
        st.caption("Band: 95% CI of the mean. Dashed line: the norm mean of the members' grades.")
    table(trend, ["school_year", "subject", "season", "n", "mean", "sd", "ci_lo", "ci_hi",
                  "norm_mean", "norm_source"])  # fmt: skip
    download(trend, "Download (CSV)", "yearly trend", filters, username())

elif view == "Any two cohorts":
    st.caption("Cohort A is the one above; pick cohort B here (program vs not, school A vs B…).")
    with warehouse() as con:
        other = cohort_picker(con, current, "prior_b")
        pair = cache.pair(con, current, spec, other)
    if pair.empty:
        st.info("Neither cohort has scores within your scope.")
    else:
        sentences(pair, pair_sentence)
        table(pair, ["cohort_a", "cohort_b", "subject", "season", *COMPARISON[4:]])
        st.caption(literal(family_caption(pair)))
        download(pair, "Download (CSV)", "two cohorts", {**filters, "b": other.label()}, username())

else:
    if nothing_earlier:  # the message above says why there are no earlier scores to follow
        st.stop()
    if len(spec.season) != 1:
        st.info("Pick one season above to follow the same students from one year to the next.")
        st.stop()
    season, before = spec.season[0], canonical.previous_year(year)
    cohort = spec.replace(school_year=year)
    with warehouse() as con:
        same = cache.matched(con, current, cohort, (season, before), (season, year))
    left, right = st.columns(2)
    left.markdown(
        f"**This year's students vs last year's** (different students, {literal(before)})"
    )
    with left:
        sentences(comparisons[comparisons["prior_year"] == before], prior_sentence)
    right.markdown(
        f"**The same students in {literal(season)} {literal(before)}** "
        "(against each year's own-grade norm)"
    )
    with right:
        sentences(same, growth_sentence)
    table(same, ["subject", "members", "n", "dropped", "mean_from", "mean_to", "mean_change",
                 "ci_lo", "ci_hi", "p", "mean_pct_from", "mean_pct_to", "pct_of_mean_from",
                 "pct_of_mean_to", "mean_z_from",
                 "mean_z_to", "z_change", "changed_school", "repeated_grade", "note"])  # fmt: skip
    st.caption(
        "Matched students: the cohort as it is this year, each student matched to their own "
        "score a year earlier wherever they were then. Std. diff. = (score − norm mean) / norm "
        "sd for the student's grade that year; “Mean of students' percentiles” averages the "
        "vendor's national percentiles, “Percentile of the mean” places the average standing."
    )
