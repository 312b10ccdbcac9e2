"""SFTP sources and the nightly job: how a district's exports arrive without anyone uploading them.

- `registry`: configured sources (host, folder, pattern, preset; secrets encrypted).
- `connect`: opening a session step by step, each failure naming its step and what to do.
- `keys`: private keys and host-key fingerprints as `ssh-keygen -l` shows them.
- `pull`: fetch new files and run each through the import pipeline (`core.ingest.import_file`).
- `nightly`: pull every source with retries, one lock, a failure e-mail.
- `mail`: SMTP to the district's admins.

Public face: `registry.save_source`, `registry.list_sources`, `connect.test_connection`,
`pull.pull_source`, `nightly.run_nightly`, `mail.send`.
"""
