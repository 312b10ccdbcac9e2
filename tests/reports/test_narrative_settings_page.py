"""The AI narratives page: admin only, the key stored encrypted, "Try it" reports a working
model or the reason the template was used (against a local OpenAI-compatible server)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.access.scope import Scope
from core.warehouse import db
from tests.conftest import run_page
from tests.reports.fake_llm import fake_model
from tests.reports.seed import seed


@pytest.fixture
def warehouse_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "yardstick.duckdb"
    with db.connect(path) as con:
        seed(con)
    monkeypatch.setenv("YARDSTICK_DB", str(path))
    st.cache_data.clear()
    return path


def page(role: str = "district_admin") -> AppTest:
    scope = Scope(username="ada", role=role)
    return run_page("app_pages/narrative_settings.py", scope, timeout=120)


def test_only_a_district_admin_opens_it(warehouse_file) -> None:
    app = page("school_admin")
    assert "Only a district admin" in app.error[0].value


def test_save_then_try_against_a_working_and_a_refusing_model(warehouse_file) -> None:
    with fake_model() as server:
        app = page()
        app.text_input[0].input("sk-secret-test")
        app.text_input[1].input(server.url)
        app.text_input[2].input("test-model")
        app.button[0].click().run()  # Save
        assert not app.exception
        assert "Saved" in app.success[-1].value
        with db.connect(warehouse_file) as con:
            stored = con.execute(
                "select value::varchar, encrypted from settings where key = 'llm_api_key'"
            ).fetchone()
            audited = con.execute(
                "select count(*) from audit_log where action = 'settings_change'"
            ).fetchone()[0]
        assert stored[1] and "sk-secret-test" not in stored[0] and audited == 1
        app.button[1].click().run()  # Try it
        assert not app.exception
        assert "The model answered (model test-model" in app.success[-1].value
        assert server.requests and server.requests[-1]["model"] == "test-model"
        server.mode = "401"
        app.button[1].click().run()
        assert "refused the API key" in app.error[0].value
