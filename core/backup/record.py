"""The last backup, kept in the warehouse's settings, so the Import history page can say when the
district was last backed up — or that it never was."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import duckdb

from core.warehouse import settings

KEY = "last_backup"


@dataclass(frozen=True)
class LastBackup:
    """When, where, and whether a test restore matched it."""

    created_at: str  # ISO 8601, UTC
    file: str
    verified: bool
    encrypted: bool
    size_bytes: int


def record_backup(con: duckdb.DuckDBPyConnection, backup: LastBackup, user: str | None) -> None:
    settings.put(con, KEY, asdict(backup), user=user)


def last_backup(con: duckdb.DuckDBPyConnection) -> LastBackup | None:
    stored = settings.get(con, KEY)
    if not isinstance(stored, dict):
        return None
    return LastBackup(**{k: stored[k] for k in LastBackup.__dataclass_fields__})


def last_backup_sentence(con: duckdb.DuckDBPyConnection) -> str:
    """One line for an administrator: the last backup, or that there is none."""
    backup = last_backup(con)
    if backup is None:
        return "No backup yet — see README, Backups."
    when = dt.datetime.fromisoformat(backup.created_at).strftime("%Y-%m-%d %H:%M UTC")
    check = (
        "verified"
        if backup.verified
        else "not verified (check it with `python -m core restore FILE --check`)"
    )
    locked = ", encrypted" if backup.encrypted else ""
    file = backup.file.replace("`", "'")  # a code span: a path's _ or * stays literal
    return f"Last backup: {when}, `{file}`{locked}, {check}."
