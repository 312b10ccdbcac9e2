"""Import now and the nightly job end to end: real sshd → streamed download → the real import
pipeline → the warehouse, with re-pulls skipped, a growing file refused and a reader running."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from core.sftp.nightly import run_nightly
from core.sftp.pull import pull_source
from core.warehouse import db
from tests.sftp.helpers import add_password_source, cli, scores_csv
from tests.sftp.sshd import Server

ROOT = Path(__file__).resolve().parents[2]


def setup_source(server: Server, db_path: Path) -> None:
    with db.connect(db_path) as con:
        add_password_source(con, server)
    trusted = cli("sftp", "trust", "vendor", "--fingerprint", server.fingerprint(), db=db_path)
    assert trusted.returncode == 0, trusted.stderr


def scalar(db_path: Path, sql: str, params: list | None = None):
    with db.connect(db_path) as con:
        return con.execute(sql, params or []).fetchone()[0]


def test_pull_imports_then_skips_what_it_has(server: Server, db_path: Path) -> None:
    fall = server.deliver("scores_fall.csv", scores_csv(30, "fall"), mtime=1_700_000_000)
    setup_source(server, db_path)

    first = pull_source("vendor", db=db_path, user="ada")
    assert first.ok, first.message
    (job,) = first.jobs
    assert (job["status"], job["rows_read"], job["inserted"]) == ("completed", 30, 30)
    assert scalar(db_path, "select count(*) from assessments where season = 'fall'") == 30
    with db.connect(db_path) as con:
        stored = con.execute(
            "select j.source, j.remote_path, r.sha256 from import_jobs j "
            "join raw_files r using (file_id) where j.job_id = ?",
            [job["job_id"]],
        ).fetchone()
    assert stored == (
        "sftp",
        "/incoming/scores_fall.csv",
        hashlib.sha256(fall.read_bytes()).hexdigest(),
    )

    again = pull_source("vendor", db=db_path).to_dict()
    assert (again["status"], again["inserted"], again["already_imported"]) == ("completed", 0, True)
    assert again["skipped"][0]["message"] == (
        f"scores_fall.csv was already imported (job #{job['job_id']}); skipped without downloading."
    )

    server.deliver("scores_copy.csv", fall.read_bytes(), mtime=1_700_000_100)  # same bytes
    copy = pull_source("vendor", db=db_path)
    assert copy.jobs == [] and copy.ok
    assert "scores_copy.csv was already imported" in copy.skipped[-1]["message"]
    assert "after downloading (same content)" in copy.skipped[-1]["message"]

    server.deliver("scores_winter.csv", scores_csv(30, "winter"), mtime=1_700_000_200)
    winter = cli("sftp", "pull", "vendor", "--json", db=db_path)
    assert winter.returncode == 0, winter.stderr
    summary = json.loads(winter.stdout)
    for field in ("job_id", "status", "rows_read", "inserted", "updated", "duplicates",
                  "rejected", "errors", "skipped"):  # fmt: skip
        assert field in summary
    assert (summary["inserted"], len(summary["skipped"])) == (30, 2)
    assert summary["jobs"][0]["remote_path"] == "/incoming/scores_winter.csv"
    assert scalar(db_path, "select count(*) from assessments") == 60


def test_file_growing_during_pull_is_refused_then_imported(server: Server, db_path: Path) -> None:
    path = server.deliver("scores_fall.csv", scores_csv(5_000, "fall"))
    setup_source(server, db_path)

    def vendor_appends(_remote, _done: int) -> None:
        if path.stat().st_size < 300_000:  # once: the export gains its last rows
            with path.open("ab") as handle:
                handle.write(b"".join(scores_csv(10, "fall", 900_000).splitlines(True)[1:]))

    refused = pull_source("vendor", db=db_path, on_download=vendor_appends)
    assert not refused.ok and refused.transient
    assert "still being written" in refused.failed[0]["message"]
    assert scalar(db_path, "select count(*) from assessments") == 0
    assert scalar(
        db_path, "select count(*) from import_jobs where status = 'failed' and remote_path = ?",
        ["/incoming/scores_fall.csv"],
    ) == 1  # fmt: skip
    later = pull_source("vendor", db=db_path)  # the vendor has finished writing
    assert later.ok and later.jobs[0]["inserted"] == 5_010


READER = textwrap.dedent(
    """
    import json, sys, time
    from core.warehouse import db
    path, expected = sys.argv[1], int(sys.argv[2])
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with db.connect(path) as con:  # what every page does per use
            seen.append(con.execute("select count(*) from assessments").fetchone()[0])
        if len(seen) == 1:
            print("reading", flush=True)
        if seen[-1] == expected:
            break
        time.sleep(0.02)  # a user clicking, not a wait for a condition
    print(json.dumps(sorted(set(seen))), flush=True)
    """
)


def test_nightly_imports_while_another_process_reads(server: Server, db_path: Path) -> None:
    rows = 20_000
    server.deliver("scores_fall.csv", scores_csv(rows, "fall"))
    setup_source(server, db_path)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db_path), str(rows)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "reading"
        report = run_nightly(db_path, wait=0, sleep=lambda _s: None)
        out, err = reader.communicate(timeout=150)
    finally:
        reader.kill()
    assert report.ok, report.outcomes[0].message
    assert reader.returncode == 0, err
    # the reader saw the warehouse before the import and after it, never in between
    assert json.loads(out.strip().splitlines()[-1]) == [0, rows]
    assert scalar(db_path, "select status from nightly_runs") == "completed"

    server.deliver("scores_winter.csv", scores_csv(40, "winter"))
    second = run_nightly(db_path, wait=0, sleep=lambda _s: None)
    (outcome,) = second.outcomes
    assert outcome.ok and len(outcome.result.jobs) == 1 and len(outcome.result.skipped) == 1
    assert outcome.result.jobs[0]["inserted"] == 40
