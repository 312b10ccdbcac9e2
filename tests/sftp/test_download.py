"""Streaming a remote file to disk: exact bytes, a file that grows mid-download, flat memory."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.sftp import registry
from core.sftp.connect import SftpError, load_target, open_session, test_connection
from core.sftp.pull import WINDOW, download
from tests.sftp.helpers import add_password_source
from tests.sftp.sshd import Server

ROOT = Path(__file__).resolve().parents[2]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture
def target(con, server: Server):
    add_password_source(con, server)
    key = test_connection(load_target(con, "vendor")).host_key
    registry.trust(
        con, "vendor", key_type=key.key_type, fingerprint=key.fingerprint,
        public_key=key.public_key, user="admin",
    )  # fmt: skip
    return load_target(con, "vendor")


def remote_file(target, server: Server, name: str):
    with open_session(target) as session:
        return next(f for f in _matching(session, target) if f.name == name)


def _matching(session, target):
    from core.sftp.connect import list_folder, matching_files

    return matching_files(list_folder(session.client, target), target)


def test_download_is_byte_exact(target, server: Server, tmp_path: Path) -> None:
    content = os.urandom(3 * WINDOW + 12_345)  # several windows and a ragged end
    source = server.deliver("scores_big.csv", content)
    remote = remote_file(target, server, "scores_big.csv")
    seen: list[int] = []
    with open_session(target) as session:
        result = download(session.client, remote, tmp_path, lambda _r, done: seen.append(done))
    assert result.local_path.read_bytes() == content
    assert result.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert result.size == len(content)
    assert seen == [WINDOW, 2 * WINDOW, 3 * WINDOW, len(content)]


def test_file_growing_during_download_is_refused(target, server: Server, tmp_path: Path) -> None:
    path = server.deliver("scores_live.csv", b"student_id,score\n" + b"1,200\n" * 3_000_000)
    remote = remote_file(target, server, "scores_live.csv")

    def vendor_still_writing(_remote, done: int) -> None:
        if done == WINDOW:  # the vendor's export appends while we are half-way
            with path.open("ab") as handle:
                handle.write(b"2,201\n" * 1000)

    with open_session(target) as session, pytest.raises(SftpError) as caught:
        download(session.client, remote, tmp_path, vendor_still_writing)
    assert caught.value.kind == "file_growing"
    assert caught.value.transient
    assert "still being written" in caught.value.reason
    assert list(tmp_path.iterdir()) == []  # the partial download is gone


MEMORY_PROBE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from core.sftp import registry
    from core.sftp.connect import RemoteFile, Target, open_session
    from core.sftp.pull import download

    def rss_kb():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    samples = []
    args = json.loads(sys.stdin.read())
    target = Target(
        name="vendor", host="127.0.0.1", port=args["port"], username=args["user"],
        auth_kind="password", remote_dir="/incoming", pattern="*", preset="auto",
        credentials=registry.Credentials(password=args["password"]),
        trusted=registry.TrustedKey(args["key_type"], args["fingerprint"], None),
    )
    started = time.monotonic()
    with open_session(target) as session:
        before = rss_kb()
        remote = RemoteFile("big.csv", "/incoming/big.csv", args["size"], 0)
        result = download(
            session.client, remote, Path(args["folder"]), lambda _r, _d: samples.append(rss_kb())
        )
    print(json.dumps({
        "seconds": time.monotonic() - started,
        "rss_before_kb": before,
        "rss_peak_kb": max(samples),
        "samples": len(samples),
        "sha256": result.sha256,
        "size": result.size,
    }))
    """
)


@pytest.mark.slow
def test_500_mb_file_streams_with_flat_memory(target, server: Server, tmp_path: Path) -> None:
    """The download alone (the import's own memory is the ingest tests' business): the resident
    memory of a fresh process, sampled after every 8 MiB window, grows by far less than the
    file."""
    size = 500 * 1024 * 1024
    big = server.incoming / "big.csv"
    with big.open("wb") as handle:  # fast to make: a 1 MiB pattern, written 500 times
        block = (b"student_id,score\n" + os.urandom(1024).hex().encode())[: 1 << 20]
        block = block.ljust(1 << 20, b"x")
        for _ in range(500):
            handle.write(block)
    os.chown(big, *_owner(server))
    args = {
        "port": server.port, "user": server.account.user, "password": server.account.password,
        "key_type": target.trusted.key_type, "fingerprint": target.trusted.fingerprint,
        "size": size, "folder": str(tmp_path),
    }  # fmt: skip
    started = time.monotonic()
    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE], input=json.dumps(args), capture_output=True,
        text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    measured = json.loads(probe.stdout)
    print(f"500 MB download: {measured}, wall {time.monotonic() - started:.1f}s")
    assert measured["size"] == size
    assert measured["sha256"] == sha256_of(big)
    growth_mb = (measured["rss_peak_kb"] - measured["rss_before_kb"]) / 1024
    assert growth_mb < 32, f"peak RSS grew by {growth_mb:.0f} MB while downloading 500 MB"


def _owner(server: Server) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(server.account.user)
    return entry.pw_uid, entry.pw_gid
