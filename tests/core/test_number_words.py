"""Signed differences read alike everywhere; a difference that rounds to zero has no minus."""

from __future__ import annotations

import pytest

from core.words.numbers import signed


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (2, 1, "+2.0"),
        (-0.04, 1, "+0.0"),
        (-0.0, 1, "+0.0"),
        (-0.06, 1, "-0.1"),
        (-1234.56, 1, "-1,234.6"),
        (0.004, 2, "+0.00"),
        (-0.006, 2, "-0.01"),
        (-954.4, 0, "-954"),
    ],
)
def test_signed(value: float, digits: int, text: str) -> None:
    assert signed(value, digits) == text
