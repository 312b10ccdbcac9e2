"""Settings stored in the warehouse; secret values are encrypted with core.warehouse.secrets
(Fernet)."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from core.warehouse import secrets
from core.warehouse.db import transaction

DEFAULTS: dict[str, Any] = {
    "min_group_size": 10,
    "norms_year": "2020",
    "district_name": "Demo Unified School District",
}


def get(con: duckdb.DuckDBPyConnection, key: str, default: Any = None) -> Any:
    row = con.execute("select value, encrypted from settings where key = ?", [key]).fetchone()
    if row is None or row[0] is None:
        return DEFAULTS.get(key, default) if default is None else default
    value = json.loads(row[0])
    return secrets.decrypt(value) if row[1] else value


def is_set(con: duckdb.DuckDBPyConnection, key: str) -> bool:
    return (
        con.execute(
            "select count(*) from settings where key = ? and value is not null", [key]
        ).fetchone()[0]
        > 0
    )


def put(
    con: duckdb.DuckDBPyConnection,
    key: str,
    value: Any,
    *,
    secret: bool = False,
    user: str | None = None,
) -> None:
    """Store a value (a secret encrypted); the audit entry is the caller's."""
    stored = secrets.encrypt(str(value)) if secret and value is not None else value
    with transaction(con):
        con.execute(
            "insert or replace into settings (key, value, encrypted, updated_by, updated_at) "
            "values (?, ?, ?, ?, current_timestamp)",
            [key, json.dumps(stored), bool(secret), user],
        )


def min_group_size(con: duckdb.DuckDBPyConnection) -> int:
    """The suppression threshold: configurable, never below 5 (docs/comparisons.md, Privacy)."""
    return max(5, int(get(con, "min_group_size", DEFAULTS["min_group_size"])))
