"""Putting a backup back: the warehouse at this installation's warehouse path, the kept raw files
beside it, the secrets file where this installation keeps it — and checking a backup by restoring
it into a temporary place.

Nothing is changed until the whole archive has been unpacked and checked against its manifest and
both refusals have been asked: a warehouse that already holds data, or a secrets file with a
different key, is replaced only with `force` (the message names which). The warehouse is replaced
in place under the same sharing protocol every process uses (no file is swapped under a running
app): holding the file, one transaction drops what it held and copies the backup in, and commits
only when every table has the row count the manifest recorded. Views that read a kept raw file
name its absolute path, so they are pointed at this installation's raw folder first. A backup of
an older Yardstick is then upgraded by the usual migrations.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from core.backup.archive import RAW, SECRETS, WAREHOUSE, create_private, extract_archive
from core.backup.errors import BackupError
from core.backup.snapshot import WAIT_SECONDS, row_counts
from core.warehouse.db import connect, ensure_schema, migrations, quote_identifier, transaction

_ALIAS = "yardstick_restore"
_RAW_PATH = re.compile(r"read_csv\('((?:[^']|'')*)/([0-9a-f]{64})'")
_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
# the tables whose rows say "this warehouse is in use", in an administrator's words
_IN_USE = {"students": "student", "assessments": "score", "import_jobs": "import"}


@dataclass
class Restored:
    """What a restore put where."""

    db: Path
    created_at: str
    schema_version: int
    tables: dict[str, int]
    raw_files: int
    secrets_file: Path | None
    secrets: str  # written, unchanged, completed, replaced, not in the backup
    warnings: list[str] = field(default_factory=list)


def _held_data(warehouse: Path) -> str | None:
    """What the warehouse at `warehouse` holds, in words, or None when it is empty or absent."""
    if not warehouse.exists():
        return None
    with connect(warehouse, wait_seconds=WAIT_SECONDS) as con:
        counts = {k: v for k, v in row_counts(con).items() if k != "schema_version" and v}
    if not counts:
        return None
    named = [
        f"{counts[t]:,} {word}{'s' if counts[t] > 1 else ''}"
        for t, word in _IN_USE.items()
        if counts.get(t)
    ]
    return ", ".join(named) or f"{sum(counts.values()):,} rows in {', '.join(sorted(counts))}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(f"The secrets file {path} cannot be read ({exc}).") from exc


def _differing_keys(current: Path, restored: Path) -> list[str]:
    if not current.exists() or not restored.exists():
        return []
    mine, theirs = _read_toml(current), _read_toml(restored)
    return sorted(k for k in theirs if k in mine and mine[k] != theirs[k])


def _refusals(warehouse: Path, secrets_file: Path, unpacked: Path) -> list[str]:
    found = []
    held = _held_data(warehouse)
    if held:
        found.append(f"the warehouse {warehouse} already holds data ({held})")
    keys = _differing_keys(secrets_file, unpacked / SECRETS)
    if keys:
        found.append(
            f"the secrets file {secrets_file} holds a different {' and '.join(keys)} than the "
            "backup (secrets stored with it could no longer be read)"
        )
    return found


def _install_raw(unpacked: Path, raw_folder: Path) -> int:
    """Move the kept files into place; a file already there has the same bytes (its name is
    their sha256), so it stays."""
    files = sorted((unpacked / RAW).glob("*")) if (unpacked / RAW).is_dir() else []
    if files:
        raw_folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in files:
        target = raw_folder / path.name
        if not target.exists():
            os.replace(path, target)
            os.chmod(target, 0o600)
    return len(files)


def _repoint_views(snapshot: Path, raw_folder: Path) -> None:
    """Views over kept raw files read them by absolute path: point them at this raw folder."""
    folder = str(raw_folder.resolve()).replace("'", "''")
    con = duckdb.connect(str(snapshot))
    try:
        views = con.execute(
            "select view_name, sql from duckdb_views() where not internal and schema_name = 'main'"
        ).fetchall()
        for _, sql in views:
            moved = _RAW_PATH.sub(lambda m: f"read_csv('{folder}/{m.group(2)}'", sql)
            if moved != sql:
                con.execute(moved.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
    finally:
        con.close()


def _drop_everything(con: duckdb.DuckDBPyConnection) -> None:
    where = "database_name = current_database() and schema_name = 'main'"
    for kind, catalog, extra in (
        ("view", "duckdb_views()", " and not internal"),
        ("table", "duckdb_tables()", " and not temporary"),
        ("sequence", "duckdb_sequences()", ""),
    ):
        names = con.execute(f"select {kind}_name from {catalog} where {where}{extra}").fetchall()
        for (name,) in names:
            con.execute(f"drop {kind} if exists {quote_identifier(name)}")


def _install_warehouse(
    snapshot: Path, warehouse: Path, expected: dict[str, int], force: bool
) -> None:
    """Replace the warehouse's contents with the snapshot's, all or nothing."""
    with connect(warehouse, wait_seconds=WAIT_SECONDS) as con:
        if not force and any(n for t, n in row_counts(con).items() if t != "schema_version"):
            raise BackupError(  # an import landed since the first look
                f"Nothing was restored: the warehouse {warehouse} received data meanwhile. "
                "Add --force to replace it."
            )
        database = con.execute("select current_database()").fetchone()[0]
        con.execute(f"attach $path as {_ALIAS} (read_only)", {"path": str(snapshot)})
        try:
            with transaction(con):
                _drop_everything(con)
                con.execute(f"copy from database {_ALIAS} to {quote_identifier(database)}")
                _compare_counts(row_counts(con), expected)
        finally:
            con.execute(f"detach {_ALIAS}")
        ensure_schema(con)  # a backup of an older Yardstick is upgraded like any old warehouse
    os.chmod(warehouse, 0o600)


def _compare_counts(found: dict[str, int], expected: dict[str, int]) -> None:
    for table in sorted(set(found) | set(expected)):
        if found.get(table) != expected.get(table):
            raise BackupError(
                f"The restored warehouse does not match the backup: table {table} has "
                f"{found.get(table, 'no')} rows where the backup recorded "
                f"{expected.get(table, 'none')}; nothing was restored. Use another backup."
            )


def _install_secrets(unpacked: Path, secrets_file: Path) -> str:
    source = unpacked / SECRETS
    if not source.exists():
        return "not in the backup"
    text = source.read_text(encoding="utf-8")
    if not secrets_file.exists():
        secrets_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with create_private(secrets_file) as out:
            out.write(text.encode("utf-8"))
        return "written"
    mine, theirs = _read_toml(secrets_file), _read_toml(source)
    if any(k in mine and mine[k] != v for k, v in theirs.items()):
        aside = secrets_file.with_name(secrets_file.name + ".before-restore")
        os.replace(secrets_file, aside)
        os.chmod(aside, 0o600)
        with create_private(secrets_file) as out:
            out.write(text.encode("utf-8"))
        return "replaced"
    missing = [line for line in text.splitlines() if _key(line) and _key(line) not in mine]
    if not missing:
        return "unchanged"
    with secrets_file.open("a", encoding="utf-8") as out:
        out.write("".join(f"{line}\n" for line in missing))
    os.chmod(secrets_file, 0o600)
    return "completed"


def _key(line: str) -> str | None:
    match = _KEY_LINE.match(line)
    return match.group(1) if match else None


def _environment_warnings(unpacked: Path, manifest: dict[str, Any]) -> list[str]:
    found = []
    theirs = _read_toml(unpacked / SECRETS) if (unpacked / SECRETS).exists() else {}
    env_key = os.environ.get("YARDSTICK_FERNET_KEY")
    if env_key and theirs.get("fernet_key") and theirs["fernet_key"] != env_key:
        found.append(
            "YARDSTICK_FERNET_KEY in the environment differs from the backup's fernet_key and "
            "takes precedence: stored SFTP, SMTP and API secrets cannot be read until it is set "
            "to the backup's key (or removed)."
        )
    for name in manifest.get("keys_from_environment", []):
        if not theirs.get(name.removeprefix("YARDSTICK_").lower()):
            found.append(
                f"The backed-up installation took {name} from its environment, so the backup "
                f"does not hold it: set {name} to the same value here."
            )
    return found


def restore_backup(
    archive: Path,
    warehouse: Path,
    secrets_file: Path,
    passphrase: str | None = None,
    *,
    force: bool = False,
) -> Restored:
    """Restore `archive` into `warehouse` (and its raw folder) and `secrets_file`."""
    if not archive.is_file():
        raise BackupError(f"There is no backup file {archive}.")
    warehouse = warehouse.expanduser().absolute()
    warehouse.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    unpacked = Path(tempfile.mkdtemp(prefix=".yardstick-restore-", dir=warehouse.parent))
    try:
        manifest = extract_archive(archive, unpacked, passphrase)
        _refuse_newer(manifest)
        refusals = [] if force else _refusals(warehouse, secrets_file, unpacked)
        if refusals:
            raise BackupError(
                f"Nothing was restored: {'; and '.join(refusals)}. Restore into an empty place "
                "(--db or $YARDSTICK_DB, $YARDSTICK_SECRETS), or add --force to replace them."
            )
        raw_count = _install_raw(unpacked, warehouse.parent / RAW)
        _repoint_views(unpacked / WAREHOUSE, warehouse.parent / RAW)
        _install_warehouse(unpacked / WAREHOUSE, warehouse, manifest["tables"], force)
        secrets = _install_secrets(unpacked, secrets_file)
        warnings = _environment_warnings(unpacked, manifest)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)
    return Restored(
        db=warehouse,
        created_at=manifest["created_at"],
        schema_version=int(manifest["schema_version"]),
        tables=manifest["tables"],
        raw_files=raw_count,
        secrets_file=secrets_file if secrets != "not in the backup" else None,
        secrets=secrets,
        warnings=warnings,
    )


def _refuse_newer(manifest: dict[str, Any]) -> None:
    newest = migrations()[-1][0]
    if int(manifest["schema_version"]) > newest:
        raise BackupError(
            f"This backup was written by a newer Yardstick (schema {manifest['schema_version']}; "
            f"this version knows up to {newest}); nothing was restored. Upgrade Yardstick first."
        )


def check_backup(archive: Path, passphrase: str | None, workdir: Path | None = None) -> Restored:
    """Restore `archive` into a temporary place and compare every table's row count with the
    manifest's (restore_backup does, before it commits); nothing here is touched."""
    place = Path(tempfile.mkdtemp(prefix=".yardstick-check-", dir=workdir))
    try:
        return restore_backup(
            archive, place / "warehouse" / "yardstick.duckdb", place / "secrets.toml", passphrase
        )
    finally:
        shutil.rmtree(place, ignore_errors=True)
