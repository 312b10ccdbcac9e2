"""core.standards.norms: the shipped tables equal the reference transcriptions; district standards
upload,
version by source year, and never invent a missing value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.standards import norms
from core.warehouse import canonical, settings

# Independent transcriptions of the published norms (sources in each file's header),
# kept in the repository so a clean clone compares against them instead of skipping.
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "norms_reference"


def _reference_long(name: str) -> pd.DataFrame:
    wide = pd.read_csv(REFERENCE / name, comment="#", dtype={"grade": str})
    if "level" in wide:
        wide = wide[wide["level"] == "student"]
    rows = [
        (
            r.subject.replace("language_usage", "language"),
            r.grade,
            season,
            getattr(r, f"{season}_mean"),
            getattr(r, f"{season}_sd"),
        )
        for r in wide.itertuples()
        for season in canonical.SEASONS
    ]
    return pd.DataFrame(rows, columns=["subject", "grade", "season", "mean", "sd"])


@pytest.mark.parametrize(
    ("key", "reference"),
    [("2020", "norms_2020_student_mean_sd.csv"), ("2025", "norms_2025_mean_sd.csv")],
)
def test_shipped_norms_equal_the_reference(con, key: str, reference: str) -> None:
    shipped = norms.load_norm_set(con, key).values
    expected = _reference_long(reference)
    merged = expected.merge(shipped, on=norms.KEY, how="outer", suffixes=("_ref", ""))
    assert len(merged) == len(expected) == len(shipped)
    assert (merged["mean"] == merged["mean_ref"]).all()
    assert (merged["sd"] == merged["sd_ref"]).all()


def test_every_norm_key_is_canonical_and_labelled(con) -> None:
    for key in norms.BUILTIN_NORMS:
        norm_set = norms.load_norm_set(con, key)
        values = norm_set.values
        assert set(values.subject) <= set(canonical.SUBJECTS)
        assert set(values.grade) <= set(canonical.GRADES)
        assert set(values.season) == set(canonical.SEASONS)
        assert (values.sd > 0).all()
        assert "secondary transcription" in norm_set.source_note
        assert norm_set.exactness.startswith("exact")
        assert norm_set.platforms == ("nwea_map",)  # RIT norms judge MAP Growth scores only


def test_norms_year_setting_chooses_the_table(con) -> None:
    assert norms.chosen_norms_key(con) == "2020"
    assert norms.norm_for(con, "math", "3", "spring").mean == 201.08
    norms.choose_norms(con, "2025", user="admin")
    assert settings.get(con, "norms_year") == "2025"
    found = norms.norm_for(con, "math", "3", "spring")
    assert (found.mean, found.sd) == (199.10, 17.03)
    assert found.label == "NWEA MAP Growth 2025 student achievement norms"
    with pytest.raises(norms.StandardsError):
        norms.choose_norms(con, "1999")


def test_missing_norm_is_none_not_a_guess(con) -> None:
    assert norms.norm_for(con, "science", "K", "fall") is None
    assert norms.norm_for(con, "language", "12", "spring") is None
    assert norms.norm_for(con, "math", "PK", "fall") is None


def test_growth_norms_only_where_published(con) -> None:
    assert norms.growth_norm_for(con, "reading", "4", "fall", "4", "spring") is None  # 2020
    found = norms.growth_norm_for(con, "reading", "4", "fall", "4", "spring", key="2025")
    assert (found.mean, found.sd, found.exactness) == (6.0, 9.0, "approximate")
    assert norms.growth_norm_for(con, "math", "4", "fall", "4", "spring", key="2025") is None
    assert norms.growth_norm_for(con, "reading", "3", "spring", "4", "spring", key="2025") is None


CUTS = b"""Subject,Grade,Season,Band,Min Score,Proficient
Mathematics,3,Spring,Limited,0,no
Mathematics,3,Spring,Proficient,199,yes
Mathematics,3,Spring,Basic,188,no
Mathematics,3,Spring,Advanced,214,yes
Reading,3,,Proficient,197,yes
Reading,3,,Not yet,0,no
"""


def test_cut_scores_upload_orders_bands_and_expands_blank_season(con) -> None:
    table = norms.read_standard_csv("cut_scores", CUTS)
    set_id = norms.save_standard_set(con, "cut_scores", "State test", "2024", table, user="a")
    cut = norms.cut_score_for(con, "math", "3", "spring")
    assert cut.score == 199.0
    assert [b[0] for b in cut.bands] == ["Limited", "Basic", "Proficient", "Advanced"]
    assert cut.label == "State test (2024)"
    for season in canonical.SEASONS:
        assert norms.cut_score_for(con, "reading", "3", season).score == 197.0
    assert norms.cut_score_for(con, "math", "4", "spring") is None
    assert len(norms.standard_values(con, set_id)) == 4 + 2 * 3


def test_versions_by_source_year_newest_unless_pinned(con) -> None:
    table = pd.DataFrame(
        {"subject": ["math"], "grade": ["3"], "season": ["spring"], "target": [205]}
    )
    old = norms.save_standard_set(con, "targets", "District goal", "2023", table)
    newer = table.assign(target=[210])
    new = norms.save_standard_set(con, "targets", "District goal", "2024", newer)
    assert norms.target_for(con, "math", "3", "spring").target == 210.0
    norms.pin_set(con, "targets", old)
    assert norms.target_for(con, "math", "3", "spring").target == 205.0
    norms.pin_set(con, "targets", None)
    assert norms.active_set(con, "targets").set_id == new
    # saving the same name and year again edits that version in place
    norms.save_standard_set(con, "targets", "District goal", "2024", newer.assign(target=[212]))
    assert len(norms.list_standard_sets(con, "targets")) == 2
    assert norms.target_for(con, "math", "3", "spring").target == 212.0


def test_district_norms_become_a_choice(con) -> None:
    table = pd.DataFrame(
        {"subject": ["math"], "grade": ["3"], "season": ["fall"], "mean": [190.5], "sd": [14.0]}
    )
    set_id = norms.save_standard_set(con, "norms", "Local norms", "2024", table, platform="star")
    key = f"district:{set_id}"
    assert key in norms.norm_choices(con)
    norms.choose_norms(con, key)
    found = norms.norm_for(con, "math", "3", "fall")
    assert (found.mean, found.sd) == (190.5, 14.0)
    assert norms.load_norm_set(con).platforms == ("star",)
    norms.delete_standard_set(con, set_id)
    assert norms.chosen_norms_key(con) == "2020"  # a deleted choice falls back, never breaks


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            b"subject,grade,season,target\nMath,3,spring,abc\n",
            "row 2: target 'abc' is not a number",
        ),
        (b"subject,grade,season,target\nHistory,3,spring,200\n", "row 2: subject 'History'"),
        (b"subject,grade,target\nMath,3,200\n", "Missing column(s): season"),
        (b"subject,grade,season,target\nMath,3,spring,1\nmath,03,Spring,2\n", "twice"),
    ],
)
def test_bad_uploads_say_which_row(text: bytes, message: str) -> None:
    with pytest.raises(norms.StandardsError, match=None) as caught:
        norms.read_standard_csv("targets", text)
    assert message in str(caught.value)


def test_norms_sd_must_be_positive() -> None:
    frame = pd.DataFrame(
        {"subject": ["math"], "grade": ["3"], "season": ["fall"], "mean": [1], "sd": [0]}
    )
    with pytest.raises(norms.StandardsError, match="sd must be above 0"):
        norms.parse_standard_table("norms", frame)
