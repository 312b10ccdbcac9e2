"""Fixtures for the narrative and report tests: one seeded warehouse per module."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from core import db
from tests.reports.seed import seed


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[duckdb.DuckDBPyConnection, pd.DataFrame]]:
    """(an in-memory warehouse holding the seeded district, its roster)."""
    connection = db.memory()
    roster = seed(connection)
    yield connection, roster
    connection.close()


@pytest.fixture(scope="module")
def warehouse(seeded: tuple[duckdb.DuckDBPyConnection, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    return seeded[0]


@pytest.fixture(scope="module")
def roster(seeded: tuple[duckdb.DuckDBPyConnection, pd.DataFrame]) -> pd.DataFrame:
    return seeded[1]
