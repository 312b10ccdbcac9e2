"""Planted names in narratives and reports: a narrative is keyed by its cohort's definition, so a
name carried by a `?spec=` link neither chooses nor enters the narrative other readers see; a
narrative's Markdown (template or model) reads literally; the PDF prints every name as it is."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import duckdb
import pytest
from pypdf import PdfReader

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import CohortSpec
from core.narrate.store import cohort_key, narrative_for, stored_narratives
from core.narrate.text import Narrative
from core.report.files import report_file
from core.warehouse import db
from tests.ui.planted import (
    COHORT,
    LINKED,
    SCHOOL,
    STUDENT,
    TEACHER,
    VALUE,
    live_markup,
    plant,
    reads,
)

NAMED = CohortSpec.from_dict(LINKED)
VIEWER = Scope(username="val", role="viewer", schools=(SCHOOL,))


@pytest.fixture(scope="module")
def warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.memory()
    plant(connection)
    yield connection
    connection.close()


def test_a_name_neither_keys_nor_enters_a_stored_narrative(warehouse) -> None:
    assert cohort_key(NAMED, VIEWER) == cohort_key(NAMED.replace(name=""), VIEWER)
    story = narrative_for(warehouse, NAMED, VIEWER, use_model=False)
    assert story == narrative_for(warehouse, NAMED.replace(name=""), VIEWER, use_model=False)
    assert "evil.example/cohort" not in story.text()
    feed = stored_narratives(warehouse, Scope(username="other", role="viewer", schools=(SCHOOL,)))
    assert len(feed) == 1 and "evil.example/cohort" not in feed.to_csv()
    assert feed["cohort_label"].iloc[0] == NAMED.replace(name="").label()
    assert SCHOOL in story.text()  # the school is data, told literally wherever it is shown


def test_a_narrative_stored_under_a_name_earlier_stays_out_of_the_feed(warehouse) -> None:
    warehouse.execute(
        "insert into narratives (cohort_key, cohort_label, spec, scope_key, inputs, inputs_hash, "
        "requested, generator, content) select 'old', $label, $spec, scope_key, inputs, "
        "inputs_hash, requested, generator, content from narratives limit 1",
        {"label": COHORT, "spec": NAMED.to_json()},
    )
    assert "evil.example/cohort" not in stored_narratives(warehouse, VIEWER).to_csv()


def test_a_model_narrative_reads_literally() -> None:
    story = Narrative(
        summary=f"{SCHOOL} is doing fine. Click [here](http://evil.example/model).",
        key_findings=(TEACHER, f"{VALUE} trail in reading"),
        look_into=(STUDENT, "$x$ and :red[alarm]"),
    )
    for markdown in (story.markdown(), story.summary_markdown()):
        assert not live_markup(markdown), live_markup(markdown)
    shown = reads(story.markdown())
    assert story.summary in shown and TEACHER in shown and STUDENT in shown
    assert "**Key findings**" in story.markdown()  # the section titles stay bold


def test_the_pdf_prints_every_name_as_it_is(warehouse) -> None:
    quick = CohortSpec.from_dict({"grade": "3", "schools": [SCHOOL], "school_year": "2024-2025"})
    data = report_file(warehouse, [NAMED, quick], DISTRICT, None, "pdf", use_model=False)
    text = re.sub(
        r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    )
    assert COHORT in text and SCHOOL in text
    assert VALUE in text or "Gifted" not in text  # a gap naming the group prints it literally
