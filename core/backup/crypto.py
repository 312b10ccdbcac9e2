"""A backup archive encrypted with a passphrase, streamed in chunks so a backup of any size passes
through a small buffer.

Why AES-GCM per chunk and not Fernet: a Fernet token is one whole message, so encrypting the
archive as one token would hold all of it in memory, and a list of independent Fernet tokens
could be cut short or reordered without anyone noticing. Here each chunk is sealed with
AES-256-GCM under a nonce made of a random per-file prefix, the chunk's number and a "last chunk"
flag (the STREAM construction): a reordered, dropped, altered or truncated chunk fails to open,
and a file cut after a whole chunk is caught because its last chunk never says "last". The
header (salt, scrypt cost, nonce prefix) is the associated data of every chunk, so it cannot be
swapped either.

The key comes from the passphrase through scrypt (memory-hard, so guessing passphrases is slow);
scrypt yields 64 bytes: 32 are the AES key, 32 are stored in the header as a check value, so a
wrong passphrase is told apart from a damaged file (a guess costs one scrypt either way).

    header = MAGIC | salt (16) | log2 N (1) | r (1) | p (1) | nonce prefix (7) | check (32)
    chunk  = length of the sealed chunk (4, big-endian) | AES-GCM(chunk of at most 1 MiB)
"""

from __future__ import annotations

import hmac
import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from core.backup.errors import BackupError

MAGIC = b"YARDSTICK-BACKUP-AESGCM-1\n"
CHUNK = 1 << 20
_SCRYPT = (16, 8, 1)  # log2 N, r, p: 64 MiB of memory and about 0.2 s per guess
_HEADER = struct.Struct(">16sBBB7s32s")
_LENGTH = struct.Struct(">I")
_TAG = 16


class BackupCryptoError(BackupError):
    """The passphrase does not open the archive, or the encrypted file is damaged."""


def _damaged(what: str) -> BackupCryptoError:
    return BackupCryptoError(
        f"The backup file is {what}; nothing was restored. Use another backup."
    )


def _derive(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> tuple[bytes, bytes]:
    if not 10 <= log_n <= 20 or not 1 <= r <= 16 or not 1 <= p <= 4:
        raise BackupCryptoError("The backup file is damaged (its encryption header is invalid).")
    derived = Scrypt(salt=salt, length=64, n=1 << log_n, r=r, p=p).derive(
        passphrase.encode("utf-8")
    )
    return derived[:32], derived[32:]


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only file object: what is written to it lands in `sink` encrypted, chunk by
    chunk. `close()` seals the last chunk (and must be called, or the file reads as cut short);
    the sink itself is left open."""

    def __init__(self, sink: BinaryIO, passphrase: str) -> None:
        salt, prefix = os.urandom(16), os.urandom(7)
        key, check = _derive(passphrase, salt, *_SCRYPT)
        self._header = MAGIC + _HEADER.pack(salt, *_SCRYPT, prefix, check)
        self._aead, self._prefix, self._sink = AESGCM(key), prefix, sink
        self._buffer = bytearray()
        self._counter = 0
        self.closed = False
        sink.write(self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep one chunk back: the last one is sealed as such
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self) -> None:
        self._sink.flush()

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True

    def _seal(self, plain: bytes, last: bool) -> None:
        nonce = _nonce(self._prefix, self._counter, last)
        sealed = self._aead.encrypt(nonce, plain, self._header)
        self._sink.write(_LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1


class DecryptingReader:
    """A read-only file object over an encrypted archive: reads return the plain bytes. Raises
    BackupCryptoError on a wrong passphrase (at once), a damaged chunk, or a file cut short."""

    def __init__(self, source: BinaryIO, passphrase: str) -> None:
        magic = source.read(len(MAGIC))
        raw = source.read(_HEADER.size)
        if magic != MAGIC or len(raw) != _HEADER.size:
            raise BackupCryptoError("This file is not an encrypted Yardstick backup.")
        salt, log_n, r, p, prefix, check = _HEADER.unpack(raw)
        key, expected = _derive(passphrase, salt, log_n, r, p)
        if not hmac.compare_digest(check, expected):
            raise BackupCryptoError(
                "The passphrase does not open this backup. Give the passphrase it was made with."
            )
        self._header, self._aead, self._prefix = magic + raw, AESGCM(key), prefix
        self._source = source
        self._buffer = bytearray()
        self._counter = 0
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            self._open_next()
        size = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def _open_next(self) -> None:
        length = self._source.read(_LENGTH.size)
        if len(length) != _LENGTH.size:
            raise _damaged("incomplete (it was cut short)")
        (size,) = _LENGTH.unpack(length)
        sealed = self._source.read(size)
        if size > CHUNK + _TAG or len(sealed) != size:
            raise _damaged("incomplete or damaged")
        for last in (False, True):
            try:
                plain = self._aead.decrypt(
                    _nonce(self._prefix, self._counter, last), sealed, self._header
                )
            except InvalidTag:
                continue
            self._buffer += plain
            self._counter += 1
            self._done = last
            if last and self._source.read(1):
                raise _damaged("damaged (bytes after its end)")
            return
        raise _damaged("damaged or was altered after it was written")


def is_encrypted(path: os.PathLike[str] | str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC
