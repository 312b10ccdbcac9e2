"""Composes the template narrative: summary, findings by importance, and what to do next.

Sentences come from core/narrate/text.py; this module decides which to say, in what order,
and writes the summary, the lists of what to celebrate / look into, next steps and caveats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from core.narrate.groups import (
    not_compared_reasons,
    prior_list_items,
    prior_rows,
    standing_kind,
    standing_list_items,
    standing_rows,
)
from core.narrate.inputs import (
    SEVERITY_ORDER,
    CohortFindings,
    GrowthResult,
    Standing,
    TrendPoint,
)
from core.narrate.text import (
    SEASON_ORDER,
    SMALL_SAMPLE,
    TEMPLATE_GENERATOR,
    Narrative,
    Phrasing,
    count,
    gap_is_real,
    gap_sentence,
    gap_weight,
    growth_beats_expected,
    growth_sentence,
    growth_short_of_expected,
    growth_weight,
    is_significant,
    num,
    pct,
    prior_is_real,
    standing_verdict,
    standing_weight,
    subject_name,
)

MAX_FINDINGS = 10
MAX_ALERTS = 4


def template_narrative(findings: CohortFindings) -> Narrative:
    """The narrative of one cohort from its findings alone: deterministic, offline."""
    words = Phrasing(findings.inputs_hash())
    base = {"generator": TEMPLATE_GENERATOR, "inputs_hash": findings.inputs_hash()}
    if findings.suppressed:
        return Narrative(summary=_suppressed_summary(findings), caveats=caveats(findings), **base)
    if not (findings.standings or findings.prior or findings.growth or findings.gaps):
        return Narrative(summary=_empty_summary(findings), caveats=caveats(findings), **base)
    return Narrative(
        summary=summary(findings, words),
        key_findings=key_findings(findings, words),
        year_over_year=year_over_year(findings, words),
        celebrate=celebrate(findings, words),
        look_into=look_into(findings, words),
        next_steps=next_steps(findings),
        caveats=caveats(findings),
        **base,
    )


def _year_words(findings: CohortFindings) -> str:
    return f" in {findings.school_year}" if findings.school_year else ""


def _suppressed_summary(findings: CohortFindings) -> str:
    if findings.withheld_beside:
        return (
            f"This report does not show the numbers of {findings.label}{_year_words(findings)}: "
            f"set beside {findings.withheld_beside}, also in this report, they would reveal a "
            f"group of fewer than {findings.min_n} students that is in one and not the other, so "
            "they stay hidden to protect student privacy. To see them, choose cohorts that differ "
            f"by at least {findings.min_n} students."
        )
    if findings.n_students >= findings.min_n:  # big enough, but it would reveal a small group
        return (
            f"Yardstick does not report the numbers of {findings.label}{_year_words(findings)}: "
            f"set beside the same cohort without its filters, they would reveal a group of fewer "
            f"than {findings.min_n} students, so they stay hidden to protect student privacy."
        )
    return (
        f"{findings.label} has fewer than {findings.min_n} students with results"
        f"{_year_words(findings)}, so Yardstick does not report its numbers, to protect "
        "student privacy."
    )


def _empty_summary(findings: CohortFindings) -> str:
    return (
        f"No test results were found for {findings.label}{_year_words(findings)} within what "
        "you can see, so there is nothing to summarise yet."
    )


# --- summary ---------------------------------------------------------------------------------


def headline_standings(findings: CohortFindings) -> list[Standing]:
    """Per subject, the latest season's standing (the one a reader asks about first)."""
    latest: dict[str, Standing] = {}
    for s in findings.standings:
        current = latest.get(s.subject)
        if current is None or SEASON_ORDER.get(s.season, -1) > SEASON_ORDER.get(current.season, -1):
            latest[s.subject] = s
    return sorted(latest.values(), key=standing_weight, reverse=True)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def summary(findings: CohortFindings, words: Phrasing) -> str:
    opener = words.pick(
        "opener",
        (
            "{label}: {n} students with results{year}.",
            "This summary covers {label} — {n} students tested{year}.",
            "{label} has {n} students with test results{year}.",
        ),
    ).format(label=findings.label, n=count(findings.n_students), year=_year_words(findings))
    return " ".join(
        p for p in (opener, _standards_headline(findings), _prior_headline(findings)) if p
    )


def _standards_headline(findings: CohortFindings) -> str:
    heads = headline_standings(findings)
    compared = [s for s in heads if s.diff is not None]
    if not compared:
        return "No national norm applies to these results, so they are not compared with one."
    parts = [
        f"{s.subject} ({s.season}) is {standing_verdict(s)} "
        f"({num(s.mean)} against {num(s.norm_mean)})"
        for s in compared
    ]
    sentence = _join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _prior_headline(findings: CohortFindings) -> str:
    if not findings.prior:
        return "There is no earlier year to compare with yet."
    real = [c for c in findings.prior if prior_is_real(c)]
    if not real:
        return (
            f"Compared with {findings.prior[0].prior_year}, none of the differences is large "
            "enough to rule out chance."
        )
    seasons: dict[tuple[str, str], list[str]] = {}
    for c in real:
        seasons.setdefault((c.subject, str(c.direction)), []).append(c.season)
    parts = [
        f"{subject} shows a real {direction} ({_join(windows)})"
        for (subject, direction), windows in seasons.items()
    ]
    return f"Compared with {real[0].prior_year}, " + _join(parts) + "."


