"""CohortSpec: the JSON contract round-trips, vendor spellings map, bad specs say why."""

from __future__ import annotations

import json

import pytest

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec, SpecError, cohort_size, load_spec

CONTRACT = {
    "name": "Grade 3 math, spring",
    "school_year": "2024-2025",
    "grade": "3",
    "subject": "math",
    "season": "spring",
    "schools": ["Lincoln Elementary"],
    "filters": {"ell": True, "program": "reading-recovery"},
}


def test_contract_round_trips() -> None:
    spec = CohortSpec.from_dict(CONTRACT)
    assert spec.to_dict() == CONTRACT
    assert CohortSpec.from_dict(json.loads(spec.to_json())) == spec


def test_vendor_spellings_become_canonical() -> None:
    spec = CohortSpec.from_dict(
        {
            "school_year": ["2023-24", "2024/2025"],
            "grade": ["KG", "03"],
            "subject": "Mathematics",
            "season": "Spring",
            "filters": {"Class Type": "Honors", "ELL": "Y"},
        }
    )
    assert spec.school_year == ("2023-2024", "2024-2025")
    assert spec.grade == ("K", "3")
    assert spec.subject == ("math",)
    assert spec.filter_dict == {"class_type": ("Honors",), "ell": ("true",)}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"grade": "13"}, "grade"),
        ({"season": "summer"}, "season"),
        ({"subject": "art"}, "subject"),
        ({"filters": {"ell": "maybe"}}, "yes/no"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_specs_say_which_key(bad: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        CohortSpec.from_dict(bad)  # type: ignore[arg-type]


def test_load_spec_reads_inline_and_files(tmp_path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(CONTRACT))
    assert load_spec(str(path)) == load_spec(json.dumps(CONTRACT))
    with pytest.raises(SpecError, match="No cohort spec file"):
        load_spec(str(tmp_path / "missing.json"))


def test_sql_in_values_is_data(con) -> None:
    con.execute("insert into schools (name) values ('Lincoln')")
    con.execute(
        "insert into assessments (student_id, platform, subject, school_year, season, school_id,"
        " grade, score) values ('s1', 'generic', 'math', '2024-2025', 'spring', 1, '3', 200)"
    )
    evil = "x' or 1=1; drop table assessments; --"
    spec = CohortSpec.from_dict({"schools": [evil], "filters": {"teacher": evil, evil: evil}})
    assert cohort_size(con, spec, Scope()) == 0
    assert cohort_size(con, CohortSpec(), Scope()) == 1
    other = Scope(role="school_admin", schools=("Other School",))
    assert cohort_size(con, CohortSpec(), other) == 0
