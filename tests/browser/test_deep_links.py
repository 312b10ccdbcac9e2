"""Links into the app in a real browser: a page URL (the Insights feed and e-mails link to
evidence pages with `?spec=`) opens that page, on that cohort, once the person is signed in —
by the remember-me cookie in a new tab, or by the password form the link led to — and a page
their role may not open is refused in plain words. A real `streamlit run app.py` each time:
the first request of a fresh server is a link, which is how a server restart meets an e-mail."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import playwright.sync_api
import pytest

from core.access import users
from core.warehouse import db
from tests.browser.test_sign_in import PASSWORD, no_pages_listed, settle, sign_in, signed_in
from tests.standards.seed import seed

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = playwright.sync_api.expect
expect.set_options(timeout=20_000)  # two cores shared with the rest of the suite

COHORT = {
    "name": "Grade 3 math, spring",
    "school_year": "2024-2025",
    "schools": ["Lincoln Elementary"],
    "grade": "3",
    "subject": "math",
    "season": "spring",
}
LINK = "/standards?spec=" + quote(json.dumps(COHORT))


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse" / "yardstick.duckdb"
    with db.connect(path) as con:
        seed(con)
        users.add_user(con, "boss", "district_admin", PASSWORD)
        users.add_user(con, "val", "viewer", PASSWORD, schools=["Washington Elementary"])
    return path


def finished(page) -> None:
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def picked(page, label: str):
    """The chosen values of a cohort-picker multiselect, found by its label."""
    return page.get_by_test_id("stMultiSelect").filter(has=page.get_by_text(label, exact=True))


def shows_the_linked_cohort(page) -> None:
    expect(page.get_by_role("heading", name="Standards")).to_be_visible()
    for label, value in (
        ("School(s)", "Lincoln Elementary"),
        ("Grade(s)", "3"),
        ("Subject(s)", "math"),
        ("Season(s)", "spring"),
    ):
        expect(picked(page, label)).to_contain_text(value)
    finished(page)
    query = parse_qs(urlsplit(page.url).query)
    assert urlsplit(page.url).path == "/standards" and json.loads(query["spec"][0]) == COHORT


def new_tab(context, url: str):
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    return page


def open_link(context, url: str, username: str):
    """A new tab on `url` in a browser that remembers `username` (the cookie signs in)."""
    page = new_tab(context, url)
    signed_in(page, username)
    finished(page)
    return page


@pytest.fixture
def new_browser(browser) -> Iterator[Callable]:
    """Factory: a browser context that remembers nobody (closed after the test)."""
    opened = []

    def new():
        opened.append(browser.new_context(viewport={"width": 1400, "height": 1000}))
        return opened[-1]

    yield new
    for context in opened:
        context.close()


def sign_in_from_link(new_browser: Callable, url: str, username: str):
    """A browser that remembers nobody opens `url` and signs in on the form it shows."""
    page = new_tab(new_browser(), url)
    sign_in(page, username, PASSWORD)
    signed_in(page, username)
    finished(page)
    return page


def test_a_link_opens_its_page_and_cohort_once_signed_in(
    warehouse: Path, streamlit_app, new_browser
) -> None:
    app = streamlit_app(warehouse)
    page = sign_in_from_link(new_browser, app.url, "boss")  # Home first: remembered from now on

    shows_the_linked_cohort(open_link(page.context, app.url + LINK, "boss"))
    history = open_link(page.context, app.url + "/import_history", "boss")
    expect(history.get_by_role("heading", name="Import history")).to_be_visible()
    assert urlsplit(history.url).path == "/import_history"

    shows_the_linked_cohort(sign_in_from_link(new_browser, app.url + LINK, "boss"))


def test_a_fresh_server_first_asked_for_a_link_and_a_page_the_role_may_not_open(
    warehouse: Path, streamlit_app, new_browser
) -> None:
    app = streamlit_app(warehouse)  # nobody has opened this server yet: the link comes first
    shows_the_linked_cohort(sign_in_from_link(new_browser, app.url + LINK, "boss"))

    page = sign_in_from_link(new_browser, app.url + "/upload", "val")
    expect(page.get_by_text("Only a district admin can open Upload.")).to_be_visible()
    expect(page.get_by_test_id("stFileUploaderDropzoneInput")).to_have_count(0)
    history = open_link(page.context, app.url + "/import_history", "val")  # and by the cookie
    expect(history.get_by_text("Only a district admin can open Import history.")).to_be_visible()
    expect(history.get_by_role("heading", name="Import history")).to_have_count(0)


def test_a_page_url_on_a_fresh_server_shows_the_sign_in_form_and_no_pages(
    warehouse: Path, streamlit_app, new_browser
) -> None:
    app = streamlit_app(warehouse)  # nobody has opened this server: no session ran st.navigation
    page = new_tab(new_browser(), app.url + "/upload")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    settle(page)
    no_pages_listed(page)
    expect(page.get_by_test_id("stFileUploaderDropzoneInput")).to_have_count(0)
    sign_in(page, "boss", PASSWORD)  # and the form works: the link's page opens
    signed_in(page, "boss")
    expect(page.get_by_role("heading", name="Upload")).to_be_visible()
    assert urlsplit(page.url).path == "/upload"
