-- 006: district-level public data (CCD / CRDC / EDFacts / F-33 or a state's own file).
-- Raw values as published only: every derived figure (percentages, pupil-teacher ratio, averages,
-- trends, deltas, quartile flags) is computed live in core/districts/benchmarks.py, so nothing
-- stored can go stale when a later file fills in or corrects a value.

-- one row per district × year; year is the fall of the school year (2022 = 2022-23), as the
-- Urban Institute Education Data Portal and NCES files number them
create table district_years (
    district_id varchar not null,           -- NCES LEA id (7 digits, leading zeros kept)
    year integer not null,
    name varchar,
    state varchar,                          -- two-letter USPS code
    enrollment bigint,                      -- pupils (fall membership)
    swd_count bigint,                       -- students with disabilities (IDEA)
    ell_count bigint,                       -- English learners
    chronic_absenteeism_pct double,         -- % of pupils chronically absent (often biennial)
    graduation_rate_pct double,             -- adjusted cohort graduation rate, %
    teachers_fte double,
    math_proficiency_pct double,
    read_proficiency_pct double,
    expenditure_pp double,                  -- current expenditure per pupil, dollars
    job_id integer,                         -- the import that last changed the row
    updated_at timestamp not null default current_timestamp,
    primary key (district_id, year)
);
