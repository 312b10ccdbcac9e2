"""The sign-in cookie is Secure behind HTTPS: forced by $YARDSTICK_SECURE_COOKIE, else when the
browser's address or a TLS proxy's X-Forwarded-Proto says https (ui/auth.py)."""

from __future__ import annotations

from pathlib import Path

import extra_streamlit_components as stx
import pytest
from streamlit.testing.v1 import AppTest

from core.access import users
from core.warehouse import db
from tests.auth.conftest import PASSWORD
from tests.conftest import serve_warehouse
from ui.auth import cookie_secure

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("setting", "url", "proto", "secure"),
    [
        ("1", "http://10.0.0.5:8501/", None, True),  # forced: the proxy sets no header
        ("0", "https://yardstick.district.org/", "https", False),  # forced off
        (None, "https://yardstick.district.org/", None, True),  # the browser's address
        (None, "http://127.0.0.1:8501/", "https", True),  # Caddy / nginx in front
        (None, "http://127.0.0.1:8501/", "https, http", True),  # first proxy's view
        (None, "http://10.0.0.5:8501/", None, False),  # plain HTTP on a school network
        ("", None, "http", False),
    ],
)
def test_when_the_cookie_is_secure(setting, url, proto, secure) -> None:
    assert cookie_secure(setting, url, proto) is secure


def _sign_in_recording_cookie(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> list[dict]:
    with db.connect(db_path) as con:
        users.add_user(con, "boss", "district_admin", PASSWORD)
    serve_warehouse(db_path, monkeypatch)
    monkeypatch.setenv("YARDSTICK_SECURE_COOKIE", setting)
    written: list[dict] = []

    def record(self, cookie, val, key="set", **options) -> None:
        written.append({"cookie": cookie, **options})

    monkeypatch.setattr(stx.CookieManager, "set", record)
    session = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    session.text_input[0].input("boss")
    session.text_input[1].input(PASSWORD)
    session.button[0].click().run()
    assert not session.exception and session.session_state["scope"].is_admin
    return written


def test_a_forced_secure_cookie_is_written_secure(db_path: Path, monkeypatch) -> None:
    written = _sign_in_recording_cookie(db_path, monkeypatch, "1")
    assert written and all(w["cookie"] == "yardstick_session" for w in written)
    assert all(w.get("secure") is True for w in written)


def test_plain_http_leaves_the_cookie_usable_without_tls(db_path: Path, monkeypatch) -> None:
    written = _sign_in_recording_cookie(db_path, monkeypatch, "0")
    assert written and all("secure" not in w for w in written)
