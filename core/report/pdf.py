"""The PDF report (fpdf2): a cover, a summary page, then per cohort its narrative, tables and the
pages' charts as PNG images (vl-convert), with page numbers, generation time and the privacy note.

Text is set in DejaVu Sans (Debian's fonts-dejavu-core) so names with accents print; without the
font the report refuses with a clear message rather than dropping characters.
"""

from __future__ import annotations

import io
import math
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from fpdf import FPDF

from core.narrate.inputs import SEVERITY_ORDER
from core.report.data import (
    CHART_SCALE,
    MAX_ALL_CHARTS,
    CohortSection,
    Report,
    build_report,
    gaps_table,
    growth_table,
    prior_table,
    spec_lines,
    standards_table,
    summary_table,
)
from core.words.numbers import fixed

FONT_DIR = Path(os.environ.get("YARDSTICK_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT = "DejaVu"
WIDTH = 180.0  # mm between the margins of an A4 page
MAX_CHART_HEIGHT = 95.0  # mm: a chart never takes more than about half a page
INK, GREY, ACCENT = (33, 37, 41), (110, 117, 125), (31, 78, 121)
HEADER_FILL = (228, 235, 244)
INTEGER_COLUMNS = {
    "Students", "Students now", "Students then", "Matched students", "Missing a test",
    "Students in group", "Students in the rest", "Alerts",
}  # fmt: skip
TWO_DECIMALS = {"Standardized difference", "Hedges' g"}
PERCENT_COLUMNS = {"% meeting expected"}
STANDARDS_PDF = ["Subject", "Season", "Students", "Mean", "SD", "Median", "Norm mean",
                 "Difference", "95% CI low (before correction)",
                 "95% CI high (before correction)", "Against the norm",
                 "Holds after correction"]  # fmt: skip
PRIOR_PDF = ["Subject", "Season", "Compared with", "Students now", "Mean now", "Students then",
             "Mean then", "Difference", "95% CI low (before correction)",
             "95% CI high (before correction)", "Size", "Verdict"]  # fmt: skip


class ReportFontError(RuntimeError):
    """The bundled TTF font is missing (install fonts-dejavu-core)."""


def cell_text(value: Any, column: str) -> str:
    """A value as the report prints it: one decimal for scores, whole numbers for counts."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if column in INTEGER_COLUMNS:
            return f"{value:,.0f}"
        if column in PERCENT_COLUMNS:
            return f"{fixed(value, 0)}%"
        return fixed(value, 2 if column in TWO_DECIMALS else 1)
    return str(value)


class ReportPDF(FPDF):
    def __init__(self, report: Report) -> None:
        super().__init__(format="A4")
        self.report = report
        for style, name in FONT_FILES.items():
            path = FONT_DIR / name
            if not path.exists():
                raise ReportFontError(
                    f"The report font {path} is missing; install it with "
                    "`apt-get install fonts-dejavu-core` (or set YARDSTICK_FONT_DIR)."
                )
            self.add_font(FONT, style, str(path))
        self.set_margins(15, 16, 15)
        self.set_auto_page_break(True, margin=18)
        self.set_title(f"{report.district} — {report.title}")
        self.set_creator("Yardstick")
        self._widths: dict[tuple, float] = {}

    def get_string_width(self, s: str, normalized: bool = False, markdown: bool = False) -> float:
        """fpdf's width, remembered: a 30-cohort report measures the same words thousands of
        times (wrapping every table cell twice was a third of its layout time)."""
        key = (
            self.font_family,
            self.font_style,
            self.font_size_pt,
            self.font_stretching,
            self.char_spacing,
            s,
            normalized,
            markdown,
        )
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = super().get_string_width(s, normalized, markdown)
        return width

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(FONT, size=7.5)
        self.set_text_color(*GREY)
        self.cell(WIDTH / 2, 5, f"{self.report.district} · {self.report.title}")
        self.cell(
            WIDTH / 2, 5, "Yardstick assessment report", align="R", new_x="LMARGIN", new_y="NEXT"
        )
        self.set_draw_color(*GREY)
        self.line(15, self.get_y(), 195, self.get_y())
        self.ln(3)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, size=7)
        self.set_text_color(*GREY)
        stamp = self.report.generated_at.strftime("%Y-%m-%d %H:%M")
        note = (
            f"Generated {stamp} · groups of fewer than {self.report.min_n} students are not "
            "reported"
        )
        self.cell(WIDTH * 0.8, 5, note)
        self.cell(WIDTH * 0.2, 5, f"Page {self.page_no()} of {{nb}}", align="R")


# --- building blocks -------------------------------------------------------------------------


def heading(pdf: FPDF, text: str, size: float = 13, space: float = 2) -> None:
    pdf.ln(space)
    if pdf.get_y() + size * 1.6 > pdf.page_break_trigger:
        pdf.add_page()  # never a heading alone at the foot of a page
    pdf.set_font(FONT, "B", size)
    pdf.set_text_color(*ACCENT)
    lines_at(pdf, pdf.l_margin, WIDTH, size * 0.5, text)
    pdf.set_text_color(*INK)
    pdf.ln(1)


def paragraph(pdf: FPDF, text: str, size: float = 9.5, color: tuple = INK) -> None:
    pdf.set_font(FONT, size=size)
    pdf.set_text_color(*color)
    lines_at(pdf, pdf.l_margin, WIDTH, size * 0.5, text)
    pdf.set_text_color(*INK)


def bullets(pdf: FPDF, items: Sequence[str], size: float = 9) -> None:
    pdf.set_font(FONT, size=size)
    for item in items:
        if pdf.get_y() + size * 0.5 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_x(18)
        pdf.cell(4, size * 0.5, "•")
        lines_at(pdf, 22, WIDTH - 7, size * 0.5, item)
        pdf.ln(0.6)


def column_widths(pdf: FPDF, header: list[str], body: list[list[str]], size: float) -> list[float]:
    """Widths (mm, summing to the text width) from what each column must hold at this font: its
    longest header word (bold) and its longest value (capped, longer text wraps)."""
    pad = 2.0
    needs = []
    pdf.set_font(FONT, "B", size)
    words = [max((pdf.get_string_width(w) for w in t.split()), default=4.0) for t in header]
    pdf.set_font(FONT, "", size)
    for index, word in enumerate(words):
        value = max((pdf.get_string_width(r[index]) for r in body), default=0.0)
        needs.append(max(word, min(value, 48.0)) + pad)
    spare = WIDTH - sum(needs)
    if spare >= 0:  # room to spare: give it to the columns that would wrap
        return [n + spare / len(needs) for n in needs]
    return [WIDTH * n / sum(needs) for n in needs]


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Greedy word wrap at the current font, linear in the text (multi_cell re-measures the
    line on every character, which dominated a 30-cohort report)."""
    if pdf.get_string_width(text) <= width:
        return [text]
    space = pdf.get_string_width(" ")
    lines: list[str] = []
    line: list[str] = []
    line_width = 0.0
    for word in text.split():
        size = pdf.get_string_width(word)
        extra = size + (space if line else 0.0)
        if line and line_width + extra > width:
            lines.append(" ".join(line))
            line, line_width = [word], size
        else:
            line.append(word)
            line_width += extra
    return [*lines, " ".join(line)] if line else lines or [""]


def lines_at(pdf: FPDF, x: float, width: float, height: float, text: str) -> None:
    """Wrapped text from x, one cell a line (cells break pages by themselves)."""
    for line in wrap(pdf, text, width):
        pdf.set_x(x)
        pdf.cell(width, height, line, new_x="LMARGIN", new_y="NEXT")


def _wrapped(pdf: FPDF, cells: list[str], widths: list[float]) -> list[list[str]]:
    """Each cell's lines at the current font."""
    return [wrap(pdf, text, w - 1.6) for text, w in zip(cells, widths, strict=True)]


def _table_row(
    pdf: FPDF, wrapped: list[list[str]], widths: list[float], aligns: list[str], height: float
) -> float:
    """One row (its cells' lines) at the current position; returns its height."""
    row_height = max(len(lines) for lines in wrapped) * height + 1.4
    x0, y0 = pdf.l_margin, pdf.get_y()
    x = x0
    for lines, w, align in zip(wrapped, widths, aligns, strict=True):
        for k, line in enumerate(lines):
            pdf.set_xy(x + 0.8, y0 + 0.7 + k * height)
            pdf.cell(w - 1.6, height, line, align=align)
        x += w
    pdf.line(x0, y0 + row_height, x0 + WIDTH, y0 + row_height)
    pdf.set_xy(x0, y0 + row_height)
    return row_height


def table(pdf: FPDF, frame: pd.DataFrame, size: float = 7.2) -> None:
    """A table with numbers right-aligned; the header repeats after a page break."""
    if frame.empty:
        paragraph(pdf, "Nothing to report here.", size=8.5, color=GREY)
        return
    header = [str(c) for c in frame.columns]
    body = [
        [cell_text(v, c) for v, c in zip(values, frame.columns, strict=True)]
        for values in frame.itertuples(index=False)
    ]
    widths = column_widths(pdf, header, body, size)
    aligns = ["R" if pd.api.types.is_numeric_dtype(frame[c]) else "L" for c in frame.columns]
    height = size * 0.42
    pdf.set_draw_color(200, 205, 212)

    def head() -> None:
        pdf.set_font(FONT, "B", size)
        pdf.set_fill_color(*HEADER_FILL)
        wrapped = _wrapped(pdf, header, widths)
        lines = max(len(cell) for cell in wrapped)
        pdf.rect(pdf.l_margin, pdf.get_y(), WIDTH, lines * height + 1.4, style="F")
        _table_row(pdf, wrapped, widths, aligns, height)
        pdf.set_font(FONT, size=size)

    head()
    for cells in body:
        wrapped = _wrapped(pdf, cells, widths)
        if pdf.get_y() + max(map(len, wrapped)) * height + 1.4 > pdf.page_break_trigger:
            pdf.add_page()
            head()
        _table_row(pdf, wrapped, widths, aligns, height)
    pdf.ln(2)


def png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


def image(pdf: FPDF, png: bytes, title: str) -> None:
    width_px, height_px = png_size(png)
    width = min(WIDTH, width_px / CHART_SCALE * 0.2646)
    height = height_px / width_px * width
    if height > MAX_CHART_HEIGHT:
        width, height = width * MAX_CHART_HEIGHT / height, MAX_CHART_HEIGHT
    if pdf.get_y() + height + 8 > pdf.page_break_trigger:
        pdf.add_page()
    paragraph(pdf, title, size=8, color=GREY)
    pdf.image(io.BytesIO(png), x=15 + (WIDTH - width) / 2, w=width, h=height, alt_text=title)
    pdf.ln(2)


# --- pages -----------------------------------------------------------------------------------


def cover(pdf: ReportPDF, report: Report) -> None:
    pdf.add_page()
    pdf.ln(30)
    pdf.set_font(FONT, "B", 24)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 11, report.district, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 15)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 8, f"Assessment report: {report.title}", new_x="LMARGIN", new_y="NEXT")
    if report.schools:
        paragraph(pdf, "Schools: " + ", ".join(report.schools), size=11)
    pdf.ln(6)
    lines = [
        f"Generated {report.generated_at:%d %B %Y, %H:%M} by {report.generated_by}",
        f"Data visible to this report: {report.scope_label}",
        f"Compared against: {report.norms}",
        f"Cohorts: {len(report.sections)}",
    ]
    bullets(pdf, lines, size=10)
    for section in report.sections[:12]:
        heading(pdf, section.findings.label, size=10, space=1)
        paragraph(pdf, " · ".join(spec_lines(section.spec)), size=8.5, color=GREY)
    if len(report.sections) > 12:
        paragraph(pdf, f"…and {len(report.sections) - 12} more cohorts (see the summary).", 8.5)
    pdf.ln(6)
    paragraph(
        pdf,
        f"Privacy: any group of fewer than {report.min_n} students is left out of every table, "
        "chart and sentence, together with any figure that would let it be worked out. "
        "This report holds no student names or ids.",
        size=8.5,
        color=GREY,
    )