# --- sections --------------------------------------------------------------------------------


def _by_importance(items: Iterable[tuple[str, float, str]]) -> list[str]:
    """Sentences grouped by subject (most important subject first), then by weight."""
    rows = [row for row in items if row[2]]
    top: dict[str, float] = {}
    for subject, weight, _ in rows:
        top[subject] = max(top.get(subject, 0.0), weight)
    rows.sort(key=lambda r: (-top[r[0]], r[0], -r[1]))
    return [text for _, _, text in rows]


def key_findings(findings: CohortFindings, words: Phrasing) -> tuple[str, ...]:
    rows = standing_rows(findings.standings, words)
    rows += [(g.subject, growth_weight(g), growth_sentence(g, words)) for g in findings.growth]
    rows += [
        (g.subject, gap_weight(g), gap_sentence(g, words)) for g in findings.gaps if gap_is_real(g)
    ]
    ordered = _by_importance(rows)
    if len(ordered) > MAX_FINDINGS:
        rest = len(ordered) - MAX_FINDINGS
        ordered = [*ordered[:MAX_FINDINGS], f"…and {rest} more results in the tables."]
    return tuple(ordered)


def trend_sentence(points: list[TrendPoint]) -> str:
    first = points[0]
    series = ", ".join(f"{p.school_year}: {num(p.mean)}" for p in points)
    return f"{subject_name(first.subject)}, {first.season}, average by year — {series}."


def year_over_year(findings: CohortFindings, words: Phrasing) -> tuple[str, ...]:
    lines = _by_importance(prior_rows(findings.prior, words))
    series: dict[tuple[str, str], list[TrendPoint]] = {}
    for point in sorted(findings.trend, key=lambda p: p.school_year):
        series.setdefault((point.subject, point.season), []).append(point)
    latest: dict[str, list[TrendPoint]] = {}
    for (subject, season), points in series.items():  # the latest window with 3+ years
        current = latest.get(subject)
        later = current is None or SEASON_ORDER.get(season, -1) > SEASON_ORDER.get(
            current[0].season, -1
        )
        if len(points) >= 3 and later:
            latest[subject] = points
    lines += [trend_sentence(points) for points in latest.values()]
    if not lines:
        lines.append(
            "No earlier year has enough results for this cohort's definition, so there is "
            "nothing to compare with yet."
        )
    return tuple(lines)


def celebrate(findings: CohortFindings, words: Phrasing) -> tuple[str, ...]:
    above = [s for s in findings.standings if s.category == "Above" and is_significant(s.p)]
    items = standing_list_items(above, "above")
    up = [c for c in findings.prior if prior_is_real(c) and c.direction == "improvement"]
    items += prior_list_items(up, "improvement")
    items += [
        f"{subject_name(g.subject)}: students grew {num(g.mean_change)} points from "
        f"{g.from_label} to {g.to_label}, more than the expected {num(g.expected)}."
        for g in findings.growth
        if growth_beats_expected(g)
    ]
    items += [
        f"The gap for {g.group} in {g.subject} narrowed from {num(abs(g.earlier_gap))} to "
        f"{num(abs(g.gap))} points since {g.earlier_year}."
        for g in findings.gaps
        if g.trend == "narrowing" and g.earlier_gap is not None and g.gap is not None
    ]
    items += [
        f"{g.group} caught up with the rest of the cohort in {g.subject}: "
        f"{num(abs(g.earlier_gap))} points behind in {g.earlier_year}, {num(g.gap)} ahead now."
        for g in findings.gaps
        if g.trend == "overtook" and (g.earlier_gap or 0) < 0 < (g.gap or 0)
    ]
    if items:
        return tuple(items)
    return (
        words.pick(
            "no-celebrate",
            (
                "No result stands out yet as clearly above the norm or clearly up on last "
                "year — steady results are worth recognising too.",
                "Nothing is clearly ahead of the norm or of last year this time; holding steady "
                "is itself worth noting.",
            ),
        ),
    )


