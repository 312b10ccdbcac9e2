"""The sign-in gate (AppTest): failures counted in the warehouse, account changes applied at the
next click, sign-out audited. The browser tests cover the cookie; these cover the decisions."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.access import audit, users
from core.warehouse import db
from tests.auth.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def warehouse(db_path: Path) -> Path:
    with db.connect(db_path) as con:
        users.add_user(con, "boss", "district_admin", PASSWORD)
        users.add_user(con, "val", "viewer", PASSWORD, schools=["Washington Elementary"])
    return db_path


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def run_app(session: AppTest) -> AppTest:
    """Run app.py again, from the start as a fresh browser load does: AppTest otherwise asks
    for the page its last run ended on. The gate runs on every click in the browser too."""
    session._page_hash = ""
    session._finished_page_script_hash = ""
    return session.run()


def signed_in(username: str) -> AppTest:
    session = app()
    session.session_state["authentication_status"] = True
    session.session_state["username"] = username
    return session.run()


def submit(session: AppTest, username: str, password: str) -> AppTest:
    session.text_input[0].input(username)
    session.text_input[1].input(password)
    return session.button[0].click().run()


def test_form_counts_failures_and_locks(warehouse) -> None:
    session = app().run()
    submit(session, "ghost", PASSWORD)
    assert session.error[0].value.startswith("Wrong username or password.")
    for _ in range(5):
        submit(session, "VAL", "not the password")
    assert session.error[0].value.startswith("This account is locked after 5 failed sign-ins.")
    submit(session, "val", PASSWORD)
    assert "locked" in session.error[0].value and "scope" not in session.session_state
    with db.connect(warehouse) as con:
        failed = audit.events(con, action="sign_in_failed")
        assert users.access(con, "val").reason == "locked"
    names = [None if pd.isna(u) else u for u in failed.username]
    reasons = [(u, json.loads(d)["reason"]) for u, d in zip(names, failed.detail, strict=True)]
    assert reasons[-1] == (None, "unknown_user") and reasons[0] == ("val", "locked")
    assert [r for _, r in reasons].count("wrong_password") == 5


def test_form_sign_in_audited_once(warehouse) -> None:
    session = submit(app().run(), "boss", PASSWORD)
    assert not session.exception and session.session_state["scope"].is_admin
    assert "Sign out" in [b.label for b in session.sidebar.button]
    run_app(session)
    with db.connect(warehouse) as con:
        signs = audit.events(con, action="sign_in")
    assert list(signs["username"]) == ["boss"]
    assert json.loads(signs["detail"].iloc[0]) == {"method": "password"}


def test_account_changes_apply_at_the_next_click(warehouse) -> None:
    session = signed_in("val")
    assert session.session_state["scope"].schools == ("Washington Elementary",)
    with db.connect(warehouse) as con:
        users.update_user(con, "val", role="viewer", schools=["Lincoln Elementary"], by="boss")
    run_app(session)
    assert session.session_state["scope"].schools == ("Lincoln Elementary",)
    with db.connect(warehouse) as con:  # someone else's guesses lock the account...
        for _ in range(5):
            users.verify_sign_in(con, "val", "guessing")
    run_app(session)  # ...but do not end the session already open
    assert "scope" in session.session_state
    with db.connect(warehouse) as con:
        users.deactivate(con, "val", by="boss")
    run_app(session)
    assert "scope" not in session.session_state
    assert "deactivated" in session.error[0].value
    assert [t.label for t in session.text_input] == ["Username", "Password"]


def test_sign_out_is_audited_and_forgets_the_scope(warehouse) -> None:
    session = signed_in("boss")
    session.button(key="sign_out").click()
    run_app(session)
    assert "scope" not in session.session_state
    run_app(session)
    assert session.success[0].value == "You are signed out."
    with db.connect(warehouse) as con:
        assert list(audit.events(con)["action"][:2]) == ["sign_out", "sign_in"]
        assert users.sessions_revoked_at(con, "boss") is not None
