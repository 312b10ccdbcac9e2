"""Test connection against a real sshd: every step, every failure with its reason and advice."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from core.sftp import registry
from core.sftp.connect import confirm_fingerprint, load_target, server_host_keys, test_connection
from tests.sftp.helpers import add_password_source, trust_current_key
from tests.sftp.sshd import PASSPHRASE, Server, free_port, keygen_fingerprint


def report_after_trust(con, server: Server, **changes):
    """Add the source, confirm the server's key, then test the connection."""
    add_password_source(con, server, **changes)
    trust_current_key(con, "vendor")
    return test_connection(load_target(con, "vendor"))


def test_unknown_host_key_is_shown_and_nothing_else_happens(con, server: Server) -> None:
    server.deliver("scores_2025.csv", b"a,b\n1,2\n")
    add_password_source(con, server)
    report = test_connection(load_target(con, "vendor"))
    assert [s.step for s in report.steps] == ["resolving", "connecting", "host_key"]
    assert [s.ok for s in report.steps] == [True, True, False]
    assert report.problem.kind == "host_key_unknown"
    # the fingerprint is exactly what ssh-keygen -l prints for the server's key
    assert report.host_key.fingerprint == server.fingerprint()
    assert report.host_key.description.startswith("256 SHA256:")
    assert report.host_key.description.endswith("(ED25519)")
    assert "python -m core sftp trust vendor --fingerprint" in report.problem.advice
    # no password was offered to an unconfirmed server
    assert "Accepted" not in server.log.read_text()
    assert "Failed password" not in server.log.read_text()


def test_confirmed_key_then_every_step_passes(con, server: Server) -> None:
    server.deliver("scores_2024.csv", b"x\n", mtime=time.time() - 3600)
    server.deliver("scores_2025.csv", b"y\n")
    server.deliver("notes.txt", b"z\n")
    add_password_source(con, server)
    trust_current_key(con, "vendor")
    steps = []
    report = test_connection(load_target(con, "vendor"), on_step=steps.append)
    assert report.ok, report.problem
    assert [s.step for s in steps] == [
        "resolving", "connecting", "host_key", "authenticating", "listing", "matching",
    ]  # fmt: skip
    assert all(s.ok for s in steps)
    assert [f.name for f in report.files] == ["scores_2025.csv", "scores_2024.csv"]
    assert report.host_key.status == "trusted"
    assert "matches the confirmed key" in steps[2].detail
    assert sum(s.seconds for s in steps) < 10


def test_changed_host_key_refuses_with_interception_warning(con, server: Server) -> None:
    server.deliver("scores_2025.csv", b"y\n")
    add_password_source(con, server)
    trust_current_key(con, "vendor")
    old = server.fingerprint()
    server.restart_with_new_host_key()
    report = test_connection(load_target(con, "vendor"))
    assert report.problem.kind == "host_key_changed"
    assert "POSSIBLE INTERCEPTION" in report.problem.reason
    assert old in report.problem.reason and server.fingerprint() in report.problem.reason
    assert report.host_key.status == "changed"
    assert [s.step for s in report.steps][-1] == "host_key"
    assert "Failed password" not in server.log.read_text()
    # an admin re-confirms the new key; then it connects again
    trust_current_key(con, "vendor")
    assert test_connection(load_target(con, "vendor")).ok


def test_wrong_password(con, server: Server) -> None:
    server.deliver("scores_2025.csv", b"y\n")
    report = report_after_trust(con, server, password="not-the-password")
    assert report.problem.kind == "auth_failed"
    assert report.steps[-1].step == "authenticating"
    assert "refused the sign-in" in report.problem.reason
    assert "password" in report.problem.advice


@pytest.mark.parametrize("kind", ["rsa", "ecdsa", "ed25519"])
def test_key_sign_in_for_each_key_type(con, server: Server, kind: str) -> None:
    server.deliver("scores_2025.csv", b"y\n")
    key_text = server.account.keys[kind].read_text()
    add_password_source(
        con, server, auth_kind="key", password="", private_key=key_text,
        passphrase=PASSPHRASE if kind == "ed25519" else "",
    )  # fmt: skip
    trust_current_key(con, "vendor")
    report = test_connection(load_target(con, "vendor"))
    assert report.ok, report.problem
    public = Path(f"{server.account.keys[kind]}.pub")
    assert f"publickey for {server.account.user}" in server.log.read_text()
    assert keygen_fingerprint(public) in server.log.read_text()


def test_wrong_key(con, server: Server) -> None:
    add_password_source(
        con, server, auth_kind="key", password="",
        private_key=server.account.stranger_key.read_text(),
    )  # fmt: skip
    trust_current_key(con, "vendor")
    report = test_connection(load_target(con, "vendor"))
    assert report.problem.kind == "auth_failed"
    assert "authorized_keys" in report.problem.advice


