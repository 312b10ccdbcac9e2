"""The model path: aggregates only, nothing identifying, and every failure falls back to the
template with a visible notice (against a local OpenAI-compatible server on loopback)."""

from __future__ import annotations

import json
import re
import time

import pandas as pd
import pytest

from core.access.scope import DISTRICT
from core.cohorts.spec import CohortSpec
from core.narrate.gather import gather_findings
from core.narrate.llm import ModelConfig, model_config
from core.narrate.store import narrative_for, write_narrative
from core.narrate.template import template_narrative
from core.narrate.text import TEMPLATE_GENERATOR
from core.warehouse import settings
from tests.conftest import free_port
from tests.reports.fake_llm import fake_model
from tests.reports.seed import SMALL_GROUP

GRADE_3 = CohortSpec.from_dict({"grade": "3", "school_year": "2024-2025"})
SIZE_KEYS = ("n", "n_a", "n_b", "n_group", "students")


@pytest.fixture(scope="module")
def findings(warehouse):
    return gather_findings(warehouse, GRADE_3, DISTRICT)


def config(url: str, timeout: float = 5.0, check_numbers: bool = True) -> ModelConfig:
    return ModelConfig("sk-test", url, "test-model", timeout, check_numbers)


def _sizes(value) -> list[float]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k in SIZE_KEYS and isinstance(v, int | float)]
        return found + [s for v in value.values() for s in _sizes(v)]
    if isinstance(value, list):
        return [s for v in value for s in _sizes(v)]
    return []


def test_the_model_sees_aggregates_only(warehouse, findings, roster: pd.DataFrame) -> None:
    with fake_model() as server:
        story = write_narrative(warehouse, findings, config(server.url))
    assert story.generator.startswith("model test-model") and story.notice is None
    assert len(server.requests) == 1
    raw = server.raw[0].decode().lower()
    words = set(re.findall(r"[\w-]+", raw))
    for column in ("student_id", "first_name", "last_name"):
        assert words & set(roster[column].str.lower()) == set(), column
    assert SMALL_GROUP.lower() not in raw
    sizes = _sizes(server.payload())
    assert sizes and min(sizes) >= findings.min_n
    assert server.requests[0]["model"] == "test-model"
    assert story.caveats == template_narrative(findings).caveats  # privacy note kept


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("401", "refused the API key"),
        ("429", "rate-limiting"),
        ("500", "error (500)"),
        ("slow", "did not answer within"),
        ("malformed", "could not be read"),
        ("empty", "empty answer"),
        ("prose", "not the JSON"),
        ("invented", "numbers that are not in the results"),
    ],
)
def test_every_failure_falls_back_to_the_template(warehouse, findings, mode, reason) -> None:
    with fake_model() as server:
        server.mode = mode
        started = time.monotonic()
        story = write_narrative(warehouse, findings, config(server.url, timeout=1.0))
        elapsed = time.monotonic() - started
    assert story.generator == TEMPLATE_GENERATOR
    assert story.notice and reason in story.notice
    assert story.summary == template_narrative(findings).summary
    assert elapsed < 5  # never blocks the page for long (no retries)
    assert len(server.requests) == 1


def test_an_unreachable_server_falls_back(warehouse, findings) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    story = write_narrative(warehouse, findings, config(url, timeout=2.0))
    assert story.generator == TEMPLATE_GENERATOR
    assert "could not be reached" in story.notice


def test_a_student_name_in_a_label_is_never_sent(warehouse, roster) -> None:
    student = roster.iloc[0]
    named = GRADE_3.replace(name=f"Reading group of {student.first_name} {student.last_name}")
    with fake_model() as server:
        story = write_narrative(
            warehouse, gather_findings(warehouse, named, DISTRICT), config(server.url)
        )
    assert server.requests == []
    assert "name or id" in story.notice and story.generator == TEMPLATE_GENERATOR


def test_the_key_is_stored_encrypted_and_read_back(warehouse) -> None:
    assert model_config(warehouse) is None or model_config(warehouse).api_key != "sk-secret"
    settings.put(warehouse, "llm_api_key", "sk-secret", secret=True)
    settings.put(warehouse, "llm_base_url", "http://127.0.0.1:9/v1")
    settings.put(warehouse, "llm_model", "local-model")
    try:
        stored = warehouse.execute(
            "select value::varchar, encrypted from settings where key = 'llm_api_key'"
        ).fetchone()
        assert "sk-secret" not in stored[0] and stored[1] is True
        loaded = model_config(warehouse)
        assert (loaded.api_key, loaded.base_url, loaded.model) == (
            "sk-secret",
            "http://127.0.0.1:9/v1",
            "local-model",
        )
        assert loaded.requested == "model:local-model@http://127.0.0.1:9/v1"
    finally:
        warehouse.execute("delete from settings where key like 'llm_%'")


def test_the_model_narrative_is_stored_and_a_fallback_is_not_retried_at_once(warehouse) -> None:
    spec = GRADE_3.replace(subject="math")
    found = gather_findings(warehouse, spec, DISTRICT)
    with fake_model() as server:
        settings.put(warehouse, "llm_api_key", "sk-test", secret=True)
        settings.put(warehouse, "llm_base_url", server.url)
        try:
            server.mode = "429"
            first = narrative_for(warehouse, spec, DISTRICT, findings=found)
            again = narrative_for(warehouse, spec, DISTRICT, findings=found)
            assert first.notice and again == first and len(server.requests) == 1
            server.mode = "ok"
            warehouse.execute(
                "update narratives set created_at = created_at - interval 1 hour "
                "where notice is not null"
            )
            fresh = narrative_for(warehouse, spec, DISTRICT, findings=found)
            assert fresh.notice is None and fresh.generator.startswith("model")
            assert narrative_for(warehouse, spec, DISTRICT, findings=found) == fresh
            assert len(server.requests) == 2
        finally:
            warehouse.execute("delete from settings where key like 'llm_%'")
    rows = warehouse.execute(
        "select requested, generator, inputs from narratives where spec::varchar = ?",
        [json.dumps(spec.to_dict())],
    ).fetchall()
    assert {r[0] for r in rows} == {f"model:gpt-4o-mini@{server.url}"}
    assert all(SMALL_GROUP not in r[2] for r in rows)