def summary_page(pdf: ReportPDF, report: Report) -> None:
    pdf.add_page()
    heading(pdf, "Summary", size=16, space=0)
    paragraph(
        pdf,
        "Where each cohort stands against the national norm in its latest test window, and "
        "which changes since last year are real (not chance).",
        size=9,
        color=GREY,
    )
    pdf.ln(2)
    table(pdf, summary_table(report), size=7.5)
    if len(report.sections) > MAX_ALL_CHARTS:
        paragraph(
            pdf,
            f"With {len(report.sections)} cohorts, each shows its chart against the norm; the "
            "charts of earlier years and of subgroup gaps are in reports of up to "
            f"{MAX_ALL_CHARTS} cohorts (and on the Prior cohorts and Subgroups pages).",
            size=8,
            color=GREY,
        )
    found = {a.title: a for s in report.sections for a in s.findings.alerts}
    alerts = sorted(found.values(), key=lambda a: SEVERITY_ORDER.get(a.severity, 9))
    if alerts:
        heading(pdf, "Alerts in these cohorts", size=11)
        bullets(pdf, [f"{a.severity.capitalize()}: {a.title}" for a in alerts[:15]], size=8.5)


def narrative_block(pdf: ReportPDF, section: CohortSection) -> None:
    story = section.narrative
    if story.notice:
        paragraph(pdf, story.notice, size=8, color=GREY)
    paragraph(pdf, story.summary, size=10)
    for title, items in story.sections():
        heading(pdf, title, size=10.5, space=1.5)
        bullets(pdf, items)
    writer = (
        "Yardstick's built-in template (no AI)"
        if story.generator.startswith("template")
        else story.generator
    )
    paragraph(pdf, f"Written by {writer}.", size=7, color=GREY)


