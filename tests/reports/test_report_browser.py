"""A principal downloads the PDF report from the Insights page in a real browser: the file is
built on click, holds their school only, and the download is audited."""

from __future__ import annotations

from pathlib import Path

import playwright.sync_api
import pytest
from pypdf import PdfReader

from core.access import users
from core.warehouse import db
from tests.browser.test_sign_in import PASSWORD, settle, sign_in, signed_in
from tests.conftest import wait_until
from tests.reports.seed import seed

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect, PlaywrightTimeoutError = playwright.sync_api.expect, playwright.sync_api.TimeoutError


def idle(page) -> None:
    """The app's current run has ended (no element of it will be replaced)."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=120_000)


def test_a_principal_downloads_the_report(tmp_path: Path, streamlit_app, browser_page) -> None:
    warehouse = tmp_path / "yardstick.duckdb"
    with db.connect(warehouse) as con:
        seed(con)
        users.add_user(con, "pat", "school_admin", PASSWORD, schools=["Lincoln Elementary"])
    app = streamlit_app(warehouse)
    page = browser_page
    page.goto(app.url)
    sign_in(page, "pat", PASSWORD)
    signed_in(page, "pat")
    settle(page)  # a link clicked during the cookie component's rerun is not followed
    page.get_by_role("link", name="Insights").click()
    button = page.get_by_role("button", name="Download report (PDF)").first
    expect(button).to_be_visible(timeout=60_000)
    # The button shows while the page's run goes on (measured: visible at 0.5 s, run done at
    # 2.3 s). Every run registers a new file id for a build-on-click button and drops the ids of
    # earlier runs when the next run ends; a click still holding a dropped id (a rerun landing
    # between render and click) gets "Failed to generate file for download" under the button
    # and no download ever. So click only once the page is idle, as a person reading it does.
    idle(page)
    try:
        with page.expect_download(timeout=120_000) as download:
            button.click()
    except PlaywrightTimeoutError:
        pytest.fail(f"no download within 120 s; the app's log ends:\n{app.output()[-4000:]}")
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    text = "\n".join(p.extract_text() for p in PdfReader(saved).pages)
    assert "Lincoln Elementary" in text and "Roosevelt" not in text and "Tiny" not in text
    assert download.value.suggested_filename.startswith("yardstick-report-")

    def logged() -> int:
        with db.connect(warehouse) as con:
            return con.execute(
                "select count(*) from audit_log"
                " where action = 'report_download' and username = 'pat'"
            ).fetchone()[0]

    wait_until(lambda: logged() >= 1, 30, "the download's audit entry")  # once seen: exactly one
    assert logged() == 1
