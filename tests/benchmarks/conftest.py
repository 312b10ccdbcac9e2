"""Fixed district data with the cases the benchmarks must get right, and a way to load it."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from core.districts.demo_data import COLUMNS

YEARS = (2018, 2019, 2020, 2021, 2022)
# district id, state, enrollment, math in 2022, annual absenteeism?
_DISTRICTS = [
    ("0100001", "AA", 50_000, 30.0, True),  # the big district: it moves AA's averages most
    ("0100002", "AA", 1_000, 60.0, False),
    ("0100003", "AA", 1_000, 70.0, False),
    ("0100004", "AA", 1_000, 70.0, False),
    ("0100005", "AA", 1_000, 80.0, False),  # has no 2019 row at all (prior point missing)
    ("0200001", "BB", 4_000, 40.0, True),  # BB has 3 districts: no quartile flags
    ("0200002", "BB", 2_000, 50.0, True),
    ("0200003", "BB", 3_000, 45.0, False),
    *[
        (f"03{i:05d}", "CC", 2_000 + 100 * i, v, i % 2 == 0)
        for i, v in enumerate([10.0, 20.0, 20.0, 30.0, 30.0, 30.0, 40.0, 50.0], start=1)
    ],
    *[  # DD: ties exactly at the 0.75 and 0.5 boundaries
        (f"04{i:05d}", "DD", 1_500, v, True) for i, v in enumerate([1.0, 2.0, 3.0, 3.0], start=1)
    ],
]


def fixed_districts() -> pd.DataFrame:
    """District × year rows (COLUMNS order) for YEARS, with deliberate gaps."""
    rows = []
    for index, (district, state, enrollment, math, annual_absence) in enumerate(_DISTRICTS):
        for step, year in enumerate(YEARS):
            e = enrollment + 10 * step * (index % 3)
            absent = 12.0 + index % 5 + 0.5 * step if annual_absence or year % 2 == 0 else None
            rows.append(
                {
                    "district_id": district,
                    "year": year,
                    "name": f"District {district}",
                    "state": state,
                    "enrollment": e,
                    "swd_count": round(e * (0.12 + 0.005 * (index % 4) + 0.002 * step)),
                    "ell_count": round(e * (0.05 + 0.01 * (index % 6))) + 3 * step,
                    "chronic_absenteeism_pct": absent,
                    "graduation_rate_pct": 80.0 + index % 7 + 0.3 * step,
                    "teachers_fte": round(e / (14 + index % 5 + 0.2 * step), 1),
                    "math_proficiency_pct": math - 0.5 * (4 - step) * (1 + index % 2),
                    "read_proficiency_pct": 45.0 + index % 9 - 0.4 * step,
                    "expenditure_pp": 12_000.0 + 500 * (index % 4) + 350 * step,
                }
            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame[~((frame.district_id == "0100005") & (frame.year == 2019))]
    # a prior value missing for one metric only, and a district without a graduation rate
    frame.loc[(frame.district_id == "0100004") & (frame.year == 2019), "graduation_rate_pct"] = (
        np.nan
    )
    frame.loc[frame.district_id == "0300008", "graduation_rate_pct"] = np.nan
    return frame.reset_index(drop=True)


def insert_districts(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Put rows straight into district_years (the computations' tests; imports test the loader)."""
    con.register("fixture_districts", frame)
    con.execute(
        f"insert into district_years ({', '.join(COLUMNS)}) "
        f"select {', '.join(COLUMNS)} from fixture_districts"
    )
    con.unregister("fixture_districts")


@pytest.fixture
def fixed(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = fixed_districts()
    insert_districts(con, frame)
    return frame
