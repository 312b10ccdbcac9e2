"""Seeded warehouses for the standards tests: `seeded` is shared by a module's read-only tests
(seeding costs a few seconds on a busy machine); `fresh` is a private copy for tests that write."""

from __future__ import annotations

import pytest

from core.warehouse import db
from tests.standards.seed import seed


def _seeded():
    connection = db.memory()
    return connection, seed(connection)


@pytest.fixture(scope="module")
def seeded():
    """(connection, raw scores) of the fixed district in tests/standards/seed.py — read only."""
    connection, raw = _seeded()
    yield connection, raw
    connection.close()


@pytest.fixture
def fresh():
    """Like `seeded`, but this test's own (it may change settings, standards or scores)."""
    connection, raw = _seeded()
    yield connection, raw
    connection.close()
