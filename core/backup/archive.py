"""The backup file itself: a gzip-compressed tar of the warehouse snapshot, the kept raw files and
the secrets file, closed by a manifest (format version, when, schema version, row counts per
table, the sha256 of every member); encrypted as a whole when a passphrase is given (crypto.py).

Everything streams: members are read, hashed, compressed and encrypted a buffer at a time, and
reading back writes each member straight to disk, so a backup of any size needs little memory.
Reading accepts only the members a backup holds (no links, no paths outside the folder it
extracts to) and checks every member against the manifest before anything is restored.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import time
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from core.backup.crypto import MAGIC, DecryptingReader, EncryptingWriter
from core.backup.errors import BackupError

MANIFEST = "manifest.json"
WAREHOUSE = "warehouse.duckdb"
SECRETS = "secrets.toml"
RAW = "raw"
FORMAT = "yardstick-backup"
FORMAT_VERSION = 1
_MEMBER = re.compile(r"^(manifest\.json|warehouse\.duckdb|secrets\.toml|raw/[0-9a-f]{64})$")
_BUFFER = 1 << 20
_GZIP = b"\x1f\x8b"


class _Hashing:
    """A file read through sha256, for tarfile.addfile."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.digest.update(data)
        return data


def create_private(path: Path) -> BinaryIO:
    """A new file only its owner can read, whatever the umask; never an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> str:
    with path.open("rb") as handle:
        info = tarfile.TarInfo(name)
        info.size = os.fstat(handle.fileno()).st_size
        info.mode = 0o600
        info.mtime = int(os.fstat(handle.fileno()).st_mtime)
        hashed = _Hashing(handle)
        tar.addfile(info, hashed)
    return hashed.digest.hexdigest()


def write_archive(
    target: Path,
    members: list[tuple[str, Path]],
    manifest: dict[str, Any],
    passphrase: str | None,
) -> dict[str, str]:
    """Write the archive to `target` (a new file, 0600); the manifest goes last, with the sha256
    of every member as it was read. Returns those checksums."""
    files: dict[str, str] = {}
    with create_private(target) as handle:
        sink: Any = EncryptingWriter(handle, passphrase) if passphrase else handle
        with (
            gzip.GzipFile(filename="", fileobj=sink, mode="wb", compresslevel=6, mtime=0) as gz,
            tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
        ):
            for name, path in members:
                files[name] = _add_file(tar, name, path)
            text = json.dumps({**manifest, "files": files}, indent=2).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(text), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(text))
        if passphrase:
            sink.close()
        handle.flush()
        os.fsync(handle.fileno())
    return files


def _open_source(handle: BinaryIO, path: Path, passphrase: str | None) -> Any:
    head = handle.read(len(MAGIC))
    handle.seek(0)
    if head == MAGIC:
        if passphrase is None:
            raise BackupError(
                f"{path} is encrypted: give its passphrase in $YARDSTICK_BACKUP_PASSPHRASE or "
                "on stdin."
            )
        return DecryptingReader(handle, passphrase)
    if head[:2] != _GZIP:
        raise BackupError(f"{path} is not a Yardstick backup (made by `python -m core backup`).")
    return handle


def _copy_out(source: BinaryIO, target: Path) -> str:
    digest = hashlib.sha256()
    with create_private(target) as out:
        while chunk := source.read(_BUFFER):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _extract_members(tar: tarfile.TarFile, dest: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for info in tar:
        if not info.isfile() or not _MEMBER.match(info.name) or info.name in found:
            raise BackupError(
                f"This file is not a Yardstick backup (it holds {info.name!r}); nothing was "
                "restored."
            )
        target = dest / info.name
        target.parent.mkdir(mode=0o700, exist_ok=True)
        source = tar.extractfile(info)
        if source is None:
            raise BackupError(
                f"The backup member {info.name} cannot be read; nothing was restored."
            )
        found[info.name] = _copy_out(source, target)
    return found


def extract_archive(path: Path, dest: Path, passphrase: str | None) -> dict[str, Any]:
    """Unpack a backup into the (empty, private) folder `dest`, check it, return its manifest."""
    with path.open("rb") as handle:
        source = _open_source(handle, path, passphrase)
        try:
            with (
                gzip.GzipFile(fileobj=source, mode="rb") as gz,
                tarfile.open(fileobj=gz, mode="r|") as tar,
            ):
                found = _extract_members(tar, dest)
                while gz.read(_BUFFER):  # to the end: a damaged stream fails its CRC check there
                    pass
        except (gzip.BadGzipFile, EOFError, tarfile.TarError, zlib.error) as exc:
            raise BackupError(
                f"The backup file {path} is damaged or incomplete ({exc}); nothing was restored. "
                "Use another backup."
            ) from exc
    return _checked_manifest(dest, found)


def _checked_manifest(dest: Path, found: dict[str, str]) -> dict[str, Any]:
    if MANIFEST not in found or WAREHOUSE not in found:
        raise BackupError(
            "This file is not a complete Yardstick backup (damaged, cut short, or another kind "
            "of file); nothing was restored. Use another backup."
        )
    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise BackupError(
            "This backup was written by a newer Yardstick (or is not a Yardstick backup); "
            "upgrade Yardstick to restore it."
        )
    listed = manifest.get("files", {})
    members = {name: sha for name, sha in found.items() if name != MANIFEST}
    for name in sorted(set(listed) | set(members)):
        if listed.get(name) != members.get(name):
            raise BackupError(
                f"The backup is damaged: {name} does not match the checksum its manifest holds; "
                "nothing was restored. Use another backup."
            )
    return manifest
