"""Home: what is loaded, what needs attention (alerts with their evidence), where to go next."""

import streamlit as st

from core.alerts import evidence_query
from ui import cached
from ui.navigation import can_open
from ui.session import scope

SEVERITY_BADGE = {"critical": "🔴 Critical", "warning": "🟠 Warning", "info": "🟢 Good news"}

st.title("📏 Yardstick")
current = scope()
summary = cached.summary(current)

if summary.scores == 0:
    st.info(
        "No assessment results are loaded yet. An administrator can add files on the "
        "**Upload** page (or load the demo district) — then this page shows how your cohorts stand."
    )
    st.stop()

left, middle, right = st.columns(3)
left.metric("Students", f"{summary.students:,}")
middle.metric("Test scores", f"{summary.scores:,}")
right.metric("School years", len(summary.school_years))
st.caption(
    f"Schools: {', '.join(summary.schools)} · Years: {', '.join(summary.school_years)} · "
    f"Subjects: {', '.join(summary.subjects)} · Last import: {summary.last_import or 'none'}"
)

st.subheader("What needs attention this year")
alerts = cached.alerts(current)
if alerts.empty:
    st.success(
        "No cohort declined, no subgroup gap widened and no % proficient dropped beyond the "
        "thresholds in the latest year — after allowing for chance across every comparison."
    )


def show(alert) -> None:
    badge = SEVERITY_BADGE.get(alert["severity"], alert["severity"])
    with st.container(border=True):
        st.markdown(f"**{badge} · {alert['title']}**")
        st.caption(alert["detail"])
        if can_open(current, alert["page"]):
            link = evidence_query(alert)
            st.page_link(alert["page"], label="See the evidence →", query_params=link)


FIRST = 8
for _, alert in alerts.head(FIRST).iterrows():
    show(alert)
if len(alerts) > FIRST:
    with st.expander(f"{len(alerts) - FIRST} more alerts"):
        for _, alert in alerts.iloc[FIRST:].iterrows():
            show(alert)
