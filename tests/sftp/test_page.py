"""The SFTP & e-mail page in AppTest, against a real sshd: add, test, confirm, test again."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.access.scope import Scope
from core.sftp import mail, registry
from core.warehouse import db
from tests.conftest import run_page
from tests.sftp.helpers import scores_csv
from tests.sftp.sshd import Server


def page_as(role: str) -> AppTest:
    return run_page("app_pages/sftp_settings.py", Scope(username="ada", role=role), timeout=30)


def by_key(elements, key: str):
    return next(e for e in elements if e.key == key)


def button(app: AppTest, label: str):
    return next(b for b in app.button if b.label == label)


def test_only_district_admins(db_path: Path) -> None:
    app = page_as("school_admin")
    assert [e.value for e in app.error] == ["Only a district admin can open this page."]


def test_add_test_confirm_and_test_again(db_path: Path, server: Server) -> None:
    server.deliver("scores_2025.csv", scores_csv(25, "spring"))
    app = page_as("district_admin")
    assert "No SFTP source yet" in app.info[0].value
    by_key(app.text_input, "src_new_name").input("Vendor")
    by_key(app.text_input, "src_new_host").input("127.0.0.1")
    by_key(app.number_input, "src_new_port").set_value(server.port)
    by_key(app.text_input, "src_new_user").input(server.account.user)
    by_key(app.text_input, "src_new_pw").input(server.account.password)
    by_key(app.text_input, "src_new_dir").input("/incoming")
    by_key(app.text_input, "src_new_pat").input("scores_*.csv")
    button(app, "Save source").click().run()
    assert "Saved Vendor" in app.success[0].value
    with db.connect(db_path) as con:
        (saved,) = registry.list_sources(con)
        logged = con.execute("select detail from audit_log where action='settings_change'")
        detail = logged.fetchone()[0]
    assert saved.password_set and saved.port == server.port
    assert server.account.password not in detail and '"secrets_changed": ["password"]' in detail

    button(app, "🔌 Test connection").click().run()
    markdown = " ".join(m.value for m in app.markdown)
    assert f"`256 {server.fingerprint()} (ED25519)`" in markdown
    assert "First connection" in app.warning[0].value
    button(app, "Confirm this host key").click().run()
    assert "Confirmed 256" in app.success[0].value
    with db.connect(db_path) as con:
        assert registry.get_source(con, "Vendor").host_key_fingerprint == server.fingerprint()

    button(app, "🔌 Test connection").click().run()
    assert any("All steps passed. 1 file(s) match: scores_2025.csv" in s.value for s in app.success)
    # the password is never sent back to the browser
    assert all(server.account.password not in str(w.value) for w in app.text_input)

    button(app, "⬇️ Import now").click().run()
    shown = " ".join(m.value for m in app.markdown)
    assert "**/incoming/scores_2025.csv** — job #" in shown
    assert "25 rows read, 25 inserted" in shown
    with db.connect(db_path) as con:
        assert con.execute("select count(*) from assessments").fetchone()[0] == 25
    button(app, "⬇️ Import now").click().run()
    assert any("already imported" in i.value for i in app.info)


def test_changed_key_needs_the_extra_acknowledgement(db_path: Path, server: Server) -> None:
    with db.connect(db_path) as con:
        registry.save_source(
            con, name="Vendor", host="127.0.0.1", port=server.port,
            username=server.account.user, auth_kind="password",
            password=server.account.password, remote_dir="/incoming", pattern="*.csv",
        )  # fmt: skip
        registry.trust(
            con, "Vendor", key_type="ssh-ed25519", fingerprint=server.fingerprint(),
            public_key=None, user="ada",
        )  # fmt: skip
    server.restart_with_new_host_key()
    app = page_as("district_admin")
    button(app, "🔌 Test connection").click().run()
    assert "POSSIBLE INTERCEPTION" in app.error[0].value
    assert not [b for b in app.button if b.label == "Confirm the NEW host key"]
    app.checkbox[0].check().run()
    button(app, "Confirm the NEW host key").click().run()
    with db.connect(db_path) as con:
        assert registry.get_source(con, "Vendor").host_key_fingerprint == server.fingerprint()


def test_smtp_settings_form(db_path: Path) -> None:
    app = page_as("district_admin")
    form_inputs = {t.label: t for t in app.text_input}
    form_inputs["Mail server (SMTP host)"].input("smtp.district.example")
    form_inputs["Password"].input("smtp-secret")
    form_inputs["Sender address"].input("yardstick@district.example")
    button(app, "Save e-mail settings").click().run()
    assert "E-mail settings saved." in app.success[0].value
    with db.connect(db_path) as con:
        shown = mail.smtp_settings(con)
    assert shown.host == "smtp.district.example" and shown.password_set
    assert shown.security == "starttls" and shown.port == 587
