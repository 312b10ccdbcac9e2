"""The nightly job: one at a time, retries for what may pass, failures recorded and e-mailed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core.sftp import mail, nightly, registry
from core.sftp.nightly import run_nightly
from core.warehouse import db
from tests.conftest import wait_until
from tests.ingest.helpers import rows
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
    waits: list[float] = []
    with start_mail_server(tmp_path) as server:
        configure_mail(db_path, server.port)
        report = run_nightly(db_path, wait=30, sleep=waits.append)
    (outcome,) = report.outcomes
    assert not outcome.ok and outcome.attempts == 4  # the first try and 3 retries
    assert waits == [30, 60, 120]  # growing waits between them
    assert report.emailed_to == ("admin@d.example",)
    (message,) = server.inbox.messages
    assert message["Subject"] == "Yardstick nightly import: 1 of 1 source(s) failed"
    body = message.get_payload()
    assert "vendor: FAILED after 4 attempt(s)" in body
    assert "refused the connection" in body
    jobs = rows(db_path, "select source, status, remote_path, message from import_jobs")
    run = rows(
        db_path,
        "select status, sources, failed, emailed_to, finished_at is not null from nightly_runs",
    )
    assert len(jobs) == 1  # the last attempt only, not one per retry
    assert jobs[0][:3] == ("sftp", "failed", ".")
    assert "refused the connection" in jobs[0][3]
    assert run == [("failed", 1, 1, "admin@d.example", True)]
    # the JSON names the failed job Import History shows
    (job_id,) = rows(db_path, "select job_id from import_jobs")[0]
    (source,) = report.to_dict()["sources"]
    assert source["pull"]["job_id"] == job_id and source["job_id"] == job_id


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


def save_source(db_path: Path, port: int) -> None:
    with db.connect(db_path) as con:
        registry.save_source(
            con, name="vendor", host="127.0.0.1", port=port, username="u",
            auth_kind="password", password="p", pattern="*.csv", user="admin",
        )  # fmt: skip


def running_runs(db_path: Path) -> list[tuple]:
    return rows(db_path, "select run_id, pid from nightly_runs where status = 'running'")


def test_a_run_killed_mid_way_is_marked_interrupted_by_the_next(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kill -9 (a power cut, the OOM killer) leaves the run 'running'; the next run marks it
    failed as interrupted before it starts, and says so in its JSON."""
    with socket.socket() as silent:  # takes the TCP connection, never greets: the run hangs
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        save_source(db_path, silent.getsockname()[1])
        killed = subprocess.Popen(
            [sys.executable, "-m", "core", "nightly", "--db", str(db_path)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until(lambda: running_runs(db_path), 60, "the nightly run to start")
            os.kill(killed.pid, signal.SIGKILL)
        finally:
            killed.kill()
            killed.wait(timeout=30)
    assert running_runs(db_path) == [(1, killed.pid)]  # what a dead run leaves behind
    monkeypatch.setenv("YARDSTICK_NIGHTLY_BACKOFF", "0")
    after = cli("nightly", "--json", db=db_path)  # the port is closed now: refused at once
    document = json.loads(after.stdout)
    assert document["run_id"] == 2 and document["interrupted_runs"] == [1]
    assert running_runs(db_path) == []
    status, finished, detail = rows(
        db_path, "select status, finished_at, detail from nightly_runs where run_id = 1"
    )[0]
    assert (status, finished) == ("failed", None)  # when it died is not known
    detail = json.loads(detail)
    assert detail["interrupted"] is True and detail["marked_by_run"] == 2
    assert detail["message"].startswith("Nightly run #1 never finished")
    assert after.returncode == 1  # this run's own source failed (refused)
    (source,) = document["sources"]
    failed_jobs = rows(db_path, "select job_id from import_jobs where status = 'failed'")
    assert failed_jobs == [(source["pull"]["job_id"],)]
    again = cli("nightly", "--json", db=db_path)
    assert json.loads(again.stdout)["interrupted_runs"] == []  # marked once, not every night


def test_a_source_that_fails_before_pulling_names_its_failed_job(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_source(db_path, free_port())

    def broken(*_args, **_kwargs):
        raise registry.SourceError("The saved password cannot be decrypted.")

    monkeypatch.setattr(nightly, "pull_source", broken)
    report = run_nightly(db_path, wait=0, sleep=lambda _s: None)
    (source,) = report.to_dict()["sources"]
    assert source["pull"] is None and not source["ok"]
    (job_id, message) = rows(db_path, "select job_id, message from import_jobs")[0]
    assert source["job_id"] == job_id
    assert "cannot be decrypted" in message
