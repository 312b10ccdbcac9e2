"""The deterministic narrative: plain-English text built from a cohort's findings, no network.

Rules every sentence keeps (tests check them): the numbers are the computed ones, rounded for
display only; a difference is called real (an improvement, a decline, above or below the norm)
only when the comparison says it is significant — otherwise the text says it could be chance; no
suppressed group is named (findings carry none, only a count); no statistics jargon ("p-value",
"effect size"): "a real difference, not chance", "small / moderate / large". Phrasing varies with
the situation and, among equivalent wordings, by a hash of the inputs — so the same inputs always
give the same text.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.narrate.inputs import (
    GENERATOR_VERSION,
    GrowthResult,
    Standing,
    SubgroupGap,
    YearComparison,
)
from core.stats.inference import magnitude
from core.words.comparisons import checked_at_once, low_start_caveat
from core.words.markup import literal
from core.words.numbers import fixed

TEMPLATE_FILES = ("text.py", "groups.py", "template.py")


def _template_fingerprint() -> str:
    """A short hash of the template's source: a stored narrative written by an older wording is
    rewritten (never served) after an upgrade, without anyone remembering to bump a version."""
    digest = hashlib.sha256()
    for name in TEMPLATE_FILES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:8]


TEMPLATE_GENERATOR = f"template v{GENERATOR_VERSION}.{_template_fingerprint()}"
SMALL_SAMPLE = 30
SEASON_ORDER = {"fall": 0, "winter": 1, "spring": 2}
SECTION_TITLES = (
    ("key_findings", "Key findings"),
    ("year_over_year", "Year over year"),
    ("celebrate", "What to celebrate"),
    ("look_into", "What to look into"),
    ("next_steps", "Suggested next steps"),
    ("caveats", "About these numbers"),
)


@dataclass(frozen=True)
class Narrative:
    summary: str
    key_findings: tuple[str, ...] = ()
    year_over_year: tuple[str, ...] = ()
    celebrate: tuple[str, ...] = ()
    look_into: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    generator: str = TEMPLATE_GENERATOR
    notice: str | None = None
    inputs_hash: str = ""
    created_at: str = ""

    def sections(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(title, getattr(self, key)) for key, title in SECTION_TITLES if getattr(self, key)]

    def text(self) -> str:
        """Plain text: the summary, then each section's items as lines."""
        lines = [self.summary]
        for title, items in self.sections():
            lines += ["", title, *(f"- {item}" for item in items)]
        return "\n".join(lines)

    def summary_markdown(self) -> str:
        """The summary as Markdown that reads literally (it may quote a name from the data)."""
        return literal(self.summary)

    def markdown(self) -> str:
        """Summary and sections as Markdown: the section titles bold, every sentence literal (a
        template's sentence names schools and groups, a model's is whatever it wrote)."""
        lines = [literal(self.summary)]
        for title, items in self.sections():
            lines += ["", f"**{title}**", "", *(f"- {literal(item)}" for item in items)]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Narrative:
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


class Phrasing:
    """Picks among equivalent wordings by a hash of the inputs and the slot: stable, varied."""

    def __init__(self, seed: str) -> None:
        self.seed = seed

    def pick(self, slot: str, options: tuple[str, ...]) -> str:
        digest = hashlib.sha256(f"{self.seed}|{slot}".encode()).digest()
        return options[int.from_bytes(digest[:4], "big") % len(options)]


def num(value: float | None) -> str:
    """A score, difference or mean for display: one decimal."""
    return "–" if value is None else fixed(value)


def count(value: int) -> str:
    return f"{value:,}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{fixed(value, 0)}%"


def subject_name(subject: str) -> str:
    return subject.capitalize()


def is_significant(p: float | None) -> bool:
    return p is not None and p < 0.05


def standing_holds(s: Standing) -> bool:
    """The difference from the norm holds after the false-discovery correction (the adjusted p
    of the row's fixed family when known, as the category reads it)."""
    return is_significant(s.p_adj if s.p_adj is not None else s.p)


def _ci_words(ci: tuple[float, float] | None) -> str:
    """The 95% interval of a real difference, as sizes on the difference's own side."""
    if ci is None or ci[0] * ci[1] <= 0:
        return ""
    lo, hi = sorted((abs(ci[0]), abs(ci[1])))
    return f" (most likely between {num(lo)} and {num(hi)} points)"


