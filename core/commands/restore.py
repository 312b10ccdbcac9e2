"""`python -m core restore FILE [--force] [--check]`: put a backup back — the warehouse at --db /
$YARDSTICK_DB, the raw files beside it, the secrets file where this installation keeps it — or,
with --check, restore it into a temporary place and compare row counts, changing nothing."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.backup.crypto import is_encrypted
from core.backup.errors import BackupError
from core.backup.restore import Restored, check_backup, restore_backup
from core.cli import CommandError, add_db_option, print_json
from core.commands.backup import read_passphrase
from core.warehouse.db import warehouse_path
from core.warehouse.secrets import secrets_path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "restore", help="restore a backup into this installation (or --check it)"
    )
    parser.add_argument("file", metavar="FILE", help="the archive `backup` wrote")
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace a warehouse that holds data and a secrets file with a different key",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="restore into a temporary place, compare row counts, change nothing here",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_db_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    archive = Path(args.file).expanduser()
    if not archive.is_file():
        raise CommandError(f"There is no backup file {archive}.")
    passphrase = read_passphrase(confirm=False) if is_encrypted(archive) else None
    try:
        if args.check:
            # beside the archive (the same disk, room for it), unless that folder is read-only
            beside = archive.parent if os.access(archive.parent, os.W_OK) else None
            restored = check_backup(archive, passphrase, workdir=beside)
        else:
            restored = restore_backup(
                archive,
                warehouse_path(getattr(args, "db", None)),
                secrets_path(),
                passphrase,
                force=args.force,
            )
    except BackupError as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"The backup could not be restored: {exc}.") from exc
    for warning in [] if args.check else restored.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if args.json:
        print_json(_document(restored, args.check))
    else:
        _print(restored, archive, args.check)
    return 0


def _document(restored: Restored, checked: bool) -> dict:
    return {
        "db": None if checked else str(restored.db),
        "created_at": restored.created_at,
        "schema_version": restored.schema_version,
        "tables": restored.tables,
        "raw_files": restored.raw_files,
        "secrets_file": None
        if checked or not restored.secrets_file
        else str(restored.secrets_file),
        "secrets": restored.secrets,
        "checked_only": checked,
    }


def _print(restored: Restored, archive: Path, checked: bool) -> None:
    counts = (
        f"{len(restored.tables)} tables with the row counts the backup recorded "
        f"({restored.tables.get('assessments', 0):,} scores, "
        f"{restored.tables.get('students', 0):,} students)"
    )
    if checked:
        print(f"{archive} (taken {restored.created_at} UTC) restores: {counts}. Nothing changed.")
        return
    print(f"Restored the backup taken {restored.created_at} UTC into {restored.db}: {counts}.")
    print(f"{restored.raw_files} kept raw file(s) in {restored.db.parent / 'raw'}.")
    if restored.secrets_file is not None:
        print(f"Secrets file {restored.secrets_file}: {restored.secrets}.")
    else:
        print("The backup holds no secrets file; the secrets here were left as they were.")
