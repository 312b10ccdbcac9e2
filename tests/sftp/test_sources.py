"""Source settings in the warehouse: secrets encrypted and write-only, trust tied to the server."""

from __future__ import annotations

import subprocess

import pytest
from cryptography.fernet import Fernet

from core.sftp import registry
from core.sftp.connect import load_target
from core.sftp.keys import normalise_fingerprint

BASE = {
    "name": "vendor", "host": "registry.vendor.example", "username": "district42",
    "remote_dir": "/outgoing", "pattern": "scores_*.csv", "user": "ada",
}  # fmt: skip


def test_password_is_encrypted_and_only_shown_as_set(con) -> None:
    source = registry.save_source(con, auth_kind="password", password="s3cret-pw!", **BASE)
    assert source.password_set and not source.key_set
    assert "s3cret" not in str(source.to_dict())
    token = con.execute("select password_token from sftp_sources").fetchone()[0]
    assert "s3cret" not in token
    assert registry.credentials(con, "vendor").password == "s3cret-pw!"
    assert "s3cret" not in repr(registry.credentials(con, "vendor"))
    # saving again without a password keeps it
    registry.save_source(con, auth_kind="password", **BASE)
    assert registry.credentials(con, "vendor").password == "s3cret-pw!"


def test_switching_to_a_key_drops_the_password(con, tmp_path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True
    )
    registry.save_source(con, auth_kind="password", password="pw", **BASE)
    source = registry.save_source(
        con, auth_kind="key", private_key=(tmp_path / "k").read_text(), **BASE
    )
    assert source.key_set and not source.password_set
    assert registry.credentials(con, "vendor").password is None


def test_a_key_that_cannot_be_read_is_refused_at_save(con) -> None:
    with pytest.raises(ValueError, match="This is a public key"):
        registry.save_source(con, auth_kind="key", private_key="ssh-ed25519 AAAAC3Nza x", **BASE)
    with pytest.raises(registry.SourceError, match="signs in with a private key, but none is set"):
        registry.save_source(con, auth_kind="key", **BASE)
    assert registry.list_sources(con) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"port": 0}, "port is a number from 1 to 65535"),
        ({"host": "has space"}, "host name or IP address"),
        ({"pattern": "out/*.csv"}, "no folder"),
        ({"name": "bad/name"}, "source name is 1-60"),
        ({"username": ""}, "user name"),
    ],
)
def test_field_checks(con, change: dict, message: str) -> None:
    with pytest.raises(registry.SourceError, match=message):
        registry.save_source(con, auth_kind="password", password="pw", **{**BASE, **change})


def test_moving_the_source_to_another_server_forgets_its_host_key(con) -> None:
    registry.save_source(con, auth_kind="password", password="pw", **BASE)
    registry.trust(
        con, "vendor", key_type="ssh-ed25519", fingerprint="SHA256:abc", public_key=None, user="ada"
    )
    registry.save_source(con, auth_kind="password", **{**BASE, "pattern": "*.csv"})
    assert registry.get_source(con, "vendor").host_key_fingerprint == "SHA256:abc"
    registry.save_source(con, auth_kind="password", **{**BASE, "host": "registry.other.example"})
    assert registry.get_source(con, "vendor").host_key_fingerprint is None


def test_lost_encryption_key_is_explained(con, monkeypatch) -> None:
    registry.save_source(con, auth_kind="password", password="pw", **BASE)
    monkeypatch.setenv("YARDSTICK_FERNET_KEY", Fernet.generate_key().decode())
    with pytest.raises(registry.SourceError, match="cannot be decrypted"):
        load_target(con, "vendor")


@pytest.mark.parametrize(
    "pasted",
    [
        "SHA256:ko2uvhQNgnrHZc65KWzKoq7oXPQcIFlgw1h0TmsO0xo",
        "SHA256:ko2uvhQNgnrHZc65KWzKoq7oXPQcIFlgw1h0TmsO0xo=",
        "256 SHA256:ko2uvhQNgnrHZc65KWzKoq7oXPQcIFlgw1h0TmsO0xo root@host (ED25519)",
    ],
)
def test_fingerprint_as_people_paste_it(pasted: str) -> None:
    assert normalise_fingerprint(pasted) == "SHA256:ko2uvhQNgnrHZc65KWzKoq7oXPQcIFlgw1h0TmsO0xo"
