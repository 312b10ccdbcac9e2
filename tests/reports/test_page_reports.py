"""Every results page carries the cohort's narrative and its report downloads (PDF and Excel),
for exactly the cohort it shows, within the viewer's scope, opened from an insight's link.

The download buttons build their file on click (a deferred callable): the tests record the
callable Streamlit registers for each button and call it, as a click would, so the bytes checked
are the bytes a user downloads."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec, cohort_size
from core.narrate.insights import insight_feed, narrate_cohorts
from core.narrate.store import narrative_for
from core.standards.standing import cohort_vs_norm
from core.warehouse import db
from tests.conftest import run_page
from tests.reports.seed import SMALL_GROUP
from ui.insight_panels import EVIDENCE

ADA = Scope(username="ada")
LINCOLN_3 = CohortSpec.from_dict(
    {"grade": "3", "schools": ["Lincoln Elementary"], "school_year": "2024-2025"}
)
PAGES = ("standards", "prior_cohorts", "growth", "subgroups", "cohort_builder")
CLICKS: dict[str, Callable[[], bytes]] = {}


class RecordingFiles(MediaFileManager):
    """AppTest's media file manager, remembering each download button's deferred callable."""

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw) -> str:  # noqa: ANN001
        file_id = super().add_deferred(data_callable, mimetype, coordinates, file_name, **kw)
        CLICKS[file_id] = data_callable
        return file_id


@pytest.fixture(autouse=True)
def record_clicks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("streamlit.testing.v1.app_test.MediaFileManager", RecordingFiles)


def open_page(name: str, scope: Scope = ADA, spec: CohortSpec = LINCOLN_3) -> AppTest:
    """The page as an insight's link opens it (`?spec=`); the builder has no link: its picker
    is loaded the way its "Load" buttons load it."""
    if name == "cohort_builder":
        return run_page(
            f"app_pages/{name}.py", scope, timeout=180, state={"builder:pending": spec.to_dict()}
        )
    return run_page(f"app_pages/{name}.py", scope, timeout=180, query={"spec": spec.to_json()})


def download(app: AppTest, kind: str) -> bytes:
    """What clicking the page's "Download report (PDF|Excel)" button downloads."""
    label = {"pdf": "📄 Download report (PDF)", "xlsx": "📊 Download report (Excel)"}[kind]
    buttons = [b for b in app.get("download_button") if b.proto.label == label]
    assert len(buttons) == 1, [b.proto.label for b in app.get("download_button")]
    return CLICKS[buttons[0].proto.deferred_file_id]()


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def markdown(app: AppTest) -> list[str]:
    return [m.value for m in app.markdown]


def reported_rows(con, spec: CohortSpec, scope: Scope):  # noqa: ANN001, ANN201
    rows = cohort_vs_norm(con, [spec], scope)
    return rows[~rows["suppressed"].astype(bool)]


