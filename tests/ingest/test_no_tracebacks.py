"""No traceback from `python -m core import` on any input (issue 17): the awkward-file corpus,
seeded random bytes and truncated CSV / Excel / JSON files each end with exit code 0 or 1, and a
failure is exactly one line on stderr. A failure nobody foresaw is one line with an error id; its
traceback goes to a private log file (and to stderr only with YARDSTICK_DEBUG)."""

from __future__ import annotations

import os
import re
import resource
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core import cli
from core.commands import import_cmd
from tests.ingest.awkward_files import write_corpus

ROOT = Path(__file__).resolve().parents[2]
ADDRESS_SPACE = 4_000_000_000  # a runaway parse dies in the child, not on the machine


def verdict(code: int, stderr: str) -> str | None:
    """What is wrong with one run's outcome, or None."""
    lines = stderr.strip().splitlines()
    if "Traceback" in stderr:
        return f"traceback:\n{stderr}"
    if code not in (0, 1):
        return f"exit code {code}: {stderr}"
    if code == 1 and (len(lines) != 1 or not lines[0].startswith("error: ")):
        return f"{len(lines)} lines on stderr: {stderr}"
    return None


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _run_cli(path: Path, db: Path) -> tuple[int, str]:
    env = {**os.environ, "YARDSTICK_DB": str(db)}
    env.pop("YARDSTICK_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "core", "import", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
    )
    return done.returncode, done.stderr


@pytest.mark.slow
@pytest.mark.timeout(1800)  # ~70 processes: about a minute on an idle 2-core machine
def test_every_awkward_file_through_python_m_core_import(db_path: Path, tmp_path: Path) -> None:
    """Each file in its own `python -m core import` process (two at a time)."""
    paths = write_corpus(tmp_path / "corpus", seeds=range(2))
    assert len(paths) > 60
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda p: (p, *_run_cli(p, db_path)), paths))
    problems = {p.name: v for p, code, err in outcomes if (v := verdict(code, err))}
    assert problems == {}
    assert {code for _, code, _ in outcomes} == {0, 1}  # the corpus holds both kinds


@pytest.mark.slow
def test_every_awkward_file_through_the_cli_in_process(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same corpus through cli.main in this process (fast; the subprocess test above is the
    real thing): no exception escapes, a failure is one line."""
    problems = {}
    for path in write_corpus(tmp_path / "corpus", seeds=range(2)):
        code = cli.main(["import", str(path)])
        if problem := verdict(code, capsys.readouterr().err):
            problems[path.name] = problem
    assert problems == {}


def test_unforeseen_failure_is_one_line_with_an_error_id(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The last resort: an exception no handler names becomes one line with an error id and
    what to do; the traceback is in <warehouse folder>/logs/cli-errors.log (0600) under it."""

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(import_cmd, "import_file", broken)
    monkeypatch.delenv("YARDSTICK_DEBUG", raising=False)
    path = tmp_path / "any.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")

    assert cli.main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "disk on fire" not in err
    found = re.search(r"error id ([0-9a-f]{8})", err)
    assert found, err
    assert "give your Yardstick administrator the error id" in err
    log = db_path.parent / "logs" / "cli-errors.log"
    assert str(log) in err
    text = log.read_text(encoding="utf-8")
    assert f"error id {found.group(1)}: python -m core import {path}" in text
    assert "RuntimeError: disk on fire" in text and "Traceback" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700

    monkeypatch.setenv("YARDSTICK_DEBUG", "1")
    assert cli.main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: disk on fire" in err
    assert err.strip().splitlines()[-1].startswith("error: something unexpected went wrong")


def test_a_multi_line_message_is_printed_on_one_line(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def refuses(*args, **kwargs):
        raise ValueError("first line\nsecond line\n")

    monkeypatch.setattr(import_cmd, "import_file", refuses)
    path = tmp_path / "any.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert cli.main(["import", str(path)]) == 1
    assert capsys.readouterr().err == "error: first line second line\n"


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["import"])
    assert exited.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
