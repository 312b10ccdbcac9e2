"""Canonical values of the design's contract, and how vendor spellings map onto them.

These small Python functions serve single values (widgets, CLI specs). The ingest pipeline
applies the same tables to whole columns in SQL via `*_sql_map()` so no row loops happen.
"""

from __future__ import annotations

import re

SUBJECTS = ("math", "reading", "language", "science")
SEASONS = ("fall", "winter", "spring")
GRADES = ("PK", "K", *(str(g) for g in range(1, 13)))

# Vendor subject names → canonical (NWEA "Mathematics", "Reading (Spanish)", i-Ready "ELA", …).
SUBJECT_ALIASES = {
    "math": "math",
    "maths": "math",
    "mathematics": "math",
    "math k 12": "math",
    "star math": "math",
    "math 2 5": "math",
    "math 6": "math",
    "mathematics spanish": "math",
    "math spanish": "math",
    "reading": "reading",
    "reading spanish": "reading",
    "star reading": "reading",
    "star early literacy": "reading",
    "early literacy": "reading",
    "ela": "reading",
    "english language arts": "reading",
    "literacy": "reading",
    "dibels": "reading",
    "dibels 8": "reading",
    "composite": "reading",
    "reading 2 5": "reading",
    "language": "language",
    "language usage": "language",
    "language arts": "language",
    "science": "science",
    "general science": "science",
    "science k 12": "science",
}
SEASON_ALIASES = {
    "fall": "fall",
    "autumn": "fall",
    "boy": "fall",
    "beginning of year": "fall",
    "moy": "winter",
    "middle of year": "winter",
    "winter": "winter",
    "eoy": "spring",
    "end of year": "spring",
    "spring": "spring",
}
GRADE_ALIASES = {
    "pk": "PK",
    "prek": "PK",
    "pre k": "PK",
    "pre kindergarten": "PK",
    "k": "K",
    "kg": "K",
    "kindergarten": "K",
    "0": "K",
    "00": "K",
    **{str(g): str(g) for g in range(1, 13)},
    **{f"{g:02d}": str(g) for g in range(1, 13)},
    **{f"grade {g}": str(g) for g in range(1, 13)},
    **{f"{g}th": str(g) for g in range(4, 13)},
    "1st": "1",
    "2nd": "2",
    "3rd": "3",
}

_NON_WORD = re.compile(r"[^0-9a-z]+")
_YEAR_PAIR = re.compile(r"(\d{4})\s*[-/–]\s*(\d{2,4})")


def normalize_header(header: str) -> str:
    """Lower case, runs of other characters turned into "_" ("Class Type" -> "class_type")."""
    return _NON_WORD.sub("_", str(header).strip().lower()).strip("_")


def _key(value: object) -> str:
    return _NON_WORD.sub(" ", str(value).strip().lower()).strip()


def subject(value: object) -> str | None:
    return SUBJECT_ALIASES.get(_key(value))


def season(value: object) -> str | None:
    return SEASON_ALIASES.get(_key(value))


def grade(value: object) -> str | None:
    text = _key(value)
    if text.endswith(".0"):
        text = text[:-2]
    return GRADE_ALIASES.get(text.replace(" 0", " ").strip()) or GRADE_ALIASES.get(text)


def school_year(value: object) -> str | None:
    """'2024-2025', '2024-25', '2024/2025', 'Fall 2024-2025' -> '2024-2025'."""
    match = _YEAR_PAIR.search(str(value))
    if not match:
        return None
    start = int(match.group(1))
    end_text = match.group(2)
    end = int(end_text) if len(end_text) == 4 else (start // 100) * 100 + int(end_text)
    if end != start + 1:
        return None
    return f"{start}-{end}"


def previous_year(year: str, back: int = 1) -> str:
    start = int(year[:4]) - back
    return f"{start}-{start + 1}"


def grade_rank(value: str) -> int:
    """Order grades PK < K < 1 < … < 12 (for sorting and "the grade below")."""
    return {"PK": -1, "K": 0}.get(value, int(value) if value.isdigit() else 99)


def grade_below(value: str) -> str | None:
    rank = grade_rank(value) - 1
    return {-1: "PK", 0: "K"}.get(rank, str(rank) if 1 <= rank <= 12 else None)


def sql_map(aliases: dict[str, str]) -> list[dict[str, str]]:
    """The alias table as rows, to join against in SQL (ingest maps whole columns at once)."""
    return [{"k": k, "v": v} for k, v in aliases.items()]


def sql_key(expr: str) -> str:
    """SQL twin of `_key`: the same normalization applied to a column expression."""
    return f"trim(regexp_replace(lower(trim({expr})), '[^0-9a-z]+', ' ', 'g'))"


# The tests a score can come from (assessments.platform). `generic` is "other / unknown": the
# generic long format's default, on no declared scale, so no national norm ever judges it.
PLATFORMS = {
    "nwea_map": "MAP Growth",
    "star": "Star",
    "iready": "i-Ready",
    "dibels8": "DIBELS 8",
    "state": "a state test",
    "generic": "other / unknown",
}
UNKNOWN_PLATFORM = "generic"


# Percentiles a vendor norms nationally; a state test ranks within its state, and a file whose
# test was never declared could rank against anything, so neither is called "national".
NOT_NATIONAL = {"generic": "percentile (test not declared)", "state": "percentile (a state test)"}


def percentile_source(value: object) -> str:
    """Whose percentiles a column holds, in a reader's words: "national percentile (Star)"."""
    key = str(value) if value is not None else UNKNOWN_PLATFORM
    return NOT_NATIONAL.get(key) or f"national percentile ({platform_title(value)})"


def platform_title(value: object) -> str:
    """A platform in a reader's words ("MAP Growth"); an unlisted value as it is stored."""
    return PLATFORMS.get(str(value), str(value)) if value is not None else PLATFORMS["generic"]
