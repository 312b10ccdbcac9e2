"""Cohort builder: define a cohort with widgets, see its live member count, save it, reuse it
(saved or quick cohorts), and copy its JSON spec for the command line."""

import json
import shlex

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.cohorts import saved as saved_cohorts
from core.warehouse.settings import min_group_size
from core.words.markup import literal
from ui import standards_cache as cache
from ui.cohort_widgets import cohort_picker, load_into_picker
from ui.narrative_panel import narrative_panel
from ui.session import rerun_with_success, scope, show_rerun_success, warehouse

KEY = "builder"

st.title("🧩 Cohort builder")
st.caption(
    "Empty boxes mean “all”. Membership is computed live from the warehouse within what you may "
    "see; a saved cohort stores only its definition, never its students."
)
current = scope()
show_rerun_success("builder:message")


def run(action, *args, done: str) -> None:  # noqa: ANN001 - a core.cohorts.saved function
    """Call a saved-cohort action; show its error instead of a traceback."""
    try:
        with warehouse() as con:
            result = action(con, current, *args)
    except saved_cohorts.SavedCohortError as exc:
        st.error(literal(str(exc)))
        return
    if isinstance(result, saved_cohorts.SavedCohort):
        load_into_picker(KEY, result.spec)
    rerun_with_success("builder:message", done)


with warehouse() as con:
    quick = cache.quick(con, current)
    saved = cache.saved(con, current)

left, right = st.columns(2)
with left.container(border=True):
    st.markdown("**Quick cohorts** — grade × school year × school")
    names = [q.name for q in quick]
    pick = st.selectbox("Quick cohort", names, key="builder:quick", label_visibility="collapsed")
    if st.button("Load quick cohort", disabled=not names) and pick:
        load_into_picker(KEY, quick[names.index(pick)])
        st.rerun()
    st.caption(f"{len(quick)} quick cohorts. The Standards page compares all of them at once.")
with right.container(border=True):
    st.markdown("**Saved cohorts**")
    by_name = {c.name: c for c in saved}
    chosen = st.selectbox(
        "Saved cohort",
        list(by_name),
        key="builder:saved",
        label_visibility="collapsed",
        placeholder="None saved yet",
    )
    cohort = by_name.get(chosen)
    a, b, c = st.columns(3)
    if a.button("Load", disabled=cohort is None):
        load_into_picker(KEY, cohort.spec)
        st.rerun()
    if b.button("Duplicate", disabled=cohort is None):
        run(saved_cohorts.duplicate_cohort, cohort.cohort_id, done="Duplicated.")
    if c.button("Delete", disabled=cohort is None, type="secondary"):
        run(saved_cohorts.delete_cohort, cohort.cohort_id, done=f"Deleted “{literal(chosen)}”.")
    new_name = st.text_input("Rename to", key="builder:rename", disabled=cohort is None)
    if st.button("Rename", disabled=cohort is None or not new_name.strip()):
        run(saved_cohorts.rename_cohort, cohort.cohort_id, new_name, done="Renamed.")

with warehouse() as con:
    spec = cohort_picker(con, current, KEY)
    count = cache.members(con, current, spec)
    minimum = min_group_size(con)

if count.reportable:
    st.metric("Students in this cohort", f"{count.students:,}")
elif count.students == 0:
    st.info(literal(count.reason))
else:
    st.warning(literal(count.reason))
st.caption(f"Results are reported only for groups of at least {minimum} students.")
if st.button("See this cohort against the norms →", disabled=not count.students):
    load_into_picker("standards", spec)
    st.session_state["standards:source"] = "One cohort"
    try:
        st.switch_page("app_pages/standards.py")
    except StreamlitAPIException:  # run outside the app's navigation (a bare page)
        st.info("Loaded on the Standards page: open it from the menu.")

with st.form("builder:save", border=True):
    name = st.text_input("Name", value=spec.name, placeholder="e.g. Grade 3 Lincoln ELL reading")
    saved_id = next((c.cohort_id for c in saved if c.name == spec.name), None)
    save_col, update_col = st.columns(2)
    save_new = save_col.form_submit_button("Save as a new cohort", type="primary")
    save_over = update_col.form_submit_button("Update saved definition", disabled=saved_id is None)
if save_new:
    run(saved_cohorts.save_cohort, name, spec, done=f"Saved “{literal(name.strip())}”.")
if save_over and saved_id is not None:
    run(saved_cohorts.update_cohort, saved_id, spec, done="Updated.")

st.subheader("Spec (JSON)")
text = json.dumps(spec.to_dict(), indent=2)
st.code(text, language="json")
st.caption("The same numbers from a shell:")
st.code(f"python -m core standards --cohort {shlex.quote(spec.to_json())} --json", language="bash")
if count.reportable:
    st.subheader("In plain words")
    narrative_panel(spec, current, key="builder:narrative")
