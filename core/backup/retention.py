"""`--keep N`: a nightly backup keeps the N newest archives and removes older ones — only files
named like the new one, differing only in their digits (a date, a time), in the same folder."""

from __future__ import annotations

import re
from pathlib import Path


def name_pattern(name: str) -> re.Pattern[str]:
    """`yardstick-2026-12-07.tar.gz` → names with any digits where this one has digits."""
    parts = re.split(r"(\d+)", name)
    return re.compile("".join(r"\d+" if p.isdigit() else re.escape(p) for p in parts))


def prune(newest: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest archives named like `newest` (never `newest` itself);
    returns what was removed, oldest first."""
    if keep < 1:
        raise ValueError("--keep needs a number of backups of at least 1.")
    pattern = name_pattern(newest.name)
    same = [p for p in newest.parent.iterdir() if p.is_file() and pattern.fullmatch(p.name)]
    ordered = sorted(same, key=lambda p: (p == newest, p.stat().st_mtime, p.name))
    removed = [p for p in ordered[: max(0, len(ordered) - keep)] if p != newest]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
