"""The Insights page in AppTest: alerts by severity with evidence links, narratives written on
request, filters, report buttons — and a principal sees only their school."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import CohortSpec
from core.narrate.insights import insight_feed
from core.report.files import file_name, report_file
from core.warehouse import db
from tests.conftest import run_page


def page(scope: Scope) -> AppTest:
    return run_page("app_pages/insights.py", scope, timeout=120)


def words(app: AppTest) -> str:
    return " ".join(str(m.value) for m in [*app.markdown, *app.caption, *app.info, *app.success])


def test_alerts_first_then_narratives_written_on_request(warehouse_file) -> None:
    app = page(Scope(username="ada"))
    assert not app.exception
    assert app.selectbox(key="insights:year").value == "2024-2025"
    assert "Critical · Grade 3 math (spring) at Lincoln Elementary declined" in words(app)
    app.button[0].click().run()
    assert not app.exception
    text = words(app)
    assert "Narratives (" in " ".join(h.value for h in app.subheader)
    assert "📝 Grade 3 · Lincoln Elementary · 2024-2025" in text
    assert "Download report (PDF)" in [b.label for b in app.get("download_button")][0]
    app.selectbox(key="insights:school").set_value("Roosevelt Elementary").run()
    assert "Lincoln Elementary" not in words(app).replace("Roosevelt Elementary", "")


def test_a_principal_sees_only_their_school(warehouse_file) -> None:
    principal = Scope(username="pat", role="school_admin", schools=("Roosevelt Elementary",))
    app = page(principal)
    assert not app.exception
    assert app.selectbox(key="insights:school").options == ["All", "Roosevelt Elementary"]
    app.button[0].click().run()
    assert not app.exception
    assert "Lincoln" not in words(app) and "Tiny" not in words(app)
    with db.connect(warehouse_file) as con:
        feed = insight_feed(con, principal)
    assert len(feed) and not feed.to_csv().count("Lincoln")


def test_the_report_button_builds_an_audited_file(warehouse_file) -> None:
    spec = CohortSpec.from_dict({"grade": "4", "school_year": "2024-2025"})
    with db.connect(warehouse_file) as con:
        data = report_file(con, [spec], DISTRICT, "ada", "pdf", use_model=False)
        logged = con.execute(
            "select count(*) from audit_log where action = 'report_download' and username = 'ada'"
        ).fetchone()[0]
    assert data.startswith(b"%PDF") and logged >= 1
    assert file_name([spec], "pdf") == "yardstick-report-grade-4-2024-2025.pdf"


def _panel_script() -> None:
    import streamlit as st

    from core.cohorts.spec import CohortSpec
    from ui.narrative_panel import narrative_panel

    spec = CohortSpec.from_dict(
        {"grade": "3", "school_year": "2024-2025", "schools": ["Lincoln Elementary"]}
    )
    narrative_panel(spec, st.session_state["scope"])


def test_the_narrative_panel_shows_the_stored_narrative(warehouse_file) -> None:
    app = AppTest.from_function(_panel_script, default_timeout=120)
    app.session_state["scope"] = Scope(username="ada")
    app.session_state["username"] = "ada"
    app.run()
    assert not app.exception
    assert "Grade 3 · 2024-2025 · Lincoln Elementary" in app.markdown[0].value
    assert [b.label for b in app.get("download_button")][0].endswith("(PDF)")

    def written() -> int:
        with db.connect(warehouse_file) as con:
            return con.execute("select count(*) from narratives").fetchone()[0]

    before = written()
    app.run()  # a rerun reads the cache: nothing is gathered or written again
    assert not app.exception and written() == before >= 1