def _columns(frame: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
    varying = [
        c for c in ("School year", "School", "Grade") if c in frame and frame[c].nunique() > 1
    ]
    return frame[[*varying, *[c for c in wanted if c in frame]]]


def cohort_pages(pdf: ReportPDF, section: CohortSection) -> None:
    pdf.add_page()
    heading(pdf, section.findings.label, size=16, space=0)
    paragraph(pdf, " · ".join(spec_lines(section.spec)), size=8, color=GREY)
    pdf.ln(1)
    narrative_block(pdf, section)
    if section.findings.suppressed:
        return
    standards = standards_table(section)
    heading(pdf, "Against the national norm", size=12)
    table(pdf, _columns(standards, STANDARDS_PDF))
    notes = [n for n in standards.get("Note", pd.Series(dtype=str)).dropna().unique() if n]
    if notes:
        paragraph(pdf, "Notes: " + "; ".join(notes), size=7.5, color=GREY)
    for title, png in section.charts_of("standards"):
        image(pdf, png, title)
    heading(pdf, "Against last year (different students)", size=12)
    table(pdf, _columns(prior_table(section), PRIOR_PDF))
    for title, png in section.charts_of("prior"):
        image(pdf, png, title)
    heading(pdf, "Growth (the same students)", size=12)
    table(pdf, growth_table(section))
    heading(pdf, "Subgroup gaps (latest test window)", size=12)
    table(pdf, gaps_table(section))
    for title, png in section.charts_of("gaps"):
        image(pdf, png, title)


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes."""
    pdf = ReportPDF(report)
    cover(pdf, report)
    if len(report.sections) > 1:  # one cohort: its own page is the summary
        summary_page(pdf, report)
    for section in report.sections:
        cohort_pages(pdf, section)
    return bytes(pdf.output())


def report_pdf(
    con: Any, specs: Sequence[Any], scope: Any, *, title: str | None = None, use_model: bool = True
) -> bytes:
    """One cohort or a set of cohorts as a PDF, within `scope` (pages and the CLI call this)."""
    return render_pdf(build_report(con, specs, scope, title=title, use_model=use_model))
