"""No traceback in the browser: a page that raises shows a plain message with an error id, and
the traceback reaches the server log under that id (ui/page_errors.py, app.py,
.streamlit/config.toml)."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import pytest
from streamlit.config import ShowErrorDetailsConfigOptions
from streamlit.testing.v1 import AppTest

from core.access import users
from core.warehouse import db
from tests.auth.conftest import PASSWORD
from tests.conftest import serve_warehouse

ROOT = Path(__file__).resolve().parents[2]
PLAIN = re.compile(
    r"^Something went wrong on this page \(error id ([0-9a-f]{6})\)\. Try again; if it keeps "
    r"happening, give this id to your Yardstick administrator\.$"
)


def test_streamlit_shows_no_error_details() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == ShowErrorDetailsConfigOptions.NONE == "none"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".streamlit/config.toml" not in ignored and ".streamlit" not in ignored  # the image


@pytest.fixture
def served(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    with db.connect(db_path) as con:
        users.add_user(con, "boss", "district_admin", PASSWORD)
    return serve_warehouse(db_path, monkeypatch)


def test_a_failing_page_shows_an_error_id_and_logs_the_traceback(
    served: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ui import cached

    def broken(*_args, **_kwargs):
        raise RuntimeError("student 1234567 broke the summary")

    monkeypatch.setattr(cached, "summary", broken)
    session = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    session.session_state["authentication_status"] = True
    session.session_state["username"] = "boss"
    with caplog.at_level(logging.ERROR, logger="yardstick.app"):
        session.run()
    assert not session.exception
    shown = [e.value for e in session.error]
    assert len(shown) == 1 and PLAIN.match(shown[0]), shown
    error_id = PLAIN.match(shown[0]).group(1)
    assert "1234567" not in shown[0] and "Traceback" not in shown[0]
    logged = [r for r in caplog.records if r.name == "yardstick.app"]
    assert len(logged) == 1
    assert logged[0].getMessage() == f"error id {error_id}: a page failed (user boss)"
    assert "student 1234567 broke the summary" in caplog.text  # the traceback, server side
    assert 'app_pages/home.py", line' in caplog.text


def control_flow_script() -> None:
    import streamlit as st

    from ui import page_errors

    st.session_state.runs = st.session_state.get("runs", 0) + 1
    with page_errors.reported():
        if st.session_state.runs == 1:
            st.rerun()
        st.markdown("after the rerun")
        st.stop()
    st.markdown("never reached: st.stop ends the run")


def test_rerun_and_stop_pass_through_untouched() -> None:
    session = AppTest.from_function(control_flow_script, default_timeout=30).run()
    assert not session.exception and not session.error
    assert session.session_state["runs"] == 2
    assert [m.value for m in session.markdown] == ["after the rerun"]
