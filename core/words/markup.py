"""Data-derived text made literal for Markdown: `literal(text)`.

Every label, caption, message and narrative the app shows is Markdown (Streamlit renders it;
so do widget labels, metric labels and expander titles), and much of it carries text a file or a
URL supplied: school, teacher, section and student names, attribute names and values, cohort
names, a model's words. A school called `[Session expired](http://evil.example/login)` must read
as exactly that, never become a live link, an image, HTML or a formula. Pages, alerts,
narratives and reports pass such text through `literal` before putting it into Markdown, and
build their own emphasis around it.
"""

from __future__ import annotations

import re

# What CommonMark, GitHub's extensions or Streamlit give a meaning to inside one line: emphasis
# and code, links and images (both need "["), raw HTML and autolinks ("<" before a tag or an
# address), entities, strikethrough, LaTeX ($), Streamlit's :colour[...] directives. A backslash
# before ASCII punctuation always reads as the character itself; characters with no meaning on
# their own ("(", "!", "p < 0.05") are left as they are, and so is "_" inside a word
# ("student_id": it cannot start or end emphasis there), so sentences stay readable as source.
_INLINE = re.compile(r"[\\`*\[\]~$&]|<(?=[A-Za-z/!?])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# Constructs that only count at the start of a line (headings, quotes, lists, rules).
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")
# Bare addresses GitHub Markdown links by itself ("http://…", "www.…", "a@b.org", "mailto:…").
# It finds them in the text after escapes are resolved, so a backslash cannot stop it: an
# invisible word joiner (U+2060) splits each pattern instead, and the text still reads the same.
_AUTOLINK = re.compile(r"(?i)(?=://)|(?<=www)(?=\.)|(?=@)|(?<=mailto)(?=:)|(?<=xmpp)(?=:)")
JOINER = "\u2060"
_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029]+")


def literal(text: object) -> str:
    """`text` as Markdown that renders as exactly these characters, on one line (a name's line
    break would start a new Markdown block): no link, image, HTML, heading or formatting. A
    bare address carries an invisible word joiner, so it is not made a link either."""
    flat = _LINE_BREAKS.sub(" ", "" if text is None else str(text))
    escaped = _INLINE.sub(lambda m: "\\" + m.group(0), flat)
    escaped = _AUTOLINK.sub(JOINER, escaped)
    return _LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    lead, token = match.group(1), match.group(2)
    if token[0].isdigit():  # "1." / "1)" starts an ordered list: escape its punctuation instead
        return lead + token + "\\"
    return f"{lead}\\{token}"
