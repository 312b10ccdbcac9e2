"""The template narrative says the computed numbers, only real differences as real, never a
suppressed group, never a student; and it stays within the reader's scope."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import prior_year_comparison
from core.compare.growth import matched_growth
from core.compare.subgroups import subgroup_gaps
from core.narrate.gather import gather_findings, gather_many, group_label
from core.narrate.inputs import CohortFindings, Standing, YearComparison
from core.narrate.template import template_narrative
from core.standards.standing import cohort_vs_norm
from tests.reports.seed import SMALL_GROUP

YEAR = "2024-2025"
LINCOLN_3 = CohortSpec.from_dict(
    {"name": "Grade 3 at Lincoln", "grade": "3", "schools": ["Lincoln Elementary"],
     "school_year": YEAR}
)  # fmt: skip
GRADE_3 = CohortSpec.from_dict({"grade": "3", "school_year": YEAR})
TINY_3 = CohortSpec.from_dict({"grade": "3", "schools": ["Tiny Academy"], "school_year": YEAR})
NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
# Words that claim a difference is real; none may describe a non-significant one.
CLAIMS = re.compile(
    r"improv|declin|\brose\b|\bfell\b|\bdrop|\bgain|a real|real,|real one|real growth|"
    r"is (above|below) the national norm|\bup \d|\bdown \d|widen|narrow",
    re.IGNORECASE,
)


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def one(value: float) -> str:
    return f"{abs(value):.1f}"


def sentence_with(lines: tuple[str, ...], subject: str, season: str, value: float) -> str:
    """The sentence about one subject × season (alone, or joined with other windows)."""
    return next(
        line
        for line in lines
        if line.startswith(subject.capitalize()) and season in line and one(value) in line
        and "by year" not in line
    )  # fmt: skip


@pytest.fixture(scope="module")
def district_grade_3(warehouse) -> CohortFindings:
    return gather_findings(warehouse, GRADE_3, DISTRICT)


@pytest.fixture(scope="module")
def lincoln(warehouse):
    findings = gather_findings(warehouse, LINCOLN_3, DISTRICT)
    return findings, template_narrative(findings)


def _raw_scores(con, school: str, subject: str, season: str, year: str) -> np.ndarray:
    return (
        con.execute(
            """
        select a.score from assessments a join schools s using (school_id)
        where s.name = ? and a.grade = '3' and a.school_year = ? and a.subject = ? and a.season = ?
        """,
            [school, year, subject, season],
        )
        .df()["score"]
        .to_numpy()
    )


def test_standards_sentences_say_the_computed_numbers(warehouse, lincoln) -> None:
    _, story = lincoln
    table = cohort_vs_norm(warehouse, LINCOLN_3, DISTRICT, by=())
    reported = table[~table["suppressed"].astype(bool)]
    assert len(reported) == 4  # math and reading × fall and spring
    for row in reported.itertuples():
        sentence = sentence_with(story.key_findings, row.subject, row.season, row.mean)
        said = set(numbers(sentence))
        assert {one(row.mean), one(row.norm_mean), one(row.diff)} <= said
        raw = _raw_scores(warehouse, "Lincoln Elementary", row.subject, row.season, YEAR)
        assert one(raw.mean()) in said  # independent: the members' raw scores
        real = sps.ttest_1samp(raw, row.norm_mean).pvalue < 0.05 and abs(row.effect_size) >= 0.2
        assert ("not chance" in sentence) == real
        if "most likely" in sentence:  # a window said alone carries its interval
            assert {one(row.ci_lo), one(row.ci_hi)} <= said


def test_year_over_year_sentences_say_the_computed_numbers(warehouse, lincoln) -> None:
    _, story = lincoln
    table = prior_year_comparison(warehouse, LINCOLN_3, DISTRICT, years_back=1)
    assert len(table) == 4
    for row in table.itertuples():
        sentence = sentence_with(story.year_over_year, row.subject, row.season, row.mean_a)
        said = numbers(sentence)
        assert {one(row.mean_a), one(row.mean_b), one(row.diff)} <= set(said)
        now = _raw_scores(warehouse, "Lincoln Elementary", row.subject, row.season, YEAR)
        before = _raw_scores(warehouse, "Lincoln Elementary", row.subject, row.season, "2023-2024")
        p = sps.ttest_ind(now, before, equal_var=False).pvalue  # scipy: Welch
        assert p == pytest.approx(row.p, rel=1e-9)
        # a change is claimed when it holds after the false-discovery correction (issue 15 §4:
        # the adjusted p of the cohort's fixed family, no longer the raw p)
        assert bool(CLAIMS.search(sentence)) == (row.p_adj < 0.05)
    spring = table[(table["subject"] == "math") & (table["season"] == "spring")].iloc[0]
    decline = sentence_with(story.year_over_year, "math", "spring", spring["mean_a"])
    assert "decline" in decline  # the planted drop


def test_growth_sentence_says_the_computed_numbers(warehouse, lincoln) -> None:
    _, story = lincoln
    table = matched_growth(warehouse, LINCOLN_3, DISTRICT, ("fall", YEAR), ("spring", YEAR))
    for row in table.itertuples():
        sentence = next(
            s for s in story.key_findings if s.startswith(f"{row.subject.capitalize()} growth")
        )
        said = set(numbers(sentence))
        assert {f"{int(row.n)}", one(row.mean_change), one(row.expected_growth)} <= said


def _allowed(warehouse, findings: CohortFindings) -> set[str]:
    """Every number the narrative may print, formatted from the modules' own tables."""
    allowed = {"95", "30", str(findings.min_n), str(findings.n_students), "2022", "2023", "2024"}
    allowed |= {"2025", str(findings.suppressed_results)}
    frames = [
        cohort_vs_norm(warehouse, LINCOLN_3, DISTRICT, by=()),
        prior_year_comparison(warehouse, LINCOLN_3, DISTRICT, years_back=1),
        matched_growth(warehouse, LINCOLN_3, DISTRICT, ("fall", YEAR), ("spring", YEAR)),
    ]
    for frame in frames:
        for value in frame.select_dtypes("number").to_numpy().ravel():
            if np.isfinite(value):
                allowed |= {one(value), f"{abs(value):.0f}", f"{abs(value):,.0f}"}
    for s in findings.standings:  # the norms' own name ("… 2020 …")
        allowed |= set(numbers(s.norm_source or ""))
    for point in findings.trend:
        allowed.add(one(point.mean))
    for gap in findings.gaps:
        allowed |= {one(v) for v in (gap.mean_group, gap.mean_rest, gap.gap) if v is not None}
        allowed |= {one(gap.earlier_gap)} if gap.earlier_gap is not None else set()
    return allowed


