"""Fixtures for the narrative and report tests: one seeded warehouse per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.warehouse import db
from tests.conftest import serve_warehouse
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


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded district in an on-disk warehouse (pages open it by path)."""
    path = tmp_path_factory.mktemp("seeded") / "yardstick.duckdb"
    with db.connect(path) as con:
        seed(con)
    return path


@pytest.fixture
def warehouse_file(seeded_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`seeded_file` as the app's warehouse ($YARDSTICK_DB), with Streamlit's caches empty."""
    return serve_warehouse(seeded_file, monkeypatch)
