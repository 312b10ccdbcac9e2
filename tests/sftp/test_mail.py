"""SMTP settings and sending, against a real SMTP server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.sftp import mail
from core.sftp.mail import MailError
from core.warehouse import settings
from tests.sftp.smtp import PASSWORD, USER, start_mail_server
from tests.sftp.sshd import free_port


def configure(con, port: int, security: str = "none", **changes) -> mail.SmtpConfig:
    values = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "username": "",
        "password": None,
        "sender": "yardstick@district.example",
        "recipients": "admin@district.example, data@district.example",
        "user": "admin",
        **changes,
    }
    mail.save_smtp(con, **values)
    return mail.smtp_config(con)


def test_password_is_stored_encrypted_and_shown_only_as_set(con) -> None:
    shown = mail.save_smtp(
        con,
        host="smtp.example",
        port=587,
        security="starttls",
        username="u",
        password="hunter2-secret",
        sender="a@b.example",
        user="admin",
    )
    assert shown.password_set and not hasattr(shown, "password")
    stored = con.execute("select value, encrypted from settings where key='smtp_password'")
    raw, encrypted = stored.fetchone()
    assert encrypted and "hunter2" not in raw
    assert settings.get(con, "smtp_password") == "hunter2-secret"
    assert "hunter2" not in repr(mail.smtp_config(con))
    # None keeps the password, "" clears it
    mail.save_smtp(con, host="smtp.example", port=587, security="starttls", sender="a@b.example")
    assert mail.smtp_settings(con).password_set
    mail.save_smtp(
        con, host="smtp.example", port=587, security="starttls", sender="a@b.example", password=""
    )
    assert not mail.smtp_settings(con).password_set


def test_recipients_default_to_district_admins(con) -> None:
    con.execute(
        "insert into users (username, email, role, password_hash, active) values "
        "('ann', 'ann@d.example', 'district_admin', 'x', true), "
        "('bob', 'bob@d.example', 'teacher', 'x', true), "
        "('cy', 'cy@d.example', 'district_admin', 'x', false)"
    )
    mail.save_smtp(con, host="h", port=25, security="none", sender="y@d.example")
    assert mail.recipients(con) == ("ann@d.example",)
    mail.save_smtp(
        con, host="h", port=25, security="none", sender="y@d.example", recipients="z@x.io"
    )
    assert mail.recipients(con) == ("z@x.io",)


def test_plain_relay_delivers_the_test_email(con, tmp_path: Path) -> None:
    with start_mail_server(tmp_path) as server:
        config = configure(con, server.port)
        mail.send_test_email(config, mail.recipients(con))
    (message,) = server.inbox.messages
    assert message["Subject"] == "Yardstick test e-mail"
    assert message["From"] == "yardstick@district.example"
    assert server.inbox.recipients == [["admin@district.example", "data@district.example"]]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_password(con, tmp_path: Path, monkeypatch, security: str) -> None:
    with start_mail_server(tmp_path, security=security, auth=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))  # trust the test's own certificate
        config = configure(con, server.port, security, username=USER, password=PASSWORD)
        mail.send_test_email(config, ["admin@district.example"])
        wrong = configure(con, server.port, security, username=USER, password="nope")
        with pytest.raises(MailError, match="rejected the user name or password"):
            mail.send_test_email(wrong, ["admin@district.example"])
    assert len(server.inbox.messages) == 1


@pytest.mark.parametrize(
    ("server_security", "reason"),
    [
        pytest.param("starttls", "certificate could not be verified", id="untrusted_certificate"),
        pytest.param("none", "does not offer STARTTLS", id="starttls_not_offered"),
    ],
)
def test_starttls_refused(con, tmp_path: Path, server_security: str, reason: str) -> None:
    """The settings ask for STARTTLS: a server whose certificate is not trusted, or one that
    does not offer it, is refused with the reason, and nothing is sent in the clear."""
    with start_mail_server(tmp_path, security=server_security) as server:
        config = configure(con, server.port, "starttls")
        with pytest.raises(MailError, match=reason):
            mail.send_test_email(config, ["admin@district.example"])
    assert server.inbox.messages == []


def test_refused_port_and_missing_settings(con) -> None:
    config = configure(con, free_port())
    with pytest.raises(MailError, match="refused the connection"):
        mail.send_test_email(config, ["admin@district.example"])
    con.execute("delete from settings where key like 'smtp_%'")
    with pytest.raises(MailError, match="not set up"):
        mail.smtp_config(con)
