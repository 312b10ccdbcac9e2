-- 001: the base warehouse. Grain of every table is stated above it.

-- one row per applied migration
create table if not exists schema_version (
    version integer primary key,
    name varchar not null,
    applied_at timestamp not null default current_timestamp
);

-- one row per received file (content-hashed); the bytes live in data/raw/<sha256>
create sequence if not exists raw_file_seq;
create table raw_files (
    file_id integer primary key default nextval('raw_file_seq'),
    sha256 varchar not null unique,
    file_name varchar not null,
    size_bytes bigint not null,
    source varchar not null,            -- upload | sftp | demo | cli
    remote_path varchar,
    received_by varchar,
    received_at timestamp not null default current_timestamp,
    stored_path varchar                 -- where the bytes are kept, relative to the warehouse folder
);

-- one row per import attempt
create sequence if not exists import_job_seq;
create table import_jobs (
    job_id integer primary key default nextval('import_job_seq'),
    file_id integer,
    file_name varchar not null,
    source varchar not null,
    remote_path varchar,
    preset varchar,
    kind varchar,                       -- assessment | roster | district
    status varchar not null,            -- pending | running | completed | failed
    rows_read bigint not null default 0,
    inserted bigint not null default 0,
    updated bigint not null default 0,
    duplicates bigint not null default 0,
    rejected bigint not null default 0,
    message varchar,
    created_by varchar,
    pid integer,
    started_at timestamp not null default current_timestamp,
    finished_at timestamp
);

-- one row per problem found in an imported file (row numbers are the file's own, header = row 1)
create table import_errors (
    job_id integer not null,
    row_number bigint,
    column_name varchar,
    message varchar not null,
    severity varchar not null default 'error'   -- error (row rejected) | warning (row loaded)
);

-- one row per school
create sequence if not exists school_seq;
create table schools (
    school_id integer primary key default nextval('school_seq'),
    name varchar not null unique
);

-- one row per student (latest known demographics; blank cells never overwrite)
create table students (
    student_id varchar primary key,
    first_name varchar,
    last_name varchar,
    gender varchar,
    race_ethnicity varchar,
    ell boolean,
    sped boolean,
    frl boolean,
    updated_at timestamp not null default current_timestamp
);

-- one row per student × attribute for columns an import brought beyond the known ones
create table student_attributes (
    student_id varchar not null,
    attribute varchar not null,         -- normalized header: lower case, other runs -> "_"
    value varchar not null,
    primary key (student_id, attribute)
);

-- one row per student × school year × school × section
create table enrollments (
    student_id varchar not null,
    school_year varchar not null,
    school_id integer not null,
    grade varchar not null,
    teacher varchar not null default '',
    section varchar not null default '',
    primary key (student_id, school_year, school_id, section)
);

-- one row per student × platform × subject × school year × season (a test event)
create table assessments (
    student_id varchar not null,
    platform varchar not null,          -- generic | nwea_map | star | iready | dibels8 | ...
    subject varchar not null,           -- math | reading | language | science
    school_year varchar not null,       -- 2024-2025
    season varchar not null,            -- fall | winter | spring
    school_id integer not null,
    grade varchar not null,             -- K, 1..12, PK
    score double not null,
    test_date date,
    percentile double,
    growth_percentile double,
    proficiency_level varchar,
    lexile varchar,
    quantile varchar,
    job_id integer,
    primary key (student_id, platform, subject, school_year, season)
);

-- one row per student × school year × snapshot date
create table attendance (
    student_id varchar not null,
    school_year varchar not null,
    snapshot_date date not null,
    days_enrolled double,
    days_present double,
    days_absent double,
    primary key (student_id, school_year, snapshot_date)
);

-- named column mappings saved from the Upload page (vendor presets ship as files in core/presets)
create table mapping_presets (
    name varchar primary key,
    kind varchar not null,
    mapping json not null,              -- {"source header": "target field"}
    created_by varchar,
    created_at timestamp not null default current_timestamp
);

-- one row per saved cohort
create sequence if not exists cohort_seq;
create table saved_cohorts (
    cohort_id integer primary key default nextval('cohort_seq'),
    name varchar not null unique,
    spec json not null,
    owner varchar,
    created_at timestamp not null default current_timestamp,
    updated_at timestamp not null default current_timestamp
);

-- one row per setting; secret values are Fernet tokens (encrypted = true)
create table settings (
    key varchar primary key,
    value json,
    encrypted boolean not null default false,
    updated_by varchar,
    updated_at timestamp not null default current_timestamp
);

-- one row per user account
create table users (
    username varchar primary key,
    name varchar,
    email varchar,
    role varchar not null,              -- district_admin | school_admin | teacher | viewer
    schools varchar[] not null default [],
    sections varchar[] not null default [],
    password_hash varchar not null,
    active boolean not null default true,
    failed_attempts integer not null default 0,
    locked_until timestamp,
    created_at timestamp not null default current_timestamp
);

-- one row per audited event; append-only from the app
create sequence if not exists audit_seq;
create table audit_log (
    event_id bigint primary key default nextval('audit_seq'),
    logged_at timestamp not null default current_timestamp,
    username varchar,
    action varchar not null,            -- sign_in | sign_in_failed | import | export | view_students | settings | ...
    detail json
);
