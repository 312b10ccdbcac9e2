"""Names from the data in a real browser: a district whose school, teacher, student, attribute
and cohort names are Markdown links, images and HTML pointing at evil.example. Signed in as a
district admin and as a viewer of that school, every page that shows those names — Home,
Insights, Standards, Prior cohorts, Growth (the last three opened from a `?spec=` link that
carries a planted cohort name) — draws no link or image to evil.example, the browser asks
evil.example for nothing, and the school's name reads literally."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api
import pytest

from core.access import users
from core.warehouse import db
from core.words.markup import JOINER
from tests.browser.test_deep_links import finished, new_tab, sign_in_from_link
from tests.browser.test_sign_in import PASSWORD
from tests.ui.planted import SCHOOL, link, plant

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = playwright.sync_api.expect
expect.set_options(timeout=30_000)  # two cores shared with the rest of the suite

EVIL = re.compile(r"^[a-z]+://([^/]*\.)?evil\.example([:/]|$)")
PAGES = ("", link("standards"), link("prior_cohorts"), link("growth"), "/insights")
ACCOUNTS = (("boss", "district_admin", []), ("val", "viewer", [SCHOOL]))


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse" / "yardstick.duckdb"
    with db.connect(path) as con:
        plant(con)
        for name, role, schools in ACCOUNTS:
            users.add_user(con, name, role, PASSWORD, schools=schools)
    return path


@pytest.fixture
def context(browser) -> Iterator:
    """A browser that remembers nobody."""
    opened = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield opened
    opened.close()


# every address the page links to or loads from, as the browser resolves it
EVIL_ELEMENTS = """els => els.filter(e => [e.getAttribute("href"), e.getAttribute("src")]
    .filter(Boolean).some(a => new URL(a, location.href).hostname.endsWith("evil.example")))
    .map(e => e.outerHTML.slice(0, 300))"""


def nothing_from_evil(page, asked: list[str], where: str) -> None:
    """No link, image or other element points at evil.example (a link into the app whose
    `?spec=` mentions it is the app's own address), and nothing was fetched from there."""
    finished(page)
    assert not page.locator("[href], [src]").evaluate_all(EVIL_ELEMENTS), where
    assert page.locator("a").count() > 0  # the check sees the page's links
    assert not asked, (where, asked)


def open_signed_in(context, url: str, username: str):
    """A new tab on `url`, signed in by the remember-me cookie (the planted school's name holds
    "sign in": only a button named exactly "Sign in" is the sign-in form's)."""
    page = new_tab(context, url)
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_have_count(0)
    finished(page)
    return page


@pytest.mark.parametrize("account", [a[0] for a in ACCOUNTS])
def test_planted_names_read_literally_in_the_browser(
    warehouse: Path, streamlit_app, context, account: str
) -> None:
    app = streamlit_app(warehouse)
    page = sign_in_from_link(lambda: context, app.url, account)
    asked: list[str] = []
    page.context.on("request", lambda r: asked.append(r.url) if EVIL.search(r.url) else None)
    for path in PAGES:
        shown = page if not path else open_signed_in(page.context, app.url + path, account)
        nothing_from_evil(shown, asked, path or "Home")
        shown_text = shown.locator("body").inner_text().replace(JOINER, "")
        assert SCHOOL in shown_text, path or "Home"  # the name itself, as planted
        if path:
            shown.close()
