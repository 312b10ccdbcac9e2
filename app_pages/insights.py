"""Insights: what needs attention and what the narratives say, across your cohorts."""

import streamlit as st

from core.narrate.insights import insight_feed, narrate_cohorts, quick_cohorts_of
from ui import cached
from ui.cohort_widgets import picker_choices
from ui.insight_panels import alert_card, narrative_card
from ui.report_button import report_download
from ui.session import scope, warehouse

ALL = "All"

st.title("💡 Insights")
st.caption(
    "Alerts (computed live) and the narratives written for your cohorts, most severe first. "
    "Every item links to the page with its evidence."
)
current = scope()
with warehouse() as con:
    options, _ = picker_choices(con, current)
left, middle, right = st.columns(3)
years = [ALL, *reversed(options.school_years)]
year = left.selectbox("School year", years, index=min(1, len(years) - 1), key="insights:year")
school = middle.selectbox("School", [ALL, *options.schools], key="insights:school")
subject = right.selectbox("Subject", [ALL, *options.subjects], key="insights:subject")

if year != ALL:
    with warehouse() as con:
        year_cohorts = quick_cohorts_of(con, current, year)
    if school != ALL:
        year_cohorts = [c for c in year_cohorts if c.schools == (school,)]
    st.caption(f"Report of every grade × school cohort of {year} shown here ({len(year_cohorts)}):")
    report_download(year_cohorts, key="insights:year-report")

if year != ALL and st.button(f"✍️ Write narratives for every grade × school cohort of {year}"):
    bar = st.progress(0.0, text="Writing narratives…")
    with warehouse() as con:
        specs = quick_cohorts_of(con, current, year)
        narrate_cohorts(con, specs, current, lambda done, total: bar.progress(done / total))
    bar.empty()
    st.toast(f"{len(specs)} narratives are up to date.")

with warehouse() as con:
    feed = insight_feed(
        con,
        current,
        alerts=cached.alerts(current),
        year=None if year == ALL else year,
        school=None if school == ALL else school,
        subject=None if subject == ALL else subject,
    )

if feed.empty:
    st.info(
        "Nothing to show for these filters yet. Alerts appear when a cohort declines or a gap "
        "widens; narratives appear once written (button above, or any cohort's report)."
    )
    st.stop()

alerts, stories = feed[feed["kind"] == "alert"], feed[feed["kind"] == "narrative"]
st.subheader(f"Alerts ({len(alerts)})")
if alerts.empty:
    st.success("No alert for these filters.")
for item in alerts.to_dict("records"):
    alert_card(item, current)
st.subheader(f"Narratives ({len(stories)})")
for index, item in enumerate(stories.to_dict("records")):
    narrative_card(item, current, key=f"insights:report:{index}")
