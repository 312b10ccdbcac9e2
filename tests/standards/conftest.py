"""A seeded warehouse shared by the standards tests (fresh per test: tests may write to it)."""

from __future__ import annotations

import pandas as pd
import pytest

from core import db
from tests.standards.seed import seed


@pytest.fixture
def seeded():
    """(connection, raw scores) of the fixed district in tests/standards/seed.py."""
    connection = db.memory()
    raw = seed(connection)
    yield connection, raw
    connection.close()


@pytest.fixture
def raw_scores(seeded) -> pd.DataFrame:
    return seeded[1]
