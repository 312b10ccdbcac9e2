"""Home: what is loaded, what needs attention, where to go next."""

import streamlit as st

from core.overview import warehouse_summary
from ui.session import scope, warehouse

st.title("📏 Yardstick")
current = scope()
with warehouse() as con:
    summary = warehouse_summary(con, current)

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
