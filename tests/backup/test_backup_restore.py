"""Backups that restore, through the command line as an administrator runs them: a backup of the
demo district restored into a fresh place answers `standards --json` identically, with the same
row counts; encrypted with a passphrase (stdin or the environment); refusals that name what they
protect; `--keep`; and a backup taken while another process keeps the warehouse open."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from core.backup.snapshot import row_counts
from core.warehouse import db

REPO = Path(__file__).resolve().parents[2]
FERNET = "Tyk6KOMZhdWeXPGMTRfKjPHU5fMxuwp8lR4teFbC3iI="
SECRETS = f'cookie_key = "backed-up-cookie-key"\nfernet_key = "{FERNET}"\n'
SPEC = json.dumps({"school_year": ["2023-2024", "2024-2025"]})
PASSPHRASE = "correct horse battery staple"


def cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def installation(folder: Path) -> dict[str, str]:
    """The environment of an installation in `folder`: its warehouse and secrets file, keys from
    the file (not the environment), no passphrase unless a test gives one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YARDSTICK_")}
    env["YARDSTICK_DB"] = str(folder / "data" / "yardstick.duckdb")
    env["YARDSTICK_SECRETS"] = str(folder / "secrets.toml")
    return env


def one_line_error(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    return lines[0]


def counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return row_counts(con)
    finally:
        con.close()


def standards(env: dict[str, str]) -> str:
    run = cli("standards", "--cohort", SPEC, "--by", "school,grade", "--json", env=env)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The demo district in a folder of its own, with a secrets file."""
    folder = tmp_path_factory.mktemp("source")
    env = installation(folder)
    (folder / "secrets.toml").write_text(SECRETS)
    run = cli("init", "--demo", env=env)
    assert run.returncode == 0, run.stderr
    yield env


def test_a_backup_restores_into_a_fresh_place_with_identical_answers(
    source: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "backups"
    run = cli("backup", "--out", f"{out}/", "--json", env=source)
    assert run.returncode == 0, run.stderr
    made = json.loads(run.stdout)
    archive = Path(made["file"])
    assert archive.parent == out and archive.name.startswith("yardstick-backup-")
    assert made["verified"] is True and made["encrypted"] is False
    assert made["raw_files"] == 1 and made["secrets_file"] == source["YARDSTICK_SECRETS"]
    assert made["tables"]["assessments"] == 68481 and made["tables"]["students"] == 4525
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700

    fresh = installation(tmp_path / "fresh")
    run = cli("restore", str(archive), "--json", env=fresh)
    assert run.returncode == 0, run.stderr
    restored = json.loads(run.stdout)
    assert restored["db"] == fresh["YARDSTICK_DB"] and restored["secrets"] == "written"

    source_db, fresh_db = Path(source["YARDSTICK_DB"]), Path(fresh["YARDSTICK_DB"])
    expected = {**counts(source_db), "settings": made["tables"]["settings"]}  # + this backup
    assert counts(fresh_db) == expected == restored["tables"]
    assert standards(fresh) == standards(source)
    assert Path(fresh["YARDSTICK_SECRETS"]).read_text() == SECRETS
    for private in (fresh_db, Path(fresh["YARDSTICK_SECRETS"]), *fresh_db.parent.glob("raw/*")):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    # the kept raw file is read from the new place: the old one is gone
    con = duckdb.connect(str(fresh_db), read_only=True)
    view = con.execute("select sql from duckdb_views() where view_name = 'staged_1'").fetchone()
    rows = con.execute("select count(*) from staged_1").fetchone()[0]
    con.close()
    assert str(fresh_db.parent / "raw") in view[0] and str(source_db.parent) not in view[0]
    assert rows == 68481


def test_an_encrypted_backup_needs_its_passphrase(source: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "nightly.tar.gz.enc"
    run = cli("backup", "--out", str(archive), "--encrypt", env=source, stdin=PASSPHRASE + "\n")
    assert run.returncode == 0, run.stderr
    assert "encrypted" in run.stdout and "Verified" in run.stdout
    assert b"fernet_key" not in archive.read_bytes()  # the secrets travel sealed

    fresh = installation(tmp_path / "fresh")
    wrong = cli("restore", str(archive), env=fresh, stdin="not the passphrase\n")
    assert "passphrase does not open this backup" in one_line_error(wrong)
    assert not Path(fresh["YARDSTICK_DB"]).exists()  # nothing was touched

    missing = cli("restore", str(archive), env=fresh, stdin="")
    assert "No passphrase" in one_line_error(missing)

    run = cli("restore", str(archive), env={**fresh, "YARDSTICK_BACKUP_PASSPHRASE": PASSPHRASE})
    assert run.returncode == 0, run.stderr
    assert standards(fresh) == standards(source)

    short = cli("backup", "--out", str(tmp_path / "x.enc"), "--encrypt", env=source, stdin="pw\n")
    assert "at least 12 characters" in one_line_error(short)


def test_a_damaged_backup_is_refused_whole(source: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "plain.tar.gz"
    assert cli("backup", "--out", str(archive), "--no-verify", env=source).returncode == 0
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(bytes(data[: len(data) // 3]))
    fresh = installation(tmp_path / "fresh")
    for broken in (damaged, cut):
        assert "damaged" in one_line_error(cli("restore", str(broken), env=fresh))
    not_one = tmp_path / "notes.txt"
    not_one.write_text("hello")
    assert "is not a Yardstick backup" in one_line_error(cli("restore", str(not_one), env=fresh))
    assert not Path(fresh["YARDSTICK_DB"]).exists()


def test_restore_refuses_to_replace_data_or_a_different_key_without_force(
    source: dict[str, str], tmp_path: Path
) -> None:
    archive = tmp_path / "b.tar.gz"
    assert cli("backup", "--out", str(archive), "--no-verify", env=source).returncode == 0
    place = installation(tmp_path / "place")
    assert cli("restore", str(archive), env=place).returncode == 0

    again = one_line_error(cli("restore", str(archive), env=place))
    assert f"the warehouse {place['YARDSTICK_DB']} already holds data" in again
    assert "4,525 students" in again and "--force" in again and "secrets file" not in again

    other = installation(tmp_path / "other")
    (tmp_path / "other").mkdir()
    Path(other["YARDSTICK_SECRETS"]).write_text('fernet_key = "another-key"\n')
    refused = one_line_error(cli("restore", str(archive), env=other))
    assert f"the secrets file {other['YARDSTICK_SECRETS']} holds a different fernet_key" in refused
    assert "warehouse" not in refused.split("Restore into")[0]
    assert not Path(other["YARDSTICK_DB"]).exists()

    forced = cli("restore", str(archive), "--force", "--json", env=other)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["secrets"] == "replaced"
    assert Path(other["YARDSTICK_SECRETS"]).read_text() == SECRETS
    aside = Path(other["YARDSTICK_SECRETS"] + ".before-restore")
    assert aside.read_text() == 'fernet_key = "another-key"\n'
    assert cli("restore", str(archive), "--force", env=place).returncode == 0
    assert standards(place) == standards(source)


def test_keep_removes_the_oldest_archives_named_alike(
    source: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "nightly"
    folder.mkdir()
    unrelated = folder / "notes-1.txt"
    unrelated.write_text("mine")
    made = []
    for night in range(1, 5):
        out = folder / f"yardstick-2026-12-0{night}.tar.gz"
        run = cli("backup", "--out", str(out), "--keep", "2", "--no-verify", "--json", env=source)
        assert run.returncode == 0, run.stderr
        made.append(out)
        os.utime(out, (night * 1000, night * 1000))  # nights apart, oldest first
        removed = json.loads(run.stdout)["removed"]
        assert removed == ([] if night <= 2 else [str(made[night - 3])])
    assert sorted(folder.iterdir()) == [unrelated, made[2], made[3]]
    bad = cli("backup", "--out", str(folder / "x.tar.gz"), "--keep", "0", env=source)
    assert bad.returncode == 2 and "at least 1" in bad.stderr


HOLDER = """
import sys, time
from pathlib import Path
from core.warehouse import db
db.keep_open(60)  # like the app: the file stays open between units of work
served = 0
stop = Path(sys.argv[2])
while not stop.exists():
    with db.connect(sys.argv[1]) as con:
        served += con.execute("select count(*) > 0 from assessments").fetchone()[0]
    if served == 1:
        print("serving", flush=True)
    time.sleep(0.02)  # the pace of page runs, not a wait for anything
print(served, flush=True)
"""


def test_a_backup_is_taken_while_another_process_keeps_the_warehouse_open(
    source: dict[str, str], tmp_path: Path
) -> None:
    warehouse = Path(source["YARDSTICK_DB"])
    stop = tmp_path / "stop"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), str(stop)],
        cwd=REPO,
        env=source,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "serving"
        with pytest.raises(db.WarehouseBusyError), db.connect(warehouse, wait_seconds=0):
            pass  # it really holds the file
        run = cli("backup", "--out", str(tmp_path / "live.tar.gz"), "--json", env=source)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["verified"] is True
        before = holder.poll()
        stop.touch()
        served = int(holder.communicate(timeout=120)[0].strip())
    finally:
        if holder.poll() is None:
            holder.kill()
    assert before is None and holder.returncode == 0 and served > 1  # it kept serving
