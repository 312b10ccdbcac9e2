"""`narrative_panel(spec)`: the cohort's narrative on any results page, with its report buttons.

The narrative is read from storage (core.narrate.store.narrative_for) and cached per data version,
so a rerun neither recomputes the findings nor asks a model again; new data changes the key."""

from __future__ import annotations

import streamlit as st

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec, load_spec
from core.narrate.store import narrative_for
from core.narrate.text import Narrative
from core.words.markup import literal
from ui.cohort_widgets import scope_key
from ui.report_button import report_download
from ui.session import data_version, warehouse


@st.cache_data(show_spinner="Writing the narrative…", max_entries=128)
def _narrative(spec_json: str, _scope: Scope, key: tuple, version: tuple) -> Narrative:
    with warehouse() as con:
        return narrative_for(con, load_spec(spec_json), _scope)


def narrative_panel(spec: CohortSpec, scope: Scope, *, key: str = "narrative") -> None:
    """The summary, the whole narrative in an expander, and the PDF / Excel report buttons."""
    story = _narrative(spec.to_json(), scope, scope_key(scope), data_version())
    with st.container(border=True):
        if story.notice:
            st.caption(f"ℹ️ {literal(story.notice)}")
        st.markdown(story.summary_markdown())
        with st.expander("Read the whole narrative"):
            st.markdown(story.markdown())
        report_download(spec, key=f"{key}:report")
