"""Home: what is loaded, what needs attention (alerts with their evidence), where to go next."""

import streamlit as st

from core.words.markup import literal
from ui import cached
from ui.insight_panels import alert_card
from ui.session import scope

st.title("📏 Yardstick")
current = scope()
summary = cached.summary(current)

if summary.scores == 0:
    st.info(
        "No assessment results are loaded yet. An administrator can add files on the "
        "**Upload** page (or load the demo district) — then this page shows how your cohorts stand."
    )
    st.stop()

if summary.notice:
    st.info(summary.notice)
left, middle, right = st.columns(3)
left.metric("Students", f"{summary.students:,}")
middle.metric("Test scores", f"{summary.scores:,}")
right.metric("School years", len(summary.school_years))
st.caption(
    f"Schools: {literal(', '.join(summary.schools))} · "
    f"Years: {literal(', '.join(summary.school_years))} · "
    f"Subjects: {literal(', '.join(summary.subjects))} · "
    f"Last import: {summary.last_import or 'none'}"
)

st.subheader("What needs attention this year")
alerts = cached.alerts(current, grouped=True)
if alerts.empty:
    st.success(
        "No cohort declined, no subgroup gap widened and no % proficient dropped beyond the "
        "thresholds in the latest year — after allowing for chance across every comparison."
    )


def show(alert: dict) -> None:
    alert_card({**alert, "text": alert["summary"]}, current)


FIRST = 8
records = alerts.to_dict("records")
for alert in records[:FIRST]:
    show(alert)
# a toggle, not an expander: each card holds an expander, and expanders do not nest
if len(records) > FIRST and st.toggle(f"Show {len(records) - FIRST} more alerts", key="home:more"):
    for alert in records[FIRST:]:
        show(alert)
