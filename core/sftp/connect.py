"""Opening an SFTP session step by step, so every failure names its step, its reason and what to do.

Steps: resolving → connecting → host key → authenticating (→ listing → matching in a test).
The whole opening (resolve, TCP, SSH handshake, sign-in) is bounded by CONNECT_TIMEOUT seconds.
Host keys: a server is trusted only when the key it presents has the fingerprint an admin
confirmed. No credential is sent before that check, so an unknown or changed key costs nothing
but a refusal (the same guarantee as paramiko's RejectPolicy with a known_hosts file, with the
fingerprint kept in the warehouse instead). These functions never take a warehouse connection:
the network can be slow, and the app must not wait for it.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import posixpath
import queue
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import duckdb
import paramiko

from core.sftp import registry
from core.sftp.keys import (
    HOST_KEY_ALGORITHMS,
    PrivateKeyError,
    describe,
    fingerprint,
    load_private_key,
    public_text,
    type_label,
)

# paramiko's transport thread logs a traceback when we hang up on a server that never greeted us;
# every failure already reaches the user as an SftpError, so keep stderr clean
logging.getLogger("paramiko").addHandler(logging.NullHandler())

CONNECT_TIMEOUT = 10.0
LIST_TIMEOUT = 30.0
STEP_LABELS = {
    "resolving": "Resolving the host name",
    "connecting": "Connecting",
    "host_key": "Checking the server's host key",
    "authenticating": "Signing in",
    "listing": "Listing the folder",
    "matching": "Matching files",
}


class SftpError(Exception):
    """A failed step with a reason and what to do; `transient` failures are worth retrying."""

    def __init__(
        self,
        kind: str,
        reason: str,
        advice: str,
        *,
        transient: bool = False,
        host_key: HostKey | None = None,
    ) -> None:
        super().__init__(f"{reason} {advice}")
        self.kind = kind
        self.reason = reason
        self.advice = advice
        self.transient = transient
        self.host_key = host_key

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, "advice": self.advice}


@dataclass(frozen=True)
class HostKey:
    """The key a server presented; `status` says how it compares with the confirmed one."""

    key_type: str
    bits: int
    fingerprint: str
    public_key: str
    status: str  # trusted | unknown | changed

    @property
    def description(self) -> str:
        return f"{self.bits} {self.fingerprint} ({type_label(self.key_type)})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "description": self.description}


@dataclass(frozen=True)
class Target(registry.Endpoint):
    """Everything needed to reach one source, read from the warehouse beforehand."""

    credentials: registry.Credentials
    trusted: registry.TrustedKey | None


@dataclass(frozen=True)
class RemoteFile:
    name: str
    path: str
    size: int
    mtime: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Step:
    step: str
    ok: bool
    detail: str
    seconds: float

    @property
    def label(self) -> str:
        return STEP_LABELS[self.step]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label}


@dataclass
class ConnectionReport:
    source: str
    steps: list[Step] = field(default_factory=list)
    host_key: HostKey | None = None
    files: list[RemoteFile] = field(default_factory=list)
    problem: SftpError | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "steps": [s.to_dict() for s in self.steps],
            "host_key": self.host_key.to_dict() if self.host_key else None,
            "files": [f.to_dict() for f in self.files],
            "problem": self.problem.to_dict() if self.problem else None,
        }


StepCallback = Callable[[Step], None]


def load_target(con: duckdb.DuckDBPyConnection, name: str) -> Target:
    source = registry.get_source(con, name)
    endpoint = {f.name: getattr(source, f.name) for f in fields(registry.Endpoint)}
    return Target(
        **endpoint,
        credentials=registry.credentials(con, name),
        trusted=registry.trusted_key(con, name),
    )


class _Steps:
    """Runs named steps, timing each and reporting it (done or failed) as it finishes."""

    def __init__(self, on_step: StepCallback | None, deadline: float) -> None:
        self.done: list[Step] = []
        self.on_step = on_step
        self.deadline = deadline

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def run(self, name: str, action: Callable[[], tuple[Any, str]]) -> Any:
        started = time.monotonic()
        try:
            value, detail = action()
        except SftpError as exc:
            self._record(Step(name, False, exc.reason, time.monotonic() - started))
            raise
        self._record(Step(name, True, detail, time.monotonic() - started))
        return value

    def _record(self, step: Step) -> None:
        self.done.append(step)
        if self.on_step is not None:
            self.on_step(step)


def _timed_out(target_host: str, port: int, timeout: float, what: str) -> SftpError:
    return SftpError(
        "timed_out",
        f"No answer from {target_host} port {port} within {timeout:g} seconds ({what}).",
        "A firewall may be blocking the connection, or the host or port is wrong. Check them, "
        "or ask your IT team to allow this computer to reach the server.",
        transient=True,
    )


def _resolve(host: str, port: int, steps: _Steps, timeout: float) -> list[tuple]:
    """getaddrinfo has no timeout of its own: run it in a helper thread and stop waiting."""
    answers: queue.Queue = queue.Queue()

    def lookup() -> None:
        try:
            answers.put(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            answers.put(exc)

    threading.Thread(target=lookup, daemon=True, name="sftp-resolve").start()
    try:
        result = answers.get(timeout=max(steps.remaining(), 0.01))
    except queue.Empty:
        raise _timed_out(host, port, timeout, "looking up the host name") from None
    if isinstance(result, OSError):
        raise SftpError(
            "host_not_found",
            f"The server name {host!r} could not be found.",
            "Check the spelling of the host name (or enter its IP address) and that this "
            "computer is connected to the network.",
            transient=isinstance(result, socket.gaierror) and result.errno == socket.EAI_AGAIN,
        ) from result
    return result


def _connect_socket(host: str, port: int, addresses: list[tuple], steps: _Steps, timeout: float):
    last: OSError | None = None
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(max(steps.remaining(), 0.01))
        try:
            sock.connect(address)
            return sock, f"{address[0]} port {port}"
        except OSError as exc:
            sock.close()
            last = exc
            if isinstance(exc, TimeoutError | socket.timeout) or steps.remaining() <= 0:
                raise _timed_out(host, port, timeout, "connecting") from exc
    if isinstance(last, ConnectionResetError | ConnectionAbortedError):
        raise _closed_by_server(host, port) from last
    if isinstance(last, ConnectionRefusedError):
        raise SftpError(
            "connection_refused",
            f"{host} refused the connection on port {port}: no SFTP service is listening there.",
            "Check the port number (SFTP usually uses 22) and that the server's SFTP service is "
            "running; the vendor or your IT team can confirm both.",
            transient=True,
        ) from last
    raise SftpError(
        "network",
        f"Could not reach {host} port {port}: {getattr(last, 'strerror', None) or last}.",
        "Check this computer's network connection and the host name; try again later.",
        transient=True,
    ) from last


def _prefer_trusted_type(
    transport: paramiko.Transport, trusted: registry.TrustedKey | None
) -> None:
    """Ask for the key type that was confirmed first, as OpenSSH does with known_hosts."""
    if trusted is None:
        return
    options = transport.get_security_options()
    wanted = HOST_KEY_ALGORITHMS.get(trusted.key_type, (trusted.key_type,))
    first = [t for t in wanted if t in options.key_types]
    options.key_types = first + [t for t in options.key_types if t not in first]


def _transport(sock: socket.socket, steps: _Steps) -> paramiko.Transport:
    transport = paramiko.Transport(sock)
    transport.banner_timeout = max(steps.remaining(), 0.01)
    transport.handshake_timeout = max(steps.remaining(), 0.01)
    return transport


def _start(transport: paramiko.Transport, host: str, port: int, steps: _Steps, timeout: float):
    done = threading.Event()
    try:
        transport.start_client(event=done)
        while not done.wait(0.05):
            if not transport.is_active() or steps.remaining() <= 0:
                break
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise _not_ssh(host, port, exc, timeout) from exc
    if not done.is_set() or not transport.is_active():
        problem = transport.get_exception()
        if problem is None and steps.remaining() <= 0:
            raise _timed_out(host, port, timeout, "waiting for the SSH greeting")
        raise _not_ssh(host, port, problem, timeout)


_CLOSED = (EOFError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


def _closed_by_server(host: str, port: int) -> SftpError:
    """The port took the connection and hung up before any SSH greeting: not a timeout, and
    not a network fault on this side (it happens in a hundredth of a second)."""
    return SftpError(
        "connection_closed",
        f"{host} port {port} accepted the connection, then closed it at once without the SSH "
        "greeting.",
        "This usually means the port is wrong (SFTP usually uses 22), the service on that port "
        "is not an SSH server, or the SSH server refuses connections from this computer's "
        "address (an allow list, a block after failed sign-ins, or too many connections at "
        "once). Ask the vendor or your IT team to confirm the port and that this computer's "
        "address may connect.",
        transient=True,
    )


def _hung_up_before_greeting(exc: BaseException | None) -> bool:
    """paramiko wraps whatever reading the greeting hit (end of stream, a reset, a timeout) in
    one "Error reading SSH protocol banner"; the wrapped exception tells a hang-up from
    silence. An end of stream after the greeting (a server with no key of the type asked for)
    stays a failed handshake."""
    return "banner" in str(exc).lower() and isinstance(exc.__context__, _CLOSED)


def _not_ssh(host: str, port: int, exc: BaseException | None, timeout: float) -> SftpError:
    text = str(exc or "the connection closed")
    if _hung_up_before_greeting(exc):
        return _closed_by_server(host, port)
    if "banner" in text.lower() or isinstance(exc, socket.timeout | TimeoutError):
        return _timed_out(host, port, timeout, "waiting for the SSH greeting")
    return SftpError(
        "not_ssh",
        f"{host} port {port} did not complete an SSH handshake ({text}).",
        "Check that this is the SFTP port of the server (usually 22), not a web or FTP port.",
        transient=True,
    )


def _host_key(key: paramiko.PKey, status: str) -> HostKey:
    return HostKey(key.get_name(), key.get_bits(), fingerprint(key), public_text(key), status)


def _check_host_key(transport: paramiko.Transport, target: Target) -> tuple[HostKey, str]:
    key = transport.get_remote_server_key()
    found = fingerprint(key)
    trusted = target.trusted
    if trusted is None:
        host_key = _host_key(key, "unknown")
        raise SftpError(
            "host_key_unknown",
            f"The server presents the host key {describe(key)}, which nobody has confirmed yet. "
            "Nothing was sent to it.",
            "Ask the server's administrator (or the vendor) for the key's fingerprint. If it is "
            "the same, confirm it (Test connection → Confirm, or: python -m core sftp trust "
            f"{_quoted(target.name)} --fingerprint {found}).",
            host_key=host_key,
        )
    if found != trusted.fingerprint:
        host_key = _host_key(key, "changed")
        raise SftpError(
            "host_key_changed",
            f"WARNING: POSSIBLE INTERCEPTION. The server's host key has changed: it now presents "
            f"{describe(key)}, but the confirmed key is {trusted.fingerprint} "
            f"({type_label(trusted.key_type)}). Yardstick refused to connect and sent nothing.",
            "Do not confirm the new key until the server's administrator tells you the key was "
            "changed on purpose and reads you its fingerprint; then a district admin confirms it "
            "again. If nobody changed it, tell your IT team: someone may be impersonating the "
            "server.",
            host_key=host_key,
        )
    host_key = _host_key(key, "trusted")
    return host_key, f"{describe(key)} matches the confirmed key"


def _quoted(name: str) -> str:
    return f'"{name}"' if " " in name else name


def _authenticate(transport: paramiko.Transport, target: Target, steps: _Steps) -> None:
    transport.auth_timeout = max(steps.remaining(), 0.01)
    secrets = target.credentials
    try:
        if target.auth_kind == "key":
            key = load_private_key(secrets.private_key or "", secrets.passphrase)
            transport.auth_publickey(target.username, key)
        else:
            transport.auth_password(target.username, secrets.password or "")
    except PrivateKeyError as exc:
        raise SftpError("key_invalid", str(exc), "Paste or upload the key again.") from exc
    except paramiko.BadAuthenticationType as exc:
        allowed = ", ".join(exc.allowed_types) or "none"
        raise SftpError(
            "auth_method",
            f"The server does not accept {_method(target)} sign-in for {target.username!r} "
            f"(it accepts: {allowed}).",
            "Switch the source to the other sign-in method, or ask the server administrator "
            "which one this account uses.",
        ) from exc
    except paramiko.AuthenticationException as exc:
        if "timeout" in str(exc).lower():
            raise _timed_out(target.host, target.port, CONNECT_TIMEOUT, "signing in") from exc
        raise SftpError(
            "auth_failed",
            f"The server refused the sign-in for {target.username!r} with this {_method(target)}.",
            _auth_advice(target),
        ) from exc
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise SftpError(
            "auth_failed",
            f"The server closed the connection while signing in {target.username!r} ({exc}).",
            _auth_advice(target),
            transient=True,
        ) from exc


def _method(target: Target) -> str:
    return "private key" if target.auth_kind == "key" else "password"


def _auth_advice(target: Target) -> str:
    if target.auth_kind == "key":
        return (
            "Check the user name, and that the server administrator added this key's public "
            "half (the .pub file) to the account's authorized_keys."
        )
    return "Check the user name and password (they are case-sensitive), then save them again."


class Session:
    """An open, signed-in SFTP session; use as a context manager so it always closes."""

    def __init__(self, transport: paramiko.Transport, client: paramiko.SFTPClient, key: HostKey):
        self.transport = transport
        self.client = client
        self.host_key = key

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            self.transport.close()


def open_session(
    target: Target,
    *,
    timeout: float = CONNECT_TIMEOUT,
    on_step: StepCallback | None = None,
    steps: _Steps | None = None,
) -> Session:
    """Resolve, connect, check the host key, sign in and open SFTP, within `timeout` seconds."""
    steps = steps or _Steps(on_step, time.monotonic() + timeout)
    host, port = target.host, target.port
    addresses = steps.run("resolving", lambda: _resolved(host, port, steps, timeout))
    sock = steps.run("connecting", lambda: _connect_socket(host, port, addresses, steps, timeout))
    transport = _transport(sock, steps)
    try:
        _prefer_trusted_type(transport, target.trusted)

        def check_key() -> tuple[HostKey, str]:
            _start(transport, host, port, steps, timeout)
            return _check_host_key(transport, target)

        host_key = steps.run("host_key", check_key)
        client = steps.run("authenticating", lambda: _signed_in(transport, target, steps))
    except BaseException:
        transport.close()
        raise
    return Session(transport, client, host_key)


def _resolved(host: str, port: int, steps: _Steps, timeout: float) -> tuple[list[tuple], str]:
    addresses = _resolve(host, port, steps, timeout)
    shown = ", ".join(dict.fromkeys(a[4][0] for a in addresses))
    return addresses, f"{host} is {shown}"


def _signed_in(
    transport: paramiko.Transport, target: Target, steps: _Steps
) -> tuple[paramiko.SFTPClient, str]:
    _authenticate(transport, target, steps)
    transport.channel_timeout = max(steps.remaining(), 5.0)
    try:
        client = paramiko.SFTPClient.from_transport(transport)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise SftpError(
            "no_sftp",
            f"Signed in as {target.username!r}, but the server offers no SFTP service to it "
            f"({exc}).",
            "Ask the server administrator to enable SFTP for this account.",
        ) from exc
    client.get_channel().settimeout(LIST_TIMEOUT)
    return client, f"signed in as {target.username} with a {_method(target)}"


def list_folder(client: paramiko.SFTPClient, target: Target) -> list[paramiko.SFTPAttributes]:
    try:
        return client.listdir_attr(target.remote_dir)
    except PermissionError as exc:
        raise SftpError(
            "folder_denied",
            f"The account {target.username!r} may not read the folder {target.remote_dir!r} "
            "(permission denied).",
            "Ask the server administrator to give this account read access to the folder, or "
            "choose the folder the exports are delivered to.",
        ) from exc
    except FileNotFoundError as exc:
        raise SftpError(
            "folder_missing",
            f"The folder {target.remote_dir!r} does not exist on the server "
            f"(the account starts in {_start_folder(client)!r}).",
            "Check the remote folder's spelling; folders are case-sensitive on most servers.",
        ) from exc
    except OSError as exc:
        if exc.errno in (errno.ETIMEDOUT, None) and "timed out" in str(exc).lower():
            raise _timed_out(target.host, target.port, LIST_TIMEOUT, "listing the folder") from exc
        raise SftpError(
            "folder_error",
            f"The folder {target.remote_dir!r} could not be listed ({exc}).",
            "Check the remote folder, or ask the server administrator.",
            transient=True,
        ) from exc


def _start_folder(client: paramiko.SFTPClient) -> str:
    try:
        return client.normalize(".")
    except OSError:
        return "?"


def matching_files(entries: list[paramiko.SFTPAttributes], target: Target) -> list[RemoteFile]:
    """Regular files whose name matches the pattern (not case-sensitive), newest first."""
    pattern = target.pattern.lower()
    found = [
        RemoteFile(
            name=entry.filename,
            path=posixpath.join(target.remote_dir, entry.filename),
            size=int(entry.st_size or 0),
            mtime=int(entry.st_mtime or 0),
        )
        for entry in entries
        if stat.S_ISREG(entry.st_mode or 0) and fnmatch.fnmatchcase(entry.filename.lower(), pattern)
    ]
    found.sort(key=lambda f: (f.mtime, f.name), reverse=True)
    if not found:
        raise _no_match(entries, target)
    return found


def _no_match(entries: list[paramiko.SFTPAttributes], target: Target) -> SftpError:
    files = sorted(e.filename for e in entries if stat.S_ISREG(e.st_mode or 0))
    if files:
        sample = ", ".join(files[:5]) + (" …" if len(files) > 5 else "")
        there = f"the folder has {len(files)} other file(s): {sample}"
    else:
        there = "the folder is empty"
    return SftpError(
        "no_match",
        f"No file in {target.remote_dir!r} matches the pattern {target.pattern!r} ({there}).",
        "Check the pattern: * stands for any characters and ? for one (case does not matter), "
        "e.g. student_data_*.csv. If the folder should have files, ask the vendor whether "
        "tonight's export was delivered.",
    )


def list_matching(session: Session, target: Target, steps: _Steps) -> list[RemoteFile]:
    entries = steps.run(
        "listing",
        lambda: _listed(session.client, target),
    )
    return steps.run("matching", lambda: _matched(entries, target))


def _listed(client: paramiko.SFTPClient, target: Target) -> tuple[list, str]:
    entries = list_folder(client, target)
    return entries, f"{len(entries)} entries in {target.remote_dir}"


def _matched(entries: list, target: Target) -> tuple[list[RemoteFile], str]:
    files = matching_files(entries, target)
    newest = files[0]
    return files, f"{len(files)} file(s) match {target.pattern}; newest: {newest.name}"


def test_connection(
    target: Target, *, timeout: float = CONNECT_TIMEOUT, on_step: StepCallback | None = None
) -> ConnectionReport:
    """Every step, in order, stopping at the first failure (which the report explains)."""
    report = ConnectionReport(source=target.name)
    steps = _Steps(on_step, time.monotonic() + timeout)
    try:
        with open_session(target, timeout=timeout, steps=steps) as session:
            report.host_key = session.host_key
            report.files = list_matching(session, target, steps)
    except SftpError as exc:
        report.problem = exc
        report.host_key = report.host_key or exc.host_key
    report.steps = steps.done
    return report


test_connection.__test__ = False  # a product function, not a pytest test

KEY_FAMILIES = (
    ("ssh-ed25519",),
    ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"),
    ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
)


def _offered_key(target: Target, family: tuple[str, ...], timeout: float) -> HostKey | None:
    steps = _Steps(None, time.monotonic() + timeout)
    addresses = _resolve(target.host, target.port, steps, timeout)
    sock, _ = _connect_socket(target.host, target.port, addresses, steps, timeout)
    transport = _transport(sock, steps)
    try:
        options = transport.get_security_options()
        wanted = [t for t in family if t in options.key_types]
        if not wanted:
            return None
        options.key_types = wanted
        try:
            _start(transport, target.host, target.port, steps, timeout)
        except SftpError as exc:
            if exc.kind == "not_ssh":  # the server has no key of this type
                return None
            raise
        key = transport.get_remote_server_key()
        return _host_key(key, "unknown")
    finally:
        transport.close()


def server_host_keys(target: Target, *, timeout: float = CONNECT_TIMEOUT) -> list[HostKey]:
    """Every host key the server offers (one handshake per key type, no sign-in)."""
    keys = [_offered_key(target, family, timeout) for family in KEY_FAMILIES]
    return [key for key in keys if key is not None]


def confirm_fingerprint(
    target: Target, wanted: str, *, timeout: float = CONNECT_TIMEOUT
) -> HostKey:
    """The server's host key with this fingerprint, checked against the live server; an admin
    typing a fingerprint never trusts a key the server does not actually hold."""
    offered = server_host_keys(target, timeout=timeout)
    for key in offered:
        if key.fingerprint == wanted:
            return key
    shown = "; ".join(key.description for key in offered) or "no key"
    raise SftpError(
        "fingerprint_mismatch",
        f"{target.host} port {target.port} does not hold a host key with the fingerprint "
        f"{wanted}; it presents {shown}.",
        "Check the fingerprint with the server's administrator (ssh-keygen -l -f "
        "<host key>.pub on the server prints it). If they differ, do not trust this server.",
    )
