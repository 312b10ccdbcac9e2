"""The Upload page in a real browser. An admin drops the demo generator's NWEA MAP Growth sample
with a few bad rows and imports it: the counts, what the file brings and the row-numbered
problems on the page equal an independent pandas reading of the file and what the warehouse
holds. The same file again is "already imported" and adds nothing; a corrected re-export
inserts the fixed rows and updates only the rescored tests. A file with unknown headers is
mapped in the mapping editor and imported."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import playwright.sync_api
import pytest

from core.access import users
from core.demo.district import generate
from core.demo.samples import SAMPLES
from core.warehouse import db
from tests.browser.test_sign_in import PASSWORD, remembered, sign_in, signed_in
from ui.ingest_panels import DONE_TEXT, STAGE_TEXT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect, PlaywrightError = playwright.sync_api.expect, playwright.sync_api.Error

NWEA = "nwea_map_combined_data_file.csv"
# The NWEA preset's rules, restated here (core/presets/nwea_map.json, core/warehouse/canonical.py)
GRADES = ["PK", "K", *(str(g) for g in range(1, 13))]
SUBJECTS = {"Mathematics": "math", "Reading": "reading"}
TERM = r"^(Fall|Winter|Spring) (\d{4}-\d{4})$"
RIT = (100, 350)
KEY = ["StudentID", "subject", "school_year", "season"]
MEASURES = ["SchoolName", "Grade", "TestStartDate", "score", "TestPercentile"]
PROGRESS = ["Starting…", *STAGE_TEXT.values(), DONE_TEXT]  # reading → validating → loading
COUNTS = ["Rows read", "Inserted", "Updated", "Duplicates", "Rejected"]


def read_raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def nwea_sample(folder: Path) -> Path:
    """The demo generator's NWEA MAP Growth sample (Lincoln Elementary, latest year), small."""
    sample = next(s for s in SAMPLES if s.name == NWEA)
    return sample.write(sample.rows(generate(300, years=2, seed=5)), folder / NWEA)


def with_bad_rows(clean: Path, target: Path) -> Path:
    raw = read_raw(clean)
    raw.loc[3, "TestRITScore"] = "abc"
    raw.loc[10, "TestRITScore"] = "999"
    raw.loc[17, "TestRITScore"] = "-5"
    raw.loc[20, "Grade"] = "14"
    raw.loc[30, "StudentID"] = ""
    raw = pd.concat([raw, raw.iloc[[50]]], ignore_index=True)  # the same test exported twice
    raw.to_csv(target, index=False)
    return target


def rescored(clean: Path, target: Path) -> Path:
    """A re-export in which every 40th test was rescored one RIT point up."""
    raw = read_raw(clean)
    changed = raw.index[::40]
    raw.loc[changed, "TestRITScore"] = (raw.loc[changed, "TestRITScore"].astype(int) + 1).map(str)
    raw.to_csv(target, index=False)
    return target


def checked(path: Path) -> tuple[pd.DataFrame, pd.Series, list[tuple[int, str]]]:
    """The file read with pandas (file row numbers as index: the header is row 1), which rows
    pass the preset's rules, and (row, column) of every rule a row breaks."""
    raw = read_raw(path)
    raw.index = raw.index + 2
    term = raw["TermName"].str.extract(TERM)
    rows = raw.assign(
        season=term[0].str.lower(),
        school_year=term[1],
        subject=raw["Subject"].map(SUBJECTS),
        score=pd.to_numeric(raw["TestRITScore"], errors="coerce"),
    )
    broken = {
        "StudentID": rows["StudentID"].str.strip().eq(""),
        "TestRITScore": ~rows["score"].between(*RIT),
        "Grade": ~rows["Grade"].isin(GRADES),
        "TermName": rows["season"].isna(),
        "Subject": rows["subject"].isna(),
    }
    problems = [(int(r), column) for column, bad in broken.items() for r in rows.index[bad]]
    return rows, ~pd.concat(broken, axis=1).any(axis=1), problems


def expected_import(path: Path, stored: pd.DataFrame | None = None) -> dict:
    """What importing `path` over `stored` (the tests already loaded) must show: a later row
    with the same key replaces an earlier one in the file; a known key with other values is an
    update, with the same values a duplicate."""
    rows, ok, problems = checked(path)
    good = rows[ok]
    repeated = good.duplicated(KEY, keep="last")
    kept = good[~repeated]
    before = stored if stored is not None else kept.iloc[0:0]
    joined = kept.merge(
        before[KEY + MEASURES], on=KEY, how="left", suffixes=("", "_old"), indicator=True
    )
    known = joined["_merge"].eq("both").to_numpy()
    same = known & (
        joined[MEASURES].to_numpy() == joined[[f"{m}_old" for m in MEASURES]].to_numpy()
    ).all(axis=1)
    order = {g: i for i, g in enumerate(GRADES)}
    brings = (
        f"This file brings {kept['StudentID'].nunique():,} students "
        f"({len(set(kept['StudentID']) - set(before['StudentID'])):,} new) · "
        f"schools: {', '.join(sorted(kept['SchoolName'].unique()))} · "
        f"years: {', '.join(sorted(kept['school_year'].unique()))} · "
        f"grades: {', '.join(sorted(kept['Grade'].unique(), key=order.get))} · "
        f"subjects: {', '.join(sorted(kept['subject'].unique()))} · "
        f"seasons: {', '.join(sorted(kept['season'].unique()))}"
    )
    counts = [
        len(rows),
        int((~known).sum()),
        int((known & ~same).sum()),
        int(repeated.sum() + same.sum()),
        int((~ok).sum()),
    ]
    problems += [(int(r), "") for r in good.index[repeated]]
    return {
        "counts": dict(zip(COUNTS, counts, strict=True)),
        "brings": brings,
        "problems": sorted(problems),
        "raw": rows,
        "stored": pd.concat([before, kept]).drop_duplicates(KEY, keep="last"),
    }


