"""E-mail to the district's admins (the nightly job's failure notice, the "send test e-mail"
button), over SMTP with STARTTLS, implicit TLS (SSL) or, for a relay on the same machine, none.

Settings live in the settings table under `smtp_*`; the password is stored encrypted
(core.warehouse.settings.put(..., secret=True)) and never returned to a page. Recipients are the
configured
list, or else every active district admin with an e-mail address.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import duckdb

from core.warehouse import settings
from core.warehouse.db import transaction

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT = 20.0
KEYS = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_from", "smtp_to")


class MailError(RuntimeError):
    """Sending failed; the message says why and what to check."""


@dataclass(frozen=True)
class SmtpSettings:
    """What a page shows: the password only as set / not set."""

    host: str
    port: int
    security: str
    username: str
    password_set: bool
    sender: str
    recipients: tuple[str, ...]

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    username: str
    password: str | None
    sender: str

    def __repr__(self) -> str:
        return f"SmtpConfig({self.host}:{self.port}, {self.security}, password hidden)"


def _split(addresses: str | list | tuple | None) -> tuple[str, ...]:
    if not addresses:
        return ()
    if isinstance(addresses, str):
        addresses = addresses.replace(";", ",").replace("\n", ",").split(",")
    return tuple(a.strip() for a in addresses if a and a.strip())


def smtp_settings(con: duckdb.DuckDBPyConnection) -> SmtpSettings:
    security = settings.get(con, "smtp_security", "starttls")
    return SmtpSettings(
        host=settings.get(con, "smtp_host", "") or "",
        port=int(settings.get(con, "smtp_port", DEFAULT_PORTS.get(security, 587))),
        security=security,
        username=settings.get(con, "smtp_username", "") or "",
        password_set=settings.is_set(con, "smtp_password"),
        sender=settings.get(con, "smtp_from", "") or "",
        recipients=_split(settings.get(con, "smtp_to", [])),
    )


def smtp_config(con: duckdb.DuckDBPyConnection) -> SmtpConfig:
    shown = smtp_settings(con)
    if not shown.configured:
        raise MailError(
            "E-mail is not set up: enter the mail server and the sender address in SFTP & "
            "e-mail settings."
        )
    password = settings.get(con, "smtp_password") if shown.password_set else None
    return SmtpConfig(
        shown.host, shown.port, shown.security, shown.username, password or None, shown.sender
    )


def save_smtp(
    con: duckdb.DuckDBPyConnection,
    *,
    host: str,
    port: int,
    security: str,
    username: str = "",
    password: str | None = None,
    sender: str,
    recipients: str | list[str] | tuple[str, ...] = (),
    user: str | None = None,
) -> SmtpSettings:
    """Store the SMTP settings; a password of None keeps the stored one, "" clears it."""
    if security not in SECURITY:
        raise ValueError(f"Security is one of {', '.join(SECURITY)}.")
    if not host.strip() or "@" not in sender:
        raise ValueError("Enter the mail server's host name and a sender address (name@domain).")
    if not 1 <= int(port) <= 65535:
        raise ValueError("The port is a number from 1 to 65535 (587 STARTTLS, 465 SSL).")
    bad = [a for a in _split(recipients) if "@" not in a]
    if bad:
        raise ValueError(f"Not an e-mail address: {', '.join(bad)}.")
    values = {
        "smtp_host": host.strip(),
        "smtp_port": int(port),
        "smtp_security": security,
        "smtp_username": username.strip(),
        "smtp_from": sender.strip(),
        "smtp_to": list(_split(recipients)),
    }
    for key, value in values.items():
        settings.put(con, key, value, user=user)
    if password is not None:
        if password:
            settings.put(con, "smtp_password", password, secret=True, user=user)
        else:
            with transaction(con):
                con.execute("delete from settings where key = 'smtp_password'")
    return smtp_settings(con)


def recipients(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The configured addresses, else every active district admin's e-mail."""
    configured = smtp_settings(con).recipients
    if configured:
        return configured
    rows = con.execute(
        "select distinct email from users where role = 'district_admin' and active "
        "and email is not null and email like '%@%' order by email"
    ).fetchall()
    return tuple(row[0] for row in rows)


def _message(config: SmtpConfig, to: tuple[str, ...], subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=config.sender.rsplit("@", 1)[-1])
    message.set_content(body)
    return message


def _open(config: SmtpConfig, timeout: float) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if config.security == "ssl":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    server = smtplib.SMTP(config.host, config.port, timeout=timeout)
    if config.security == "starttls":
        try:
            server.starttls(context=context)
        except smtplib.SMTPNotSupportedError as exc:
            server.close()
            raise MailError(
                f"The mail server {config.host} port {config.port} does not offer STARTTLS. "
                "Choose SSL (usually port 465), or ask your mail administrator for the right port."
            ) from exc
    return server


def send(
    config: SmtpConfig,
    to: tuple[str, ...] | list[str],
    subject: str,
    body: str,
    *,
    timeout: float = TIMEOUT,
) -> None:
    """Send one plain-text message; any failure becomes a MailError that says what to check."""
    to = _split(list(to))
    if not to:
        raise MailError(
            "No recipient: add admin e-mail addresses in the e-mail settings, or give district "
            "admins an e-mail address."
        )
    try:
        server = _open(config, timeout)
        try:
            if config.username:
                server.login(config.username, config.password or "")
            server.send_message(_message(config, to, subject, body))
        finally:
            _close(server)
    except MailError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(_explain(config, exc)) from exc


def _close(server: smtplib.SMTP) -> None:
    """QUIT politely; a connection that already broke must not hide the real error."""
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()


def _explain(config: SmtpConfig, exc: BaseException) -> str:  # noqa: C901 - one case per failure
    where = f"{config.host} port {config.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"The mail server {where} rejected the user name or password. Check them."
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"The mail server refused the recipient(s) {', '.join(exc.recipients)}."
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"The mail server refused the sender address {config.sender}. Use one it accepts."
    if isinstance(exc, socket.gaierror):
        return f"The mail server name {config.host!r} could not be found. Check its spelling."
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"The mail server {where} refused the connection. Check the host and port "
            "(587 for STARTTLS, 465 for SSL, 25 for a local relay)."
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"No answer from the mail server {where}. Check the host, port and firewall."
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"The mail server's certificate could not be verified ({exc.verify_message}). Check "
            "the host name, or ask your mail administrator for a valid certificate."
        )
    if isinstance(exc, ssl.SSLError):
        return (
            f"The secure connection to {where} failed ({exc.reason or exc}). Check that the "
            "security setting matches the port (STARTTLS on 587, SSL on 465)."
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"The mail server {where} does not support this: {exc}."
    return f"Sending through {where} failed: {exc}."


def send_test_email(config: SmtpConfig, to: tuple[str, ...] | list[str]) -> None:
    send(
        config,
        to,
        "Yardstick test e-mail",
        "This is a test message from Yardstick. If you can read it, the e-mail settings work "
        "and the nightly import will tell you here when something goes wrong.",
    )


send_test_email.__test__ = False  # a product function, not a pytest test