@pytest.mark.parametrize("name", PAGES)
def test_the_page_shows_the_cohorts_narrative_and_serves_its_report(warehouse_file, name) -> None:
    app = open_page(name)
    assert not app.exception, name
    with db.connect(warehouse_file) as con:
        story = narrative_for(con, LINCOLN_3, ADA)
        rows = reported_rows(con, LINCOLN_3, ADA)
        students = cohort_size(con, LINCOLN_3, ADA)
    assert "Grade 3 · 2024-2025 · Lincoln Elementary" in story.summary
    assert f" {students} students" in story.summary and students >= 50
    assert story.summary.replace("$", "\\$") in markdown(app)
    assert len(rows) == 4  # math and reading, fall and spring

    text = pdf_text(download(app, "pdf"))
    assert "Grade 3 · 2024-2025 · Lincoln Elementary" in text
    assert re.sub(r"\s+", " ", story.summary) in text
    for row in rows.itertuples():  # the standards page's numbers for this very cohort
        assert f"{row.mean:.1f}" in text and f"{row.norm_mean:.1f}" in text
    assert "Roosevelt" not in text and "Tiny Academy" not in text
    assert SMALL_GROUP not in text  # four students: suppressed everywhere

    book = load_workbook(io.BytesIO(download(app, "xlsx")))
    header = {row[0]: row[1] for row in book["Header"].iter_rows(values_only=True)}
    assert header["Cohort 1"].startswith("Grade 3 · 2024-2025 · Lincoln Elementary — ")
    assert "Cohort 2" not in header
    sheet = book["Against the norm"]
    mean = [c.value for c in sheet[1]].index("Mean")
    means = [r[mean] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(means) == pytest.approx(sorted(rows["mean"]))  # numbers, not text
    with db.connect(warehouse_file) as con:
        logged = con.execute(
            "select detail::varchar from audit_log where action = 'report_download' "
            "and username = 'ada' order by 1"
        ).fetchall()
    assert [json.loads(d)["cohorts"] for (d,) in logged][-2:] == [[LINCOLN_3.to_dict()]] * 2


def test_a_principal_gets_only_their_school_from_a_link_to_another(warehouse_file) -> None:
    principal = Scope(username="pat", role="school_admin", schools=("Roosevelt Elementary",))
    app = open_page("standards", principal)
    assert not app.exception
    shown = CohortSpec.from_dict({"grade": "3", "school_year": "2024-2025"})
    with db.connect(warehouse_file) as con:
        story = narrative_for(con, shown, principal)
        rows = reported_rows(con, shown, principal)
    assert story.summary.replace("$", "\\$") in markdown(app)
    text = pdf_text(download(app, "pdf"))
    assert "Lincoln" not in text and "Tiny Academy" not in text
    assert len(rows) == 4
    for row in rows.itertuples():
        assert f"{row.mean:.1f}" in text


def test_a_suppressed_cohort_has_no_numbers_and_the_builder_offers_no_report(
    warehouse_file,
) -> None:
    tiny = CohortSpec.from_dict(
        {"grade": "3", "schools": ["Tiny Academy"], "school_year": "2024-2025"}
    )
    builder = open_page("cohort_builder", spec=tiny)
    assert not builder.exception
    assert "Fewer than 10 students" in builder.warning[0].value
    assert not [b for b in builder.get("download_button") if "report" in b.proto.label]
    standards = open_page("standards", spec=tiny)
    assert not standards.exception
    assert any("has fewer than 10 students" in m for m in markdown(standards))
    text = pdf_text(download(standards, "pdf"))
    assert "fewer than 10 students" in text and "Against the national norm" not in text


def test_the_standards_page_reports_a_saved_set_and_the_quick_cohorts(warehouse_file) -> None:
    app = open_page("standards")
    app.segmented_control(key="standards:source").set_value("All quick cohorts").run()
    assert not app.exception
    text = pdf_text(download(app, "pdf"))
    # every grade × school cohort of the year, the tiny school's without numbers
    for school in ("Lincoln Elementary", "Roosevelt Elementary", "Tiny Academy"):
        for grade in ("3", "4"):
            assert f"Grade {grade} · {school} · 2024-2025" in text


EVIDENCE_PICKERS = {
    "app_pages/standards.py": "standards", "app_pages/prior_cohorts.py": "prior",
    "app_pages/growth.py": "growth", "app_pages/subgroups.py": "subgroups",
}  # fmt: skip


def test_an_insights_narrative_links_to_each_evidence_page_on_its_cohort(warehouse_file) -> None:
    with db.connect(warehouse_file) as con:
        narrate_cohorts(con, [LINCOLN_3.replace(name="Grade 3 at Lincoln")], ADA)
        feed = insight_feed(con, ADA)
    # a narrative is the cohort definition's: the name the spec carried neither keys nor titles it
    assert "Grade 3 at Lincoln" not in feed.to_csv()
    item = feed[(feed["kind"] == "narrative") & (feed["title"] == LINCOLN_3.label())].iloc[0]
    assert [page for page, _ in EVIDENCE] == list(EVIDENCE_PICKERS)
    for page, picker in EVIDENCE_PICKERS.items():
        # the spec is what the card's st.page_link carries
        app = run_page(page, ADA, timeout=180, query={"spec": item["spec"]})
        assert not app.exception, page
        chosen = {w.key: w.value for w in app.multiselect}
        assert chosen[f"{picker}:schools"] == ["Lincoln Elementary"], page
        assert chosen[f"{picker}:grade"] == ["3"], page
        assert chosen[f"{picker}:school_year"] == ["2024-2025"], page
        assert any(m.startswith(LINCOLN_3.label()) or f" {LINCOLN_3.label()}" in m
                   for m in markdown(app)), page  # fmt: skip