def look_into(findings: CohortFindings, words: Phrasing) -> tuple[str, ...]:
    concerns = [a for a in findings.alerts if a.severity != "info"]  # info is good news
    alerts = sorted(concerns, key=lambda a: SEVERITY_ORDER.get(a.severity, 9))
    items = [f"{a.severity.capitalize()}: {a.title.rstrip('.')}." for a in alerts[:MAX_ALERTS]]
    if len(alerts) > MAX_ALERTS:
        more = len(alerts) - MAX_ALERTS
        items.append(f"…and {more} more alert{'s' if more > 1 else ''} on the Insights page.")
    alerted = {(a.kind, a.subject, a.season) for a in findings.alerts}
    below = [s for s in findings.standings if s.category == "Below" and is_significant(s.p)]
    items += standing_list_items(below, "below")
    down = [
        c
        for c in findings.prior
        if prior_is_real(c)
        and c.direction == "decline"
        and ("decline", c.subject, c.season) not in alerted
    ]
    items += prior_list_items(down, "decline")
    items += [_growth_concern(g) for g in findings.growth if _growth_concern(g)]
    items += [
        f"{g.group} in {g.subject}: {num(abs(g.gap))} points below the rest of the cohort"
        + (", and the gap is widening." if g.trend == "widening" else ".")
        for g in findings.gaps
        if gap_is_real(g) and (g.gap or 0) < 0
    ]
    if items:
        return tuple(items)
    return (
        words.pick(
            "no-concern",
            (
                "Nothing in these results calls for urgent attention.",
                "No result here is clearly below the norm or down on last year.",
            ),
        ),
    )


def _growth_concern(g: GrowthResult) -> str:
    if g.mean_change is None:
        return ""
    if is_significant(g.p) and g.mean_change < 0:
        return (
            f"{subject_name(g.subject)}: scores fell {num(abs(g.mean_change))} points from "
            f"{g.from_label} to {g.to_label} for the same students."
        )
    if growth_short_of_expected(g):
        met = f"; {pct(g.pct_meeting)} of students met it" if g.pct_meeting is not None else ""
        return (
            f"{subject_name(g.subject)}: average growth of {num(g.mean_change)} points from "
            f"{g.from_label} to {g.to_label} is short of the expected {num(g.expected)}{met}."
        )
    return ""


def _subjects(items: Iterable[str]) -> str:
    return _join(sorted(dict.fromkeys(items)))


STEP_RULES: tuple[tuple[str, Callable[[CohortFindings], list[str]], str], ...] = (
    (
        "below",
        lambda f: [s.subject for s in f.standings if s.category == "Below" and is_significant(s.p)],
        "Open the standards view for {subjects} and look at the score distribution: is the whole "
        "group below the norm, or a tail of students far below it?",
    ),
    (
        "decline",
        lambda f: [c.subject for c in f.prior if prior_is_real(c) and c.direction == "decline"],
        "Ask what changed in {subjects} since last year — curriculum, schedule, staffing or "
        "testing conditions — before drawing conclusions about this year's students.",
    ),
    (
        "gap",
        lambda f: [g.subject for g in f.gaps if gap_is_real(g) and (g.gap or 0) < 0],
        "Review the support the groups named above receive in {subjects}, and follow the gap at "
        "the next test window.",
    ),
    (
        "growth",
        lambda f: [g.subject for g in f.growth if _growth_concern(g)],
        "Use the growth view to see which classes grew least in {subjects}.",
    ),
    (
        "share",
        lambda f: (
            [s.subject for s in f.standings if s.category == "Above" and is_significant(s.p)]
            + [c.subject for c in f.prior if prior_is_real(c) and c.direction == "improvement"]
        ),
        "Share what is working in {subjects} with colleagues, so it can be kept and spread.",
    ),
)


def next_steps(findings: CohortFindings) -> tuple[str, ...]:
    steps = []
    for _, subjects_of, text in STEP_RULES:
        subjects = subjects_of(findings)
        if subjects:
            steps.append(text.format(subjects=_subjects(subjects)))
    dropped = [g.dropped for g in findings.growth]
    if any(d is None for d in dropped) or sum(d or 0 for d in dropped):
        # a count that would reveal fewer than min_n students is None: then no number at all
        how_many = "some" if None in dropped else count(sum(dropped))
        steps.append(
            f"Make sure every student sits every test window: {how_many} students missed "
            "one of the two tests, and growth can only be measured for those who took both."
        )
    if not steps:
        steps.append("Keep the current approach and check these results again after the next test.")
    return tuple(steps[:5])


def caveats(findings: CohortFindings) -> tuple[str, ...]:
    items = []
    if findings.suppressed_results:
        noun = "result is" if findings.suppressed_results == 1 else "results are"
        items.append(
            f"{count(findings.suppressed_results)} {noun} not shown because they would describe "
            f"fewer than {findings.min_n} students (privacy rule)."
        )
    small = sorted({s.n for s in findings.standings if s.n < SMALL_SAMPLE})
    if small and not findings.suppressed:
        items.append(
            f"Some results rest on fewer than {SMALL_SAMPLE} students: read them as a signal to "
            "look closer, not a verdict."
        )
    items += list(findings.missing)
    items += not_compared_reasons([s for s in findings.standings if standing_kind(s) == "none"])
    sources = sorted({s.norm_source for s in findings.standings if s.norm_source})
    if sources:
        items.append("Compared against: " + "; ".join(sources) + ".")
    if not findings.suppressed:
        items.append(
            "“A real difference” means it is very unlikely to be chance (the usual 95% standard); "
            "small, moderate and large describe how much it matters in practice."
        )
    return tuple(items)
