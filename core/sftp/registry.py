"""SFTP sources: where a district's nightly exports wait, and how Yardstick signs in to fetch them.

A source is a host, a port, an account (password or private key), a folder, a file pattern and
the import preset its files need. Secrets are stored as Fernet tokens (core/warehouse/secrets.py)
and
never leave this module in clear except to open a connection (`credentials`); everything else
sees only whether each one is set. The server's host key is trusted only after an admin confirms
its fingerprint (`trust`); core/sftp/connect.py refuses any other key.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from core.sftp.keys import load_private_key
from core.warehouse import secrets
from core.warehouse.db import transaction

AUTH_KINDS = ("password", "key")
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_. ")


def utc_now() -> dt.datetime:
    """Stored times are UTC without tzinfo, like the audit log and import jobs."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class SourceError(ValueError):
    """A source cannot be saved or found as asked (bad field, unknown name)."""


@dataclass(frozen=True)
class Endpoint:
    """Where a source's files are and how to sign in there (no secrets)."""

    name: str
    host: str
    port: int
    username: str
    auth_kind: str
    remote_dir: str
    pattern: str
    preset: str


@dataclass(frozen=True)
class SftpSource(Endpoint):
    """One configured source as the UI and the CLI see it: secrets only as set / not set."""

    password_set: bool
    key_set: bool
    passphrase_set: bool
    host_key_type: str | None
    host_key_fingerprint: str | None
    host_key_confirmed_by: str | None
    host_key_confirmed_at: dt.datetime | None
    updated_by: str | None
    updated_at: dt.datetime | None

    @property
    def trusted(self) -> bool:
        return bool(self.host_key_fingerprint)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "trusted": self.trusted}


@dataclass(frozen=True)
class Credentials:
    """Decrypted secrets for one connection; never stored, logged or shown."""

    password: str | None = None
    private_key: str | None = None
    passphrase: str | None = None

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


@dataclass(frozen=True)
class TrustedKey:
    key_type: str
    fingerprint: str
    public_key: str | None


_COLUMNS = (
    "name, host, port, username, auth_kind, remote_dir, pattern, preset, "
    "password_token is not null, private_key_token is not null, passphrase_token is not null, "
    "host_key_type, host_key_fingerprint, host_key_confirmed_by, host_key_confirmed_at, "
    "updated_by, updated_at"
)


def _row_to_source(row: tuple) -> SftpSource:
    return SftpSource(*row)


def list_sources(con: duckdb.DuckDBPyConnection) -> list[SftpSource]:
    rows = con.execute(f"select {_COLUMNS} from sftp_sources order by name").fetchall()
    return [_row_to_source(row) for row in rows]


def get_source(con: duckdb.DuckDBPyConnection, name: str) -> SftpSource:
    row = con.execute(f"select {_COLUMNS} from sftp_sources where name = ?", [name]).fetchone()
    if row is None:
        known = ", ".join(s.name for s in list_sources(con)) or "none yet"
        raise SourceError(f"No SFTP source named {name!r} (configured: {known}).")
    return _row_to_source(row)


def credentials(con: duckdb.DuckDBPyConnection, name: str) -> Credentials:
    """The source's secrets in clear, for opening a connection only."""
    row = con.execute(
        "select password_token, private_key_token, passphrase_token from sftp_sources "
        "where name = ?",
        [name],
    ).fetchone()
    if row is None:
        raise SourceError(f"No SFTP source named {name!r}.")
    try:
        return Credentials(*(secrets.decrypt(token) if token else None for token in row))
    except secrets.SecretError as exc:
        raise SourceError(f"Source {name!r}: {exc}") from exc


def trusted_key(con: duckdb.DuckDBPyConnection, name: str) -> TrustedKey | None:
    row = con.execute(
        "select host_key_type, host_key_fingerprint, host_key_public from sftp_sources "
        "where name = ?",
        [name],
    ).fetchone()
    if row is None or not row[1]:
        return None
    return TrustedKey(*row)


def _check_fields(values: dict[str, Any]) -> None:
    name = values["name"]
    if not name or not set(name) <= _NAME_CHARS or len(name) > 60:
        raise SourceError(
            "A source name is 1-60 letters, digits, spaces, dots, dashes or underscores."
        )
    if not values["host"] or any(c.isspace() for c in values["host"]):
        raise SourceError("Enter the server's host name or IP address (no spaces).")
    if not 1 <= int(values["port"]) <= 65535:
        raise SourceError("The port is a number from 1 to 65535 (SFTP usually uses 22).")
    if not values["username"]:
        raise SourceError("Enter the user name of the SFTP account.")
    if values["auth_kind"] not in AUTH_KINDS:
        raise SourceError("Choose password or private key sign-in.")
    pattern = values["pattern"]
    if not pattern or "/" in pattern:
        raise SourceError(
            "The file pattern is a file name with wildcards, e.g. student_data_*.csv "
            "(no folder: put that in the remote folder)."
        )
    fnmatch.translate(pattern)


