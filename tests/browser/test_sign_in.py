"""Sign-in in a real browser: first-run set-up, sign in, remembered session, sign out, wrong
password, lockout — a real `streamlit run app.py` driven by Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import playwright.sync_api
import pytest

from core.access import users
from core.warehouse import db
from tests.conftest import wait_until
from ui.auth import COOKIE_NAME

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = playwright.sync_api.expect
expect.set_options(timeout=20_000)  # two cores shared with the rest of the suite
PASSWORD = "tidy river lantern 42"


def failures_logged(warehouse: Path, username: str) -> int:
    with db.connect(warehouse) as con:
        return con.execute(
            "select count(*) from audit_log where action = 'sign_in_failed' and username = ?",
            [username],
        ).fetchone()[0]


def settle(page) -> None:
    """Wait until the page is idle. The cookie component reruns the app once it has loaded; a
    form submitted during that rerun is dropped by Streamlit, as any form submitted while a run
    is cut short (a person types slower than that; a test or a password manager's auto-submit
    does not)."""
    cookie_manager = page.frame_locator('iframe[title$="CookieManager.cookie_manager"]').first
    cookie_manager.locator("#root > *").first.wait_for(state="attached")
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def sign_in(page, username: str, password: str) -> None:
    settle(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def signed_in(page, username: str) -> None:
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)


def remembered(page) -> None:
    """Wait until the browser holds the remember-me cookie. The hidden cookie component stores it
    a moment after the page shows the user signed in (measured: up to ~0.3 s in Chromium 156); a
    reload before then starts a new, signed-out session, as it would for a person that quick."""
    wait_until(
        lambda: any(c["name"] == COOKIE_NAME for c in page.context.cookies()), 15, "the cookie"
    )
    settle(page)  # and the run that stored it is over: a reload mid-run may rejoin that session


def no_pages_listed(page) -> None:
    """Before sign-in the app lists no page: no page menu, so neither the registered titles nor
    the raw file names Streamlit lists for a legacy pages/ folder ("app", "standards admin").
    (Right after a sign-out under load the browser may keep an empty sidebar frame: no menu.)"""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    for name in ("app", "upload", "standards admin", "Upload", "Standards", "Home"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)


def sign_out(page) -> None:
    settle(page)  # a click while the cookie component's rerun is under way is dropped
    page.get_by_role("button", name="Sign out").click()


def test_first_run_setup_sign_in_remembered_and_sign_out(
    tmp_path: Path, streamlit_app, browser_page
) -> None:
    app = streamlit_app(tmp_path / "fresh.duckdb")
    page = browser_page
    page.goto(app.url)
    expect(page.get_by_text("No account exists yet")).to_be_visible()
    no_pages_listed(page)
    page.get_by_label("Username").fill("dana.reyes")
    page.get_by_label("Full name").fill("Dana Reyes")
    page.get_by_label("Choose a password").fill("short")
    page.get_by_label("Repeat the password").fill("short")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_text("it needs at least 12")).to_be_visible()

    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_text("Account dana.reyes created. Sign in below.")).to_be_visible()
    no_pages_listed(page)

    sign_in(page, "Dana.Reyes", PASSWORD)
    signed_in(page, "dana.reyes")
    expect(page.get_by_role("link", name="Upload")).to_be_visible()  # admin-only pages listed

    remembered(page)
    page.reload()  # a new Streamlit session: the cookie signs the user back in
    signed_in(page, "dana.reyes")

    sign_out(page)
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    no_pages_listed(page)  # the signed-in session's page list is gone with it
    page.reload()  # the cookie is gone: the form again
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    with db.connect(tmp_path / "fresh.duckdb") as con:
        actions = con.execute("select action from audit_log order by event_id").fetchall()
    assert [a[0] for a in actions] == ["user_change", "sign_in", "sign_in", "sign_out"]


def test_wrong_password_then_lockout(tmp_path: Path, streamlit_app, browser_page) -> None:
    warehouse = tmp_path / "accounts.duckdb"
    with db.connect(warehouse) as con:
        users.add_user(con, "boss", "district_admin", PASSWORD)
        users.add_user(con, "val", "viewer", PASSWORD, schools=["Washington Elementary"])
    app = streamlit_app(warehouse)
    page = browser_page
    page.goto(app.url)

    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    sign_in(page, "val", "not my password")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    for attempt in range(2, 6):  # one at a time: each is counted before the next is typed
        wait_until(lambda n=attempt - 1: failures_logged(warehouse, "val") == n, 30, "a count")
        sign_in(page, "val", "still not it")
    expect(page.get_by_text("This account is locked after 5 failed sign-ins")).to_be_visible()
    expect(page.get_by_text("Try again in 15 minutes")).to_be_visible()

    wait_until(lambda: failures_logged(warehouse, "val") == 5, 30, "the fifth failure")
    sign_in(page, "val", PASSWORD)  # the right password does not open a locked account
    wait_until(lambda: failures_logged(warehouse, "val") == 6, 30, "the attempt while locked")
    expect(page.get_by_text("This account is locked")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    sign_in(page, "boss", PASSWORD)  # other accounts are unaffected
    signed_in(page, "boss")
    remembered(page)
    page.reload()
    signed_in(page, "boss")  # remembered by the cookie...
    with db.connect(warehouse) as con:
        users.reset_password(con, "boss", "a different phrase 9", by="cli:test")
    page.reload()  # ...until the password changes: that cookie no longer signs anyone in
    expect(page.get_by_text("your password changed")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    with db.connect(warehouse) as con:
        assert users.access(con, "val").reason == "locked"
        counts = dict(
            con.execute(
                "select action, count(*) from audit_log where username = 'val' group by 1"
            ).fetchall()
        )
    assert counts == {"sign_in_failed": 6, "locked_out": 1}
    with db.connect(warehouse) as con:
        methods = con.execute(
            "select detail->>'method' from audit_log where action = 'sign_in' order by event_id"
        ).fetchall()
    assert [m[0] for m in methods] == ["password", "cookie"]
