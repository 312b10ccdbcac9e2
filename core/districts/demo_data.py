"""Synthetic district-level public data: realistic enough to read like CCD / CRDC / EDFacts / F-33.

Seeded and vectorised (numpy), so the demo, the tests and the benchmark get the same districts for
the same seed, and 20,000 districts × 10 years take well under a second to make. Realism that the
benchmarks page depends on: states differ (spending, staffing, English learners), districts are
lognormal in size, proficiency falls as absenteeism rises, spending grows ~3 % a year, chronic
absenteeism is reported only every other year (as the CRDC is), elementary-only districts have no
graduation rate, and a few values are missing.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd

from core.warehouse.us_states import STATE_FIPS

DEMO_STATES = ("CA", "TX", "NY", "FL", "IL", "OH", "GA", "MI", "OR", "VT")
COLUMNS = [
    "district_id", "year", "name", "state", "enrollment", "swd_count", "ell_count",
    "chronic_absenteeism_pct", "graduation_rate_pct", "teachers_fte", "math_proficiency_pct",
    "read_proficiency_pct", "expenditure_pp",
]  # fmt: skip
_NAME_PARTS = (
    "Lincoln", "Washington", "Riverside", "Cedar", "Maple", "Franklin", "Jefferson", "Lakeview",
    "Pine", "Oak", "Madison", "Clay", "Union", "Fairview", "Greene", "Hamilton", "Jackson",
    "Marion", "Monroe", "Summit", "Valley", "Highland", "Brookside", "Harbor", "Prairie",
)  # fmt: skip
_NAME_KINDS = ("Unified School District", "Public Schools", "City Schools", "County Schools",
               "Independent School District", "Community Schools")  # fmt: skip


def _states(n_districts: int, n_states: int | None) -> list[str]:
    if n_states is None:
        n_states = len(DEMO_STATES) if n_districts <= 2_000 else len(STATE_FIPS)
    if n_states <= len(DEMO_STATES):
        return list(DEMO_STATES[:n_states])
    return list(STATE_FIPS)[:n_states]


def _district_frame(rng: np.random.Generator, n_districts: int, states: list[str]) -> pd.DataFrame:
    """One row per district: its fixed traits (state, size, level, tendencies)."""
    share = rng.dirichlet(np.full(len(states), 3.0))
    state_idx = np.sort(rng.choice(len(states), size=n_districts, p=share))
    state_idx[: len(states)] = np.arange(len(states))  # every state has at least one district
    state_idx.sort()
    state = np.array(states)[state_idx]
    serial = pd.Series(state).groupby(state).cumcount().to_numpy() + 1
    fips = np.array([STATE_FIPS[s] for s in states])[state_idx]
    ids = np.char.add(fips.astype(str), np.char.zfill((serial * 7 + 100).astype(str), 5))
    part = np.array(_NAME_PARTS)[(serial - 1 + state_idx * 7) % len(_NAME_PARTS)]
    kind = np.array(_NAME_KINDS)[rng.integers(0, len(_NAME_KINDS), n_districts)]
    round_ = (serial - 1) // len(_NAME_PARTS)
    suffix = np.where(round_ > 0, np.char.add(" No. ", (round_ + 1).astype(str)), "")
    names = np.char.add(np.char.add(np.char.add(part, " "), kind), suffix)
    n_states = len(states)
    state_fx = {
        "spend": rng.normal(14_500, 3_000, n_states).clip(9_000, 26_000),
        "ratio": rng.normal(16, 2.5, n_states).clip(11, 24),
        "ell": rng.gamma(2.0, 4.0, n_states).clip(1, 25),
        "prof": rng.normal(0, 6, n_states),
        "absent": rng.normal(15, 4, n_states).clip(6, 30),
    }
    return pd.DataFrame(
        {
            "district_id": ids,
            "name": names,
            "state": state,
            "base_enrollment": np.exp(rng.normal(7.8, 1.3, n_districts)).clip(80, 600_000),
            "has_high_school": rng.random(n_districts) > 0.12,
            "spend": state_fx["spend"][state_idx] * rng.normal(1, 0.15, n_districts),
            "ratio": state_fx["ratio"][state_idx] * rng.normal(1, 0.12, n_districts),
            "ell": state_fx["ell"][state_idx] * rng.lognormal(0, 0.6, n_districts),
            "swd": rng.normal(14.5, 2.5, n_districts).clip(6, 25),
            "absent": state_fx["absent"][state_idx] * rng.lognormal(0, 0.3, n_districts),
            "prof": state_fx["prof"][state_idx] + rng.normal(0, 8, n_districts),
            "drift": rng.normal(0, 1.2, n_districts),
        }
    )


def _yearly(rng: np.random.Generator, traits: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """District × year values around each district's traits, with drift and noise."""
    n, k = len(traits), len(years)
    rep = traits.loc[traits.index.repeat(k)].reset_index(drop=True)
    step = np.tile(np.arange(k), n)
    year = np.tile(np.array(years), n)
    noise = rng.normal(size=(len(rep), 8))
    enrollment = np.round(
        rep.base_enrollment * (1 + 0.01 * step * rep.drift) * (1 + 0.02 * noise[:, 0])
    )
    enrollment = enrollment.clip(50).astype("int64")
    absent = (rep.absent * (1 + 0.05 * noise[:, 1]) + 0.8 * step * (rep.drift > 0.8)).clip(1, 70)
    prof = rep.prof - 0.6 * (absent - 15)
    math = (42 + prof + 0.4 * step * rep.drift + 2.5 * noise[:, 2]).clip(2, 98)
    read = (46 + 0.9 * prof + 2.5 * noise[:, 3]).clip(2, 98)
    grad = (86 + 0.25 * prof - 0.2 * (absent - 15) + 2 * noise[:, 4]).clip(40, 99.5)
    ratio = (rep.ratio * (1 + 0.03 * noise[:, 5])).clip(6, 40)
    return pd.DataFrame(
        {
            "district_id": rep.district_id,
            "year": year.astype("int64"),
            "name": rep.name,
            "state": rep.state,
            "enrollment": enrollment,
            "swd_count": np.round(enrollment * (rep.swd + 0.3 * step) / 100).astype("int64"),
            "ell_count": np.round(
                enrollment * (rep.ell * (1 + 0.04 * step)).clip(0, 60) / 100
            ).astype("int64"),
            "chronic_absenteeism_pct": np.where(
                (years[-1] - year) % 2 == 0, absent.round(1), np.nan
            ),
            "graduation_rate_pct": np.where(rep.has_high_school, grad.round(1), np.nan),
            "teachers_fte": (enrollment / ratio).round(1),
            "math_proficiency_pct": math.round(1),
            "read_proficiency_pct": read.round(1),
            "expenditure_pp": (rep.spend * 1.03**step * (1 + 0.03 * noise[:, 6])).round(0),
        }
    )


