"""The archive's own guarantees, without the command line: the encryption streams in chunks and
notices any chunk cut, reordered or altered; an archive holding anything but a backup's members
is refused before a byte lands outside its folder; the Import history page names the last
backup."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from core.access.scope import Scope
from core.backup.archive import extract_archive
from core.backup.crypto import CHUNK, MAGIC, DecryptingReader, EncryptingWriter
from core.backup.errors import BackupError
from core.backup.retention import name_pattern
from core.backup.write import write_backup
from tests.conftest import run_page

PLAIN = os.urandom(CHUNK) * 3 + b"tail"  # three whole chunks and a bit


def sealed(passphrase: str = "a long enough passphrase") -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, passphrase)
    for start in range(0, len(PLAIN), 300_000):
        writer.write(PLAIN[start : start + 300_000])
    writer.close()
    return sink.getvalue()


def chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    """The header and the length-prefixed chunks of an encrypted file."""
    at = len(MAGIC) + 16 + 3 + 7 + 32
    header, found = data[:at], []
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        found.append(data[at : at + 4 + size])
        at += 4 + size
    return header, found


def opened(data: bytes, passphrase: str = "a long enough passphrase") -> bytes:
    return DecryptingReader(io.BytesIO(data), passphrase).read()


def test_encryption_streams_in_chunks_and_round_trips() -> None:
    data = sealed()
    header, parts = chunks(data)
    assert data.startswith(MAGIC) and len(parts) == 4  # never one message of everything
    assert PLAIN[:1000] not in data
    reader = DecryptingReader(io.BytesIO(data), "a long enough passphrase")
    assert b"".join(iter(lambda: reader.read(65536), b"")) == PLAIN


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, p: h + b"".join(p[:-1]),  # cut after a whole chunk: no "last" chunk
        lambda h, p: h + p[1] + p[0] + b"".join(p[2:]),  # two chunks swapped
        lambda h, p: h + b"".join(p[:-1]) + p[-1][:-1] + bytes([p[-1][-1] ^ 1]),  # one bit
        lambda h, p: h + b"".join(p) + p[-1],  # something after the end
    ],
    ids=["truncated", "reordered", "altered", "appended"],
)
def test_a_tampered_encrypted_file_does_not_open(tamper) -> None:
    header, parts = chunks(sealed())
    with pytest.raises(BackupError, match="nothing was restored"):
        opened(tamper(header, parts))


def test_a_wrong_passphrase_is_told_apart_from_damage() -> None:
    with pytest.raises(BackupError, match="passphrase does not open"):
        opened(sealed(), "another passphrase entirely")


def test_an_archive_with_foreign_members_is_refused(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.tar.gz"
    with gzip.open(hostile, "wb") as gz, tarfile.open(fileobj=gz, mode="w|") as tar:
        for name in ("warehouse.duckdb", "../escaped.txt"):
            info = tarfile.TarInfo(name)
            info.size = 5
            tar.addfile(info, io.BytesIO(b"hello"))
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(BackupError, match="not a Yardstick backup"):
        extract_archive(hostile, dest, None)
    assert not (tmp_path / "escaped.txt").exists()


def test_names_alike_differ_only_in_digits() -> None:
    pattern = name_pattern("yardstick-2026-12-07.tar.gz")
    assert pattern.fullmatch("yardstick-2027-1-31.tar.gz")
    assert not pattern.fullmatch("yardstick-2026-12-07.tar.gz.enc")
    assert not pattern.fullmatch("other-2026-12-07.tar.gz")


def test_import_history_names_the_last_backup(db_path: Path, tmp_path: Path) -> None:
    def caption() -> str:
        app = run_page("app_pages/import_history.py", Scope(username="ada", role="district_admin"))
        assert not app.exception
        return " ".join(str(c.value) for c in app.caption)

    assert "No backup yet — see README, Backups." in caption()
    made = write_backup(tmp_path / "first.tar.gz", warehouse=db_path)
    assert made.verified
    assert f"Last backup: {made.created_at[:10]}" in caption()
    assert f"`{made.file}`, verified." in caption()
