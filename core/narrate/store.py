"""Narratives of cohorts: written once per set of inputs, stored, and read back on page views.

`narrative_for(con, spec, scope)` gathers the cohort's findings within the caller's scope, and
returns the stored narrative written from exactly those findings by the generator now configured;
only when the findings (or the generator) changed does it write a new one. The template is the
default; a configured model is tried first and any failure falls back to the template with a
visible `notice`. A fallback is retried after `RETRY_AFTER`, not on every view. A narrative is
the narrative of the cohort's definition (`CohortSpec.definition`), shared by every reader of the
same slice: a name a person typed or a link carried never keys it nor appears in it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace

import duckdb
import pandas as pd

from core.access.scope import Scope
from core.catalog.cohort_options import quick_cohorts
from core.cohorts.spec import CohortSpec
from core.narrate.gather import gather_findings
from core.narrate.inputs import SEVERITY_ORDER, CohortFindings
from core.narrate.llm import ModelConfig, ModelError, model_config, model_narrative
from core.narrate.template import caveats, template_narrative
from core.narrate.text import TEMPLATE_GENERATOR, Narrative

RETRY_AFTER = dt.timedelta(minutes=10)
FALLBACK_NOTICE = "The AI-written narrative is not available ({reason}); this is the standard one."


def scope_key(scope: Scope) -> str:
    """What the scope lets its holder see (two users with the same slice share narratives)."""
    schools = sorted(scope.schools) if scope.schools is not None else None
    sections = sorted(scope.sections) if scope.sections is not None else None
    return json.dumps({"schools": schools, "sections": sections}, sort_keys=True)


def cohort_key(spec: CohortSpec, scope: Scope) -> str:
    """The stored narrative's key: the cohort's definition and the scope. Narratives are shared
    by everyone with the same slice, so a name a person typed or a `?spec=` link carried must
    neither pick which narrative they read nor appear in it (`CohortSpec.definition`)."""
    text = json.dumps(spec.definition().to_dict(), sort_keys=True) + "|" + scope_key(scope)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _as_defined(findings: CohortFindings, spec: CohortSpec) -> CohortFindings:
    """Findings gathered for a spec as given, told under its definition's label."""
    if findings.label == spec.label() and findings.spec == spec.to_dict():
        return findings
    return replace(findings, label=spec.label(), spec=spec.to_dict())


def write_narrative(
    con: duckdb.DuckDBPyConnection, findings: CohortFindings, config: ModelConfig | None
) -> Narrative:
    """A new narrative: the model's when one is configured and works, else the template's."""
    template = template_narrative(findings)
    has_results = findings.standings or findings.prior or findings.growth or findings.gaps
    if config is None or findings.suppressed or not has_results:
        return template
    try:
        written = model_narrative(con, findings, config)
    except ModelError as failure:
        return replace(template, notice=FALLBACK_NOTICE.format(reason=failure))
    return replace(written, caveats=caveats(findings))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _stored(
    con: duckdb.DuckDBPyConnection, key: str, inputs_hash: str, requested: str
) -> tuple[Narrative, dt.datetime] | None:
    row = con.execute(
        """
        select content::varchar, created_at from narratives
        where cohort_key = $key and inputs_hash = $hash and requested = $requested
        order by created_at desc, narrative_id desc limit 1
        """,
        {"key": key, "hash": inputs_hash, "requested": requested},
    ).fetchone()
    if row is None:
        return None
    return Narrative.from_dict(json.loads(row[0])), row[1]


def headline_severity(findings: CohortFindings) -> str:
    levels = sorted((a.severity for a in findings.alerts), key=lambda s: SEVERITY_ORDER.get(s, 9))
    return levels[0] if levels else "none"


def _store(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    findings: CohortFindings,
    narrative: Narrative,
    requested: str,
) -> None:
    con.execute(
        """
        insert into narratives (cohort_key, cohort_label, spec, scope_key, inputs, inputs_hash,
                                requested, generator, notice, content, headline_severity,
                                created_at)
        values ($key, $label, $spec, $scope, $inputs, $hash, $requested, $generator, $notice,
                $content, $severity, $created)
        """,
        {
            "key": cohort_key(spec, scope),
            "label": findings.label,
            "spec": json.dumps(spec.to_dict()),
            "scope": scope_key(scope),
            "inputs": findings.to_json(),
            "hash": findings.inputs_hash(),
            "requested": requested,
            "generator": narrative.generator,
            "notice": narrative.notice,
            "content": json.dumps(narrative.to_dict()),
            "severity": headline_severity(findings),
            "created": dt.datetime.fromisoformat(narrative.created_at),
        },
    )


def narrative_for(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    *,
    findings: CohortFindings | None = None,
    use_model: bool = True,
) -> Narrative:
    """The cohort's narrative within `scope`: stored if its inputs are unchanged, else new. It
    is the narrative of the cohort's definition: a name the spec carries is not used."""
    spec = spec.definition()
    findings = (
        _as_defined(findings, spec) if findings is not None else gather_findings(con, spec, scope)
    )
    config = model_config(con) if use_model else None
    requested = config.requested if config else TEMPLATE_GENERATOR
    key, inputs_hash = cohort_key(spec, scope), findings.inputs_hash()
    stored = _stored(con, key, inputs_hash, requested)
    if stored is not None:
        narrative, created = stored
        if narrative.notice is None or _now() - created < RETRY_AFTER:
            return narrative
    narrative = replace(write_narrative(con, findings, config), created_at=_now().isoformat())
    _store(con, spec, scope, findings, narrative, requested)
    return narrative


def stored_narratives(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """The latest narrative of every cohort written within exactly this scope's slice (the
    insight feed): label, spec, severity, summary, generator, created_at."""
    frame = con.execute(
        """
        select cohort_label, spec::varchar as spec, headline_severity, inputs::varchar as inputs,
               content::varchar as content, generator, notice, created_at
        from narratives
        where scope_key = $scope
        qualify row_number() over (partition by cohort_key order by created_at desc,
                                   narrative_id desc) = 1
        order by created_at desc
        """,
        {"scope": scope_key(scope)},
    ).df()
    # Earlier versions stored narratives under a name from the spec: not for this feed.
    specs = [CohortSpec.from_dict(json.loads(s)) for s in frame["spec"]]
    kept = pd.Series([spec == spec.definition() for spec in specs], index=frame.index, dtype=bool)
    frame = frame[kept].reset_index(drop=True)
    frame["summary"] = [json.loads(c)["summary"] for c in frame["content"]]
    return frame


def model_check(con: duckdb.DuckDBPyConnection, scope: Scope) -> Narrative | None:
    """Ask the configured model for one cohort's narrative now, storing nothing: the settings
    page's "Try it" (None when no model is configured or there is no data)."""
    config = model_config(con)
    cohorts = quick_cohorts(con, scope)
    if config is None or not cohorts:
        return None
    return write_narrative(con, gather_findings(con, cohorts[0], scope), config)
