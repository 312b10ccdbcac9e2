"""Numbers as sentences and tiles show them: one rule for signed differences everywhere."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Two code paths summing the same scores in another order give 484.6499999999 and 484.65000002:
# rounding those to this many decimals first gives both the same value before it is displayed.
NOISE_DIGITS = 9


def fixed(value: float, digits: int = 1, *, commas: bool = False) -> str:
    """A number with `digits` decimals, the same text for the same value whatever arithmetic
    produced it: float noise is rounded away first, then halves round away from zero (484.65 →
    "484.7", as a reader rounds by hand). Tables, sentences and charts' captions all use it, so
    a mean never reads 484.6 in the narrative and 484.7 in the table."""
    exact = Decimal(repr(round(float(value), NOISE_DIGITS)))
    shown = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    shown = abs(shown) if shown == 0 else shown  # never "-0.0"
    return f"{shown:,.{digits}f}" if commas else f"{shown:.{digits}f}"


def signed(value: float, digits: int = 1) -> str:
    """ "+3.5" / "-3.5". A value that rounds to zero reads "+0.0", never "-0.0" (a reader takes
    "-0.0 points" for a small fall). The minus is ASCII: st.metric reads a delta's direction,
    arrow and colour, from a leading "-"."""
    magnitude = fixed(abs(value), digits, commas=True)
    return ("-" if value < 0 and float(magnitude.replace(",", "")) else "+") + magnitude
