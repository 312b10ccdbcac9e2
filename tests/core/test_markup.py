"""`literal`: data-derived text in Markdown reads as exactly its characters (core.words.markup).
What a browser then draws is checked in tests/browser/test_planted_names.py."""

from __future__ import annotations

import pytest

from core.words.markup import literal
from tests.ui.planted import EVERY, live_markup, reads


@pytest.mark.parametrize("name", EVERY)
def test_a_planted_name_has_no_live_markup_and_reads_as_itself(name: str) -> None:
    assert live_markup(name)  # the check finds what is planted
    assert not live_markup(literal(name))
    assert reads(literal(name)) == name


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("[a](http://evil.example)", "\\[a\\](http\u2060://evil.example)"),
        ("![i](x.png)", "!\\[i\\](x.png)"),
        ("<b>bold</b>", "\\<b>bold\\</b>"),
        (
            "**b** _i_ ~~s~~ `c` $x$ :red[r] &amp;",
            "\\*\\*b\\*\\* \\_i\\_ \\~\\~s\\~\\~ \\`c\\` \\$x\\$ :red\\[r\\] \\&amp;",
        ),  # fmt: skip
        ("www.evil.example a@evil.example", "www\u2060.evil.example a\u2060@evil.example"),
        ("mailto:a", "mailto\u2060:a"),
        ("# Heading", "\\# Heading"),
        ("> quote", "\\> quote"),
        ("- item", "\\- item"),
        ("12. item", "12\\. item"),
        ("one\n# two\r\n- three", "one # two - three"),
    ],
)
def test_markdown_is_escaped(text: str, escaped: str) -> None:
    assert literal(text) == escaped


@pytest.mark.parametrize(
    "sentence",
    [
        "Grade 3 · Lincoln Elementary · 2024-2025: 60 students (p < 0.05), 201.5 vs 197.1.",
        "Math (spring): 12.5 points lower than in 2023-2024 — a real, moderate decline!",
        "Some required fields have no column: student_id, school_year.",
    ],
)
def test_ordinary_sentences_are_unchanged(sentence: str) -> None:
    assert literal(sentence) == sentence


def test_nothing_is_empty() -> None:
    assert literal(None) == "" and literal(3) == "3"
