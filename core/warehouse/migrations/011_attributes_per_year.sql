-- 011: student attributes per school year. A student's ELL, SPED, FRL, gender, race/ethnicity
-- and every extra column (class type, program, …) are recorded for the school year of the row
-- that carried them, and read as of the school year of the score being counted.
--
-- The data step is Python (core/ingest/attribute_replay.py, run right after this file in the
-- same transaction): it fills these tables from the one value per student stored so far, then
-- replays the kept raw files so each value lands in its own year, and replaces
-- student_attributes (one row per student × attribute) with student_attributes_011.

-- one row per student × school year with at least one demographic value that year
create table student_years (
    student_id varchar not null,
    school_year varchar not null,       -- 2024-2025
    gender varchar,
    race_ethnicity varchar,
    ell boolean,
    sped boolean,
    frl boolean
);

-- one row per student × school year × attribute (extra columns); kept by the import itself
-- (update then anti-joined insert, one writer at a time), like 009/010, without a key.
-- Renamed to student_attributes by the data step.
create table student_attributes_011 (
    student_id varchar not null,
    school_year varchar not null,
    attribute varchar not null,         -- normalized header: lower case, other runs -> "_"
    value varchar not null
);

-- students keeps names and, for display only, each demographic's value from the latest
-- school year that has one (written by the import from student_years; never from row order).
