"""The sign-in gate: first-run set-up, the sign-in form, sign-out, and who may open which page.

streamlit-authenticator draws the form, checks the password against the bcrypt hashes in
`core.access.users.credentials` and keeps the remember-me cookie (signed with
core.warehouse.secrets.cookie_key).
Everything that must outlive a browser session is core's: failed attempts and lockout live in the
users table, every sign-in and sign-out is audited, and the account's active/locked state and
scope are read again on every page load, so deactivating someone takes effect at their next click.
A remembered cookie issued before the account's last sign-out or password reset is refused.
Behind HTTPS the cookie is marked Secure (`cookie_secure`; README, "Serving it to a school
network").

Streamlit may interrupt a run at any `st.*` call, including any session-state access, when the
browser asks for a rerun (the cookie component does so on its own). So each step first changes
session state and only then writes to the warehouse: an interrupted run is simply done again,
and nothing is audited twice.

Contract with ui/session.py: `st.session_state["scope"]` (a core.access.scope.Scope) and
`st.session_state["username"]` are set only while someone is signed in.
"""

from __future__ import annotations

import datetime as dt
import functools
import os

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from core.access import audit, users
from core.access.scope import Scope
from core.warehouse import secrets
from ui import flash, navigation
from ui.first_run import setup_screen
from ui.session import warehouse

COOKIE_NAME = "yardstick_session"
COOKIE_EXPIRY_DAYS = 1.0
FORM_FIELDS = {
    "Form name": "Sign in to Yardstick",
    "Username": "Username",
    "Password": "Password",
    "Login": "Sign in",
}
_AUTHENTICATOR = "auth_authenticator"
_AUDITED = "auth_audited"  # the username whose sign-in this session has already audited
_METHOD = "auth_method"  # "password" after the form, else the cookie signed the user in
_JUST_SIGNED_IN = "auth_just_signed_in"  # the form signed someone in during this run


def allowed(page_key: str, scope: Scope | None = None) -> bool:
    """May the signed-in user open this page? `page_key` is the page's file stem ("users");
    the roles per page are ui/navigation.py's registry."""
    current = scope or st.session_state.get("scope")
    if not isinstance(current, Scope):
        return False
    return navigation.can_open(current, navigation.page_path(page_key))


def require_admin() -> Scope:
    """First line of an admin page: anyone else gets a plain refusal (core enforces scope too)."""
    current = st.session_state.get("scope")
    if not isinstance(current, Scope) or not current.is_admin:
        st.error("Only a district admin can open this page.")
        st.stop()
    return current


def require_sign_in() -> Scope:
    """The signed-in user's Scope; otherwise draw the set-up or sign-in form and stop the run."""
    with warehouse() as con:
        first_run = not users.has_users(con)
        credentials = None if first_run else users.credentials(con)
    if first_run:
        setup_screen()
        navigation.no_menu()
        st.stop()
    authenticator = stauth.Authenticate(
        credentials,
        COOKIE_NAME,
        secrets.cookie_key(),
        COOKIE_EXPIRY_DAYS,
        auto_hash=False,
        login_sleep_time=0,
    )
    _mark_secure(authenticator)
    st.session_state[_AUTHENTICATOR] = authenticator
    before = st.session_state.get("authentication_status")
    if before is False:
        st.session_state["authentication_status"] = None  # so False below means "failed now"
    notice = st.empty()  # messages go above the form
    try:
        authenticator.login(
            location="main", fields=FORM_FIELDS, key="sign_in", callback=_signed_in_by_form
        )
    except LoginError:  # a valid cookie for an account that is gone or deactivated
        _end_session(authenticator, "warning", "Your account is no longer active.")
        st.rerun()
    status = st.session_state.get("authentication_status")
    if status is True:
        scope = _admit(authenticator)
        if scope is not None:
            _keep_cookie(authenticator)
            return scope
        st.rerun()  # refused: the next run draws the form under the reason
    if status is False:
        _record_failure(credentials)
    with notice.container():
        flash.show()
    navigation.no_menu()
    st.stop()


def cookie_secure(setting: str | None, url: str | None, forwarded_proto: str | None) -> bool:
    """Should the sign-in cookie be Secure (sent over HTTPS only)? `setting` is
    $YARDSTICK_SECURE_COOKIE: 1 always, 0 never; unset, when the browser reached the app over
    HTTPS: the address it shows, or the X-Forwarded-Proto a TLS reverse proxy adds."""
    chosen = (setting or "").strip().lower()
    if chosen in {"1", "true", "yes", "on"}:
        return True
    if chosen in {"0", "false", "no", "off"}:
        return False
    first_proto = (forwarded_proto or "").split(",")[0].strip().lower()
    return (url or "").lower().startswith("https://") or first_proto == "https"


