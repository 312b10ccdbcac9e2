"""The optional model narrative: any OpenAI-compatible server, aggregates only, never blocking.

Configured by settings (`llm_api_key` — stored encrypted —, `llm_base_url`, `llm_model`,
`llm_timeout`, `llm_check_numbers`) or the environment (OPENAI_API_KEY, OPENAI_BASE_URL). The
model receives `CohortFindings.model_payload()` — an explicit allow-list of aggregate fields,
after suppression — and only after two checks pass: no string in it matches a student id or a
student's full name in the warehouse, and no group in it is under the minimum size. Every failure
(unreachable server, 401, 429, timeout, malformed or empty answer, numbers the input does not
contain) raises `ModelError` with a plain reason; the caller falls back to the template.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import duckdb

from core.narrate.inputs import CohortFindings
from core.narrate.text import Narrative
from core.warehouse import settings
from core.warehouse.secrets import SecretError

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 10.0
SECTION_KEYS = ("key_findings", "year_over_year", "celebrate", "look_into", "next_steps")
SIZE_FIELDS = ("n", "n_a", "n_b", "n_group", "n_rest", "students")
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_TOKEN = re.compile(r"[\w'-]+")
# Words a summary may use as numbers without them being in the input (counts, the 95% rule).
_FREE_NUMBERS = {*range(0, 13), 95, 100, 0.05, 50}

SYSTEM_PROMPT = """You write short, plain-English summaries of school assessment results for \
teachers and principals. Rules:
- Use ONLY the numbers in the data. Do not compute, estimate or invent any other number. \
Round scores to one decimal as given.
- Never write "p-value", "effect size", "statistically significant" or "Hedges". Say "a real \
difference, not chance" only where it holds after the check for many comparisons at once: \
category Above or Below, direction improvement or decline, significant true (growth: p < 0.05); \
otherwise say the difference "could be chance".
- Never call a difference with direction "no change" (or category "At") an improvement, a \
decline, a rise or a drop.
- Describe sizes with |effect| as small (0.2), moderate (0.5) or large (0.8).
- Some results are withheld for student privacy; never guess about them.
- Answer with ONE JSON object and nothing else: {"summary": "2-3 sentences", \
"key_findings": [...], "year_over_year": [...], "celebrate": [...], "look_into": [...], \
"next_steps": [...]} — each list holds short sentences."""


class ModelError(RuntimeError):
    """The model could not be used this time; the message says why, in plain words."""


@dataclass(frozen=True)
class ModelConfig:
    api_key: str
    base_url: str | None
    model: str
    timeout: float
    check_numbers: bool = True

    @property
    def requested(self) -> str:
        return f"model:{self.model}@{self.base_url or 'api.openai.com'}"

    @property
    def generator(self) -> str:
        return f"model {self.model} (openai {version('openai')})"


def model_config(con: duckdb.DuckDBPyConnection) -> ModelConfig | None:
    """The configured model, or None when no API key is set (then the template is used)."""
    try:
        key = settings.get(con, "llm_api_key") or os.environ.get("OPENAI_API_KEY")
    except SecretError:
        key = os.environ.get("OPENAI_API_KEY")
    if not key:
        return None
    return ModelConfig(
        api_key=str(key),
        base_url=settings.get(con, "llm_base_url") or os.environ.get("OPENAI_BASE_URL") or None,
        model=str(settings.get(con, "llm_model") or DEFAULT_MODEL),
        timeout=float(settings.get(con, "llm_timeout") or DEFAULT_TIMEOUT),
        check_numbers=bool(settings.get(con, "llm_check_numbers", True)),
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def check_no_student_values(con: duckdb.DuckDBPyConnection, payload: dict[str, Any]) -> None:
    """Refuse a payload whose text holds a student id or a student's full name."""
    text = " ".join(_strings(payload)).lower()
    tokens = sorted({t.strip("'-") for t in _TOKEN.findall(text)} - {""})
    if not tokens:
        return
    ids = con.execute(
        "select count(*) from students where lower(student_id) in (select unnest($tokens))",
        {"tokens": tokens},
    ).fetchone()[0]
    names = con.execute(
        """
        select lower(first_name) as f, lower(last_name) as l from students
        where lower(first_name) in (select unnest($tokens))
          and lower(last_name) in (select unnest($tokens))
        """,
        {"tokens": tokens},
    ).fetchall()
    named = any(f"{f} {last}" in text or f"{last}, {f}" in text for f, last in names)
    if ids or named:
        raise ModelError("the results' labels contain a student's name or id, so nothing was sent")


def check_group_sizes(payload: dict[str, Any], min_n: int) -> None:
    """Refuse a payload holding any group under the minimum size (defence in depth)."""
    for section in payload.values():
        for item in section if isinstance(section, list) else []:
            small = [
                k
                for k in SIZE_FIELDS
                if isinstance(item, dict) and isinstance(item.get(k), int | float)
                if item[k] < min_n
            ]
            if small:
                raise ModelError("a group under the minimum size reached the model's input")


def prepared_payload(con: duckdb.DuckDBPyConnection, findings: CohortFindings) -> dict[str, Any]:
    payload = findings.model_payload()
    for item in payload["growth"]:
        if item.get("dropped") is None or 0 < item["dropped"] < findings.min_n:
            item["dropped"] = (
                f"not shown: fewer than {findings.min_n}, or a number revealing so few"
            )
    check_group_sizes(payload, findings.min_n)
    check_no_student_values(con, payload)
    return payload