def _small_words(n: int) -> str:
    if n >= SMALL_SAMPLE:
        return ""
    return f" With only {count(n)} students, only a large difference would show up as real."


# --- standards -------------------------------------------------------------------------------


def standing_sentence(s: Standing, words: Phrasing) -> str:
    head = f"{subject_name(s.subject)}, {s.season}"
    if s.norm_mean is None or s.diff is None:
        reason = s.note or "no norm is available for this grade and season"
        return f"{head}: the average score was {num(s.mean)} ({count(s.n)} students); {reason}."
    side = "above" if s.diff > 0 else "below"
    gap = f"{num(abs(s.diff))} points {side}"
    norm = f"the national norm of {num(s.norm_mean)}"
    if s.category in ("Above", "Below") and is_significant(s.p):
        size = magnitude(s.effect_size)
        template = words.pick(
            f"std-real-{s.subject}-{s.season}",
            (
                "{head}: the average score was {mean}, {gap} {norm} — a {size} difference, "
                "and a real one, not chance{ci}.",
                "{head}: the cohort averaged {mean} against {norm}, {gap} it. That is a real, "
                "{size} difference, not chance{ci}.",
            ),
        )
        return template.format(
            head=head, mean=num(s.mean), gap=gap, norm=norm, size=size, ci=_ci_words(s.ci95)
        )
    if standing_holds(s):
        return (
            f"{head}: the average score of {num(s.mean)} is {gap} {norm} — a real difference, "
            "but too small to matter in practice, so the cohort is in line with the norm."
        )
    template = words.pick(
        f"std-chance-{s.subject}-{s.season}",
        (
            "{head}: the average score of {mean} is {gap} {norm}; {chance}, so the cohort is in "
            "line with the norm.{small}",
            "{head}: {mean} against {norm} ({gap}); {chance} — in line with the norm.{small}",
        ),
    )
    return template.format(
        head=head,
        mean=num(s.mean),
        gap=gap,
        norm=norm,
        chance=chance_words(s),
        small=_small_words(s.n),
    )


def chance_words(s: Standing) -> str:
    """Why a gap is not called real. One that would look real on its own (p < 0.05) but not
    after the false-discovery correction says so, or a reader who sees its 95% CI leave out 0
    in the table takes "could be chance" for a contradiction."""
    if is_significant(s.p):
        return f"{checked_at_once(s.family_size)}, a gap this size could be chance"
    return "a gap this size could be chance"


def standing_weight(s: Standing) -> float:
    if s.category in ("Above", "Below") and is_significant(s.p):
        return 3 + abs(s.effect_size or 0)
    return 1.0 if s.diff is not None else 0.5


def standing_verdict(s: Standing) -> str:
    """Where the cohort stands, in three words, for the summary."""
    if s.diff is None:
        return "not compared with a norm"
    if s.category == "Above" and is_significant(s.p):
        return "above the national norm"
    if s.category == "Below" and is_significant(s.p):
        return "below the national norm"
    return "in line with the national norm"


# --- prior years -----------------------------------------------------------------------------


def prior_is_real(c: YearComparison) -> bool:
    return c.direction in ("improvement", "decline") and is_significant(c.p)


def prior_sentence(c: YearComparison, words: Phrasing) -> str:
    head = f"{subject_name(c.subject)}, {c.season}"
    if c.diff is None or c.mean_b is None:
        return f"{head}: {c.note or 'no comparison with ' + c.prior_year + ' is possible'}."
    if prior_is_real(c):
        size = magnitude(c.hedges_g)
        moved = "higher" if c.diff > 0 else "lower"
        kind = c.direction
        caution = (
            ""
            if c.significant_bh in (None, True)
            else " With this many comparisons at once, it is worth confirming next time."
        )
        template = words.pick(
            f"prior-real-{c.subject}-{c.season}",
            (
                "{head}: this year's average of {a} is {d} points {moved} than {b} in {year} "
                "(different students) — a real, {size} {kind}, not chance{ci}.{caution}",
                "{head}: {a} in {now} against {b} in {year} (different students), {d} points "
                "{moved} — a {size} {kind}, and a real one{ci}.{caution}",
            ),
        )
        return template.format(
            head=head,
            a=num(c.mean_a),
            b=num(c.mean_b),
            d=num(abs(c.diff)),
            moved=moved,
            year=c.prior_year,
            now=c.school_year,
            size=size,
            kind=kind,
            ci=_ci_words(c.ci95),
            caution=caution,
        )
    template = words.pick(
        f"prior-chance-{c.subject}-{c.season}",
        (
            "{head}: {a} this year against {b} in {year}; {checked}the {d}-point difference "
            "could be chance, so it does not count as a change.{small}",
            "{head}: the average was {a} in {now} and {b} in {year} — {checked}a {d}-point "
            "difference that could be chance.{small}",
        ),
    )
    # one that would look real on its own (p < 0.05) says why it is not called a change
    checked = f"{checked_at_once(c.family_size)}, " if is_significant(c.p) else ""
    return template.format(
        head=head,
        a=num(c.mean_a),
        b=num(c.mean_b),
        d=num(abs(c.diff)),
        year=c.prior_year,
        now=c.school_year,
        small=_small_words(min(c.n_a, c.n_b)),
        checked=checked,
    )


