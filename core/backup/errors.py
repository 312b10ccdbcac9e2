"""The one error a backup or a restore raises for something a person can act on."""


class BackupError(RuntimeError):
    """A backup could not be written or restored; the message says why and what to do."""
