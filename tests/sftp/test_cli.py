"""`python -m core sftp …` as a server admin types it, against a real sshd."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sftp.helpers import cli
from tests.sftp.sshd import PASSPHRASE, Server

ROOT = Path(__file__).resolve().parents[2]


def add_vendor(server: Server, db: Path, *extra: str, stdin: str | None = None):
    return cli(
        "sftp", "add", "vendor", "--host", "127.0.0.1", "--port", str(server.port),
        "--user", server.account.user, "--remote-dir", "/incoming", "--pattern", "scores_*.csv",
        *(extra or ("--password-stdin",)),
        stdin=server.account.password + "\n" if stdin is None else stdin, db=db,
    )  # fmt: skip


def test_add_test_trust_then_test_passes(server: Server, db_path: Path) -> None:
    server.deliver("scores_2025.csv", b"a\n1\n")
    added = add_vendor(server, db_path)
    assert added.returncode == 0, added.stderr
    assert "sftp test vendor" in added.stdout

    listed = cli("sftp", "list", "--json", db=db_path)
    (source,) = json.loads(listed.stdout)
    assert source["password_set"] and not source["trusted"]
    assert server.account.password not in listed.stdout

    first = cli("sftp", "test", "vendor", db=db_path)
    assert first.returncode == 1
    assert server.fingerprint() in first.stdout
    assert "NOT confirmed yet" in first.stdout
    assert first.stderr.startswith("error: The server presents the host key")
    assert len(first.stderr.strip().splitlines()) == 1

    wrong = cli("sftp", "trust", "vendor", "--fingerprint", "SHA256:" + "A" * 43, db=db_path)
    assert wrong.returncode == 1
    assert "does not hold a host key with the fingerprint" in wrong.stderr

    trusted = cli("sftp", "trust", "vendor", "--fingerprint", server.fingerprint(), db=db_path)
    assert trusted.returncode == 0, trusted.stderr
    assert f"Trusted 256 {server.fingerprint()} (ED25519) for vendor." in trusted.stdout

    second = cli("sftp", "test", "vendor", "--json", db=db_path)
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["ok"] and report["host_key"]["fingerprint"] == server.fingerprint()
    assert [s["step"] for s in report["steps"]][-1] == "matching"
    assert [f["name"] for f in report["files"]] == ["scores_2025.csv"]

    audit = cli("sftp", "list", db=db_path)
    assert server.fingerprint() in audit.stdout


def test_key_file_with_passphrase_on_stdin(server: Server, db_path: Path) -> None:
    server.deliver("scores_2025.csv", b"a\n1\n")
    key = str(server.account.keys["ed25519"])
    missing = add_vendor(server, db_path, "--key-file", key, stdin="")
    assert missing.returncode == 1
    assert "protected by a passphrase" in missing.stderr
    added = add_vendor(server, db_path, "--key-file", key, "--passphrase-stdin",
                       stdin=PASSPHRASE + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    cli("sftp", "trust", "vendor", "--fingerprint", server.fingerprint(), db=db_path)
    tested = cli("sftp", "test", "vendor", db=db_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "signed in as" in tested.stdout and "private key" in tested.stdout


@pytest.mark.slow
def test_python_dash_m_core_entry_point(server: Server, db_path: Path) -> None:
    added = subprocess.run(
        [sys.executable, "-m", "core", "sftp", "add", "vendor", "--host", "127.0.0.1",
         "--port", str(server.port), "--user", server.account.user, "--password-stdin",
         "--remote-dir", "/incoming", "--pattern", "*.csv", "--db", str(db_path)],
        input=server.account.password + "\n", capture_output=True, text=True, cwd=ROOT,
        timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    tested = subprocess.run(
        [sys.executable, "-m", "core", "sftp", "test", "vendor", "--db", str(db_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert tested.returncode == 1
    assert f"Host key: 256 {server.fingerprint()} (ED25519) (NOT confirmed yet)" in tested.stdout
    assert tested.stderr.count("\n") == 1


def test_secrets_never_on_the_command_line_and_remove(server: Server, db_path: Path) -> None:
    no_password = add_vendor(server, db_path, stdin="")
    assert no_password.returncode == 1
    assert "No password arrived on stdin" in no_password.stderr
    assert add_vendor(server, db_path).returncode == 0
    removed = cli("sftp", "remove", "vendor", db=db_path)
    assert removed.returncode == 0
    gone = cli("sftp", "test", "vendor", db=db_path)
    assert gone.returncode == 1
    assert "No SFTP source named 'vendor'" in gone.stderr
