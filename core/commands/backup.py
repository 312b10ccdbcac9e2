"""`python -m core backup --out FILE|FOLDER [--encrypt] [--keep N]`: one archive of the warehouse
(taken while the app serves), the kept raw files and the secrets file, checked by a test restore
into a temporary place. The passphrase of `--encrypt` (and of `restore`) comes from
$YARDSTICK_BACKUP_PASSPHRASE, else the first line of stdin — never from the command line, where
`ps` and the shell history would keep it."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from core.backup.errors import BackupError
from core.backup.write import BackupResult, write_backup
from core.cli import CommandError, add_db_option, print_json

PASSPHRASE_ENV = "YARDSTICK_BACKUP_PASSPHRASE"
MIN_PASSPHRASE = 12


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backup", help="write one archive of the warehouse, raw files and secrets"
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE|FOLDER",
        help="the archive to write (a folder: a dated name inside it); never overwritten",
    )
    parser.add_argument(
        "--encrypt",
        action="store_true",
        help=f"encrypt with a passphrase from ${PASSPHRASE_ENV} or the first line of stdin",
    )
    parser.add_argument(
        "--keep",
        type=_at_least_one,
        metavar="N",
        help="then keep only the N newest archives named like this one (digits aside)",
    )
    parser.add_argument(
        "--no-verify",
        dest="no_verify",
        action="store_true",
        help="skip the test restore into a temporary place",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_db_option(parser)
    parser.set_defaults(func=run)


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError("needs a whole number of backups, at least 1")
    return value


def _cli_user() -> str:
    """Who ran the backup, for the record (`settings.updated_by`), as other commands name it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


def read_passphrase(confirm: bool) -> str:
    """The backup passphrase: the environment, else stdin (typed, unechoed, at a terminal)."""
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if sys.stdin.isatty():
        phrase = getpass.getpass("Backup passphrase: ")
        if confirm and getpass.getpass("The same passphrase again: ") != phrase:
            raise CommandError("The two passphrases differ; nothing was written. Try again.")
    else:
        phrase = sys.stdin.readline().rstrip("\r\n")
    if not phrase:
        raise CommandError(
            f"No passphrase: give it in ${PASSPHRASE_ENV} or on the first line of stdin."
        )
    return phrase


def run(args: argparse.Namespace) -> int:
    passphrase = read_passphrase(confirm=True) if args.encrypt else None
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise CommandError(
            f"The passphrase needs at least {MIN_PASSPHRASE} characters (a few words are "
            "ideal); nothing was written."
        )
    out = Path(args.out).expanduser()
    try:
        if args.out.endswith(os.sep):  # `--out backups/`: a folder, made if need be
            out.mkdir(mode=0o700, parents=True, exist_ok=True)
        result = write_backup(
            out,
            warehouse=getattr(args, "db", None),
            passphrase=passphrase,
            keep=args.keep,
            verify=not args.no_verify,
            user=_cli_user(),
        )
    except BackupError as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"The backup could not be written: {exc}. Nothing was kept.") from exc
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if args.json:
        print_json(_document(result))
    else:
        _print(result)
    return 0


def _document(result: BackupResult) -> dict:
    return {
        "file": str(result.file),
        "created_at": result.created_at,
        "size_bytes": result.size_bytes,
        "encrypted": result.encrypted,
        "verified": result.verified,
        "schema_version": result.schema_version,
        "tables": result.tables,
        "raw_files": result.raw_files,
        "secrets_file": result.secrets_file,
        "removed": result.removed,
    }


def _print(result: BackupResult) -> None:
    size = f"{result.size_bytes / 1e6:,.1f} MB"
    locked = ", encrypted" if result.encrypted else ""
    print(f"Backup written to {result.file} ({size}{locked}).")
    scores, students = result.tables.get("assessments", 0), result.tables.get("students", 0)
    if result.verified:
        print(
            f"Verified: restored into a temporary place with the same row counts in all "
            f"{len(result.tables)} tables ({scores:,} scores, {students:,} students)."
        )
    else:
        print("Not verified (--no-verify): check it with `python -m core restore FILE --check`.")
    for path in result.removed:
        print(f"Removed the older backup {path} (--keep).")
