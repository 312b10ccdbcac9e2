"""The nightly job: one at a time, retries for what may pass, failures recorded and e-mailed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.sftp import mail, registry
from core.sftp.nightly import run_nightly
from core.warehouse import db
from tests.sftp.helpers import add_password_source, cli
from tests.sftp.smtp import start_mail_server
from tests.sftp.sshd import Server, free_port

ROOT = Path(__file__).resolve().parents[2]


def configure_mail(db_path: Path, port: int) -> None:
    with db.connect(db_path) as con:
        mail.save_smtp(
            con, host="127.0.0.1", port=port, security="none", sender="yardstick@d.example",
            recipients="admin@d.example", user="admin",
        )  # fmt: skip


def test_refused_port_is_retried_then_recorded_and_emailed(db_path: Path, tmp_path: Path) -> None:
    with db.connect(db_path) as con:
        registry.save_source(
            con, name="vendor", host="127.0.0.1", port=free_port(), username="u",
            auth_kind="password", password="p", pattern="*.csv", user="admin",
        )  # fmt: skip
    server = start_mail_server(tmp_path)
    configure_mail(db_path, server.port)
    waits: list[float] = []
    try:
        report = run_nightly(db_path, wait=30, sleep=waits.append)
    finally:
        server.stop()
    (outcome,) = report.outcomes
    assert not outcome.ok and outcome.attempts == 4  # the first try and 3 retries
    assert waits == [30, 60, 120]  # growing waits between them
    assert report.emailed_to == ("admin@d.example",)
    (message,) = server.inbox.messages
    assert message["Subject"] == "Yardstick nightly import: 1 of 1 source(s) failed"
    body = message.get_payload()
    assert "vendor: FAILED after 4 attempt(s)" in body
    assert "refused the connection" in body
    with db.connect(db_path) as con:
        jobs = con.execute(
            "select source, status, remote_path, message from import_jobs"
        ).fetchall()
        run = con.execute(
            "select status, sources, failed, emailed_to, finished_at is not null from nightly_runs"
        ).fetchall()
    assert len(jobs) == 1  # the last attempt only, not one per retry
    assert jobs[0][:3] == ("sftp", "failed", ".")
    assert "refused the connection" in jobs[0][3]
    assert run == [("failed", 1, 1, "admin@d.example", True)]


def test_wrong_password_is_not_retried(server: Server, db_path: Path) -> None:
    server.deliver("scores_2025.csv", b"a\n1\n")
    with db.connect(db_path) as con:
        add_password_source(con, server, password="wrong")
    assert cli("sftp", "trust", "vendor", "--fingerprint", server.fingerprint(), db=db_path)
    waits: list[float] = []
    report = run_nightly(db_path, wait=1, sleep=waits.append)
    (outcome,) = report.outcomes
    assert outcome.attempts == 1 and waits == []
    assert "refused the sign-in" in outcome.message
    assert report.email_error.startswith("E-mail is not set up")


def test_unknown_host_key_fails_the_nightly(server: Server, db_path: Path) -> None:
    with db.connect(db_path) as con:
        add_password_source(con, server)
    report = run_nightly(db_path, wait=0, sleep=lambda _s: None)
    assert not report.ok
    assert report.outcomes[0].result.problem.kind == "host_key_unknown"
    assert "Failed password" not in server.log.read_text()


def test_second_run_while_one_holds_the_lock_does_nothing(db_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys; from pathlib import Path; from core.sftp.nightly import nightly_lock\n"
            f"with nightly_lock(Path({str(db_path)!r})):\n"
            "    print('locked', flush=True); sys.stdin.readline()\n"
        )],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = cli("nightly", db=db_path)
    finally:
        holder.communicate("\n", timeout=30)
    assert second.returncode == 75
    assert "A nightly run is already in progress (pid" in second.stderr
    with db.connect(db_path) as con:
        assert con.execute("select count(*) from nightly_runs").fetchone()[0] == 0
    after = cli("nightly", db=db_path)  # the lock died with its holder
    assert after.returncode == 0, after.stderr
    assert "No SFTP source is configured" in after.stdout
