"""One plain-English sentence per comparison row (pages show them above the numbers).

Only reported rows get a sentence with numbers; a suppressed row says why it is not shown.
Words for effect sizes come from core.stats.inference.magnitude, so pages and narratives agree.
"""

from __future__ import annotations

from typing import Any

from core.stats.inference import magnitude
from core.words.numbers import fixed, signed

ALPHA = 0.05  # a row's own p under this looks real before the false-discovery correction


def checked_at_once(size: Any) -> str:
    """ "after checking 180 results at once": why a difference that looks real on its own is
    not called one (the false-discovery correction over its family of `size` results)."""
    known = size is not None and size == size and size > 0  # NaN / None: size unknown
    return (
        f"after checking {int(size):,} results at once"
        if known
        else ("after checking many results at once")
    )


def group_label(attribute: str, value: str) -> str:
    """A subgroup in plain words ("English learners", "Female students")."""
    named = {
        ("ell", "yes"): "English learners",
        ("sped", "yes"): "Students in special education",
        ("frl", "yes"): "Students on free or reduced-price lunch",
        ("gender", "f"): "Female students",
        ("gender", "m"): "Male students",
        ("ell", "no"): "Students who are not English learners",
        ("sped", "no"): "Students not in special education",
        ("frl", "no"): "Students not on free or reduced-price lunch",
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


def _not_shown(head: str, row: Any) -> str:
    """A suppressed row's sentence: the privacy note stands where its numbers would."""
    return f"{head}: not shown — {row['note']}."


def _ci(row: Any) -> str:
    """A row's own 95% interval, signed: "95% CI +1.2 to +3.4"."""
    return f"95% CI {signed(row['ci_lo'])} to {signed(row['ci_hi'])}"


def _difference(row: Any, before: str = "", after: str = "") -> str:
    """'<subject (season)>: <before>A vs B<after> (diff points, 95% CI …); <verdict>'."""
    where = _where(row)
    if row["suppressed"]:
        return _not_shown(where, row)
    return (
        f"{where}: {before}{fixed(row['mean_a'])} vs {fixed(row['mean_b'])}{after} "
        f"({signed(row['diff'])} points, {_ci(row)}); " + _verdict(row)
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
    if row["direction"] == "no change" and row["p"] < ALPHA and not row.get("significant_bh"):
        return (  # the row's own CI leaves out 0: say why it is still not a change
            f"no clear difference — {checked_at_once(row.get('bh_family_size'))}, a difference "
            f"this size could be chance (the 95% CI and p = {row['p']:.3g} are before the "
            f"correction for many comparisons, {adjusted} after it; Hedges' g "
            f"{signed(row['hedges_g'], 2)})."
        )
    if row["direction"] == "no change":
        return (
            f"no clear difference (p = {row['p']:.3g}, {adjusted} after the false-discovery "
            f"correction; Hedges' g {signed(row['hedges_g'], 2)})."
        )
    return (
        f"a {size} {row['direction']} (p = {row['p']:.3g}, Hedges' g {signed(row['hedges_g'], 2)}; "
        f"it holds after the false-discovery correction, {adjusted})."
    )


LOW_START_Z = -0.5  # half a norm sd below the mean: about the 31st national percentile
GROWTH_VS_ACHIEVEMENT_CAVEAT = (
    "Read the corners with care: a single test score is partly a good or a bad day. A student "
    "who had a good day on the latest test gets both a higher score and more growth, a bad day "
    "both lower — so the top-right and bottom-left corners are partly luck. And students who "
    "scored low on the earlier test tend to score nearer their usual level on the next one even "
    "with ordinary learning, so growth from a low start looks larger than it is and from a high "
    "start smaller (regression to the mean). This matters most for single students and small "
    "groups: compare students who started at similar levels."
)


def low_start_caveat(z_from: float | None, change: float | None) -> str:
    """The regression-to-the-mean caveat where it bites: growth of a group that started well
    below the norm ('' otherwise — not on every number). If the group was picked for low scores
    on the earlier test, part of its rise is the rebound any low score makes on a retest."""
    if z_from is None or change is None or z_from != z_from or not change > 0:
        return ""
    if z_from > LOW_START_Z:
        return ""
    return (
        "These students started well below the norm. A low score is partly a bad day, and the "
        "next test tends to land nearer a student's usual level (regression to the mean): if "
        "they were picked for their low scores on the earlier test, not all of this growth is "
        "learning."
    )


def growth_sentence(row: Any) -> str:
    """Matched growth of the same students."""
    span = f"{row['from_season']} {row['from_year']} → {row['to_season']} {row['to_year']}"
    subject = _subject(row)
    if row["suppressed"]:
        return _not_shown(f"{subject}, {span}", row)
    left_out = "how many missed a test is not shown, to protect student privacy"
    if row["dropped"] == row["dropped"]:  # blank: a count that would reveal a small group
        left_out = f"{row['dropped']:,.0f} left out for a missing test"
    text = (
        f"{subject}, {span}: {row['n']:,.0f} students tested both times "
        f"({left_out}) grew {signed(row['mean_change'])} "
        f"points on average ({_ci(row)})"
    )
    if row["expected_growth"] == row["expected_growth"]:
        text += (
            f"; expected growth {signed(row['expected_growth'])}, met by "
            f"{fixed(row['pct_meeting'], 0)}% of them"
        )
    if row["z_change"] == row["z_change"]:
        text += f"; against the norm their standing moved {signed(row['z_change'], 2)} sd"
    caveat = low_start_caveat(row.get("mean_z_from"), row["mean_change"])
    return text + "." + (f" {caveat}" if caveat else "")


def gap_sentence(row: Any) -> str:
    """A subgroup against the rest of its cohort."""
    where, who = _where(row), group_label(row["attribute"], str(row["value"]))
    if row["suppressed"]:
        return _not_shown(f"{where}, {who}", row)
    side = "behind" if row["gap"] < 0 else "ahead of"
    text = (
        f"{where}: {who} are {fixed(abs(row['gap']))} points {side} the rest of the cohort "
        f"({_ci(row)}, Hedges' g {signed(row['hedges_g'], 2)}, p = {row['p']:.3g})"
    )
    if row["prof_gap"] == row["prof_gap"]:
        text += (
            f"; % proficient {fixed(row['pct_prof_sub'], 0)}% vs {fixed(row['pct_prof_rest'], 0)}%"
        )
    return text + "."


def panel_sentence(row: Any) -> str:
    """How many of the cohort the growth path keeps (a count of 1 … 9 left out is not said)."""
    if row["dropped"] != row["dropped"]:  # blank: it would reveal fewer than the minimum
        return (
            f"Students tested at every point: {row['n']:,.0f}; how many missed a test is not "
            "shown, to protect student privacy."
        )
    return (
        f"Students tested at every point: {row['n']:,.0f} of {row['members']:,.0f} "
        f"({row['dropped']:,.0f} missed at least one test)."
    )
