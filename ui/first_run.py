"""First run: no account exists yet, so the app asks for the first district admin (there is no
built-in password) and offers the demo district with one account per role."""

from __future__ import annotations

import streamlit as st

from core.access import users
from core.words.markup import literal
from ui.flash import flash
from ui.session import db_path, warehouse


def setup_screen() -> None:
    st.title("📏 Welcome to Yardstick")
    st.write(
        "No account exists yet. Create the first **district admin** — the person who loads "
        "data, manages users and changes settings. There is no default password: choose one now."
    )
    st.caption(users.PASSWORD_RULE)
    with warehouse() as con:
        loaded = len(users.school_choices(con))
    with st.form("first_run"):
        username = st.text_input("Username", placeholder="e.g. dana.reyes")
        name = st.text_input("Full name")
        email = st.text_input("E-mail (optional)")
        password = st.text_input("Choose a password", type="password")
        repeat = st.text_input("Repeat the password", type="password")
        if loaded:
            st.markdown(f"**Data** — the warehouse already holds {loaded} schools.")
            load_demo = False
        else:
            st.markdown("**Demo district** — synthetic students, safe to explore and to show.")
            load_demo = st.checkbox("Load the demo district")
        demo_password = st.text_input(
            "Password for the four demo accounts (optional)",
            type="password",
            help="Creates demo-district, demo-principal, demo-teacher and demo-viewer — one per "
            "role, each seeing a different slice of the district — all with this password. "
            "Leave empty to skip.",
        )
        submitted = st.form_submit_button("Create the account", type="primary")
    if submitted:
        _create(username, name, email, password, repeat, load_demo, demo_password, loaded > 1)


def _problem(password: str, repeat: str, districts: bool, demo_password: str) -> str | None:
    if password != repeat:
        return "The two passwords differ; type the same password twice."
    if demo_password and not districts:
        return "Demo accounts need the demo district: tick “Load the demo district” too."
    if demo_password:
        try:
            users.check_demo_password(demo_password)
        except users.UserError as exc:
            return f"Demo accounts' password: {exc}"
    return None


def _create(
    username: str,
    name: str,
    email: str,
    password: str,
    repeat: str,
    load_demo: bool,
    demo_password: str,
    has_district: bool,
) -> None:
    problem = _problem(password, repeat, load_demo or has_district, demo_password)
    try:
        if problem:
            raise users.UserError(problem)
        with warehouse() as con:
            admin = users.create_first_admin(con, username, password, name=name, email=email)
    except users.UserError as exc:
        st.error(literal(str(exc)))
        return
    done = f"Account {admin.username} created."
    if load_demo:
        done += " " + _load_demo()
    if demo_password:
        done += " " + _demo_accounts(admin.username, demo_password)
    flash("success", f"{done} Sign in below.")
    st.rerun()


def _load_demo() -> str:
    """Load the demo district (core.demo.district, imported only when asked)."""
    # lazy: the demo generator (and scipy) loads only when the set-up screen asks for the
    # demo; the sign-in screen every visit opens stays light
    from core.demo.district import load_demo

    with st.spinner("Loading the demo district… (a few seconds)"):
        summary = load_demo(db_path())
    return f"Demo district loaded ({summary.get('students', '?')} students)."


def _demo_accounts(admin: str, password: str) -> str:
    try:
        with warehouse() as con:
            created = users.add_demo_users(con, password, by=admin)
    except users.UserError as exc:
        return f"No demo accounts: {exc}"
    return "Demo accounts: " + ", ".join(u.username for u in created) + "."
