"""The Users and Audit log pages (AppTest): admins only; changes go through core and are audited."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.access import audit, users
from core.warehouse import db
from tests.auth.conftest import PASSWORD, seed_district
from tests.conftest import run_page

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def warehouse(db_path: Path) -> Path:
    with db.connect(db_path) as con:
        seed_district(con)
        users.add_user(con, "boss", "district_admin", PASSWORD, name="Dana Boss")
        users.add_user(con, "val", "viewer", PASSWORD, schools=["Washington Elementary"])
    return db_path


def open_page(page: str, username: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.session_state["authentication_status"] = True
    app.session_state["username"] = username
    app.run()
    return app.switch_page(page).run()


@pytest.mark.parametrize("page", ["app_pages/users.py", "app_pages/audit_log.py"])
def test_only_district_admins_get_in(warehouse, page: str) -> None:
    with db.connect(warehouse) as con:
        scope = users.scope_for_username(con, "val")
    app = run_page(page, scope)
    assert [e.value for e in app.error] == ["Only a district admin can open this page."]
    assert not app.dataframe


def test_add_a_teacher_from_the_page(warehouse) -> None:
    app = open_page("app_pages/users.py", "boss")
    assert not app.exception
    listed = app.dataframe[0].value
    assert list(listed["username"]) == ["boss", "val"]
    assert "password_hash" not in listed.columns
    form = {t.label: t for t in app.text_input}
    form["Username"].input("Tom.Lee")
    form["Initial password"].input(PASSWORD)
    app.selectbox(key="addr").select("teacher")
    app.multiselect(key="adds").select("Lincoln Elementary")
    app.multiselect(key="addc").select("L-3A")
    app.button[0].click().run()
    assert not app.exception and not app.error
    assert [s.value for s in app.success] == ["Added tom.lee (teacher)."]
    with db.connect(warehouse) as con:
        tom = users.get_user(con, "tom.lee")
        change = audit.events(con, action="user_change").iloc[0]
    assert (tom.role, tom.schools, tom.sections) == ("teacher", ("Lincoln Elementary",), ("L-3A",))
    assert change["username"] == "boss" and json.loads(change["detail"])["user"] == "tom.lee"


def test_refusals_are_shown_not_raised(warehouse) -> None:
    app = open_page("app_pages/users.py", "boss")
    form = {t.label: t for t in app.text_input}
    form["Username"].input("weak")
    form["Initial password"].input("weak")
    app.selectbox(key="addr").select("district_admin")
    app.button[0].click().run()
    assert "at least 12" in app.error[0].value
    with db.connect(warehouse) as con:
        assert users.get_user(con, "weak") is None


def test_audit_log_page_lists_and_filters(warehouse) -> None:
    with db.connect(warehouse) as con:
        users.verify_sign_in(con, "val", "wrong password!")
    app = open_page("app_pages/audit_log.py", "boss")
    assert not app.exception
    shown = app.dataframe[0].value
    assert {"sign_in", "sign_in_failed", "user_change"} <= set(shown["action"])
    app.selectbox[1].select("sign_in_failed").run()
    shown = app.dataframe[0].value
    assert list(shown["action"]) == ["sign_in_failed"] and list(shown["username"]) == ["val"]
    with db.connect(warehouse) as con:
        data = audit.events_csv(audit.events(con, action="sign_in_failed"), {"action": "x"})
    assert pd.read_csv(io.StringIO(data.decode()), comment="#")["username"].tolist() == ["val"]
