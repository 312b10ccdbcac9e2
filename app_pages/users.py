"""Users (district admin): accounts, their role and the schools / sections each may see."""

from collections.abc import Callable

import streamlit as st

from core.access import users
from core.access.scope import ROLES
from core.words.markup import literal
from ui.auth import require_admin
from ui.session import rerun_with_success, show_rerun_success, warehouse

_DONE = "users_page_done"

admin = require_admin()
st.title("👥 Users")
st.caption(
    "Each account sees only its slice: district admins everything; school admins and viewers "
    "their schools (viewers aggregates only); teachers their sections. " + users.PASSWORD_RULE
)
show_rerun_success(_DONE)

with warehouse() as con:
    accounts = users.list_users(con)
    school_names = users.school_choices(con)
    section_table = users.section_choices(con)

section_labels = {
    row.section: f"{row.section} — {row.teachers or 'no teacher'} · {row.schools} "
    f"({row.latest_year}, {row.students} students)"
    for row in section_table.itertuples()
}


def apply(change: Callable, done: str) -> None:
    """Run one account change; a refusal is shown, a success survives the rerun."""
    try:
        with warehouse() as con:
            change(con)
    except users.UserError as exc:
        st.error(literal(str(exc)))
        return
    rerun_with_success(_DONE, done)


def text_or_blank(value: object) -> str:
    return value if isinstance(value, str) else ""


def assignment_inputs(key: str, role: str = "viewer", schools=(), sections=()) -> tuple:
    chosen_role = st.selectbox(
        "Role", ROLES, index=ROLES.index(role), format_func=users.ROLE_LABELS.get, key=f"{key}r"
    )
    chosen_schools = st.multiselect(
        "Schools (school admins and viewers; optional for teachers)",
        school_names,
        default=[s for s in schools if s in school_names],
        key=f"{key}s",
    )
    chosen_sections = st.multiselect(
        "Sections (teachers)",
        list(section_labels),
        default=[s for s in sections if s in section_labels],
        format_func=section_labels.get,
        key=f"{key}c",
    )
    return chosen_role, chosen_schools, chosen_sections


st.dataframe(
    accounts.drop(columns=["email", "created_at"]),
    hide_index=True,
    width="stretch",
    placeholder="",  # no full name, not locked: a blank cell, not "None"
    column_config={
        "username": "Username",
        "name": "Full name",
        "role": "Role",
        "schools": "Schools",
        "sections": "Sections",
        "active": "Active",
        "failed_attempts": st.column_config.NumberColumn("Failed sign-ins", format="plain"),
        "locked_until": st.column_config.DatetimeColumn("Locked until (UTC)"),
        "last_sign_in": st.column_config.DatetimeColumn("Last sign-in (UTC)"),
    },
)
if not school_names:
    st.info("No schools are loaded yet: import data first to assign schools and sections.")

add_tab, change_tab, demo_tab = st.tabs(["Add a user", "Change a user", "Demo accounts"])

with add_tab, st.form("add_user", clear_on_submit=False):
    new_name = st.text_input("Username", placeholder="e.g. pat.lee")
    full_name = st.text_input("Full name")
    email = st.text_input("E-mail")
    role, schools, sections = assignment_inputs("add")
    password = st.text_input("Initial password", type="password")
    if st.form_submit_button("Add user", type="primary"):
        apply(
            lambda con: users.add_user(
                con, new_name, role, password, name=full_name, email=email,
                schools=schools, sections=sections, by=admin.username,
            ),
            f"Added {new_name.strip().lower()} ({role}).",
        )  # fmt: skip

with change_tab:
    picked = st.selectbox("Account", list(accounts["username"]))
    if picked is None:  # no account yet (e.g. a warehouse set up from the CLI only)
        st.info("There are no accounts to change yet: add one on the first tab.")
    else:
        row = accounts.set_index("username").loc[picked]
        with st.form(f"edit_{picked}"):
            full_name = st.text_input("Full name", value=text_or_blank(row["name"]))
            email = st.text_input("E-mail", value=text_or_blank(row["email"]))
            role, schools, sections = assignment_inputs(
                f"edit_{picked}", row["role"], row["schools"], row["sections"]
            )
            if st.form_submit_button("Save changes"):
                apply(
                    lambda con: users.update_user(
                        con, picked, role=role, schools=schools, sections=sections,
                        name=full_name, email=email, by=admin.username,
                    ),
                    f"Saved {picked}.",
                )  # fmt: skip
        with st.form(f"reset_{picked}", clear_on_submit=True):
            new_password = st.text_input("New password (also unlocks the account)", type="password")
            if st.form_submit_button("Reset password"):
                apply(
                    lambda con: users.reset_password(con, picked, new_password, by=admin.username),
                    f"New password set for {picked}; lockout cleared.",
                )
        active = bool(row["active"])
        if st.button("Deactivate" if active else "Reactivate", key=f"toggle_{picked}"):
            apply(
                lambda con: users.set_active(con, picked, not active, by=admin.username),
                f"{picked} {'deactivated' if active else 'reactivated'}.",
            )

with demo_tab, st.form("demo_accounts", clear_on_submit=True):
    st.write(
        "One account per role over four different slices of the loaded district: "
        + ", ".join(users.DEMO_USERNAMES)
        + ". Re-running re-assigns them and sets the new password."
    )
    demo_password = st.text_input("Password for the demo accounts", type="password")
    if st.form_submit_button("Create or refresh demo accounts"):
        apply(
            lambda con: users.add_demo_users(con, demo_password, by=admin.username),
            "Demo accounts ready: " + ", ".join(users.DEMO_USERNAMES) + ".",
        )

with st.expander("Lockout policy"):
    with warehouse() as con:
        attempts, minutes = users.lockout_policy(con)
    with st.form("lockout"):
        new_attempts = st.number_input("Failed attempts in a row", 3, 20, attempts)
        new_minutes = st.number_input("Locked for (minutes)", 1, 1440, minutes)
        if st.form_submit_button("Save policy"):
            apply(
                lambda con: users.set_lockout_policy(
                    con, new_attempts, new_minutes, by=admin.username
                ),
                f"Accounts now lock after {new_attempts} failures for {new_minutes} minutes.",
            )
