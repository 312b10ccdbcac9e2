"""Seeded warehouses for the comparisons tests: built once per module, read-only in tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pandas as pd
import pytest

from core.warehouse import db
from tests.compare.district import Plan, build

PLANTED = Plan(
    per_cohort=45,
    declines=(("Lincoln", "4", "math", "2024-2025", 14.0),),
    widening=(("ell", "reading", 5.0),),
)


@dataclass
class District:
    con: duckdb.DuckDBPyConnection
    raw: pd.DataFrame  # the generator's scores on the comparison platform (one per test event)

    def scores(self, **where: object) -> pd.DataFrame:
        """Raw rows matching column == value (a list/tuple means any of)."""
        rows = self.raw
        for column, value in where.items():
            values = value if isinstance(value, list | tuple) else [value]
            rows = rows[rows[column].isin(values)]
        return rows


def _district(plan: Plan) -> Iterator[District]:
    con = db.memory()
    raw = build(con, plan)
    yield District(con, raw)
    con.close()


@pytest.fixture(scope="module")
def district() -> Iterator[District]:
    """Three schools, grades 3–5, four years, planted decline and widening ELL reading gap."""
    yield from _district(PLANTED)


@pytest.fixture(scope="module")
def noise() -> Iterator[District]:
    """The same district with nothing planted."""
    yield from _district(Plan(per_cohort=45, seed=11))