def test_every_number_in_the_narrative_comes_from_the_results(warehouse, lincoln) -> None:
    findings, story = lincoln
    allowed = _allowed(warehouse, findings)
    strangers = [n for n in numbers(story.text()) if n not in allowed]
    assert strangers == []


def _random_findings(rng: np.random.Generator, significant: bool) -> CohortFindings:
    standings, prior = [], []
    for subject in ("math", "reading"):
        for season in ("fall", "spring"):
            p = float(rng.uniform(0.0001, 0.049) if significant else rng.uniform(0.05, 1))
            diff = float(rng.normal(0, 6))
            size = diff / 15
            category = (
                ("Above" if diff > 0 else "Below") if significant and abs(size) >= 0.2 else "At"
            )
            standings.append(
                Standing(subject, season, int(rng.integers(10, 200)), 200 + diff, 15, None,
                         "norms", 200.0, 15.0, diff, p, (diff - 3, diff + 3), size, category)
            )  # fmt: skip
            real = significant and diff != 0
            prior.append(
                YearComparison(
                    subject, season, YEAR, "2023-2024", 80, 200 + diff, 90, 200.0, diff, p,
                    (diff - 3, diff + 3), size,
                    ("improvement" if diff > 0 else "decline") if real else "no change",
                )
            )  # fmt: skip
    return CohortFindings(
        label="Random cohort", spec={}, school_year=YEAR, min_n=10, n_students=100,
        standings=tuple(standings), prior=tuple(prior),
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(25))
def test_a_difference_that_could_be_chance_is_never_called_a_change(seed: int) -> None:
    story = template_narrative(_random_findings(np.random.default_rng(seed), significant=False))
    body = [story.summary, *story.key_findings, *story.year_over_year, *story.celebrate]
    body += [*story.look_into, *story.next_steps]
    claims = [line for line in body if CLAIMS.search(line)]
    assert claims == []
    assert all("could be chance" in line for line in story.year_over_year)


def test_a_real_difference_is_said_to_be_real_and_comes_first() -> None:
    findings = _random_findings(np.random.default_rng(3), significant=True)
    story = template_narrative(findings)
    for c in findings.prior:
        sentence = sentence_with(story.year_over_year, c.subject, c.season, c.mean_a)
        assert c.direction in sentence
    weights = [abs(s.effect_size) >= 0.2 for s in findings.standings]
    if any(weights) and not all(weights):
        first = story.key_findings[0]
        assert "not chance" in first and "could be chance" not in first


def test_same_inputs_same_text_and_phrasing_varies_across_inputs() -> None:
    rng = np.random.default_rng(1)
    stories = [template_narrative(_random_findings(rng, significant=True)) for _ in range(12)]
    again = template_narrative(_random_findings(np.random.default_rng(1), significant=True))
    assert again == stories[0]
    openers = {s.summary.split(":")[0].split(" — ")[0][:20] for s in stories}
    assert len(openers) >= 2