def finished(page) -> None:
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def shown_counts(page) -> dict[str, int]:
    metrics = page.get_by_test_id("stMetric")
    expect(metrics).to_have_count(len(COUNTS))
    shown = {}
    for metric in metrics.all():
        label = metric.get_by_test_id("stMetricLabel").inner_text().strip()
        shown[label] = int(metric.get_by_test_id("stMetricValue").inner_text().replace(",", ""))
    return shown


def shown_table(page, rows: int) -> list[list[str]]:
    """The last st.dataframe's cells, read from the grid's accessibility table (the grid itself
    is drawn on a canvas)."""
    body = page.get_by_test_id("stDataFrame").last.locator('table[role="grid"] tbody tr')
    expect(body).to_have_count(rows)
    return [[cell.text_content() or "" for cell in row.locator("td").all()] for row in body.all()]


def assert_problems(table: list[list[str]], expected: dict) -> None:
    """Row numbers and columns as pandas found them; each message quotes the bad value."""
    raw = expected["raw"]
    assert sorted((int(row), column) for row, column, _, _ in table) == expected["problems"]
    for row, column, message, severity in table:
        if not column:
            assert message.startswith("duplicate of row") and severity == "warning"
        elif raw.loc[int(row), column].strip():
            assert f"{raw.loc[int(row), column]}" in message and severity == "error"
        else:
            assert message.startswith("blank:") and severity == "error"