def _mark_secure(authenticator: stauth.Authenticate) -> None:
    """The library writes the cookie through extra-streamlit-components' CookieManager.set,
    which takes `secure` (and keeps SameSite=Strict); every write by this run's authenticator
    then carries it."""
    if cookie_secure(
        os.environ.get("YARDSTICK_SECURE_COOKIE"),
        st.context.url,
        st.context.headers.get("X-Forwarded-Proto"),
    ):
        manager = authenticator.cookie_controller.cookie_model.cookie_manager
        manager.set = functools.partial(manager.set, secure=True)


def _signed_in_by_form(_info: dict) -> None:
    st.session_state[_METHOD] = "password"
    st.session_state[_AUDITED] = None
    st.session_state[_JUST_SIGNED_IN] = True


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
    flash.flash("error", result.message)


def _cookie_issued_at(authenticator: stauth.Authenticate) -> dt.datetime | None:
    """When the browser's remember-me cookie was issued (UTC), if it sent a valid one."""
    token = st.context.cookies.get(COOKIE_NAME)
    if not token:
        return None
    try:
        expires = jwt.decode(token, secrets.cookie_key(), algorithms=["HS256"])["exp_date"]
    except (jwt.PyJWTError, KeyError, TypeError):
        return None
    issued = dt.datetime.fromtimestamp(float(expires), dt.UTC) - dt.timedelta(COOKIE_EXPIRY_DAYS)
    return issued.replace(tzinfo=None)


def _refusal(
    authenticator: stauth.Authenticate, username: str, method: str, new: bool
) -> str | None:
    """Why this sign-in does not count, or None. A deactivated account is refused on every run;
    a lockout or a revoked cookie only at sign-in (a lockout caused by someone else's guesses
    does not end a session that is already open)."""
    with warehouse() as con:
        state = users.access(con, username)
        if state.reason in ("inactive", "unknown") or (new and not state.allowed):
            return state.message or "Please sign in."
        if not new or method == "password":
            return None
        revoked = users.sessions_revoked_at(con, username)
    issued = _cookie_issued_at(authenticator)
    if revoked is not None and issued is not None and issued <= revoked:
        return "You signed out (or your password changed) since this browser last signed in."
    return None


def _admit(authenticator: stauth.Authenticate) -> Scope | None:
    """A library sign-in (form or cookie) counts only while the account is active (and, at
    sign-in, unlocked); None when refused."""
    username = st.session_state.get("username")
    if not username:  # a sign-in interrupted half-way: start again
        _end_session(authenticator, "info", "Please sign in.")
        return None
    method = st.session_state.get(_METHOD) or "cookie"
    needs_audit = st.session_state.get(_AUDITED) != username
    refusal = _refusal(authenticator, username, method, needs_audit)
    if refusal:
        _end_session(authenticator, "error", refusal)
        if method == "password" and needs_audit:
            with warehouse() as con:
                users.record_failed_sign_in(con, username)
        return None
    with warehouse() as con:
        scope = users.scope_for_username(con, username)
    st.session_state["scope"] = scope
    if needs_audit:
        st.session_state[_AUDITED] = username  # the last state change before the audit
        with warehouse() as con:
            if method == "password":
                users.record_sign_in(con, username, method="password")
            else:
                audit.log(con, username, "sign_in", {"method": "cookie"})
    if st.session_state.pop(_JUST_SIGNED_IN, False):
        st.rerun()  # the form is still on the page in this run; the next one opens the app
    flash.clear()
    return scope


def _keep_cookie(authenticator: stauth.Authenticate) -> None:
    """Store the remember-me cookie on every run of a password sign-in, at the same place on the
    page. The browser stores it through a hidden component; drawing it once, in the run the form
    was processed, can be cut short when Streamlit reruns, and the cookie is then never written.
    (Not while the sign-out button is being clicked: that run deletes the cookie.)"""
    if st.session_state.get(_METHOD) == "password" and not st.session_state.get("sign_out"):
        authenticator.cookie_controller.set_cookie()


def _end_session(authenticator: stauth.Authenticate, kind: str, text: str) -> None:
    authenticator.logout(location="unrendered", key="sign_out_forced")
    for key in ("scope", _AUDITED, _METHOD, _JUST_SIGNED_IN):
        st.session_state.pop(key, None)
    flash.flash(kind, text)


def sign_out_button() -> None:
    """The sidebar's sign-out: the session forgotten, the cookie deleted (and revoked), audited."""
    authenticator: stauth.Authenticate | None = st.session_state.get(_AUTHENTICATOR)
    scope = st.session_state.get("scope")
    if authenticator is None or not isinstance(scope, Scope):
        return
    st.sidebar.caption(f"Signed in as **{scope.username}** · {scope.role.replace('_', ' ')}")
    if not st.sidebar.button("Sign out", key="sign_out"):
        return
    _end_session(authenticator, "success", "You are signed out.")
    with warehouse() as con:
        audit.log(con, scope.username, "sign_out", {})
    # The cookie-deleting component reruns the app when done; that run shows the form.
    st.info("Signing out…")
    st.stop()
