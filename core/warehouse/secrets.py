"""Keys that protect data at rest: the Fernet key for stored secrets and the sign-in cookie key.

Each comes from the environment (YARDSTICK_FERNET_KEY, YARDSTICK_COOKIE_KEY) or from
.streamlit/secrets.toml; when neither has it, one is generated and written to secrets.toml with
0600 permissions (and a warning, since losing that file makes stored secrets unreadable). A file
an older version left readable by others is tightened on first use (core.warehouse.private_files).
"""

from __future__ import annotations

import os
import secrets as pysecrets
import sys
import threading
import tomllib
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.warehouse import private_files

SECRETS_FILE = Path(os.environ.get("YARDSTICK_SECRETS", ".streamlit/secrets.toml"))
_lock = threading.Lock()


class SecretError(RuntimeError):
    """A stored secret cannot be decrypted (the key changed or the file was lost)."""


def _secrets_file() -> Path:
    return Path(os.environ.get("YARDSTICK_SECRETS", str(SECRETS_FILE)))


def secrets_path() -> Path:
    """Where this installation keeps its secrets file (backups copy it, a restore puts it back)."""
    return _secrets_file()


def _read_file(path: Path) -> dict:
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _key(env_name: str, toml_name: str, make: callable) -> str:
    private_files.private_file(_secrets_file())  # one left readable by an older version
    if os.environ.get(env_name):
        return os.environ[env_name]
    with _lock:
        path = _secrets_file()
        data = _read_file(path)
        if data.get(toml_name):
            return str(data[toml_name])
        value = make()
        private_files.make_dirs(path.parent)
        with private_files.open_private(path, "a") as handle:
            handle.write(f'{toml_name} = "{value}"\n')
        sys.stderr.write(
            f"warning: generated {toml_name} in {path} (mode 0600). Back this file up: "
            "without it, stored secrets cannot be decrypted and sessions are signed out.\n"
        )
        return value


def fernet_key() -> str:
    return _key("YARDSTICK_FERNET_KEY", "fernet_key", lambda: Fernet.generate_key().decode())


def cookie_key() -> str:
    return _key("YARDSTICK_COOKIE_KEY", "cookie_key", lambda: pysecrets.token_urlsafe(32))


def encrypt(plain: str) -> str:
    return Fernet(fernet_key().encode()).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return Fernet(fernet_key().encode()).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise SecretError(
            "A stored secret cannot be decrypted: the encryption key changed or "
            f"{_secrets_file()} was replaced. Enter the secret again in Settings."
        ) from exc
