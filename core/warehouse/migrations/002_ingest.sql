-- 002: ingest — how each received file was read, what each import mapped and added.

-- raw_files (one row per received file): the layout the reader found, and where its rows are
-- staged as received (table staged_<file_id>: every column VARCHAR, plus _row_number = the
-- row's number in the file with the header as row 1 after any title lines, _source_file,
-- _ingested_at), so a changed mapping can be replayed without the upload.
alter table raw_files add column format varchar;          -- csv | xlsx | json
alter table raw_files add column encoding varchar;        -- utf-8 | utf-8-sig | utf-16 | cp1252 | mixed
alter table raw_files add column delimiter varchar;
alter table raw_files add column title_rows integer;      -- lines above the header row
alter table raw_files add column headers json;            -- the header row as found, in file order
alter table raw_files add column staged_table varchar;
alter table raw_files add column row_count bigint;

-- import_jobs (one row per attempt): the mapping used and what the import added
alter table import_jobs add column mapping json;          -- {"source header": "target field"}
alter table import_jobs add column added json;            -- {schools, school_years, ..., students}
alter table import_jobs add column replay_of integer;     -- file_id when a staged file was replayed

-- mapping_presets: the platform scores mapped with this preset are stored under
alter table mapping_presets add column platform varchar;

-- assessments, rebuilt without its primary key (same columns, same grain: one row per
-- student × platform × subject × school year × season). The import keeps that grain itself:
-- each file holds one row per key after validation, the merge anti-joins against what is
-- stored, and only one process writes at a time (tests/ingest check it with a zero-row query).
-- A five-column VARCHAR primary key made a 2-million-row import about four times slower
-- (index maintenance on insert plus writing the index at checkpoint).
create table assessments_002 (
    student_id varchar not null,
    platform varchar not null,
    subject varchar not null,
    school_year varchar not null,
    season varchar not null,
    school_id integer not null,
    grade varchar not null,
    score double not null,
    test_date date,
    percentile double,
    growth_percentile double,
    proficiency_level varchar,
    lexile varchar,
    quantile varchar,
    job_id integer
);
insert into assessments_002 select * from assessments;
drop table assessments;
alter table assessments_002 rename to assessments;