def prior_weight(c: YearComparison) -> float:
    return 3 + abs(c.hedges_g or 0) if prior_is_real(c) else 1.0


# --- growth ----------------------------------------------------------------------------------


def growth_sentence(g: GrowthResult, words: Phrasing) -> str:
    head = (
        f"{subject_name(g.subject)} growth, {g.from_label} to {g.to_label}: {count(g.n)} "
        "students took both tests"
    )
    if g.mean_change is None:
        return f"{head}; {g.note or 'no change could be computed'}."
    if is_significant(g.p):
        moved = "rose" if g.mean_change > 0 else "fell"
        verdict = "real growth, not chance" if g.mean_change > 0 else "a real drop, not chance"
        text = f"{head}, and their scores {moved} by {num(abs(g.mean_change))} points on average — "
        text += verdict + _ci_words(g.ci95) + "."
    else:
        text = (
            f"{head}; their scores changed by {num(g.mean_change)} points on average, "
            "which could be chance."
        )
    if g.expected is not None:
        text += f" The norm's expected growth over that span is {num(g.expected)} points: "
        text += _versus_expected(g)
        met = g.pct_meeting is not None
        text += f" {pct(g.pct_meeting)} of students met it." if met else ""
    caveat = low_start_caveat(g.start_z, g.mean_change) if is_significant(g.p) else ""
    return text + (f" {caveat}" if caveat else "")


def growth_beats_expected(g: GrowthResult) -> bool:
    return (
        g.expected is not None
        and is_significant(g.p_vs_expected)
        and ((g.mean_change or 0) > g.expected)
    )


def growth_short_of_expected(g: GrowthResult) -> bool:
    return (
        g.expected is not None
        and is_significant(g.p_vs_expected)
        and ((g.mean_change or 0) < g.expected)
    )


def _versus_expected(g: GrowthResult) -> str:
    if growth_beats_expected(g):
        return "they grew more than expected, and that is a real difference, not chance."
    if growth_short_of_expected(g):
        return "they grew less than expected, and that is a real difference, not chance."
    return "their growth is in line with it (the difference could be chance)."


def growth_weight(g: GrowthResult) -> float:
    if growth_beats_expected(g) or growth_short_of_expected(g):
        return 3.5
    return 2.0 if is_significant(g.p) else 0.8


# --- subgroups -------------------------------------------------------------------------------


def gap_is_real(g: SubgroupGap) -> bool:
    return bool(g.significant) if g.significant is not None else is_significant(g.p)


def gap_sentence(g: SubgroupGap, words: Phrasing) -> str:
    if g.gap is None:
        return ""
    side = "below" if g.gap < 0 else "above"
    base = (
        f"{g.group} averaged {num(g.mean_group)} in {g.subject} ({g.season}), "
        f"{num(abs(g.gap))} points {side} the rest of the cohort ({num(g.mean_rest)})"
    )
    if gap_is_real(g):
        text = base + f" — a real, {magnitude(g.hedges_g)} gap, not chance."
    else:
        text = base + "; a difference this size could be chance."
    if g.trend in ("widening", "narrowing") and g.earlier_gap is not None:
        text += (
            f" The gap was {num(abs(g.earlier_gap))} points in {g.earlier_year}: it is {g.trend}."
        )
    return text


def gap_weight(g: SubgroupGap) -> float:
    weight = 2 + abs(g.hedges_g or 0) if gap_is_real(g) else 0.6
    return weight + (0.5 if g.trend == "widening" else 0)
