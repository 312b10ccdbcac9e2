"""Stored narratives: written once per set of inputs, rewritten only when the inputs change."""

from __future__ import annotations

import pytest

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import CohortSpec
from core.narrate.store import narrative_for, stored_narratives
from core.warehouse import db
from tests.reports.seed import seed

SPEC = CohortSpec.from_dict(
    {"grade": "3", "schools": ["Lincoln Elementary"], "school_year": "2024-2025", "subject": "math"}
)


@pytest.fixture
def fresh():
    connection = db.memory()
    seed(connection)
    yield connection
    connection.close()


def _rows(con) -> int:
    return con.execute("select count(*) from narratives").fetchone()[0]


def test_a_page_view_reads_the_stored_narrative(fresh) -> None:
    first = narrative_for(fresh, SPEC, DISTRICT)
    second = narrative_for(fresh, SPEC, DISTRICT)
    assert second == first and second.created_at == first.created_at
    assert _rows(fresh) == 1
    stored = stored_narratives(fresh, DISTRICT)
    assert list(stored["summary"]) == [first.summary]
    assert stored["headline_severity"].iloc[0] == "critical"  # the planted decline's alert


def test_new_data_writes_a_new_narrative(fresh) -> None:
    before = narrative_for(fresh, SPEC, DISTRICT)
    fresh.execute(  # the same students' spring scores again, as new students, 40 points up
        """
        insert into assessments (student_id, platform, subject, school_year, season, school_id,
                                 grade, score)
        select student_id || 'x', platform, subject, school_year, season, school_id, grade,
               score + 40
        from assessments join schools using (school_id)
        where school_year = '2024-2025' and grade = '3' and subject = 'math'
          and season = 'spring' and name = 'Lincoln Elementary'
        """
    )
    after = narrative_for(fresh, SPEC, DISTRICT)
    assert after.inputs_hash != before.inputs_hash and after.summary != before.summary
    assert _rows(fresh) == 2
    assert narrative_for(fresh, SPEC, DISTRICT) == after and _rows(fresh) == 2


def test_each_scope_has_its_own_narrative(fresh) -> None:
    principal = Scope(username="p", role="school_admin", schools=("Roosevelt Elementary",))
    district = narrative_for(fresh, SPEC.replace(schools=[]), DISTRICT)
    school = narrative_for(fresh, SPEC.replace(schools=[]), principal)
    assert district.inputs_hash != school.inputs_hash
    assert list(stored_narratives(fresh, principal)["summary"]) == [school.summary]
    assert "Lincoln" not in stored_narratives(fresh, principal).to_csv()
