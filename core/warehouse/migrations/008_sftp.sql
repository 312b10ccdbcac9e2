-- 008: SFTP sources, what was pulled from them, and the nightly runs.
-- SMTP settings live in the settings table (core/sftp/mail.py); import jobs are import_jobs rows with
-- source = 'sftp' and remote_path set.

-- one row per configured SFTP source; secrets are Fernet tokens (core/warehouse/secrets.py), never clear
create sequence if not exists sftp_source_seq;
create table sftp_sources (
    source_id integer primary key default nextval('sftp_source_seq'),
    name varchar not null unique,
    host varchar not null,
    port integer not null default 22,
    username varchar not null,
    auth_kind varchar not null,          -- password | key
    password_token varchar,
    private_key_token varchar,
    passphrase_token varchar,
    remote_dir varchar not null default '.',
    pattern varchar not null default '*',
    preset varchar not null default 'auto',
    host_key_type varchar,               -- ssh-ed25519 | ecdsa-sha2-nistp256 | ssh-rsa | ...
    host_key_fingerprint varchar,        -- SHA256:<base64 without padding>, as ssh-keygen -l prints
    host_key_public varchar,             -- the confirmed public key, base64 (known_hosts format)
    host_key_confirmed_by varchar,
    host_key_confirmed_at timestamp,
    created_by varchar,
    created_at timestamp not null default current_timestamp,
    updated_by varchar,
    updated_at timestamp not null default current_timestamp
);

-- one row per remote file downloaded from a source (lets a re-pull skip an unchanged file
-- without downloading it again)
create table sftp_files (
    source_name varchar not null,
    remote_path varchar not null,
    size_bytes bigint not null,
    mtime bigint,                        -- the server's modification time, seconds since epoch
    sha256 varchar not null,
    job_id integer,
    outcome varchar not null,            -- imported | already_imported | failed
    pulled_at timestamp not null default current_timestamp
);

-- one row per `python -m core nightly` run
create sequence if not exists nightly_run_seq;
create table nightly_runs (
    run_id integer primary key default nextval('nightly_run_seq'),
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,             -- running | completed | failed
    sources integer not null default 0,
    imported integer not null default 0,
    skipped integer not null default 0,
    failed integer not null default 0,
    detail json,
    pid integer,
    emailed_to varchar,
    email_error varchar
);
