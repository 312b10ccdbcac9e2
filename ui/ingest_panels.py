"""Streamlit pieces of the Upload and Import History pages: how a file was read, the mapping
editor, the progress bar, and a job's outcome (counts, errors sample + full CSV, what was added).
Everything they show comes from core.ingest; nothing here touches SQL."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.ingest import JobSummary, Preview, errors_csv, job_errors
from core.ingest.presets import ATTRIBUTE, IGNORE
from core.warehouse.canonical import PLATFORMS, UNKNOWN_PLATFORM
from core.words.markup import literal
from ui.session import warehouse

ERROR_SAMPLE = 200
STAGES = {"reading": (0.0, 0.4), "validating": (0.4, 0.7), "loading": (0.7, 1.0)}
STAGE_TEXT = {
    "reading": "Reading the file…",
    "validating": "Checking every row…",
    "loading": "Loading into the warehouse…",
}
DONE_TEXT = "Done: read, checked and loaded."


def describe_preview(preview: Preview) -> None:
    """How the file was read and which preset was recognised."""
    delimiter = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}.get(
        preview.delimiter or "", preview.delimiter or ""
    )
    read_as = f"{preview.format.upper()}" + (f", {delimiter}-separated" if delimiter else "")
    st.caption(
        f"Read as {read_as}, encoding {preview.encoding or 'n/a'}; header on row "
        f"{preview.header_row}. Recognised as **{literal(preview.preset_title)}** ({preview.kind})."
    )
    for note in preview.notes or []:
        st.caption(f"ℹ️ {literal(note)}")
    if preview.rows is not None:
        st.dataframe(preview.rows, hide_index=True, width="stretch")


TEST_LABELS = {
    "nwea_map": "MAP Growth (NWEA, RIT scores)", "star": "Star (Renaissance)",
    "iready": "i-Ready Diagnostic", "dibels8": "DIBELS 8", "state": "A state test",
    UNKNOWN_PLATFORM: "Other / unknown",
}  # fmt: skip


def test_choice(preview: Preview, key: str) -> str | None:
    """Which test a generic (or hand-mapped) file holds; None for a vendor export, which says
    so itself. National norms judge only scores whose test is declared (MAP Growth: RIT)."""
    if not preview.declarable:
        return None
    options = list(PLATFORMS)
    default = preview.platform if preview.platform in options else UNKNOWN_PLATFORM
    chosen = st.selectbox(
        "Which test does this file hold?",
        options,
        index=options.index(default),
        format_func=TEST_LABELS.get,
        key=f"{key}:platform",
        help="National norms (NWEA MAP Growth) judge only MAP Growth scores. Leave “Other / "
        "unknown” unless you know: those scores are still compared with other years and "
        "cohorts, and with district norms or cut scores for that test. A platform column in "
        "the file wins row by row.",
    )
    return chosen


def mapping_editor(preview: Preview, key: str) -> dict[str, str]:
    """Source column → target field, editable; returns the mapping as edited."""
    choices = [*(preview.fields or []), ATTRIBUTE, IGNORE]
    current = preview.mapping or {}
    table = pd.DataFrame(
        {"column in the file": list(current), "maps to": [current[h] for h in current]}
    )
    edited = st.data_editor(
        table,
        key=f"{key}:mapping",
        hide_index=True,
        disabled=["column in the file"],
        column_config={
            "maps to": st.column_config.SelectboxColumn(
                "maps to",
                options=choices,
                required=True,
                help="A field, 'attribute' (kept as a student attribute) or 'ignore'.",
            )
        },
        width="stretch",
    )
    return dict(zip(edited["column in the file"], edited["maps to"], strict=True))


def progress_reporter(bar: st.delta_generator.DeltaGenerator) -> Callable[[str, float], None]:
    """A progress callback for import_file that moves one bar through the three stages."""

    def report(stage: str, fraction: float) -> None:
        low, high = STAGES.get(stage, (0.0, 1.0))
        bar.progress(min(1.0, low + (high - low) * fraction), text=STAGE_TEXT.get(stage, stage))

    return report


def show_summary(summary: JobSummary, key: str) -> None:
    """The job's outcome: status, counts, errors (a sample; the CSV has all), what was added."""
    if summary.status != "completed":
        st.error(f"Not imported: {literal(summary.message)}")
        return
    if summary.already_imported:
        st.info(literal(summary.message))
        return
    st.success(literal(summary.message))
    columns = st.columns(5)
    for column, (label, value) in zip(
        columns,
        (
            ("Rows read", summary.rows_read),
            ("Inserted", summary.inserted),
            ("Updated", summary.updated),
            ("Duplicates", summary.duplicates),
            ("Rejected", summary.rejected),
        ),
        strict=True,
    ):
        column.metric(label, f"{value:,}")
    show_added(summary.added)
    if summary.errors:
        show_errors(summary.job_id, len(summary.errors), key)


def show_added(added: dict) -> None:
    if not added:
        return
    parts = [
        f"{added.get('students', 0):,} students ({added.get('new_students', 0):,} new)",
        f"schools: {', '.join(added.get('schools', [])) or '—'}",
        f"years: {', '.join(added.get('school_years', [])) or '—'}",
        f"grades: {', '.join(added.get('grades', [])) or '—'}",
        f"subjects: {', '.join(added.get('subjects', [])) or '—'}",
        f"seasons: {', '.join(added.get('seasons', [])) or '—'}",
    ]
    st.caption("This file brings " + literal(" · ".join(parts)))
    if added.get("attributes_year_reason"):
        year = added.get("attributes_school_year")
        where = f"school year {year}" if year else "their school years"
        st.caption(
            f"Student attributes (ELL, SPED, FRL, programs …) are recorded for {where}: "
            f"{literal(added['attributes_year_reason'])}."
        )


def show_errors(job_id: int, count: int, key: str) -> None:
    """A sample of a job's problems on the page, all of them in the CSV download."""
    with warehouse() as con:
        sample = job_errors(con, job_id, limit=ERROR_SAMPLE)
        data = errors_csv(con, job_id)
    shown = f"the first {ERROR_SAMPLE:,} of " if count > ERROR_SAMPLE else ""
    st.markdown(f"**Problems found** — {shown}{count:,} (row numbers as the file shows them)")
    # A duplicate row's warning names no column, a problem of the whole file no row: blank cells
    # (as in the CSV), not Streamlit's "None".
    st.dataframe(sample, hide_index=True, width="stretch", placeholder="")
    st.download_button(
        f"Download all {count:,} problems (CSV)",
        data=data,
        file_name=f"import_{job_id}_errors.csv",
        mime="text/csv",
        key=f"{key}:errors",
    )
