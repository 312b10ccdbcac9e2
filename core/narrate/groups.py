"""One sentence per subject where several test windows say the same thing.

"Math is below the norm in fall, winter and spring — with each window's numbers" reads better
than three near-identical sentences. Only results of the same kind are joined (all real and on
the same side, or all possibly chance); anything else keeps its own sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from core.narrate.inputs import Standing, YearComparison
from core.narrate.text import (
    Phrasing,
    is_significant,
    magnitude,
    num,
    prior_is_real,
    prior_sentence,
    prior_weight,
    standing_holds,
    standing_sentence,
    standing_weight,
    subject_name,
)
from core.words.comparisons import checked_at_once

SIZES = ("negligible", "small", "moderate", "large")
Item = TypeVar("Item", Standing, YearComparison)


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def size_words(effects: Sequence[float | None]) -> str:
    """'large', or 'moderate to large' when the windows differ."""
    sizes = sorted(
        {magnitude(e) for e in effects}, key=lambda s: SIZES.index(s) if s in SIZES else 9
    )
    return sizes[0] if len(sizes) == 1 else f"{sizes[0]} to {sizes[-1]}"


def standing_kind(s: Standing) -> str:
    if s.diff is None or s.norm_mean is None:
        return "none"
    if s.category in ("Above", "Below") and is_significant(s.p):
        return s.category.lower()
    return "negligible" if standing_holds(s) else "level"


def prior_kind(c: YearComparison) -> str:
    if c.diff is None or c.mean_b is None:
        return "none"
    return str(c.direction) if prior_is_real(c) else "level"


def _against_norm(s: Standing, side: str) -> str:
    """One season's mean against the norm, "fall 212.3 against 208.1 (4.2 above)": said the same
    way whether the group's difference is real or level."""
    return f"{s.season} {num(s.mean)} against {num(s.norm_mean)} ({num(abs(s.diff))} {side})"


def standings_group(subject: str, kind: str, items: Sequence[Standing]) -> str:
    seasons = _join([s.season for s in items])
    if kind in ("above", "below"):
        details = "; ".join(_against_norm(s, kind) for s in items)
        size = size_words([s.effect_size for s in items])
        return (
            f"{subject_name(subject)}: {kind} the national norm in {seasons} — {details}. "
            f"Each is a {size} difference, and a real one, not chance."
        )
    details = "; ".join(_against_norm(s, "above" if s.diff > 0 else "below") for s in items)
    return (
        f"{subject_name(subject)}: in line with the national norm in {seasons} — {details}. "
        f"{chance_lead(items)}."
    )


def chance_lead(items: Sequence[Standing] | Sequence[YearComparison]) -> str:
    """ "Differences this size could be chance" — after "after checking N results at once, "
    when one of them would look real on its own (p < 0.05) but not after the correction."""
    lone = [item.family_size for item in items if is_significant(item.p)]
    if not lone:
        return "Differences this size could be chance"
    known = max((size for size in lone if size), default=None)
    lead = f"{checked_at_once(known)}, differences this size could be chance"
    return lead[0].upper() + lead[1:]


def not_compared_rows(items: Sequence[Standing]) -> list[tuple[str, float, str]]:
    """One short sentence per subject for the windows no norm judges: their means, and where
    the reason stands. The reason itself (long: what to do) is said once, in the caveats."""
    rows = []
    for subject, members in by_subject(items).items():
        means = _join([f"{num(s.mean)} in {s.season} ({s.n:,} students)" for s in members])
        rows.append(
            (
                subject,
                0.5,
                f"{subject_name(subject)}: the average score was {means} — not compared with a "
                "national norm; why, and what to do, is under “About these numbers”.",
            )
        )
    return rows


