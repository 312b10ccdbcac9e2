"""Every page, registered explicitly with st.navigation, with the roles that may open it.
Sections group pages by the question they answer. The page files live in app_pages/, not
pages/: Streamlit would treat a pages/ folder next to app.py as a legacy multipage app and list
(and run) its files on their own before anyone has signed in.

Links into the app (the Insights feed and e-mails link to evidence pages with `?spec=`) must
open their page once the person is signed in. Streamlit resolves the URL's page only in a
session's first run; every later run (the sign-in form's, the cookie component's) asks for the
page the browser last ran, which before sign-in is the entry script, so st.navigation falls back
to Home. So the page and query a URL names are remembered until the session first opens a page,
and followed then (`remember_link`, `follow_link`). A page the user's role may not open is
registered as a hidden page that says so, so its URL gets a plain refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import streamlit as st

from core.access.scope import ROLES, Scope
from core.access.users import ROLE_LABELS

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
    PageEntry("app_pages/home.py", "Home", "🏠", "Overview", default=True),
    PageEntry("app_pages/insights.py", "Insights", "💡", "Overview"),
    PageEntry("app_pages/watch_list.py", "Watch list", "🚩", "Overview", STAFF),
    PageEntry("app_pages/cohort_builder.py", "Cohort builder", "🧩", "Cohorts"),
    PageEntry("app_pages/standards.py", "Standards", "📏", "Compare"),
    PageEntry("app_pages/prior_cohorts.py", "Prior cohorts", "📅", "Compare"),
    PageEntry("app_pages/growth.py", "Growth", "🌱", "Compare"),
    PageEntry("app_pages/subgroups.py", "Subgroups", "⚖️", "Compare"),
    PageEntry("app_pages/benchmarks.py", "District benchmarks", "📊", "Compare"),
    PageEntry("app_pages/upload.py", "Upload", "⬆️", "Data", ADMIN),
    PageEntry("app_pages/import_history.py", "Import history", "🗂️", "Data", ADMIN),
    PageEntry("app_pages/users.py", "Users", "👥", "Administration", ADMIN),
    PageEntry("app_pages/audit_log.py", "Audit log", "🧾", "Administration", ADMIN),
    PageEntry("app_pages/standards_admin.py", "Standards & norms", "📚", "Administration", ADMIN),
    PageEntry("app_pages/sftp_settings.py", "SFTP & e-mail", "📡", "Administration", ADMIN),
    PageEntry("app_pages/narrative_settings.py", "AI narratives", "✍️", "Administration", ADMIN),
)


_LINK = "nav:link"  # (page path, query params, attempts): the page a URL named before sign-in
_ROUTED = "nav:routed"  # this session has opened a page since signing in
_ATTEMPTS = 3  # switches towards a linked page before giving up (a click elsewhere wins)
# each role as the Users page names it ("District admin — everything, …" → "a district admin")
ROLE_WORDS = {role: f"a {label.split(' — ')[0].lower()}" for role, label in ROLE_LABELS.items()}


def url_name(entry: PageEntry) -> str:
    """The page's URL pathname (Streamlit's default for a file page: its file name)."""
    return "" if entry.default else PurePosixPath(entry.path).stem


def refusal(entry: PageEntry) -> str:
    """The plain refusal, e.g. "Only a district admin can open Upload."."""
    words = [ROLE_WORDS.get(role, role) for role in entry.roles]
    who = " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)
    return f"Only {who} can open {entry.title}."


def _page(entry: PageEntry, scope: Scope) -> st.Page:
    if scope.role in entry.roles:
        return st.Page(entry.path, title=entry.title, icon=entry.icon, default=entry.default)

    def refuse() -> None:
        st.error(refusal(entry))

    return st.Page(
        refuse, title=entry.title, icon=entry.icon, url_path=url_name(entry), visibility="hidden"
    )


def pages_for(scope: Scope) -> dict[str, list]:
    """The st.navigation structure for this user: the pages they may open, by section, and
    hidden refusals at the URLs of the others (core still enforces scope on every read)."""
    sections: dict[str, list] = {}
    for entry in PAGES:
        visible = scope.role in entry.roles
        section = entry.section if visible else PAGES[0].section  # a section never shows empty
        sections.setdefault(section, []).append(_page(entry, scope))
    return sections


def _entry_named_by(url: str | None) -> PageEntry | None:
    name = PurePosixPath(urlsplit(url or "").path).name
    return next((e for e in PAGES if name and url_name(e) == name), None)


def no_menu() -> None:
    """Before sign-in (the gate calls this just before it stops the run): every page's URL is
    registered but no menu is drawn, so the sidebar holds nothing beside the sign-in or set-up
    screen. Also after a sign-out: the browser keeps the last menu it was sent until a run sends
    another. The URL's page is kept as it is; none is run."""
    pages = [st.Page(e.path, title=e.title, default=e.default) for e in PAGES]
    st.navigation(pages, position="hidden")


def remember_link() -> None:
    """Note the page (and query) the browser's URL names, until this session first opens a page
    (app.py calls this before the sign-in gate, on every run)."""
    if st.session_state.get(_ROUTED):
        return
    entry = _entry_named_by(st.context.url)
    if entry is not None:
        params = {key: st.query_params.get_all(key) for key in st.query_params}
        st.session_state[_LINK] = (entry.path, params, 0)


def follow_link(opened: st.Page, scope: Scope) -> None:
    """Once signed in, go to the remembered page with its query, unless `opened` (the page
    st.navigation chose) is it; a page this role may not open shows its refusal."""
    st.session_state[_ROUTED] = True
    link = st.session_state.get(_LINK)
    if link is None:
        return
    path, params, attempts = link
    entry = next(e for e in PAGES if e.path == path)
    if opened.url_path == url_name(entry) or attempts >= _ATTEMPTS:
        st.session_state.pop(_LINK, None)
        return
    st.session_state[_LINK] = (path, params, attempts + 1)
    st.switch_page(_page(entry, scope), query_params=params)


def can_open(scope: Scope, path: str) -> bool:
    """Whether a link to `path` may be drawn for this user (st.page_link fails on unknown pages)."""
    return any(entry.path == path and scope.role in entry.roles for entry in PAGES)


def page_path(ref: str) -> str:
    """The registered path of the page `ref` names by its key ("prior_cohorts", as core's alert
    and insight rows carry it; a path works too): core names a page without knowing the folder
    the page files live in. An unknown name is returned as it came (can_open then says no)."""
    stem = PurePosixPath(ref).stem
    return next((entry.path for entry in PAGES if PurePosixPath(entry.path).stem == stem), ref)