def _ask(config: ModelConfig, payload: dict[str, Any]) -> str:
    import openai  # imported here: a report or page without a model never pays for it

    client = openai.OpenAI(
        api_key=config.api_key, base_url=config.base_url, timeout=config.timeout, max_retries=0
    )
    try:
        response = client.chat.completions.create(
            model=config.model,
            temperature=0.2,
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": json.dumps(payload, ensure_ascii=False)},
            ],
        )
        content = response.choices[0].message.content
    except openai.APITimeoutError as exc:
        raise ModelError(f"the model did not answer within {config.timeout:g} s") from exc
    except openai.AuthenticationError as exc:
        raise ModelError("the model server refused the API key (401)") from exc
    except openai.RateLimitError as exc:
        raise ModelError("the model server is rate-limiting requests (429)") from exc
    except openai.APIConnectionError as exc:
        raise ModelError("the model server could not be reached") from exc
    except openai.APIStatusError as exc:
        raise ModelError(f"the model server answered with an error ({exc.status_code})") from exc
    except (openai.OpenAIError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ModelError("the model server's answer could not be read") from exc
    if not content or not str(content).strip():
        raise ModelError("the model returned an empty answer")
    return str(content)


def parse_answer(content: str) -> dict[str, Any]:
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError("the model's answer was not the JSON asked for") from exc
    if not isinstance(data, dict) or not isinstance(data.get("summary"), str):
        raise ModelError("the model's answer had no summary")
    if not data["summary"].strip():
        raise ModelError("the model returned an empty summary")
    for key in SECTION_KEYS:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ModelError(f"the model's answer had a malformed '{key}' list")
    return data


def _number_forms(value: float) -> set[float]:
    value = abs(value)
    return {value, *(round(value, digits) for digits in (0, 1, 2))}


def allowed_numbers(payload: dict[str, Any]) -> set[float]:
    found: set[float] = set(_FREE_NUMBERS)

    def walk(value: Any) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            found.update(_number_forms(float(value)))
        elif isinstance(value, str):
            found.update(float(m.replace(",", "")) for m in _NUMBER.findall(value))
        elif isinstance(value, dict | list | tuple):
            for item in value.values() if isinstance(value, dict) else value:
                walk(item)

    walk(payload)
    return found


def unknown_numbers(text: str, payload: dict[str, Any]) -> list[str]:
    """Numbers in the answer that are not, at its own rounding, in the input."""
    allowed = allowed_numbers(payload)
    unknown = []
    for match in _NUMBER.findall(text):
        value = float(match.replace(",", ""))
        digits = len(match.split(".")[1]) if "." in match else 0
        if not any(round(a, digits) == value for a in allowed):
            unknown.append(match)
    return unknown


def model_narrative(
    con: duckdb.DuckDBPyConnection, findings: CohortFindings, config: ModelConfig
) -> Narrative:
    """The model's narrative of `findings`, or ModelError (never a partial answer)."""
    payload = prepared_payload(con, findings)
    data = parse_answer(_ask(config, payload))
    sections = {
        key: tuple(s.strip() for s in data.get(key, []) if s.strip()) for key in SECTION_KEYS
    }
    if config.check_numbers:
        every = " ".join([data["summary"], *(s for items in sections.values() for s in items)])
        strangers = unknown_numbers(every, payload)
        if strangers:
            raise ModelError(
                "the model's answer contained numbers that are not in the results "
                f"({', '.join(strangers[:3])})"
            )
    return Narrative(
        summary=data["summary"].strip(),
        **sections,
        generator=config.generator,
        inputs_hash=findings.inputs_hash(),
    )


@dataclass(frozen=True)
class ModelSettings:
    """What the settings page shows (never the key itself)."""

    key_set: bool
    key_from_environment: bool
    base_url: str
    model: str
    timeout: float


def model_settings(con: duckdb.DuckDBPyConnection) -> ModelSettings:
    return ModelSettings(
        key_set=settings.is_set(con, "llm_api_key"),
        key_from_environment=bool(os.environ.get("OPENAI_API_KEY")),
        base_url=str(settings.get(con, "llm_base_url") or ""),
        model=str(settings.get(con, "llm_model") or DEFAULT_MODEL),
        timeout=float(settings.get(con, "llm_timeout") or DEFAULT_TIMEOUT),
    )


def save_model_settings(
    con: duckdb.DuckDBPyConnection,
    user: str,
    *,
    base_url: str,
    model: str,
    timeout: float,
    api_key: str | None = None,
    forget_key: bool = False,
) -> None:
    """Store the model settings; the key encrypted (None keeps the stored one)."""
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ValueError("The base URL starts with http:// or https:// (or leave it empty).")
    if not 1 <= timeout <= 120:
        raise ValueError("The timeout is between 1 and 120 seconds.")
    settings.put(con, "llm_base_url", base_url.strip() or None, user=user)
    settings.put(con, "llm_model", model.strip() or DEFAULT_MODEL, user=user)
    settings.put(con, "llm_timeout", float(timeout), user=user)
    if forget_key:
        con.execute("delete from settings where key = 'llm_api_key'")
    elif api_key:
        settings.put(con, "llm_api_key", api_key.strip(), secret=True, user=user)
