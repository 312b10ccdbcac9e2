"""Alerts in plain words, for the educators who read them on the home page and in the feed.

No statistics vocabulary: a flagged change is "a real drop, not chance" (every alert passed the
false-discovery test before it got here) and its size is "small / moderate / large" from
core.stats.inference.magnitude, like the narratives. The statistician's numbers stay in each alert's
`detail`, which pages show only in an expander for specialists.
"""

from __future__ import annotations

from typing import Any

from core.stats.inference import magnitude
from core.words.comparisons import group_label
from core.words.numbers import signed


def _students(n_then: float, n_now: float) -> str:
    return f"{n_then:.0f} students then, {n_now:.0f} now."


def change_summary(row: Any) -> str:
    """A cohort's mean against the same definition a year earlier (decline or improvement)."""
    fell = row.diff < 0
    kind = "drop" if fell else "improvement"
    return (
        f"The average score {'fell' if fell else 'rose'} from {row.mean_b:.1f} in "
        f"{row.prior_year} to {row.mean_a:.1f} ({signed(row.diff)} points) — a real {kind}, not "
        f"chance, and a {magnitude(row.hedges_g)} one. {_students(row.n_b, row.n_a)}"
    )


def proficiency_bar(row: Any) -> str:
    """What "% proficient" measured for this row: a cut score where either year had a set, else
    the norm mean — which is the national median, not proficiency, and is named as such."""
    sets = (getattr(row, "cut_set_a", None), getattr(row, "cut_set_b", None))
    return "proficient" if any(isinstance(s, str) and s for s in sets) else "the national median"


def proficiency_summary(row: Any) -> str:
    bar = proficiency_bar(row)
    note = "" if bar == "proficient" else " (no cut scores are loaded for these years)"
    return (
        f"The share of students at or above {bar}{note} fell from {row.pct_b:.0f}% in "
        f"{row.prior_year} to {row.pct_a:.0f}% — a real drop, not chance. "
        f"{_students(row.n_b, row.n_a)}"
    )


def _gap_words(gap: float) -> str:
    if abs(gap) < 0.05:
        return "level with the rest"
    return f"{abs(gap):.1f} points {'behind' if gap < 0 else 'ahead of'} the rest"


def gap_headline(row: Any, who: str = "subgroup", *, caught_up: bool = False) -> str:
    """A gap's movement in a principal's words, about the group it harmed or helped (`who`:
    "subgroup", or "rest" — then named by `row.rest_label`): "English learners fell further
    behind", "Male students fell behind", "English learners caught up and moved ahead"."""
    sign = -1 if who == "subgroup" else 1  # > 0: that group is behind
    name = group_label(row.attribute, str(row.value)) if who == "subgroup" else row.rest_label
    behind_then, behind_now = sign * row.first_gap > 0, sign * row.latest_gap > 0
    if caught_up and abs(row.latest_gap) < 0.05:
        return f"{name} caught up"
    if caught_up:
        return f"{name} {'narrowed the gap' if behind_now else 'caught up and moved ahead'}"
    return f"{name} {'fell further behind' if behind_then else 'fell behind'}"


def gap_summary(row: Any) -> str:
    """A subgroup's gap to the rest of its cohort, growing in its own direction."""
    who = group_label(row.attribute, str(row.value))
    text = (
        f"{who} were {_gap_words(row.first_gap)} of their grade in {row.first_year} and "
        f"{_gap_words(row.latest_gap)} in {row.latest_year}"
    )
    if row.test == "trend" and getattr(row, "movement", "widening") == "widening":
        text += f", the gap growing by about {abs(row.slope):.1f} points a year"
        text += " and wider every year" if row.every_year else ""
    elif row.test == "trend":  # closing, or crossing over: say who gained, not "the gap grew"
        gained = "gaining" if row.slope > 0 else "losing"
        text += f", {gained} about {abs(row.slope):.1f} points a year on the rest"
    return text + " — a real change, not chance."
