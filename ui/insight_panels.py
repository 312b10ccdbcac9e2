"""Cards of the insight feed: an alert or a cohort's narrative, with links to the evidence."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.narrate.text import Narrative
from core.words.markup import literal
from ui.navigation import can_open, page_path
from ui.report_button import report_download

SEVERITY_BADGE = {
    "critical": "🔴 Critical",
    "warning": "🟠 Warning",
    "info": "🟢 Good news",
    "none": "⚪ Nothing flagged",
}
EVIDENCE = (
    ("app_pages/standards.py", "Against the norm →"),
    ("app_pages/prior_cohorts.py", "Against last year →"),
    ("app_pages/growth.py", "Growth →"),
    ("app_pages/subgroups.py", "Subgroups →"),
)


def _links(scope: Scope, spec: str, pages: tuple[tuple[str, str], ...], focus: str = "") -> None:
    linked = [(page_path(page), label) for page, label in pages]  # core names pages by file
    shown = [(page, label) for page, label in linked if can_open(scope, page)]
    params = {"spec": spec, **({"focus": focus} if focus else {})}
    for column, (page, label) in zip(st.columns(max(len(shown), 1)), shown, strict=False):
        with column:
            try:
                st.page_link(page, label=label, query_params=params)
            except StreamlitPageNotFoundError:  # the page runs outside the app's navigation
                st.caption(f"{label} ({page})")


def alert_card(item: dict[str, Any], scope: Scope) -> None:
    with st.container(border=True):
        badge = SEVERITY_BADGE.get(item["severity"], item["severity"])
        st.markdown(f"**{badge} · {literal(item['title'])}**")
        st.caption(literal(item["text"]))
        if item.get("detail"):
            with st.expander("The statistics, for specialists"):
                st.caption(literal(item["detail"]))
        _links(scope, item["spec"], ((item["page"], "See the evidence →"),), item["focus"])


def narrative_card(item: dict[str, Any], scope: Scope, key: str) -> None:
    story = Narrative.from_dict(json.loads(item["content"]))
    with st.container(border=True):
        badge = SEVERITY_BADGE.get(item["severity"], item["severity"])
        st.markdown(f"**📝 {literal(item['title'])}** · {badge}")
        if story.notice:
            st.caption(f"ℹ️ {literal(story.notice)}")
        st.markdown(story.summary_markdown())
        with st.expander("Read the whole narrative"):
            st.markdown(story.markdown())
            st.caption(
                f"Written by {literal(item['written_by'])} on {item['created_at']:%Y-%m-%d %H:%M}."
            )
        _links(scope, item["spec"], EVIDENCE)
        report_download(CohortSpec.from_dict(json.loads(item["spec"])), key=key)
