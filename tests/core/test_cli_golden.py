"""The headless CLI contract (docs/cli.md) is byte for byte what it was: commands, flags, JSON
fields and values on the fixed demo district, against tests/data/cli_golden/.

Everything runs through `python -m core …` subprocesses (tests/data/cli_golden/make_golden.py),
never by importing core, so the check holds across any reorganisation of core/'s modules. A
difference is either a regression or a deliberate change of the contract; only the latter is
written back, by hand: `python tests/data/cli_golden/make_golden.py --write`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "data" / "cli_golden" / "make_golden.py"


def _golden_module() -> ModuleType:
    """The script by its path (tests/data is no package); registered first, as its dataclass
    needs its module in sys.modules."""
    if "cli_golden" in sys.modules:
        return sys.modules["cli_golden"]
    spec = importlib.util.spec_from_file_location("cli_golden", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["cli_golden"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(900)  # 41 CLI processes: ~70 s idle, up to ~270 s on a loaded 2-core machine
def test_cli_outputs_equal_their_golden_files() -> None:
    golden = _golden_module()
    results = golden.run_all()
    assert len(results) == len(golden.CASES) >= 40
    found = golden.differences(results)
    assert not found, (
        f"{len(found)} of {len(golden.CASES)} CLI outputs differ from tests/data/cli_golden/ "
        "(a contract change must be deliberate: rerun make_golden.py --write):\n\n"
        + "\n\n".join(found)
    )


def test_normaliser_touches_only_run_dependent_values() -> None:
    golden = _golden_module()
    text = (
        '{"db": "/tmp/x1/warehouse.duckdb", "created_at": "2026-12-07T22:14:30.119253",\n'
        ' "message": "imported on 2026-12-07 22:20 (job 2)", "test_date": "2024-09-17",\n'
        ' "seconds": 1.25, "cpu_seconds": 4.2, "bytes": 91972,\n'
        ' "n": 87, "mean": 182.44,\n'
        ' "sd": 13.291829342597174, "p": 3.8712093410905693e-10, "school_year": "2024-2025"}'
    )
    assert golden.normalise(text, "/tmp/x1") == (
        '{"db": "<TMP>/warehouse.duckdb", "created_at": "<TIMESTAMP>",\n'
        ' "message": "imported on <TIMESTAMP> (job 2)", "test_date": "2024-09-17",\n'
        ' "seconds": <VARIES>, "cpu_seconds": <VARIES>, "bytes": <VARIES>,\n'
        ' "n": 87, "mean": 182.44,\n'
        ' "sd": 13.29182934, "p": 3.871209341e-10, "school_year": "2024-2025"}'
    )