def open_upload(page) -> None:
    """Open the Upload page once the sign-in's last run is over (a click during that run can
    be lost)."""
    signed_in(page, "boss")
    finished(page)
    page.get_by_role("link", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload")).to_be_visible()
    finished(page)


def upload(page, path: Path) -> None:
    finished(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    expect(page.get_by_text(f"📄 {path.name}")).to_be_visible()


WATCH_PROGRESS = """() => {
    window.progressSeen = [];
    new MutationObserver(() => {
        for (const bar of document.querySelectorAll('[data-testid="stProgress"]')) {
            const text = bar.innerText.trim();
            if (text && !window.progressSeen.includes(text)) window.progressSeen.push(text);
        }
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def import_and_wait(page) -> list[str]:
    """Click Import, wait for the summary; the progress bar's texts seen meanwhile."""
    page.evaluate(WATCH_PROGRESS)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("rows read:")).to_be_visible(timeout=60_000)
    finished(page)
    return page.evaluate("window.progressSeen")


def warehouse_scores(warehouse: Path) -> set[tuple]:
    with db.connect(warehouse) as con:
        rows = con.execute(
            "select student_id, subject, school_year, season, score from assessments"
        ).fetchall()
    return {(s, subject, year, season, float(score)) for s, subject, year, season, score in rows}


def expected_scores(stored: pd.DataFrame) -> set[tuple]:
    return {
        (r.StudentID, r.subject, r.school_year, r.season, float(r.score))
        for r in stored.itertuples()
    }


@pytest.fixture
def upload_page(tmp_path: Path, streamlit_app, browser_page):
    """A district admin signed in on the Upload page of a fresh warehouse: (warehouse, page)."""
    warehouse = tmp_path / "warehouse" / "yardstick.duckdb"
    with db.connect(warehouse) as con:
        users.add_user(con, "boss", "district_admin", PASSWORD)
    app = streamlit_app(warehouse)
    browser_page.goto(app.url)
    sign_in(browser_page, "boss", PASSWORD)
    open_upload(browser_page)
    return warehouse, browser_page


def test_vendor_file_with_bad_rows_again_and_rescored(tmp_path: Path, upload_page) -> None:
    warehouse, page = upload_page
    clean = nwea_sample(tmp_path)
    bad = with_bad_rows(clean, tmp_path / "nwea_lincoln_2024.csv")
    upload(page, bad)
    expect(page.get_by_text("NWEA MAP Growth — Combined Data File")).to_be_visible()
    progress = import_and_wait(page)
    assert progress[-1] == DONE_TEXT and progress == sorted(progress, key=PROGRESS.index)
    first = expected_import(bad)
    assert shown_counts(page) == first["counts"]
    assert first["counts"]["Rejected"] == 5 and first["counts"]["Duplicates"] == 1
    expect(page.get_by_text(first["brings"])).to_be_visible()
    problems = len(first["problems"])
    expect(page.get_by_text(f"Problems found — {problems} (row numbers")).to_be_visible()
    assert_problems(shown_table(page, problems), first)
    with page.expect_download() as download:
        page.get_by_role("button", name=f"Download all {problems} problems (CSV)").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines(keepends=True)
    body = "".join(line for line in lines if not line.startswith("# "))  # the file's caption
    listed = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    assert_problems(listed[["row", "column", "message", "severity"]].values.tolist(), first)
    assert warehouse_scores(warehouse) == expected_scores(first["stored"])

    remembered(page)
    page.reload()  # a new session, signed in again by the cookie
    open_upload(page)
    upload(page, bad)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Already imported: the same file (by content)")).to_be_visible()
    assert warehouse_scores(warehouse) == expected_scores(first["stored"])

    fixed = rescored(clean, tmp_path / "nwea_lincoln_2024_rescored.csv")
    upload(page, fixed)
    import_and_wait(page)
    third = expected_import(fixed, first["stored"])
    assert shown_counts(page) == third["counts"]
    assert third["counts"]["Inserted"] == 5 and third["counts"]["Updated"] == 9
    expect(page.get_by_text(third["brings"])).to_be_visible()
    expect(page.get_by_text("Problems found")).to_have_count(0)
    assert warehouse_scores(warehouse) == expected_scores(third["stored"])
    with db.connect(warehouse) as con:
        jobs = con.execute(
            "select rows_read, inserted, updated, duplicates, rejected, "
            "message like 'Already imported%' from import_jobs order by job_id"
        ).fetchall()
    assert jobs == [
        (*first["counts"].values(), False),
        (0, 0, 0, 0, 0, True),
        (*third["counts"].values(), False),
    ]


DISTRICT_EXPORT = """Learner No,School,Grade,School Year,Season,Subject,Points
7001,Elm Street School,5,2024-2025,Spring,Science,88
7002,Elm Street School,5,2024-2025,Spring,Science,91
7003,Elm Street School,5,2024-2025,Spring,Science,n/a
7004,Elm Street School,5,2024-2025,Spring,Science,79
7005,Elm Street School,6,2024-2025,Spring,Science,95
"""


def map_column(page, editor, row: int, field: str) -> None:
    """Pick `field` in the "maps to" cell of the editor's `row`. The grid is a canvas: select
    the cell by position, open its dropdown with Enter, click the option. The previous edit's
    rerun may redraw the grid under the click (and lose the selection or close the dropdown):
    then try again."""
    cell = editor.get_by_test_id(f"glide-cell-1-{row}")
    for _attempt in range(5):
        finished(page)
        editor.scroll_into_view_if_needed()
        box = editor.bounding_box()
        row_height = 35  # Streamlit's data editor: a header row, then rows of 35 px
        page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + row_height * (row + 1.5))
        try:
            expect(cell).to_have_attribute("aria-selected", "true", timeout=5_000)
            page.keyboard.press("Enter")
            page.get_by_role("option", name=field, exact=True).click(timeout=5_000)
            expect(cell).to_have_text(field, timeout=5_000)
            return
        except (PlaywrightError, AssertionError):
            page.keyboard.press("Escape")
    raise AssertionError(f"could not map row {row} to {field}")


def test_unknown_headers_mapped_in_the_editor(tmp_path: Path, upload_page) -> None:
    warehouse, page = upload_page
    export = tmp_path / "science_spring.csv"
    export.write_text(DISTRICT_EXPORT, encoding="utf-8")
    raw = read_raw(export)
    raw.index = raw.index + 2
    points = pd.to_numeric(raw["Points"], errors="coerce")
    upload(page, export)
    expect(
        page.get_by_text("Some required fields have no column: student_id, score")
    ).to_be_visible()
    finished(page)
    editor = page.get_by_test_id("stDataFrame").last
    assert [row[0] for row in shown_table(page, len(raw.columns))] == list(raw.columns)
    map_column(page, editor, list(raw.columns).index("Learner No"), "student_id")
    map_column(page, editor, list(raw.columns).index("Points"), "score")
    mapped = {row[0]: row[1] for row in shown_table(page, len(raw.columns))}
    assert (mapped["Learner No"], mapped["Points"]) == ("student_id", "score")
    import_and_wait(page)

    assert shown_counts(page) == {
        "Rows read": len(raw),
        "Inserted": int(points.notna().sum()),
        "Updated": 0,
        "Duplicates": 0,
        "Rejected": int(points.isna().sum()),
    }
    bad = raw.index[points.isna()][0]
    assert shown_table(page, 1) == [
        [str(bad), "Points", f"'{raw.loc[bad, 'Points']}' is not a number", "error"]
    ]
    with db.connect(warehouse) as con:
        stored = con.execute(
            "select student_id, subject, season, score from assessments order by 1"
        ).fetchall()
    good = raw[points.notna()]
    assert stored == [
        (s, "science", "spring", float(p))
        for s, p in zip(good["Learner No"], good["Points"], strict=True)
    ]
