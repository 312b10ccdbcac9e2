"""`python -m core import` per its contract (docs/cli.md), and the job records behind Import
History."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from core.cli import main
from core.ingest import errors_csv, import_file, job_errors, list_jobs
from core.ingest.jobs import create_job, reap_dead_jobs
from core.warehouse import db
from tests.ingest.helpers import VARIANTS, scalar

CONTRACT = ["job_id", "status", "rows_read", "inserted", "updated", "duplicates", "rejected",
            "errors"]  # fmt: skip
REPO = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], capsys) -> tuple[int, object, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith(("{", "[")) else out), err


def test_import_json_one_object_contract(db_path: Path, capsys) -> None:
    code, doc, err = run_cli(["import", str(VARIANTS / "basic.csv"), "--json",
                              "--db", str(db_path)], capsys)  # fmt: skip
    assert code == 0 and err == ""
    assert list(doc)[: len(CONTRACT)] == CONTRACT
    assert (doc["status"], doc["rows_read"], doc["inserted"], doc["rejected"]) == (
        "completed", 7, 6, 1,
    )  # fmt: skip
    assert doc["errors"] == [
        {"row": 8, "column": "Score", "message": "'n/a' is not a number", "severity": "error"}
    ]


def test_import_several_paths_gives_a_list_and_already_imported_is_success(
    db_path: Path, capsys
) -> None:
    paths = [str(VARIANTS / "basic.csv"), str(VARIANTS / "tab.tsv")]
    code, docs, _ = run_cli(["import", *paths, "--json", "--db", str(db_path)], capsys)
    assert code == 0
    assert [d["inserted"] for d in docs] == [6, 0]  # same rows: duplicates, never doubled
    assert docs[1]["duplicates"] == 6
    code, again, _ = run_cli(["import", paths[0], "--json", "--db", str(db_path)], capsys)
    assert code == 0 and again["inserted"] == 0 and again["already_imported"]


def test_failure_exits_nonzero_with_one_line_reason(db_path: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, doc, err = run_cli(["import", str(empty), "--json", "--db", str(db_path)], capsys)
    assert code == 1
    assert doc["status"] == "failed"
    assert err.strip().splitlines() == ["error: empty.csv: The file is empty."]
    code, _, err = run_cli(["import", str(tmp_path / "nope.csv"), "--db", str(db_path)], capsys)
    assert code == 1 and err.strip() == f"error: No such file: {tmp_path / 'nope.csv'}"


def test_source_and_mapping_flags(db_path: Path, tmp_path: Path, capsys) -> None:
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"Score": "ignore", "Percentile": "score"}), encoding="utf-8")
    code, doc, _ = run_cli(["import", str(VARIANTS / "basic.csv"), "--source", "generic",
                            "--mapping", str(mapping), "--json", "--db", str(db_path)],
                           capsys)  # fmt: skip
    assert code == 0 and doc["preset"] == "generic"
    assert scalar(db_path, "select max(score) from assessments") == 72.0  # percentiles as scores
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run_cli(["import", str(VARIANTS / "tab.tsv"), "--mapping", str(bad),
                            "--db", str(db_path)], capsys)  # fmt: skip
    assert code == 1 and "is not valid JSON" in err


def test_cli_subprocess_stdout_is_pure_json(db_path: Path) -> None:
    """No progress bars or logs on stdout: scripts parse it."""
    done = subprocess.run(
        [sys.executable, "-m", "core", "import", str(VARIANTS / "records.json"), "--json",
         "--db", str(db_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inserted"] == 6


def test_jobs_list_errors_and_csv(db_path: Path) -> None:
    summary = import_file(VARIANTS / "basic.csv", db=db_path, origin="upload", user="ann")
    with db.connect(db_path) as con:
        jobs = list_jobs(con)
        errors = job_errors(con, summary.job_id)
        data = errors_csv(con, summary.job_id)
    row = jobs.iloc[0]
    assert (row.status, row.source, row.created_by, row.rows_read, row.errors) == (
        "completed", "upload", "ann", 7, 1,
    )  # fmt: skip
    assert row.seconds >= 0 and row.file_name == "basic.csv"
    assert errors.to_dict("records") == [
        {"row": 8, "column": "Score", "message": "'n/a' is not a number", "severity": "error"}
    ]
    parsed = pd.read_csv(io.BytesIO(data), comment="#")
    assert parsed.to_dict("records") == errors.to_dict("records")
    assert b"# import job: " in data


def test_job_of_a_dead_process_is_marked_failed(db_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with db.connect(db_path) as con:
        job_id = create_job(con, file_name="x.csv", source="cli", remote_path=None, user=None,
                            status="running")  # fmt: skip
        con.execute("update import_jobs set pid = $p where job_id = $j",
                    {"p": gone.pid, "j": job_id})  # fmt: skip
        mine = create_job(con, file_name="y.csv", source="cli", remote_path=None, user=None,
                          status="running")  # fmt: skip
        assert reap_dead_jobs(con) == 1
        statuses = dict(con.execute("select job_id, status from import_jobs").fetchall())
    assert statuses == {job_id: "failed", mine: "running"}


def test_every_import_attempt_is_audited(db_path: Path, tmp_path: Path) -> None:
    import_file(VARIANTS / "basic.csv", db=db_path, origin="upload", user="ann")
    import_file(VARIANTS / "basic.csv", db=db_path, origin="upload", user="ann")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    import_file(empty, db=db_path, origin="cli", user="bob")
    with db.connect(db_path) as con:
        rows = con.execute(
            "select username, detail->>'file', detail->>'status', detail->>'inserted' "
            "from audit_log where action = 'import' order by event_id"
        ).fetchall()
    assert rows == [
        ("ann", "basic.csv", "completed", "6"),
        ("ann", "basic.csv", "completed", None),
        ("bob", "empty.csv", "failed", None),
    ]
