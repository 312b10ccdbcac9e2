"""Files beside the warehouse are private whatever the umask: 0600 files, 0700 folders, and loose
ones left by an older version tightened at start-up with one log line each
(core.warehouse.private_files)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from core.warehouse import private_files
from tests.ingest.helpers import VARIANTS

REPO = Path(__file__).resolve().parents[2]

# Run under the loosest usual umask, as a shell started with umask 022 would: create the
# warehouse, import a file (raw/ and staging/), write a setting (a .wal while the file is open)
# and generate the secrets file; print every mode.
UNDER_UMASK_022 = """
import json, os, stat, sys
from pathlib import Path
os.umask(0o022)
from core.ingest import import_file
from core.warehouse import db, secrets, settings

warehouse = Path(sys.argv[1])
job = import_file(sys.argv[2], db=warehouse)
modes = {}
with db.connect(warehouse) as con:
    settings.put(con, "district_name", "Maple Grove")
    for path in sorted(warehouse.parent.rglob("*")):
        modes[str(path.relative_to(warehouse.parent))] = stat.S_IMODE(path.stat().st_mode)
secrets.fernet_key()
secret = Path(os.environ["YARDSTICK_SECRETS"])
modes["secrets"] = stat.S_IMODE(secret.stat().st_mode)
modes["secrets folder"] = stat.S_IMODE(secret.parent.stat().st_mode)
modes["data folder"] = stat.S_IMODE(warehouse.parent.stat().st_mode)
print(json.dumps({"status": job.status, "modes": modes}))
"""


def _child_env(secrets_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"YARDSTICK_FERNET_KEY"}}
    env["YARDSTICK_SECRETS"] = str(secrets_file)
    env["PYTHONPATH"] = str(REPO)
    return env


def test_everything_created_under_umask_022_is_private(tmp_path: Path) -> None:
    warehouse = tmp_path / "data" / "yardstick.duckdb"
    secrets_file = tmp_path / "keys" / "secrets.toml"
    done = subprocess.run(
        [sys.executable, "-c", UNDER_UMASK_022, str(warehouse), str(VARIANTS / "basic.csv")],
        capture_output=True,
        text=True,
        env=_child_env(secrets_file),
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    modes = result.pop("modes")
    assert result == {"status": "completed"}
    raw = [name for name in modes if name.startswith("raw/")]
    assert len(raw) == 1  # the kept copy of basic.csv
    assert "yardstick.duckdb.wal" in modes  # written while the warehouse was open
    for name in ("yardstick.duckdb", "yardstick.duckdb.wal", raw[0], "secrets"):
        assert modes[name] == 0o600, name
    for name in ("raw", "staging", "data folder", "secrets folder"):
        assert modes[name] == 0o700, name
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert loose == {}


def _loose_warehouse(folder: Path) -> dict[str, Path]:
    """What Yardstick before this change left under umask 022."""
    warehouse = folder / "yardstick.duckdb"
    folder.mkdir()
    duckdb.connect(str(warehouse)).close()
    (folder / "raw").mkdir()
    (folder / "raw" / "abc123").write_bytes(b"Student ID,Score\n1,200\n")
    (folder / "staging" / "import-1").mkdir(parents=True)
    (folder / "staging" / "import-1" / "upload.bin").write_bytes(b"x")
    paths = {
        "warehouse": warehouse,
        "raw": folder / "raw",
        "raw file": folder / "raw" / "abc123",
        "staging": folder / "staging",
        "work": folder / "staging" / "import-1",
        "upload": folder / "staging" / "import-1" / "upload.bin",
    }
    for path in paths.values():
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return paths


def _open_with_the_cli(warehouse: Path, secrets_file: Path) -> subprocess.CompletedProcess:
    """A fresh process opening the warehouse, as every `python -m core` command does."""
    return subprocess.run(
        [sys.executable, "-m", "core", "users", "list", "--json", "--db", str(warehouse)],
        capture_output=True,
        text=True,
        env=_child_env(secrets_file),
        cwd=REPO,
        timeout=300,
    )


def test_loose_files_are_tightened_at_start_up_with_a_log_line(tmp_path: Path) -> None:
    paths = _loose_warehouse(tmp_path / "data")
    os.chmod(tmp_path / "data", 0o755)  # the folder it lives in: the administrator's to set
    first = _open_with_the_cli(paths["warehouse"], tmp_path / "secrets.toml")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == []
    logged = first.stderr.strip().splitlines()
    assert len(logged) == len(paths)
    for name, path in paths.items():
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), name
        line = next(text for text in logged if text.startswith(f"{path} "))
        was = "0755" if path.is_dir() else "0644"
        assert f"(mode {was}); it is now {mode:04o}" in line
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o755
    again = _open_with_the_cli(paths["warehouse"], tmp_path / "secrets.toml")
    assert again.returncode == 0 and again.stderr == ""


def test_loose_secrets_file_is_tightened_on_first_use(
    secrets_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from core.warehouse import secrets

    secrets_env.write_text('cookie_key = "from-an-older-version"\n', encoding="utf-8")
    os.chmod(secrets_env, 0o644)
    with caplog.at_level("WARNING", logger="yardstick.files"):
        secrets.cookie_key()
    assert stat.S_IMODE(secrets_env.stat().st_mode) == 0o600
    assert [r.getMessage() for r in caplog.records] == [
        f"{secrets_env} could be read by other accounts on this machine (mode 0644); it is now "
        "0600, readable only by the account that runs Yardstick."
    ]


def test_tighten_never_loosens_and_leaves_links_alone(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    os.chmod(folder, 0o755)
    read_only = folder / "old.tar"
    read_only.write_bytes(b"x")
    os.chmod(read_only, 0o444)
    outside = tmp_path / "elsewhere.txt"
    outside.write_bytes(b"not ours")
    os.chmod(outside, 0o644)
    (folder / "link").symlink_to(outside)
    changed = private_files.tighten(folder)
    assert changed == [folder, read_only]
    assert stat.S_IMODE(read_only.stat().st_mode) == 0o400
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644
    assert private_files.tighten(folder) == []


def test_open_private_and_private_dir_for_other_writers(tmp_path: Path) -> None:
    """What a backup writer uses: an archive 0600 even over an existing 0644 file, its folder
    0700 (created with any missing parent), an existing outer folder left as it was."""
    os.chmod(tmp_path, 0o755)
    folder = private_files.private_dir(tmp_path / "backups" / "nightly")
    archive = folder / "yardstick.tar"
    archive.write_bytes(b"old")
    os.chmod(archive, 0o644)
    with private_files.open_private(archive) as out:
        out.write(b"new")
    assert archive.read_bytes() == b"new"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
