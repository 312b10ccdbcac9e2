"""One plain-English sentence per comparison row (pages show them above the numbers).

Only reported rows get a sentence with numbers; a suppressed row says why it is not shown.
Words for effect sizes come from core.stats.magnitude, so pages and narratives agree.
"""

from __future__ import annotations

from typing import Any

from core.number_words import signed
from core.stats import magnitude


def group_label(attribute: str, value: str) -> str:
    """A subgroup in plain words ("English learners", "Female students")."""
    named = {
        ("ell", "yes"): "English learners",
        ("sped", "yes"): "Students in special education",
        ("frl", "yes"): "Students on free or reduced-price lunch",
        ("gender", "f"): "Female students",
        ("gender", "m"): "Male students",
    }
    if (attribute, value.lower()) in named:
        return named[(attribute, value.lower())]
    if attribute == "race_ethnicity":
        return f"{value} students"
    return f"Students with {attribute.replace('_', ' ')} “{value}”"


def _subject(row: Any) -> str:
    """The subject at the start of a sentence: "Math"."""
    return str(row["subject"]).capitalize()


def _where(row: Any) -> str:
    """Which results a sentence is about, at its start: "Math (spring)"."""
    return f"{_subject(row)} ({row['season']})"


def _difference(row: Any, before: str = "", after: str = "") -> str:
    """'<subject (season)>: <before>A vs B<after> (diff points, 95% CI …); <verdict>'."""
    where = _where(row)
    if row["suppressed"]:
        return f"{where}: not shown — {row['note']}."
    return (
        f"{where}: {before}{row['mean_a']:.1f} vs {row['mean_b']:.1f}{after} "
        f"({signed(row['diff'])} points, 95% CI {signed(row['ci_lo'])} to {signed(row['ci_hi'])}); "
        + _verdict(row)
    )


def prior_sentence(row: Any) -> str:
    """This year's cohort against the same definition in an earlier year."""
    return _difference(row, "this year's mean ", f" in {row['prior_year']}")


def pair_sentence(row: Any) -> str:
    """Any two cohorts."""
    return _difference(row)


def _verdict(row: Any) -> str:
    if row["p"] != row["p"]:  # NaN: no test
        return "no test possible (" + (row["note"] or "no variance") + ")."
    size = magnitude(row["hedges_g"])
    p_adj = row.get("p_adj", float("nan"))
    adjusted = f"adjusted p = {p_adj:.3g}" if p_adj == p_adj else "no adjusted p"
    if row["direction"] == "no change":
        return (
            f"no clear difference (p = {row['p']:.3g}, {adjusted} after the false-discovery "
            f"correction; Hedges' g {signed(row['hedges_g'], 2)})."
        )
    return (
        f"a {size} {row['direction']} (p = {row['p']:.3g}, Hedges' g {signed(row['hedges_g'], 2)}; "
        f"it holds after the false-discovery correction, {adjusted})."
    )


def growth_sentence(row: Any) -> str:
    """Matched growth of the same students."""
    span = f"{row['from_season']} {row['from_year']} → {row['to_season']} {row['to_year']}"
    subject = _subject(row)
    if row["suppressed"]:
        return f"{subject}, {span}: not shown — {row['note']}."
    text = (
        f"{subject}, {span}: {row['n']:,.0f} students tested both times "
        f"({row['dropped']:,.0f} left out for a missing test) grew {signed(row['mean_change'])} "
        f"points on average (95% CI {signed(row['ci_lo'])} to {signed(row['ci_hi'])})"
    )
    if row["expected_growth"] == row["expected_growth"]:
        text += (
            f"; expected growth {signed(row['expected_growth'])}, met by "
            f"{row['pct_meeting']:.0f}% of them"
        )
    if row["z_change"] == row["z_change"]:
        text += f"; against the norm their standing moved {signed(row['z_change'], 2)} sd"
    return text + "."


def gap_sentence(row: Any) -> str:
    """A subgroup against the rest of its cohort."""
    where, who = _where(row), group_label(row["attribute"], str(row["value"]))
    if row["suppressed"]:
        return f"{where}, {who}: not shown — {row['note']}."
    side = "behind" if row["gap"] < 0 else "ahead of"
    text = (
        f"{where}: {who} are {abs(row['gap']):.1f} points {side} the rest of the cohort (95% CI "
        f"{signed(row['ci_lo'])} to {signed(row['ci_hi'])}, "
        f"Hedges' g {signed(row['hedges_g'], 2)}, p = {row['p']:.3g})"
    )
    if row["prof_gap"] == row["prof_gap"]:
        text += f"; % proficient {row['pct_prof_sub']:.0f}% vs {row['pct_prof_rest']:.0f}%"
    return text + "."
