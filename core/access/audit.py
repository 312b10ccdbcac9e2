"""The audit log: who did what, when, with which filters. Append-only from the app.

Every sign-in (and failed one), import, export, report download, view of a student-level page,
settings change and user change is written here with a JSON `detail`. Nothing in Yardstick
updates or deletes an audit row; district admins browse and download it (the Audit log page).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pandas as pd

from core.exports.tables import csv_bytes

ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "locked_out",
    "sign_out",
    "import",
    "export",
    "report_download",
    "view_students",
    "settings_change",
    "user_change",
)
COLUMNS = ["event_id", "logged_at", "username", "action", "detail"]


def _now() -> dt.datetime:
    """UTC wall clock without tzinfo: the column type is a plain TIMESTAMP."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def log(
    con: duckdb.DuckDBPyConnection,
    username: str | None,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event. `action` must be one of ACTIONS (a typo should fail a test, not vanish
    into an unfilterable category); `detail` is any JSON-able dict (dates become text)."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}; expected one of {', '.join(ACTIONS)}.")
    con.execute(
        "insert into audit_log (logged_at, username, action, detail) values (?, ?, ?, ?)",
        [_now(), username, action, json.dumps(detail or {}, default=str, sort_keys=True)],
    )


def events(
    con: duckdb.DuckDBPyConnection,
    since: dt.date | dt.datetime | None = None,
    username: str | None = None,
    action: str | None = None,
    *,
    until: dt.date | dt.datetime | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Events newest first, optionally from `since` (inclusive) up to `until` (a date includes
    that whole day), for one user and/or one action. Times are UTC."""
    clauses = ["true"]
    params: dict[str, Any] = {}
    if since is not None:
        clauses.append("logged_at >= $since")
        params["since"] = _as_start(since)
    if until is not None:
        clauses.append("logged_at < $until")
        params["until"] = _as_end(until)
    if username:
        clauses.append("username = $username")
        params["username"] = username
    if action:
        clauses.append("action = $action")
        params["action"] = action
    sql = (
        "select event_id, logged_at, username, action, detail::varchar as detail "
        f"from audit_log where {' and '.join(clauses)} order by logged_at desc, event_id desc"
    )
    if limit is not None:
        sql += " limit $limit"
        params["limit"] = int(limit)
    return con.execute(sql, params).df().reindex(columns=COLUMNS)


def _as_start(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time.min)


def _as_end(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min)


def users_seen(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every username that appears in the log (the page's filter choices)."""
    rows = con.execute(
        "select distinct username from audit_log where username is not null order by 1"
    ).fetchall()
    return [row[0] for row in rows]


def events_csv(frame: pd.DataFrame, filters: dict[str, Any] | None = None) -> bytes:
    """The log as CSV (formula-looking cells neutralised), filters described on top."""
    return csv_bytes(frame, {"table": "audit log (times in UTC)", **(filters or {})})
