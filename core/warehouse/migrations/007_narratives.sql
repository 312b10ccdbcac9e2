-- 007: stored narratives. A narrative is regenerated when its inputs change, never per page view.

-- one row per generated narrative: a cohort (spec) × what its viewer may see (scope_key) ×
-- the findings it was written from (inputs_hash) × the generator asked for (requested)
create sequence if not exists narrative_seq;
create table narratives (
    narrative_id bigint primary key default nextval('narrative_seq'),
    cohort_key varchar not null,        -- sha256 of the spec's JSON and the scope key
    cohort_label varchar not null,
    spec json not null,
    scope_key varchar not null,         -- the schools / sections the findings were computed within
    inputs json not null,               -- the CohortFindings (aggregates only, after suppression)
    inputs_hash varchar not null,
    requested varchar not null,         -- template | model:<name>@<base url>
    generator varchar not null,         -- template v1 | model <name> (openai <version>)
    notice varchar,                     -- why the template was used when a model was asked for
    content json not null,              -- the Narrative (summary and sections)
    headline_severity varchar,          -- critical | warning | info | none (the feed's order)
    created_at timestamp not null default current_timestamp
);
create index narratives_lookup on narratives (cohort_key, inputs_hash, requested);
