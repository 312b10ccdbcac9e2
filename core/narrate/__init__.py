"""Narratives: a cohort's results told in plain English.

- `gather`: fill `inputs.CohortFindings` from standards, comparisons, growth, gaps and alerts,
  within the caller's scope and after suppression.
- `text`, `groups`, `template`: the deterministic template narrative (no network).
- `llm`: the optional model narrative (any OpenAI-compatible server) — it receives aggregates
  only, checked for student values and small groups before anything is sent.
- `store`: narratives written once per set of inputs, stored, and read back.
- `insights`: the insight feed — current alerts and stored narratives, most severe first.

Public face: `store.narrative_for`, `store.write_narrative`, `gather.gather_findings`,
`template.template_narrative`, `llm.model_narrative`, `insights.insight_feed`.
"""
