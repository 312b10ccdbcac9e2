"""Numbers as sentences and tiles show them: one rule for signed differences everywhere."""

from __future__ import annotations


def signed(value: float, digits: int = 1) -> str:
    """ "+3.5" / "-3.5". A value that rounds to zero reads "+0.0", never "-0.0" (a reader takes
    "-0.0 points" for a small fall). The minus is ASCII: st.metric reads a delta's direction,
    arrow and colour, from a leading "-"."""
    magnitude = f"{abs(value):,.{digits}f}"
    return ("-" if value < 0 and float(magnitude.replace(",", "")) else "+") + magnitude
