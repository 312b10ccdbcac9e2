"""The PDF report: the page's numbers, the narrative, the charts as images, page numbers, the
privacy note — and nothing outside the reader's scope, no student."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pandas as pd
import pytest
from pypdf import PdfReader

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import prior_year_comparison
from core.report.data import build_report
from core.report.pdf import ReportFontError, render_pdf
from core.standards.standing import cohort_vs_norm
from core.warehouse import db
from tests.conftest import ROOT
from tests.reports.seed import seed

YEAR = "2024-2025"
LINCOLN_3 = CohortSpec.from_dict(
    {"name": "Grade 3 at Lincoln", "grade": "3", "schools": ["Lincoln Elementary"],
     "school_year": YEAR}
)  # fmt: skip
GRADE_4 = CohortSpec.from_dict({"name": "Grade 4, all schools", "grade": "4", "school_year": YEAR})
TINY_3 = CohortSpec.from_dict({"name": "Tiny grade 3", "grade": "3", "schools": ["Tiny Academy"]})
SPECS = [LINCOLN_3, GRADE_4, TINY_3]


@pytest.fixture(scope="module")
def report(warehouse):
    return build_report(warehouse, SPECS, DISTRICT, use_model=False)


@pytest.fixture(scope="module")
def pdf(report) -> PdfReader:
    return PdfReader(io.BytesIO(render_pdf(report)))


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_cohort_names_and_the_narrative_are_in_the_pdf(pdf, report) -> None:
    text = flat(text_of(pdf))
    for spec in SPECS:
        assert spec.name in text
    for section in report.sections:
        assert flat(section.narrative.summary) in text
    assert "fewer than 10 students" in text  # Tiny Academy's cohort is suppressed


def test_the_tables_show_the_pages_numbers(warehouse, pdf) -> None:
    text = text_of(pdf)
    page_table = cohort_vs_norm(warehouse, [LINCOLN_3, GRADE_4], DISTRICT)
    shown = page_table[~page_table["suppressed"].astype(bool)]
    assert len(shown) >= 8
    for row in shown.itertuples():
        for value in (row.mean, row.sd, row.median, row.norm_mean, row.diff):
            assert f"{value:.1f}" in text
        assert f"{row.n:,.0f}" in text
    prior = prior_year_comparison(warehouse, LINCOLN_3, DISTRICT, years_back=1)
    for row in prior.itertuples():
        assert f"{row.mean_a:.1f}" in text and f"{row.mean_b:.1f}" in text


def test_charts_are_embedded_images_and_pages_are_numbered(pdf, report) -> None:
    charted = [s for s in report.sections if s.charts]
    assert len(charted) == 2  # the suppressed cohort has no chart
    lincoln = report.sections[0]
    assert [title.split()[0] for title, _ in lincoln.charts] == ["Cohort", "This", "Each"]
    images = [image for page in pdf.pages for image in page.images]
    assert len(images) == sum(len(s.charts) for s in report.sections)
    assert all(image.image.width > 200 for image in images)
    pages = len(pdf.pages)
    assert pages >= 2 + len(SPECS)  # cover, summary, at least a page per cohort
    for number, page in enumerate(pdf.pages, start=1):
        footer = page.extract_text()
        assert f"Page {number} of {pages}" in footer
        assert "groups of fewer than 10 students are not reported" in footer


def test_no_student_name_or_id_in_the_pdf(pdf, roster: pd.DataFrame) -> None:
    words = set(re.findall(r"[\w-]+", text_of(pdf).lower()))
    for column in ("student_id", "first_name", "last_name"):
        assert words & set(roster[column].str.lower()) == set(), column


def test_a_school_admin_report_never_includes_another_school(warehouse) -> None:
    principal = Scope(username="principal", role="school_admin", schools=("Roosevelt Elementary",))
    reader = PdfReader(
        io.BytesIO(render_pdf(build_report(warehouse, [GRADE_4], principal, use_model=False)))
    )
    text = text_of(reader)
    assert "Roosevelt Elementary" in text
    assert "Lincoln" not in text and "Tiny" not in text
    own = cohort_vs_norm(warehouse, GRADE_4, principal)
    assert all(f"{m:.1f}" in text for m in own["mean"].dropna())


def test_a_missing_font_is_a_clear_error(report, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr("core.report.pdf.FONT_DIR", tmp_path)
    with pytest.raises(ReportFontError, match="fonts-dejavu-core"):
        render_pdf(report)


@pytest.mark.slow
def test_the_cli_writes_the_pdf_and_audits_it(tmp_path) -> None:
    path = tmp_path / "w.duckdb"
    with db.connect(path) as con:
        seed(con)
    out = tmp_path / "report.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "core", "report", "--db", str(path), "--cohort", LINCOLN_3.to_json(),
         "--out", str(out), "--template-only", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"cohorts": 1' in done.stdout
    assert "Grade 3 at Lincoln" in text_of(PdfReader(out))
    with db.connect(path) as con:
        logged = con.execute(
            "select username, detail::varchar from audit_log where action = 'report_download'"
        ).fetchall()
    assert len(logged) == 1 and logged[0][0].startswith("cli:")
    failed = subprocess.run(
        [sys.executable, "-m", "core", "report", "--db", str(path), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert failed.returncode == 1 and failed.stderr.startswith("error: Name at least one cohort")


def test_the_cli_takes_saved_and_quick_cohorts(warehouse) -> None:
    import argparse

    from core.cli import CommandError
    from core.cohorts.saved import save_cohort
    from core.commands.report import _specs

    save_cohort(warehouse, DISTRICT, "Lincoln threes", LINCOLN_3.replace(name=""))
    args = argparse.Namespace(cohort=[GRADE_4.to_json()], saved=["Lincoln threes"], quick=YEAR)
    specs = _specs(args, warehouse, DISTRICT)
    assert specs[0] == GRADE_4 and specs[1].name == "Lincoln threes"
    quick = specs[2:]
    assert {s.school_year for s in quick} == {(YEAR,)} and len(quick) == 6  # 3 schools × 2 grades
    with pytest.raises(CommandError, match="No saved cohort|not found|no cohort"):
        _specs(argparse.Namespace(cohort=[], saved=["nope"], quick=None), warehouse, DISTRICT)
