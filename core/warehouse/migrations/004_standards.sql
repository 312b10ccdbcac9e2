-- 004: standards a district adds from the app (its own norms, state cut scores, local targets).
-- The national norm tables ship as files in norms/ and are read from there, never copied here.

-- one row per uploaded standard table × source year (a new year is a new version, the old stays)
create sequence if not exists standard_set_seq;
create table standard_sets (
    set_id integer primary key default nextval('standard_set_seq'),
    kind varchar not null,              -- norms | cut_scores | targets
    name varchar not null,              -- e.g. "Ohio OST linking study"
    source_year varchar not null,       -- e.g. "2024" or "2024-2025"
    source_note varchar not null default '',
    platform varchar,                   -- scale of the values (nwea_map, star, …); null = any
    created_by varchar,
    created_at timestamp not null default current_timestamp,
    updated_at timestamp not null default current_timestamp,
    unique (kind, name, source_year)
);

-- one row per set × subject × grade × season × band (band '' for norms and targets)
create table standard_values (
    set_id integer not null,
    subject varchar not null,
    grade varchar not null,
    season varchar not null,
    band varchar not null default '',   -- cut scores: the band's label ("Proficient")
    band_order integer not null default 0,  -- cut scores: 1 = lowest band
    min_score double,                   -- cut scores: lowest score in the band
    proficient boolean,                 -- cut scores: the band counts as proficient
    target double,                      -- targets: the score to reach
    mean double,                        -- norms
    sd double,                          -- norms
    primary key (set_id, subject, grade, season, band)
);
