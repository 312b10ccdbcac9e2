"""Taking a backup: snapshot the warehouse (while the app serves), add the kept raw files and the
secrets file, write one archive (encrypted when a passphrase is given), check it by restoring it
into a temporary place, record it for the Import history page, and apply `--keep`."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import core
from core.backup.archive import FORMAT, FORMAT_VERSION, RAW, SECRETS, WAREHOUSE, write_archive
from core.backup.errors import BackupError
from core.backup.record import LastBackup, record_backup
from core.backup.restore import check_backup
from core.backup.retention import prune
from core.backup.snapshot import Snapshot, take_snapshot
from core.warehouse import secrets
from core.warehouse.db import connect, warehouse_path

_KEYS = ("YARDSTICK_FERNET_KEY", "YARDSTICK_COOKIE_KEY")


@dataclass
class BackupResult:
    """The archive written and what it holds."""

    file: Path
    created_at: str
    size_bytes: int
    encrypted: bool
    verified: bool
    schema_version: int
    tables: dict[str, int]
    raw_files: int
    secrets_file: str | None
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def backup_target(out: Path, encrypted: bool, now: dt.datetime) -> Path:
    """`--out FOLDER` (an existing folder) gets a dated name; `--out FILE` is taken as is."""
    if out.is_dir():
        suffix = ".tar.gz.enc" if encrypted else ".tar.gz"
        return out / f"yardstick-backup-{now:%Y%m%d-%H%M%S}{suffix}"
    return out


def _members(warehouse: Path, snapshot: Snapshot) -> tuple[list[tuple[str, Path]], list[str]]:
    members = [(WAREHOUSE, snapshot.file)]
    missing = []
    for stored in snapshot.raw_files:
        path = warehouse.parent / stored
        if path.is_file():
            members.append((f"{RAW}/{Path(stored).name}", path))
        else:
            missing.append(stored)
    secrets_file = secrets.secrets_path()
    if secrets_file.is_file():
        members.append((SECRETS, secrets_file))
    return members, missing


def _warnings(missing: list[str], has_secrets: bool) -> list[str]:
    found = []
    if missing:
        found.append(
            f"{len(missing)} kept raw file(s) are missing from the warehouse folder and are not "
            f"in the backup (e.g. {missing[0]}); their imports cannot be replayed after a restore."
        )
    from_env = [name for name in _KEYS if os.environ.get(name)]
    if from_env:
        found.append(
            f"{' and '.join(from_env)} come(s) from the environment, not the secrets file, so the "
            "backup does not hold it: keep it with the backup."
        )
    elif not has_secrets:
        found.append("There is no secrets file yet, so the backup holds none.")
    return found


def _write(target: Path, warehouse: Path, passphrase: str | None, now: dt.datetime) -> tuple:
    work = Path(tempfile.mkdtemp(prefix=".yardstick-backup-", dir=target.parent))
    partial = target.with_name(target.name + ".partial")
    try:
        snapshot = take_snapshot(warehouse, work / WAREHOUSE)
        members, missing = _members(warehouse, snapshot)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "yardstick_version": core.__version__,
            "created_at": now.isoformat(),
            "schema_version": snapshot.schema_version,
            "warehouse": str(warehouse.absolute()),
            "tables": snapshot.tables,
            "keys_from_environment": [name for name in _KEYS if os.environ.get(name)],
        }
        write_archive(partial, members, manifest, passphrase)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    has_secrets = any(name == SECRETS for name, _ in members)
    secrets_path = str(members[-1][1]) if has_secrets else None
    return snapshot, len(members) - 1 - has_secrets, secrets_path, _warnings(missing, has_secrets)


def write_backup(
    out: Path,
    *,
    warehouse: Path | str | None = None,
    passphrase: str | None = None,
    keep: int | None = None,
    verify: bool = True,
    user: str | None = None,
) -> BackupResult:
    """Write one backup archive of this installation (see the module docstring)."""
    db = warehouse_path(warehouse)
    if not db.is_file():
        raise BackupError(f"There is no warehouse at {db} to back up; check --db or $YARDSTICK_DB.")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    target = backup_target(out, passphrase is not None, now).absolute()
    if target.exists():
        raise BackupError(f"{target} already exists; a backup never overwrites a file. Choose "
                          "another name, or give a folder for a dated name.")  # fmt: skip
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    snapshot, raw_count, secrets_path, warnings = _write(target, db, passphrase, now)
    result = BackupResult(
        file=target,
        created_at=now.isoformat(),
        size_bytes=target.stat().st_size,
        encrypted=passphrase is not None,
        verified=False,
        schema_version=snapshot.schema_version,
        tables=snapshot.tables,
        raw_files=raw_count,
        secrets_file=secrets_path,
        warnings=warnings,
    )
    failure = _test_restore(target, passphrase) if verify else None
    result.verified = verify and failure is None
    with connect(db) as con:
        record = LastBackup(result.created_at, str(target), result.verified, result.encrypted,
                            result.size_bytes)  # fmt: skip
        record_backup(con, record, user)
    if failure is not None:  # older backups stay: this one cannot stand in for them
        raise BackupError(
            f"The backup {target} was written, but restoring it into a temporary place failed "
            f"({failure}) — do not rely on it. Run the backup again."
        )
    if keep is not None:
        result.removed = [str(p) for p in prune(target, keep)]
    return result


def _test_restore(target: Path, passphrase: str | None) -> str | None:
    """Why the new archive did not restore with the row counts it recorded, or None."""
    try:
        check_backup(target, passphrase, workdir=target.parent)
    except BackupError as exc:
        return str(exc)
    return None
