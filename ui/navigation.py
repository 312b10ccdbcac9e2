"""Every page, registered explicitly (st.navigation turns folder auto-discovery off), with the
roles that may open it. Sections group pages by the question they answer."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.scope import ROLES, Scope

ADMIN = ("district_admin",)
STAFF = ("district_admin", "school_admin", "teacher")


@dataclass(frozen=True)
class PageEntry:
    path: str
    title: str
    icon: str
    section: str
    roles: tuple[str, ...] = ROLES
    default: bool = False


PAGES: tuple[PageEntry, ...] = (
    PageEntry("pages/home.py", "Home", "🏠", "Overview", default=True),
    PageEntry("pages/insights.py", "Insights", "💡", "Overview"),
    PageEntry("pages/cohort_builder.py", "Cohort builder", "🧩", "Cohorts"),
    PageEntry("pages/standards.py", "Standards", "📏", "Compare"),
    PageEntry("pages/prior_cohorts.py", "Prior cohorts", "📅", "Compare"),
    PageEntry("pages/growth.py", "Growth", "🌱", "Compare"),
    PageEntry("pages/subgroups.py", "Subgroups", "⚖️", "Compare"),
    PageEntry("pages/benchmarks.py", "District benchmarks", "📊", "Compare"),
    PageEntry("pages/upload.py", "Upload", "⬆️", "Data", ADMIN),
    PageEntry("pages/import_history.py", "Import history", "🗂️", "Data", ADMIN),
    PageEntry("pages/users.py", "Users", "👥", "Administration", ADMIN),
    PageEntry("pages/audit_log.py", "Audit log", "🧾", "Administration", ADMIN),
    PageEntry("pages/standards_admin.py", "Standards & norms", "📚", "Administration", ADMIN),
    PageEntry("pages/sftp_settings.py", "SFTP & e-mail", "📡", "Administration", ADMIN),
    PageEntry("pages/narrative_settings.py", "AI narratives", "✍️", "Administration", ADMIN),
)


def pages_for(scope: Scope) -> dict[str, list]:
    """The st.navigation structure this user may see (core still enforces scope on every read)."""
    sections: dict[str, list] = {}
    for entry in PAGES:
        if scope.role not in entry.roles:
            continue
        page = st.Page(entry.path, title=entry.title, icon=entry.icon, default=entry.default)
        sections.setdefault(entry.section, []).append(page)
    return sections


def can_open(scope: Scope, path: str) -> bool:
    """Whether a link to `path` may be drawn for this user (st.page_link fails on unknown pages)."""
    return any(entry.path == path and scope.role in entry.roles for entry in PAGES)
