"""Shared helpers for the ingest tests: where the data is, and reading the warehouse back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.warehouse import db

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
VARIANTS = DATA / "variants"


def frame(path: Path, sql: str, params: dict | None = None) -> pd.DataFrame:
    """A query's result from a warehouse file (opened for this one read, like the app does)."""
    with db.connect(path) as con:
        return con.execute(sql, params or {}).df()


def scalar(path: Path, sql: str, params: dict | None = None):
    with db.connect(path) as con:
        return con.execute(sql, params or {}).fetchone()[0]


def write_csv(path: Path, header: list[str], rows: list[list[object]], sep: str = ",") -> Path:
    pd.DataFrame(rows, columns=header).to_csv(path, index=False, sep=sep)
    return path
