"""Helpers shared by the SFTP tests: a source on the test server, trusting it, the CLI."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from core.cli import main
from core.sftp import registry
from core.sftp.connect import load_target, test_connection
from tests.sftp.sshd import Server


def add_password_source(
    con, server: Server, name: str = "vendor", **changes
) -> registry.SftpSource:
    values = {
        "name": name,
        "host": "127.0.0.1",
        "port": server.port,
        "username": server.account.user,
        "auth_kind": "password",
        "password": server.account.password,
        "remote_dir": "/incoming",
        "pattern": "scores_*.csv",
        **changes,
    }
    return registry.save_source(con, user="admin", **values)


def trust_current_key(con, name: str) -> None:
    report = test_connection(load_target(con, name))
    key = report.host_key
    registry.trust(
        con,
        name,
        key_type=key.key_type,
        fingerprint=key.fingerprint,
        public_key=key.public_key,
        user="admin",
    )


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, stdin: str = "", db: Path) -> Ran:
    """The CLI's own main() in this process (a subprocess per call costs seconds); one test
    below runs the real `python -m core` to prove the entry point."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main([*args, "--db", str(db)])
    finally:
        sys.stdin = saved
    return Ran(code, out.getvalue(), err.getvalue())


HEADER = "student_id,school,grade,school_year,season,subject,score\n"


def scores_csv(students: int, season: str, first: int = 0) -> bytes:
    rows = [
        f"S{first + i:05d},Lincoln Elementary,3,2024-2025,{season},math,{180 + (i * 7) % 41}\n"
        for i in range(students)
    ]
    return (HEADER + "".join(rows)).encode()