def generate_districts(
    n_districts: int = 600,
    years: Iterable[int] = range(2017, 2023),
    seed: int = 2024,
    *,
    n_states: int | None = None,
    missing_share: float = 0.02,
) -> pd.DataFrame:
    """District × year rows shaped like the `district_years` table (see COLUMNS), reproducible for
    a seed. Defaults: 10 states for up to 2,000 districts, all 51 beyond that."""
    if n_districts < 1:
        raise ValueError("n_districts must be at least 1")
    year_list = sorted({int(y) for y in years})
    if not year_list:
        raise ValueError("years must not be empty")
    rng = np.random.default_rng(seed)
    states = _states(n_districts, n_states)[: max(1, min(n_districts, 51))]
    frame = _yearly(rng, _district_frame(rng, n_districts, states), year_list)
    measures = COLUMNS[6:]
    holes = rng.random((len(frame), len(measures))) < missing_share
    for position, column in enumerate(measures):
        frame[column] = frame[column].astype("float64").mask(holes[:, position])
    for column in ("swd_count", "ell_count"):
        frame[column] = frame[column].astype("Int64")
    return frame[COLUMNS]


def load_district_demo(
    con: duckdb.DuckDBPyConnection,
    n_districts: int = 600,
    years: Iterable[int] = range(2017, 2023),
    seed: int = 2024,
) -> int:
    """Fill `district_years` with the synthetic districts (replacing any demo rows); returns the
    number of rows. The demo/first-run calls this; real files come through the import pipeline."""
    frame = generate_districts(n_districts, years, seed)
    con.register("district_demo_frame", frame)
    try:
        con.execute(
            "delete from district_years where district_id in "
            "(select district_id from district_demo_frame)"
        )
        con.execute(
            f"insert into district_years ({', '.join(COLUMNS)}) "
            f"select {', '.join(COLUMNS)} from district_demo_frame"
        )
    finally:
        con.unregister("district_demo_frame")
    return len(frame)
