"""Who may see what: accounts, roles, scope, and the audit log.

Public face:
- `scope`: `Scope` (role + schools / sections a person may read) — every read in core takes one and
  applies it in SQL; `ROLES`.
- `users`: `add_user`, `get_user`, `credentials`, `check_password`, `scope_for_username`, lockout.
- `audit`: `log` (append-only), `events`, `events_csv`.

Imports only `core.warehouse` and `core.exports`.
"""