def not_compared_reasons(items: Sequence[Standing]) -> list[str]:
    """Each distinct reason a window is not compared with the norm, once, with the windows it
    concerns: "Math (fall and spring): no national norm for this test's scale: …"."""
    reasons: dict[str, dict[str, list[str]]] = {}
    for s in items:
        note = s.note or "no norm is available for this grade and season"
        reasons.setdefault(note, {}).setdefault(s.subject, []).append(s.season)
    return [
        _join([f"{subject_name(subject)} ({_join(seasons)})" for subject, seasons in where.items()])
        + f": {note.rstrip('.')}."
        for note, where in reasons.items()
    ]


def prior_group(subject: str, kind: str, items: Sequence[YearComparison]) -> str:
    seasons = _join([c.season for c in items])
    year = items[0].prior_year
    if kind in ("improvement", "decline"):
        moved = "higher" if kind == "improvement" else "lower"
        details = "; ".join(
            f"{c.season} {num(c.mean_a)} against {num(c.mean_b)} ({num(abs(c.diff))} {moved})"
            for c in items
        )
        size = size_words([c.hedges_g for c in items])
        return (
            f"{subject_name(subject)}: {moved} than in {year} (different students) in "
            f"{seasons} — {details}. Each is a real, {size} {kind}, not chance."
        )
    details = "; ".join(
        f"{c.season} {num(c.mean_a)} this year against {num(c.mean_b)} in {year} "
        f"({num(abs(c.diff))} apart)"
        for c in items
    )
    lead = chance_lead(items)
    return f"{subject_name(subject)}: {details}. {lead}, so they do not count as changes."


def grouped(
    items: Sequence[Item],
    kind_of: Callable[[Item], str],
    join: Callable[[str, str, Sequence[Item]], str],
    single: Callable[[Item, Phrasing], str],
    weight: Callable[[Item], float],
    words: Phrasing,
) -> list[tuple[str, float, str]]:
    """(subject, weight, sentence) rows: a joined sentence per subject × kind when two or more
    windows share it (kinds that need their own wording stay single)."""
    buckets: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        buckets.setdefault((item.subject, kind_of(item)), []).append(item)
    rows = []
    for (subject, kind), members in buckets.items():
        if len(members) >= 2 and kind not in ("none", "negligible"):
            rows.append((subject, max(weight(m) for m in members), join(subject, kind, members)))
        else:
            rows += [(subject, weight(m), single(m, words)) for m in members]
    return rows


def standing_rows(items: Sequence[Standing], words: Phrasing) -> list[tuple[str, float, str]]:
    compared = [s for s in items if standing_kind(s) != "none"]
    rows = grouped(
        compared, standing_kind, standings_group, standing_sentence, standing_weight, words
    )
    return rows + not_compared_rows([s for s in items if standing_kind(s) == "none"])


def prior_rows(items: Sequence[YearComparison], words: Phrasing) -> list[tuple[str, float, str]]:
    return grouped(items, prior_kind, prior_group, prior_sentence, prior_weight, words)


def by_subject(items: Sequence[Item]) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = {}
    for item in items:
        out.setdefault(item.subject, []).append(item)
    return out


def standing_list_items(items: Sequence[Standing], side: str) -> list[str]:
    """'Math is below the national norm in fall and spring (spring: 185.6 against 201.1).'"""
    lines = []
    for subject, members in by_subject(items).items():
        last = members[-1]
        lines.append(
            f"{subject_name(subject)} is {side} the national norm in "
            f"{_join([s.season for s in members])} ({last.season}: {num(last.mean)} against "
            f"{num(last.norm_mean)}, a {size_words([s.effect_size for s in members])} difference)."
        )
    return lines


def prior_list_items(items: Sequence[YearComparison], kind: str) -> list[str]:
    """'Math is down on 2023-2024 in fall and spring (spring: 9.5 points), a real decline.'"""
    lines = []
    for subject, members in by_subject(items).items():
        last = members[-1]
        moved = "up" if kind == "improvement" else "down"
        lines.append(
            f"{subject_name(subject)} is {moved} on {last.prior_year} in "
            f"{_join([c.season for c in members])} ({last.season}: {num(abs(last.diff))} "
            f"points), a real {kind}."
        )
    return lines