def test_a_suppressed_group_is_never_mentioned(warehouse, district_grade_3) -> None:
    gaps = subgroup_gaps(warehouse, GRADE_3.replace(season="spring"), DISTRICT)
    hidden = gaps[gaps["suppressed"].astype(bool) & (gaps["school_year"] == YEAR)]
    labels = {group_label(r.attribute, str(r.value)) for r in hidden.itertuples()}
    assert group_label("race_ethnicity", SMALL_GROUP) in labels
    findings = district_grade_3
    text = template_narrative(findings).text() + findings.to_json()
    assert SMALL_GROUP not in text
    assert [label for label in labels if label in text] == []


def test_a_cohort_under_the_minimum_says_so_without_numbers(warehouse) -> None:
    findings = gather_findings(warehouse, TINY_3, DISTRICT)
    assert findings.suppressed and findings.standings == () and findings.prior == ()
    story = template_narrative(findings)
    assert "fewer than 10 students" in story.summary
    assert set(numbers(story.text())) <= {"10", "3", "2024", "2025"}


def test_a_filtered_cohort_that_would_give_a_small_group_away_says_no_numbers(warehouse) -> None:
    # Lincoln's latest grade 3 without its four Pacific Islander students: set beside the whole
    # grade, its numbers would give those four away (complementary suppression, as the builder)
    others = {"race_ethnicity": ["Hispanic", "White", "Black"]}
    spec = LINCOLN_3.replace(name="", filters=others)
    findings = gather_findings(warehouse, spec, DISTRICT)
    assert findings.suppressed
    assert (findings.standings, findings.prior, findings.growth, findings.gaps) == ((),) * 4
    story = template_narrative(findings)
    assert "would reveal a group of fewer than 10 students" in story.summary
    assert set(numbers(story.text())) <= {"10", "3", "2024", "2025"}
    whole = gather_findings(warehouse, LINCOLN_3, DISTRICT)  # the unfiltered cohort reports
    assert not whole.suppressed and whole.standings


def test_many_cohorts_gathered_together_equal_each_gathered_alone(warehouse) -> None:
    specs = [
        LINCOLN_3, GRADE_3, TINY_3, CohortSpec.from_dict({"grade": "4"}),
        LINCOLN_3.replace(name="", filters={"ell": [True]}),
        CohortSpec.from_dict({"grade": "3", "season": "spring", "subject": "math"}),
        CohortSpec.from_dict({"grade": "4", "school_year": "2022-2023"}),
    ]  # fmt: skip
    together = gather_many(warehouse, specs, DISTRICT)
    alone = [gather_findings(warehouse, spec, DISTRICT) for spec in specs]
    assert [f.to_dict() for f in together] == [f.to_dict() for f in alone]
    assert together[0].prior and together[0].growth and together[0].gaps  # not vacuous


def test_no_student_name_or_id_appears(warehouse, roster: pd.DataFrame, lincoln) -> None:
    texts = [lincoln[1].text()]
    texts += [
        template_narrative(gather_findings(warehouse, s, DISTRICT)).text() for s in (GRADE_3,)
    ]
    words = set(re.findall(r"[\w-]+", " ".join(texts).lower()))
    for column in ("student_id", "first_name", "last_name"):
        leaked = words & set(roster[column].str.lower())
        assert leaked == set(), column


def test_a_school_admin_narrative_never_includes_another_school(warehouse, lincoln) -> None:
    principal = Scope(username="p", role="school_admin", schools=("Lincoln Elementary",))
    findings = gather_findings(warehouse, GRADE_3, principal)
    text = template_narrative(findings).text() + findings.to_json()
    assert "Roosevelt" not in text and "Tiny" not in text
    lincoln_only = lincoln[0]
    assert findings.n_students == lincoln_only.n_students
    assert [s.mean for s in findings.standings] == [s.mean for s in lincoln_only.standings]


def test_growth_from_a_low_start_carries_the_regression_to_the_mean_caveat() -> None:
    """Narratives of growth say the caveat where it bites (a group starting well below the norm
    whose growth is real), and not for a group starting near the norm."""
    from core.narrate.inputs import GrowthResult
    from core.narrate.text import Phrasing, growth_sentence

    low = GrowthResult("math", "fall 2024-2025", "spring 2024-2025", n=40, dropped=2,
                       mean_change=9.0, p=0.001, ci95=(6.0, 12.0), start_z=-0.9)  # fmt: skip
    words = Phrasing("seed")
    assert "regression to the mean" in growth_sentence(low, words)
    near = dataclasses.replace(low, start_z=0.1)
    assert "regression to the mean" not in growth_sentence(near, words)
    unclear = dataclasses.replace(low, p=0.4)  # no real growth is claimed: nothing to qualify
    assert "regression to the mean" not in growth_sentence(unclear, words)
