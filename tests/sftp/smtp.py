"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, with optional STARTTLS or
implicit TLS (a self-signed certificate for 127.0.0.1 the client trusts via SSL_CERT_FILE) and
optional password sign-in."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.sftp.sshd import free_port

USER = "mailer"
PASSWORD = "mail-secret"


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.original_content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def self_signed(folder: Path) -> Path:
    """A certificate + key for 127.0.0.1 in one PEM file; returns the certificate path."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "smtp-cert.pem"
    key_path = folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path


def _check_password(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class MailServer:
    inbox: Inbox
    port: int
    controller: Controller
    cert: Path | None

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> MailServer:
        return self

    def __exit__(self, *exc: object) -> None:
        """`with start_mail_server(...) as server:` stops it however the block ends; its inbox
        stays readable afterwards."""
        self.stop()


def start_mail_server(folder: Path, security: str = "none", auth: bool = False) -> MailServer:
    inbox = Inbox()
    port = free_port()
    cert = self_signed(folder) if security != "none" else None
    context = None
    if cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, folder / "smtp-key.pem")
    options: dict = {"hostname": "127.0.0.1", "port": port}
    if security == "starttls":
        options |= {"tls_context": context, "require_starttls": True}
    elif security == "ssl":
        options |= {"ssl_context": context}
    if auth:
        options |= {"authenticator": _check_password, "auth_required": True}
        # implicit TLS is TLS from the first byte; aiosmtpd only counts STARTTLS as such
        options["auth_require_tls"] = security == "starttls"
    controller = Controller(inbox, **options)
    controller.start()
    return MailServer(inbox, port, controller, cert)
