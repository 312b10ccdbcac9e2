"""First run (AppTest): no account → the set-up screen; it checks the password, creates the first
district admin, loads the demo district and its four accounts; afterwards it is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.access import audit, users
from core.warehouse import db
from tests.auth.conftest import seed_district

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "tidy river lantern 42"


def fill(app: AppTest, **values: str) -> None:
    fields = {t.label: t for t in app.text_input}
    for label, value in values.items():
        fields[label].input(value)


def setup_screen(db_path: Path) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not app.exception
    assert "No account exists yet" in app.markdown[0].value
    return app


def test_setup_refuses_weak_or_mismatched_passwords(db_path: Path) -> None:
    app = setup_screen(db_path)
    fill(app, Username="dana", **{"Choose a password": "dana", "Repeat the password": "dana"})
    app.button[0].click().run()
    assert "at least 12" in app.error[0].value
    fill(app, **{"Choose a password": PASSWORD, "Repeat the password": PASSWORD + "x"})
    app.button[0].click().run()
    assert app.error[0].value.startswith("The two passwords differ")
    fill(
        app,
        **{
            "Repeat the password": PASSWORD,
            "Password for the four demo accounts (optional)": PASSWORD,
        },
    )
    app.button[0].click().run()
    assert "need the demo district" in app.error[0].value
    with db.connect(db_path) as con:
        assert not users.has_users(con)


@pytest.mark.slow
def test_setup_with_demo_district_and_accounts(db_path: Path) -> None:
    app = setup_screen(db_path)
    fill(
        app,
        Username="Dana.Reyes",
        **{
            "Full name": "Dana Reyes",
            "Choose a password": PASSWORD,
            "Repeat the password": PASSWORD,
            "Password for the four demo accounts (optional)": "demo passphrase 2025",
        },
    )
    app.checkbox[0].check()
    app.button[0].click().run()
    assert not app.exception, app.exception
    message = app.success[0].value
    assert message.startswith("Account dana.reyes created. Demo district loaded (")
    assert "demo-district, demo-principal, demo-teacher, demo-viewer" in message
    assert [t.label for t in app.text_input] == ["Username", "Password"]  # the sign-in form now
    with db.connect(db_path) as con:
        accounts = users.list_users(con)
        assert set(accounts["username"]) == {"dana.reyes", *users.DEMO_USERNAMES}
        assert users.verify_sign_in(con, "demo-viewer", "demo passphrase 2025").allowed
        assert con.execute("select count(*) from assessments").fetchone()[0] > 10_000
        first = audit.events(con, action="user_change", username="first-run setup")
    assert len(first) == 1


def test_setup_on_a_loaded_warehouse_offers_demo_accounts_only(db_path: Path) -> None:
    with db.connect(db_path) as con:
        seed_district(con)
    app = setup_screen(db_path)
    assert not app.checkbox  # nothing to load: the district is there
    fill(
        app,
        Username="dana",
        **{
            "Choose a password": PASSWORD,
            "Repeat the password": PASSWORD,
            "Password for the four demo accounts (optional)": "demo passphrase 2025",
        },
    )
    app.button[0].click().run()
    assert not app.exception and not app.error
    assert "Demo accounts: demo-district, demo-principal" in app.success[0].value
    with db.connect(db_path) as con:
        assert users.scope_for_username(con, "demo-teacher").sections == ("L-3A",)
