"""A consistent copy of the warehouse taken while the app serves it, and the row counts that
prove a copy whole.

DuckDB lets one process hold the file, so the copy is taken the way every other process gets the
file: `connect` waits its turn, and a running app that keeps the file open sees the note in
`<warehouse>.waiting/` and lets go (core/warehouse/db.py). Holding it, one transaction counts
every table's rows and runs `COPY FROM DATABASE` into a fresh file: the copy and the counts are
the same snapshot, and an import waiting to merge lands wholly after it. The copy is a clean
DuckDB file (no write-ahead log beside it), tables, views, sequences and indexes included; the
app waits only while it is written, a second or so for a district's warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.warehouse.db import connect, quote_identifier, schema_version, transaction

WAIT_SECONDS = 300.0  # an import merging a big file may hold the warehouse for minutes
_ALIAS = "yardstick_backup"


@dataclass(frozen=True)
class Snapshot:
    """The copy and what it held when it was taken."""

    file: Path
    tables: dict[str, int]
    raw_files: list[str]  # stored paths, relative to the warehouse folder ("raw/<sha256>")
    schema_version: int


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of every table of the current database, by table name."""
    names = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and not temporary order by table_name"
    ).fetchall()
    return {
        name: con.execute(f"select count(*) from {quote_identifier(name)}").fetchone()[0]
        for (name,) in names
    }


def take_snapshot(warehouse: Path, into: Path, wait_seconds: float = WAIT_SECONDS) -> Snapshot:
    """Copy the warehouse into the new file `into`, as one consistent snapshot."""
    with connect(warehouse, wait_seconds=wait_seconds) as con:
        database = con.execute("select current_database()").fetchone()[0]
        con.execute(f"attach $path as {_ALIAS}", {"path": str(into)})
        try:
            with transaction(con):
                tables = row_counts(con)
                raw = con.execute(
                    "select distinct stored_path from raw_files where stored_path is not null "
                    "order by stored_path"
                ).fetchall()
                version = schema_version(con)
                con.execute(f"copy from database {quote_identifier(database)} to {_ALIAS}")
        finally:
            con.execute(f"detach {_ALIAS}")
    return Snapshot(into, tables, [path for (path,) in raw], version)