def _secret_updates(
    password: str | None, private_key: str | None, passphrase: str | None
) -> dict[str, str | None]:
    """Only secrets that were given change; an empty string clears one."""
    updates: dict[str, str | None] = {}
    for column, value in (
        ("password_token", password),
        ("private_key_token", private_key),
        ("passphrase_token", passphrase),
    ):
        if value is not None:
            updates[column] = secrets.encrypt(value) if value else None
    return updates


def save_source(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    host: str,
    port: int = 22,
    username: str,
    auth_kind: str,
    remote_dir: str = ".",
    pattern: str = "*",
    preset: str = "auto",
    password: str | None = None,
    private_key: str | None = None,
    passphrase: str | None = None,
    user: str | None = None,
) -> SftpSource:
    """Create or update a source. Secrets left as None keep their stored value.

    Changing the host or port forgets the confirmed host key: a different server must be
    confirmed again."""
    values = {
        "name": name.strip(),
        "host": host.strip(),
        "port": int(port),
        "username": username.strip(),
        "auth_kind": auth_kind,
        "remote_dir": remote_dir.strip() or ".",
        "pattern": pattern.strip(),
        "preset": preset or "auto",
    }
    _check_fields(values)
    if private_key is not None and private_key:
        load_private_key(private_key, passphrase or None)
    if auth_kind == "password":  # keep only the secret the chosen sign-in uses
        private_key = passphrase = ""
    elif auth_kind == "key":
        password = ""
    exists = con.execute(
        "select host, port from sftp_sources where name = ?", [values["name"]]
    ).fetchone()
    updates = {**values, **_secret_updates(password, private_key, passphrase)}
    with transaction(con):
        if exists is None:
            _insert(con, updates, user)
        else:
            moved = (exists[0], exists[1]) != (values["host"], values["port"])
            _update(con, updates, user, moved=moved)
        source = get_source(con, values["name"])
        _require_secret(source)
    return source


def _require_secret(source: SftpSource) -> None:
    if source.auth_kind == "password" and not source.password_set:
        raise SourceError(f"Source {source.name!r} signs in with a password, but none is set.")
    if source.auth_kind == "key" and not source.key_set:
        raise SourceError(f"Source {source.name!r} signs in with a private key, but none is set.")


def _insert(con: duckdb.DuckDBPyConnection, values: dict[str, Any], user: str | None) -> None:
    columns = [*values, "created_by", "updated_by", "created_at", "updated_at"]
    placeholders = ", ".join("?" for _ in columns)
    con.execute(
        f"insert into sftp_sources ({', '.join(columns)}) values ({placeholders})",
        [*values.values(), user, user, utc_now(), utc_now()],
    )


def _update(
    con: duckdb.DuckDBPyConnection, values: dict[str, Any], user: str | None, *, moved: bool
) -> None:
    assignments = [f"{column} = ?" for column in values if column != "name"]
    params = [value for column, value in values.items() if column != "name"]
    if moved:
        assignments += [
            f"{column} = null"
            for column in (
                "host_key_type",
                "host_key_fingerprint",
                "host_key_public",
                "host_key_confirmed_by",
                "host_key_confirmed_at",
            )
        ]
    con.execute(
        f"update sftp_sources set {', '.join(assignments)}, updated_by = ?, "
        "updated_at = ? where name = ?",
        [*params, user, utc_now(), values["name"]],
    )


def trust(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    key_type: str,
    fingerprint: str,
    public_key: str | None,
    user: str | None,
) -> SftpSource:
    """Record the host key an admin confirmed (replacing any earlier one)."""
    get_source(con, name)
    with transaction(con):
        con.execute(
            "update sftp_sources set host_key_type = ?, host_key_fingerprint = ?, "
            "host_key_public = ?, host_key_confirmed_by = ?, "
            "host_key_confirmed_at = ? where name = ?",
            [key_type, fingerprint, public_key, user, utc_now(), name],
        )
    return get_source(con, name)


def remove_source(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Forget a source and its secrets; its import jobs and pulled-file records stay."""
    get_source(con, name)
    with transaction(con):
        con.execute("delete from sftp_sources where name = ?", [name])


def preset_choices(con: duckdb.DuckDBPyConnection) -> list[str]:
    """ "auto" (detect from the file) first, then the shipped and the saved import presets."""
    # lazy: core.ingest loads pandas and pyarrow; the nightly run imports this module and needs
    # them only when a file arrives (core/sftp/pull.py)
    from core.ingest.presets import builtin_presets, saved_presets

    names = [*builtin_presets(), *saved_presets(con)]
    return ["auto", *dict.fromkeys(n for n in names if n != "auto")]
