"""A real OpenSSH server on loopback for the SFTP tests: an SFTP-only account chrooted to its own
folder, signing in with a password or with RSA / ECDSA / Ed25519 keys.

Why root: sshd checks passwords against /etc/shadow, so password sign-in needs a real local
account (created with useradd + chpasswd, removed afterwards), and ChrootDirectory needs
root-owned folders. The folders live under /run because every folder above a chroot must be
root-owned and not writable by others (/tmp is world-writable, so sshd refuses it); /var/lib
when /run is a small tmpfs. Tests run as root here and in CI; elsewhere they are skipped with
that reason.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.ingest.jobs import process_alive

SSHD = "/usr/sbin/sshd"
KEY_TYPES = ("rsa", "ecdsa", "ed25519")
PASSPHRASE = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def keygen(path: Path, kind: str, passphrase: str = "") -> Path:
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            kind,
            "-N",
            passphrase,
            "-C",
            f"yardstick-test-{kind}",
            "-f",
            str(path),
        ],
        check=True,
    )
    return path


def keygen_fingerprint(public_key: Path) -> str:
    """The fingerprint as `ssh-keygen -l` prints it (the independent reference)."""
    line = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(public_key)], check=True, capture_output=True, text=True
    ).stdout
    return line.split()[1]


@dataclass
class Account:
    """The SFTP account and the client keys, shared by every server in the session."""

    base: Path
    user: str
    password: str
    keys: dict[str, Path]  # rsa / ecdsa / ed25519 (the Ed25519 key has PASSPHRASE)
    stranger_key: Path  # a valid key the server does not know

    def remove(self) -> None:
        subprocess.run(["userdel", self.user], check=False, capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def _parent() -> Path:
    """/run, unless it is a small tmpfs (the 500 MB test file lives in the chroot): /var/lib."""
    run = Path("/run")
    return run if shutil.disk_usage(run).free > 2 * 1024**3 else Path("/var/lib")


def sweep_stale_accounts() -> None:
    """Remove accounts and folders left by a test session that was killed before its teardown."""
    stale = [*Path("/run").glob("yardstick-sftp-*"), *Path("/var/lib").glob("yardstick-sftp-*")]
    for base in stale:
        owner = base / "owner"
        try:
            pid, user = owner.read_text().split()
        except (OSError, ValueError):
            continue
        if not process_alive(int(pid)):
            Account(base, user, "", {}, base).remove()


def create_account() -> Account:
    sweep_stale_accounts()
    base = Path(tempfile.mkdtemp(prefix="yardstick-sftp-", dir=_parent()))
    base.chmod(0o755)
    user = "ysftp" + secrets.token_hex(4)
    (base / "owner").write_text(f"{os.getpid()} {user}\n")
    password = "pw-" + secrets.token_urlsafe(12)
    subprocess.run(
        ["useradd", "--no-create-home", "--home-dir", "/", "--shell", "/usr/sbin/nologin", user],
        check=True,
    )
    subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)
    keys_dir = base / "client-keys"
    keys_dir.mkdir()
    keys = {
        kind: keygen(keys_dir / kind, kind, PASSPHRASE if kind == "ed25519" else "")
        for kind in KEY_TYPES
    }
    stranger = keygen(keys_dir / "stranger", "ed25519")
    authorized = base / "authorized_keys"
    authorized.write_text("".join(Path(f"{k}.pub").read_text() for k in keys.values()))
    authorized.chmod(0o644)
    return Account(base, user, password, keys, stranger)


@dataclass
class Server:
    """One sshd process; `root` is the chroot, /incoming the account's delivery folder."""

    account: Account
    home: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    host_key: Path | None = None
    extra_host_keys: list[Path] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.home / "chroot"

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def log(self) -> Path:
        return self.home / "sshd.log"

    def prepare(self) -> None:
        # Modes set explicitly: a process that opened a warehouse creates files 0700 / 0600
        # (its umask is private from then on), and sshd's chroot and the account need these.
        for folder in (self.home, self.root):
            folder.mkdir()
            folder.chmod(0o755)
        self.incoming.mkdir()
        shutil.chown(self.incoming, user=self.account.user)
        locked = self.root / "locked"
        locked.mkdir(mode=0o700)  # root-only: the account may not list it
        (locked / "scores.csv").write_text("student_id\n1\n")
        (self.root / "empty").mkdir()
        (self.root / "empty").chmod(0o755)
        self.new_host_key()

    def new_host_key(self, kind: str = "ed25519") -> Path:
        path = self.home / f"host_{kind}_{secrets.token_hex(3)}"
        self.host_key = keygen(path, kind)
        return self.host_key

    def config(self, penalties: bool) -> str:
        lines = [
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {self.host_key}",
            *(f"HostKey {key}" for key in self.extra_host_keys),
            f"PidFile {self.home / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.account.base / 'authorized_keys'}",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "UsePAM no",
            "StrictModes no",
            "LogLevel VERBOSE",
            "Subsystem sftp internal-sftp",
            f"AllowUsers {self.account.user}",
            *(["PerSourcePenalties no"] if penalties else []),
            f"Match User {self.account.user}",
            f"  ChrootDirectory {self.root}",
            "  ForceCommand internal-sftp -d /incoming",
        ]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        Path("/run/sshd").mkdir(exist_ok=True)
        config = self.home / "sshd_config"
        # newer OpenSSH penalises failed sign-ins per address; the tests fail some on purpose
        config.write_text(self.config(penalties=True))
        if subprocess.run([SSHD, "-t", "-f", str(config)], capture_output=True).returncode:
            config.write_text(self.config(penalties=False))
        subprocess.run([SSHD, "-t", "-f", str(config)], check=True, capture_output=True)
        self.log.write_text("")
        handle = self.log.open("a")
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=handle, stderr=handle
        )
        deadline = time.monotonic() + 10
        while "Server listening" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start:\n{self.log.read_text()}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def restart_with_new_host_key(self) -> Path:
        self.stop()
        self.new_host_key()
        self.start()
        return self.host_key

    def add_host_key(self, kind: str) -> str:
        """Restart with a second host key of another type; returns its fingerprint."""
        key = keygen(self.home / f"host_extra_{kind}", kind)
        self.extra_host_keys.append(key)
        self.stop()
        self.start()
        return keygen_fingerprint(Path(f"{key}.pub"))

    def fingerprint(self) -> str:
        return keygen_fingerprint(Path(f"{self.host_key}.pub"))

    def deliver(self, name: str, content: bytes, mtime: float | None = None) -> Path:
        path = self.incoming / name
        path.write_bytes(content)
        shutil.chown(path, user=self.account.user)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path
