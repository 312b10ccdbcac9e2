"""SSH keys: reading a pasted or uploaded private key, and naming a host key the way
`ssh-keygen -l` does (`256 SHA256:<base64 without padding> (ED25519)`), so an admin can compare
what Yardstick shows with what the server's administrator reads off the server.
"""

from __future__ import annotations

import base64
import hashlib
import io

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

# ssh-keygen's names for the key types (the part in brackets of `ssh-keygen -l`)
KEY_TYPE_LABELS = {
    "ssh-ed25519": "ED25519",
    "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA",
    "ecdsa-sha2-nistp521": "ECDSA",
    "ssh-rsa": "RSA",
}
# host key algorithms a server may sign with for each stored key type (RSA keys sign with
# SHA-2 in modern servers; the key itself is still "ssh-rsa")
HOST_KEY_ALGORITHMS = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
}


class PrivateKeyError(ValueError):
    """A private key that cannot be used; the message says what to do."""


def fingerprint(key: paramiko.PKey) -> str:
    """`SHA256:` + unpadded base64 of the SHA-256 of the public key blob (as ssh-keygen -l)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def describe(key: paramiko.PKey) -> str:
    """The whole `ssh-keygen -l` line without the comment: `256 SHA256:… (ED25519)`."""
    label = KEY_TYPE_LABELS.get(key.get_name(), key.get_name())
    return f"{key.get_bits()} {fingerprint(key)} ({label})"


def type_label(key_type: str | None) -> str:
    return KEY_TYPE_LABELS.get(key_type or "", key_type or "unknown")


def public_text(key: paramiko.PKey) -> str:
    """The key as one known_hosts / authorized_keys field pair: `ssh-ed25519 AAAA…`."""
    return f"{key.get_name()} {key.get_base64()}"


def normalise_fingerprint(text: str) -> str:
    """Accept what people paste: `SHA256:abc…`, with a trailing `=` or the ssh-keygen line."""
    for word in text.replace("(", " ").split():
        if word.upper().startswith("SHA256:"):
            return "SHA256:" + word.split(":", 1)[1].rstrip("=")
    raise PrivateKeyError(
        "A fingerprint looks like SHA256:ko2uvhQNgnrHZc65KWzKoq7oXPQcIFlgw1h0TmsO0xo "
        "(what `ssh-keygen -l -f <host key>.pub` prints on the server)."
    )


def _key_class(data: bytes, passphrase: bytes | None) -> type[paramiko.PKey]:
    try:
        loaded = serialization.load_ssh_private_key(data, password=passphrase)
    except ValueError as ssh_error:
        if b"OPENSSH PRIVATE KEY" in data:
            raise _decrypt_problem(ssh_error, passphrase) from ssh_error
        loaded = serialization.load_pem_private_key(data, password=passphrase)
    if isinstance(loaded, rsa.RSAPrivateKey):
        return paramiko.RSAKey
    if isinstance(loaded, ed25519.Ed25519PrivateKey):
        return paramiko.Ed25519Key
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        return paramiko.ECDSAKey
    raise PrivateKeyError(
        f"This is a {type(loaded).__name__.removeprefix('_')} key; Yardstick signs in with "
        "RSA, ECDSA or Ed25519 keys."
    )


def _decrypt_problem(error: Exception, passphrase: bytes | None) -> PrivateKeyError:
    text = str(error).lower()
    if passphrase and ("decrypt" in text or "checksum" in text or "password" in text):
        return PrivateKeyError("The passphrase does not unlock this private key. Enter it again.")
    return PrivateKeyError(
        "The private key could not be read. Paste the whole private key, including its "
        "-----BEGIN … PRIVATE KEY----- and -----END … PRIVATE KEY----- lines (not the .pub file)."
    )


def load_private_key(text: str, passphrase: str | None = None) -> paramiko.PKey:
    """A paramiko key from pasted/uploaded text: RSA, ECDSA or Ed25519, OpenSSH or PEM format."""
    cleaned = text.strip().replace("\r\n", "\n") + "\n"
    if "PRIVATE KEY-----" not in cleaned:
        if cleaned.startswith(("ssh-", "ecdsa-")):
            raise PrivateKeyError(
                "This is a public key (.pub). Paste the private key file instead: the one "
                "without .pub, starting with -----BEGIN."
            )
        raise _decrypt_problem(ValueError("no key"), None)
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        key_class = _key_class(cleaned.encode("utf-8"), secret)
    except TypeError as exc:  # cryptography: encrypted key without a password, or vice versa
        if secret is None:
            raise PrivateKeyError(
                "This private key is protected by a passphrase: enter the passphrase too."
            ) from exc
        return _without_passphrase(cleaned)
    except ValueError as exc:
        if isinstance(exc, PrivateKeyError):
            raise
        raise _decrypt_problem(exc, secret) from exc
    except paramiko.SSHException as exc:
        raise _decrypt_problem(exc, secret) from exc
    try:
        return key_class.from_private_key(io.StringIO(cleaned), password=passphrase or None)
    except paramiko.PasswordRequiredException as exc:
        raise PrivateKeyError(
            "This private key is protected by a passphrase: enter the passphrase too."
        ) from exc
    except (paramiko.SSHException, ValueError) as exc:
        raise _decrypt_problem(exc, secret) from exc


def _without_passphrase(cleaned: str) -> paramiko.PKey:
    """A passphrase was given for a key that has none: use the key as it is."""
    key_class = _key_class(cleaned.encode("utf-8"), None)
    return key_class.from_private_key(io.StringIO(cleaned))
