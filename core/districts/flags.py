"""Picking districts by their within-state quartile flags: "absenteeism well_above and graduation
below". Conditions on different metrics must all hold; several labels for one metric mean any
of them ("graduation below or well_below"). Works on the districts table of
`district_benchmarks`, so the page, the CLI and an export filter the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from core.districts.benchmarks import METRICS, QUARTILE_LABELS

_METRIC_WORDS = {
    **{m.key: m.key for m in METRICS},
    **{m.label.lower(): m.key for m in METRICS},
    "chronic absenteeism": "absenteeism",
    "absence": "absenteeism",
    "graduation rate": "graduation",
    "ratio": "student_teacher_ratio",
    "pupil teacher ratio": "student_teacher_ratio",
    "student teacher ratio": "student_teacher_ratio",
    "swd": "swd_pct",
    "ell": "ell_pct",
    "math": "math_proficiency",
    "reading": "read_proficiency",
    "spending": "expenditure_pp",
    "expenditure": "expenditure_pp",
}


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_METRICS_BY_WORDS = {_words(k): v for k, v in _METRIC_WORDS.items()}
_LABELS_BY_WORDS = {_words(label): label for label in QUARTILE_LABELS}


@dataclass(frozen=True)
class FlagFilter:
    """(metric, allowed labels) pairs; empty = every district."""

    conditions: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, str]]) -> FlagFilter:
        """[(metric, label), …] as a page's multiselect gives them."""
        grouped: dict[str, list[str]] = {}
        for metric, label in pairs:
            _check(metric, label)
            grouped.setdefault(metric, []).append(label)
        return cls(tuple((m, tuple(labels)) for m, labels in grouped.items()))

    @classmethod
    def parse(cls, text: str) -> FlagFilter:
        """ "absenteeism well_above and graduation below or well_below" → a filter."""
        pairs = []
        for clause in re.split(r"\band\b", text.strip(), flags=re.IGNORECASE):
            if clause.strip():
                pairs += _clause(clause)
        return cls.from_pairs(pairs)

    def apply(self, districts: pd.DataFrame) -> pd.DataFrame:
        keep = pd.Series(True, index=districts.index)
        for metric, labels in self.conditions:
            keep &= districts[f"{metric}_quartile_state"].isin(labels)
        return districts[keep]

    def describe(self) -> str:
        return " and ".join(f"{m} {' or '.join(labels)}" for m, labels in self.conditions)


def _check(metric: str, label: str) -> None:
    if metric not in {m.key for m in METRICS}:
        raise ValueError(f"Unknown metric {metric!r}; use one of {', '.join(_METRIC_WORDS)}.")
    if label not in QUARTILE_LABELS:
        raise ValueError(f"Unknown flag {label!r}; use {', '.join(QUARTILE_LABELS)}.")


def _clause(clause: str) -> list[tuple[str, str]]:
    """ "graduation rate below or well below" → [(graduation, below), (graduation, well_below)]."""
    words = _words(clause)
    for label_words in sorted(_LABELS_BY_WORDS, key=len, reverse=True):
        words = re.sub(rf"\b{label_words}\b", _LABELS_BY_WORDS[label_words], words)
    tokens = words.replace(" or ", " ").split()
    labels = [t for t in tokens if t in QUARTILE_LABELS]
    metric = _METRICS_BY_WORDS.get(" ".join(t for t in tokens if t not in QUARTILE_LABELS))
    if metric is None or not labels:
        raise ValueError(
            f"Cannot read {clause.strip()!r}: write a metric and a flag, e.g. "
            "'absenteeism well_above and graduation below'."
        )
    return [(metric, label) for label in labels]
