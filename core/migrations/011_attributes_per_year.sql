-- 011: student attributes per school year. A student's ELL, SPED, FRL, gender, race/ethnicity
-- and every extra column (class type, program, …) are recorded for the school year of the row
-- that carried them, and read as of the school year of the score being counted.

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
-- (update then anti-joined insert, one writer at a time), like 009/010, without a key
create table student_attributes_011 (
    student_id varchar not null,
    school_year varchar not null,
    attribute varchar not null,         -- normalized header: lower case, other runs -> "_"
    value varchar not null
);

-- Until the stored files are replayed (core/ingest/attribute_years.py, run right after this
-- file), a student's one stored value stands for every school year they have a record in.
create temp table _record_years as
select student_id, school_year from assessments
union
select student_id, school_year from enrollments;

insert into student_years
select s.student_id, y.school_year, s.gender, s.race_ethnicity, s.ell, s.sped, s.frl
from students s join _record_years y using (student_id)
where coalesce(s.gender, s.race_ethnicity, s.ell::varchar, s.sped::varchar, s.frl::varchar)
    is not null;

insert into student_attributes_011
select a.student_id, y.school_year, a.attribute, a.value
from student_attributes a join _record_years y using (student_id);

drop table _record_years;
drop table student_attributes;
alter table student_attributes_011 rename to student_attributes;

-- students keeps names and, for display only, each demographic's value from the latest
-- school year that has one (written by the import from student_years; never from row order)
