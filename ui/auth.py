"""The sign-in gate: first-run set-up, the sign-in form, sign-out, and who may open which page.

streamlit-authenticator draws the form, checks the password against the bcrypt hashes in
`core.users.credentials` and keeps the remember-me cookie (signed with core.secrets.cookie_key).
Everything that must outlive a browser session is core's: failed attempts and lockout live in the
users table, every sign-in is audited, and the account's active/locked state and scope are read
again on every page load, so deactivating someone takes effect at their next click.

Contract with ui/session.py: `st.session_state["scope"]` (a core.scope.Scope) and
`st.session_state["username"]` are set only while someone is signed in.
"""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from core import audit, secrets, users
from core.scope import Scope
from ui.session import warehouse

COOKIE_NAME = "yardstick_session"
COOKIE_EXPIRY_DAYS = 1.0
FORM_FIELDS = {
    "Form name": "Sign in to Yardstick",
    "Username": "Username",
    "Password": "Password",
    "Login": "Sign in",
}
_MESSAGE = "auth_message"  # (kind, text) shown next to the form on the following runs
_AUTHENTICATOR = "auth_authenticator"
_BY_FORM = "auth_signed_in_by_form"
# Pages only a district admin may open (ui/navigation.py registers them with ADMIN roles too).
ADMIN_PAGES = frozenset({"users", "audit_log", "settings", "upload", "sftp", "standards_admin"})


def allowed(page_key: str, scope: Scope | None = None) -> bool:
    """May the signed-in user open this page? `page_key` is the page's file stem ("users")."""
    current = scope or st.session_state.get("scope")
    if not isinstance(current, Scope):
        return False
    return current.is_admin or page_key not in ADMIN_PAGES


def require_admin() -> Scope:
    """First line of an admin page: anyone else gets a plain refusal (core enforces scope too)."""
    current = st.session_state.get("scope")
    if not isinstance(current, Scope) or not current.is_admin:
        st.error("Only a district admin can open this page.")
        st.stop()
    return current


def flash(kind: str, text: str) -> None:
    """A message shown above the sign-in form until the next sign-in attempt."""
    st.session_state[_MESSAGE] = (kind, text)


def _show_message() -> None:
    kind, text = st.session_state.get(_MESSAGE, (None, None))
    if text:
        {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)(text)


def _forget_user() -> None:
    for key in ("scope", _BY_FORM):
        st.session_state.pop(key, None)


def _authenticator(credentials: dict) -> stauth.Authenticate:
    authenticator = stauth.Authenticate(
        credentials,
        COOKIE_NAME,
        secrets.cookie_key(),
        COOKIE_EXPIRY_DAYS,
        auto_hash=False,
        login_sleep_time=0,
    )
    st.session_state[_AUTHENTICATOR] = authenticator
    return authenticator


def require_sign_in() -> Scope:
    """The signed-in user's Scope; otherwise draw the set-up or sign-in form and stop the run."""
    with warehouse() as con:
        first_run = not users.has_users(con)
        credentials = None if first_run else users.credentials(con)
    if first_run:
        from ui.first_run import setup_screen

        setup_screen()
        st.stop()
    authenticator = _authenticator(credentials)
    if st.session_state.get("authentication_status") is False:
        st.session_state["authentication_status"] = None  # so False below means "failed now"
    notice = st.empty()  # messages go above the form
    try:
        authenticator.login(
            location="main", fields=FORM_FIELDS, key="sign_in", callback=_signed_in_by_form
        )
    except LoginError:  # a valid cookie for an account that is gone or deactivated
        _end_session(authenticator, "warning", "Your account is no longer active.")
    status = st.session_state.get("authentication_status")
    if status is True:
        scope = _admit(authenticator)
        if scope is not None:
            return scope
    elif status is False:
        _record_failure(credentials)
    with notice.container():
        _show_message()
    st.stop()


def _signed_in_by_form(_info: dict) -> None:
    st.session_state[_BY_FORM] = True


def _record_failure(credentials: dict) -> None:
    """The library flags the account it rejected (per run: the dict is rebuilt every run); an
    unknown username leaves no flag and is audited without a name."""
    flagged = [
        name
        for name, entry in credentials["usernames"].items()
        if entry.get("failed_login_attempts", 0) > 0
    ]
    with warehouse() as con:
        result = users.record_failed_sign_in(con, flagged[0] if flagged else None)
    flash("error", result.message)


def _admit(authenticator: stauth.Authenticate) -> Scope | None:
    """A library sign-in (form or cookie) is only good while the account is active and unlocked.
    None when refused, or on the run the form signed someone in (the page opens on the next)."""
    username = st.session_state["username"]
    by_form = st.session_state.pop(_BY_FORM, False)
    with warehouse() as con:
        state = users.access(con, username)
        if not state.allowed:
            if by_form:
                users.record_failed_sign_in(con, username)
            _end_session(authenticator, "error", state.message)
            return None
        scope = users.scope_for_username(con, username)
        if by_form:
            users.record_sign_in(con, username, method="password")
        elif not isinstance(st.session_state.get("scope"), Scope):
            audit.log(con, username, "sign_in", {"method": "cookie"})
    st.session_state["scope"] = scope
    if by_form:
        # The library has just asked the browser to store the cookie; that component reruns the
        # script once it is stored, and the next run draws the app without the form.
        flash("success", f"Signed in as {username}. Opening Yardstick…")
        return None
    st.session_state.pop(_MESSAGE, None)
    return scope


def _end_session(authenticator: stauth.Authenticate, kind: str, text: str) -> None:
    authenticator.logout(location="unrendered", key="sign_out_forced")
    _forget_user()
    flash(kind, text)


def sign_out_button() -> None:
    """The sidebar's sign-out: audited, cookie deleted, session forgotten."""
    authenticator: stauth.Authenticate | None = st.session_state.get(_AUTHENTICATOR)
    scope = st.session_state.get("scope")
    if authenticator is None or not isinstance(scope, Scope):
        return
    st.sidebar.caption(f"Signed in as **{scope.username}** · {scope.role.replace('_', ' ')}")
    if not st.sidebar.button("Sign out", key="sign_out"):
        return
    with warehouse() as con:
        audit.log(con, scope.username, "sign_out", {})
    authenticator.logout(location="unrendered", key="sign_out_action")
    _forget_user()
    flash("success", "You are signed out.")
    # The cookie-deleting component reruns the script when done; the next run shows the form.
    st.info("Signing out…")
    st.stop()
