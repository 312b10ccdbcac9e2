"""Fixtures: the SFTP account (once per session) and a fresh sshd with its own chroot per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sftp.sshd import SSHD, Account, Server, create_account


@pytest.fixture(scope="session")
def account() -> Iterator[Account]:
    if os.geteuid() != 0:
        pytest.skip("the SFTP tests run a real sshd with a local account: they need root")
    if not Path(SSHD).exists():
        pytest.fail("openssh-server is missing: run scripts/test.sh (it installs it).")
    created = create_account()
    yield created
    created.remove()


@pytest.fixture
def server(account: Account) -> Iterator[Server]:
    started = Server(account, account.base / f"server-{os.urandom(3).hex()}")
    started.prepare()
    started.start()
    yield started
    started.stop()