def test_refused_port(con) -> None:
    registry.save_source(
        con, name="nobody", host="127.0.0.1", port=free_port(), username="x",
        auth_kind="password", password="p", pattern="*.csv", user="admin",
    )  # fmt: skip
    report = test_connection(load_target(con, "nobody"))
    assert report.problem.kind == "connection_refused"
    assert report.problem.transient
    assert [s.ok for s in report.steps] == [True, False]
    assert "port" in report.problem.advice


def test_host_not_found(con) -> None:
    registry.save_source(
        con, name="typo", host="registry.no-such-host.invalid", username="x",
        auth_kind="password", password="p", pattern="*.csv", user="admin",
    )  # fmt: skip
    report = test_connection(load_target(con, "typo"))
    assert report.problem.kind == "host_not_found"
    assert "could not be found" in report.problem.reason
    assert [s.step for s in report.steps] == ["resolving"]


def test_silent_server_times_out_within_the_limit(con) -> None:
    """A port that accepts TCP but never speaks SSH (a firewall or a hung service)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        registry.save_source(
            con, name="silent", host="127.0.0.1", port=listener.getsockname()[1], username="x",
            auth_kind="password", password="p", pattern="*.csv", user="admin",
        )  # fmt: skip
        report = test_connection(load_target(con, "silent"), timeout=2)
    # what the code reported, not the wall clock: the TCP connection was made, then the wait
    # for the greeting ran out at the limit this call set
    assert [(s.step, s.ok) for s in report.steps] == [
        ("resolving", True), ("connecting", True), ("host_key", False),
    ]  # fmt: skip
    assert report.problem.kind == "timed_out"
    assert report.problem.reason.endswith("within 2 seconds (waiting for the SSH greeting).")
    assert report.problem.transient


def test_server_that_hangs_up_at_once_says_it_closed_the_connection(con) -> None:
    """A port that accepts TCP and closes it at once (not SSH, or sshd refusing this address)
    is not a timeout: the report says the server closed the connection, and why it may."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def hang_up() -> None:
            connection, _ = listener.accept()
            connection.close()

        closer = threading.Thread(target=hang_up, daemon=True)
        closer.start()
        registry.save_source(
            con, name="closer", host="127.0.0.1", port=port, username="x",
            auth_kind="password", password="p", pattern="*.csv", user="admin",
        )  # fmt: skip
        report = test_connection(load_target(con, "closer"), timeout=30)
        closer.join(timeout=30)
    problem = report.problem
    assert [(s.step, s.ok) for s in report.steps] == [
        ("resolving", True), ("connecting", True), ("host_key", False),
    ]  # fmt: skip
    assert problem.kind == "connection_closed" and problem.transient
    assert problem.reason == (
        f"127.0.0.1 port {port} accepted the connection, then closed it at once without the "
        "SSH greeting."
    )
    assert "No answer" not in problem.reason and "within" not in problem.reason
    for cause in ("port is wrong", "not an SSH server", "refuses connections from this computer"):
        assert cause in problem.advice


def test_folder_without_permission(con, server: Server) -> None:
    report = report_after_trust(con, server, remote_dir="/locked")
    assert report.problem.kind == "folder_denied"
    assert report.steps[-1].step == "listing"
    assert "permission denied" in report.problem.reason


def test_missing_folder(con, server: Server) -> None:
    report = report_after_trust(con, server, remote_dir="/outgoing")
    assert report.problem.kind == "folder_missing"
    assert "'/incoming'" in report.problem.reason  # where the account starts


def test_no_matching_file(con, server: Server) -> None:
    server.deliver("roster.csv", b"x\n")
    report = report_after_trust(con, server)
    assert report.problem.kind == "no_match"
    assert report.steps[-1].step == "matching"
    assert "roster.csv" in report.problem.reason
    assert "scores_*.csv" in report.problem.reason


def test_server_host_keys_lists_every_type(con, server: Server) -> None:
    add_password_source(con, server)
    keys = server_host_keys(load_target(con, "vendor"))
    assert [k.fingerprint for k in keys] == [server.fingerprint()]


def test_the_confirmed_key_type_is_asked_for_first(con, server: Server) -> None:
    """A server with Ed25519 and RSA keys; the admin confirmed the RSA one (say, the one the
    vendor's documentation lists): later connections ask for RSA, as OpenSSH does."""
    server.deliver("scores_2025.csv", b"y\n")
    rsa = server.add_host_key("rsa")
    add_password_source(con, server)
    target = load_target(con, "vendor")
    assert [k.fingerprint for k in server_host_keys(target)] == [server.fingerprint(), rsa]
    key = confirm_fingerprint(target, rsa)
    assert key.description.startswith("3072 SHA256:") and key.description.endswith("(RSA)")
    registry.trust(con, "vendor", key_type=key.key_type, fingerprint=key.fingerprint,
               public_key=key.public_key, user="admin")  # fmt: skip
    report = test_connection(load_target(con, "vendor"))
    assert report.ok, report.problem
    assert report.host_key.fingerprint == rsa
