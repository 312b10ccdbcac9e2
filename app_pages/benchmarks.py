"""District benchmarks: each district against its state and the nation — values, 3-year trends,
within-state quartile flags — with a district profile and CSV / Excel export."""

import streamlit as st

from core.districts.benchmarks import METRIC_BY_KEY, METRICS, school_year_label
from core.districts.demo_data import load_district_demo
from core.districts.flags import FlagFilter
from core.report.charts.benchmarks import (
    district_vs_averages_chart,
    state_distribution_chart,
    trend_chart,
)
from core.warehouse.db import transaction
from core.words.markup import literal
from ui import benchmark_panels as panels
from ui import figures
from ui.session import scope, username, warehouse

st.title("District benchmarks")
st.caption(
    "Public district-level figures (NCES CCD, EDFacts, F-33 or your state's report card). State "
    "and national averages weight every rate, ratio and per-pupil figure by enrollment; trends "
    "compare with 3 years earlier; flags place each district within its state's quartiles "
    "(top or bottom quartile: green = favourable, pink = unfavourable; for absenteeism and "
    "pupil-teacher ratio, high is unfavourable)."
)
current = scope()
years = panels.years(current)
if not years:
    st.info(
        "No district data are loaded yet. Import a district file on the Upload page (a state "
        "report card, or the Urban Institute Education Data Portal's CCD / EDFacts downloads)."
    )
    if current.is_admin and st.button("Load synthetic sample districts", key="bench:sample"):
        with warehouse() as con, transaction(con):
            load_district_demo(con)
        st.rerun()
    st.stop()

left, right = st.columns(2)
year = left.selectbox("Year", years, format_func=school_year_label, key="bench:year")
state = right.selectbox("State", panels.states(current, year), key="bench:state")
result = panels.benchmarks(current, state, year)
picked = st.multiselect(
    "Keep districts flagged (all conditions must hold; several flags for one metric: any)",
    panels.FLAG_OPTIONS,
    format_func=panels.flag_text,
    key="bench:flags",
)
rule = FlagFilter.from_pairs(picked)
search = st.text_input("District name or id contains", key="bench:search").strip().lower()
shown = rule.apply(result.districts)
if search:
    text = shown["name"].str.lower() + " " + shown["district_id"].str.lower()
    shown = shown[text.str.contains(search, regex=False)]

view = st.segmented_control("Show", panels.VIEWS, default="Values", key="bench:view") or "Values"
st.caption(
    f"{len(shown)} of {len(result.districts)} districts in {literal(state)}, "
    f"{school_year_label(year)}" + (f" · {rule.describe()}" if picked else "")
)
panels.district_table(shown, view)
filters = {
    "state": state,
    "year": school_year_label(year),
    "flags": rule.describe() or "none",
    "search": search or "none",
}
panels.downloads(shown, filters, username())
averages = result.state_averages.iloc[0]
national = result.national_averages.iloc[0]
st.caption(
    f"{literal(state)} average: {averages['districts']:.0f} districts, "
    f"{averages['total_enrollment']:,.0f} pupils · nation: {national['districts']:.0f} districts"
)

if shown.empty:
    st.info("No district matches these filters.")
    st.stop()
st.subheader("District profile")
names = dict(zip(shown["district_id"], shown["name"], strict=True))
chosen = st.selectbox("District", list(names), format_func=names.get, key="bench:district")
district = shown.set_index("district_id").loc[chosen]
panels.profile_sentences(district, state)
panels.metric_tiles(district, national)
figures.chart(district_vs_averages_chart, {**district, "district_id": chosen}, averages, national)
history, lines = panels.history(current, chosen, state)
st.markdown("**Over the years** — the district, its state and the nation")
figures.chart(trend_chart, history, lines)
trends = [
    f"{m.label}: {district[m.trend_key + '_reason']}"
    for m in METRICS
    if isinstance(district[m.trend_key + "_reason"], str)
]
if trends:
    st.caption("No 3-year trend — " + literal("; ".join(trends)))
metric = st.selectbox(
    "Where it sits in the state",
    [m.key for m in METRICS],
    format_func=lambda k: METRIC_BY_KEY[k].label,
    key="bench:metric",
)
figures.chart(state_distribution_chart, result.districts, chosen, metric, averages[metric])
