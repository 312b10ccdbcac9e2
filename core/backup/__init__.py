"""Backups that restore: how this installation is copied into one archive and brought back.

An archive (`python -m core backup`) holds a consistent snapshot of the warehouse, taken while
the app serves it, the kept raw files of every import and the secrets file, with a manifest of
row counts and checksums; it is encrypted as a whole with a passphrase when asked. A restore
(`python -m core restore`) puts them where this installation keeps them, refusing to replace a
warehouse that holds data or a different secrets key unless forced; checking a backup is a
restore into a temporary place whose row counts must match the manifest's.

    write.write_backup(out, warehouse=…, passphrase=…, keep=…)   → BackupResult
    restore.restore_backup(archive, warehouse, secrets_file, …)  → Restored
    restore.check_backup(archive, passphrase)                     → Restored (nothing touched)
    record.last_backup_sentence(con)                              → the Import history line
    errors.BackupError                                            → every failure, in words
"""
