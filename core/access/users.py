"""User accounts: who may sign in, with which role and slice of the warehouse, and lockout.

Passwords are stored as bcrypt hashes only. The sign-in form (ui/auth.py) lets
streamlit-authenticator check the password against `credentials(con)`; the counting of failed
attempts, the lockout and the audit trail live here, in the warehouse, so they hold across
browser sessions, app restarts and the CLI. Every change to an account is audited
(`user_change`), never with a password in it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

import bcrypt
import duckdb
import pandas as pd

from core.access import audit
from core.access.scope import ROLES, Scope, scope_for_user
from core.warehouse import settings
from core.warehouse.db import transaction

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (bcrypt 5 refuses longer input)
BCRYPT_ROUNDS = 12  # ~0.23 s per hash on the reference laptop
LOCKOUT_ATTEMPTS = 5
LOCKOUT_MINUTES = 15
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_COMMON = {"password", "passw0rd", "qwerty", "letmein", "welcome", "yardstick", "changeme", "admin"}
PASSWORD_RULE = (
    f"Use at least {MIN_PASSWORD_LENGTH} characters — a passphrase of a few words is ideal — "
    "mixing at least two kinds (lower-case, upper-case, digits, symbols or spaces), and not "
    "containing the username."
)
ROLE_LABELS = {
    "district_admin": "District admin — everything, settings, users",
    "school_admin": "School admin — their schools, student level",
    "teacher": "Teacher — their sections, student level",
    "viewer": "Viewer — aggregates only, for assigned schools",
}


class UserError(ValueError):
    """An account change or sign-in that cannot happen; the message says why and what to do."""


class WeakPasswordError(UserError):
    """The password does not meet the rule in PASSWORD_RULE."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    name: str | None = None
    email: str | None = None
    schools: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    active: bool = True
    failed_attempts: int = 0
    locked_until: dt.datetime | None = None

    @property
    def scope(self) -> Scope:
        return scope_for_user(self.username, self.role, list(self.schools), list(self.sections))


@dataclass(frozen=True)
class Access:
    """The answer to "may this person sign in now?"; `message` is shown as is."""

    allowed: bool
    reason: str  # ok | unknown | inactive | locked | wrong_password
    message: str = ""
    retry_at: dt.datetime | None = None  # UTC, when locked


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- usernames and passwords -------------------------------------------------------------------


def normalize_username(text: str) -> str:
    """Lower case, trimmed (the sign-in form lower-cases too); letters, digits, . _ @ - only."""
    username = (text or "").strip().lower()
    if not _USERNAME.match(username):
        raise UserError(
            f"{text!r} is not a usable username: use 2–64 characters, lower-case letters, digits "
            "and . _ @ - (starting with a letter or digit)."
        )
    return username


def _kinds(password: str) -> int:
    tests = (str.islower, str.isupper, str.isdigit, str.isspace)
    kinds = {i for ch in password for i, test in enumerate(tests) if test(ch)}
    if any(not ch.isalnum() and not ch.isspace() for ch in password):
        kinds.add(len(tests))
    return len(kinds)


def password_problem(password: str, username: str = "") -> str | None:
    """Why a password is too weak (None when it is fine). Leading/trailing spaces are ignored,
    as the sign-in form ignores them."""
    text = (password or "").strip()
    user = (username or "").strip().lower()
    if len(text) < MIN_PASSWORD_LENGTH:
        return f"The password has {len(text)} characters; it needs at least {MIN_PASSWORD_LENGTH}."
    if len(text.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"The password is longer than {MAX_PASSWORD_BYTES} bytes, more than bcrypt reads."
    if _kinds(text) < 2:
        return "The password uses only one kind of character."
    if len(set(text.lower())) < 5:
        return "The password repeats fewer than 5 different characters."
    if user and user in text.lower():
        return "The password contains the username."
    if re.sub(r"[^a-z]", "", text.lower()) in _COMMON:
        return "The password is a common word with digits or symbols added."
    return None


def check_password(password: str, username: str = "") -> str:
    """The password to store (trimmed), or WeakPasswordError explaining the rule."""
    problem = password_problem(password, username)
    if problem:
        raise WeakPasswordError(f"{problem} {PASSWORD_RULE}")
    return password.strip()


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def password_matches(password: str, password_hash: str) -> bool:
    encoded = (password or "").strip().encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


# --- reading accounts --------------------------------------------------------------------------

_USER_COLUMNS = (
    "username, role, name, email, schools, sections, active, failed_attempts, locked_until"
)


def get_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    row = con.execute(
        f"select {_USER_COLUMNS} from users where username = ?", [(username or "").strip().lower()]
    ).fetchone()
    if row is None:
        return None
    return User(
        username=row[0],
        role=row[1],
        name=row[2],
        email=row[3],
        schools=tuple(row[4] or ()),
        sections=tuple(row[5] or ()),
        active=bool(row[6]),
        failed_attempts=int(row[7] or 0),
        locked_until=row[8],
    )


def _require(con: duckdb.DuckDBPyConnection, username: str) -> User:
    user = get_user(con, username)
    if user is None:
        raise UserError(f"There is no user {username!r} (see `python -m core users list`).")
    return user


def has_users(con: duckdb.DuckDBPyConnection) -> bool:
    """False on first run: the app then shows the set-up screen instead of the sign-in form."""
    return con.execute("select count(*) from users").fetchone()[0] > 0


def scope_for_username(con: duckdb.DuckDBPyConnection, username: str) -> Scope:
    """The slice an active account may read (the CLI's --as-user and the app's gate)."""
    user = _require(con, username)
    if not user.active:
        raise UserError(f"The account {user.username!r} is deactivated.")
    return user.scope


def list_users(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every account (no hashes), with its lock state and last sign-in from the audit log."""
    frame = con.execute(
        """
        with last_sign_in as (
            select username, max(logged_at) as last_sign_in
            from audit_log where action = 'sign_in' group by username
        )
        select u.username, u.name, u.email, u.role, u.schools, u.sections, u.active,
               u.failed_attempts, u.locked_until, u.created_at, l.last_sign_in
        from users u left join last_sign_in l using (username)
        order by u.role = 'district_admin' desc, u.username
        """
    ).df()
    for column in ("schools", "sections"):
        frame[column] = [list(v) if v is not None else [] for v in frame[column]]
    return frame


def credentials(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """streamlit-authenticator's credentials dict: active accounts only (a deactivated user can
    neither sign in nor be re-admitted by an old cookie); locked ones stay so the gate can say
    they are locked instead of "wrong password"."""
    rows = con.execute(
        "select username, name, email, role, password_hash from users where active order by 1"
    ).fetchall()
    return {
        "usernames": {
            username: {
                "name": name or username,
                "email": email or "",
                "password": password_hash,
                "roles": [role],
                "failed_login_attempts": 0,
                "logged_in": False,
            }
            for username, name, email, role, password_hash in rows
        }
    }


# --- changing accounts -------------------------------------------------------------------------


def _assignment(
    role: str, schools: tuple[str, ...], sections: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """The schools/sections a role keeps: admins none (they see all), school admins and viewers
    their schools, teachers their sections (and optionally schools)."""
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    schools = list(dict.fromkeys(s.strip() for s in schools if s and s.strip()))
    sections = list(dict.fromkeys(s.strip() for s in sections if s and s.strip()))
    if role == "district_admin":
        return [], []
    if role == "teacher":
        if not sections:
            raise UserError("A teacher needs at least one section.")
        return schools, sections
    if not schools:
        raise UserError(f"A {role.replace('_', ' ')} needs at least one school.")
    return schools, []


def _assignment_detail(role: str, schools: list[str], sections: list[str]) -> dict[str, Any]:
    return {"role": role, "schools": schools, "sections": sections}


def add_user(
    con: duckdb.DuckDBPyConnection,
    username: str,
    role: str,
    password: str,
    *,
    name: str | None = None,
    email: str | None = None,
    schools: tuple[str, ...] | list[str] = (),
    sections: tuple[str, ...] | list[str] = (),
    by: str = "system",
) -> User:
    """Create an account (strength-checked password, bcrypt hash); audited as user_change."""
    username = normalize_username(username)
    kept_schools, kept_sections = _assignment(role, tuple(schools), tuple(sections))
    password_hash = hash_password(check_password(password, username))
    with transaction(con):
        if get_user(con, username) is not None:
            raise UserError(
                f"The user {username!r} already exists; use `users reset {username}` for a "
                "new password."
            )
        con.execute(
            "insert into users (username, name, email, role, schools, sections, password_hash) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [username, name or None, email or None, role, kept_schools, kept_sections]
            + [password_hash],
        )
        assignment = _assignment_detail(role, kept_schools, kept_sections)
        audit.log(con, by, "user_change", {"change": "add", "user": username, **assignment})
    return _require(con, username)


def create_first_admin(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    *,
    name: str | None = None,
    email: str | None = None,
) -> User:
    """The first-run account; refused once any account exists (two set-up tabs at once)."""
    if has_users(con):
        raise UserError("An account already exists; sign in instead.")
    return add_user(
        con, username, "district_admin", password, name=name, email=email, by="first-run setup"
    )


def _active_admins(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select username from users where role = 'district_admin' and active"
    ).fetchall()
    return [row[0] for row in rows]


def _keeps_an_admin(con: duckdb.DuckDBPyConnection, user: User) -> None:
    if user.role == "district_admin" and user.active and _active_admins(con) == [user.username]:
        raise UserError(
            f"{user.username!r} is the only active district admin; add another district admin "
            "first, or nobody could manage users and settings."
        )


def update_user(
    con: duckdb.DuckDBPyConnection,
    username: str,
    *,
    role: str,
    schools: tuple[str, ...] | list[str] = (),
    sections: tuple[str, ...] | list[str] = (),
    name: str | None = None,
    email: str | None = None,
    by: str = "system",
) -> User:
    """Change an account's role, assignment, name or e-mail; audited."""
    user = _require(con, username)
    kept_schools, kept_sections = _assignment(role, tuple(schools), tuple(sections))
    if role != "district_admin":
        _keeps_an_admin(con, user)
    with transaction(con):
        con.execute(
            "update users set role = ?, schools = ?, sections = ?, name = ?, email = ? "
            "where username = ?",
            [role, kept_schools, kept_sections, name or None, email or None, user.username],
        )
        assignment = _assignment_detail(role, kept_schools, kept_sections)
        audit.log(con, by, "user_change", {"change": "update", "user": user.username, **assignment})
    return _require(con, user.username)


def reset_password(
    con: duckdb.DuckDBPyConnection, username: str, password: str, *, by: str = "system"
) -> User:
    """A new password; also clears failed attempts and any lockout."""
    user = _require(con, username)
    password_hash = hash_password(check_password(password, user.username))
    with transaction(con):
        con.execute(
            "update users set password_hash = ?, failed_attempts = 0, locked_until = null "
            "where username = ?",
            [password_hash, user.username],
        )
        audit.log(con, by, "user_change", {"change": "reset_password", "user": user.username})
    return _require(con, user.username)


def set_active(
    con: duckdb.DuckDBPyConnection, username: str, active: bool, *, by: str = "system"
) -> User:
    """Deactivate (can no longer sign in; history kept) or reactivate an account."""
    user = _require(con, username)
    if not active:
        if by == user.username:
            raise UserError("You cannot deactivate the account you are signed in with.")
        _keeps_an_admin(con, user)
    with transaction(con):
        con.execute("update users set active = ? where username = ?", [active, user.username])
        change = "activate" if active else "deactivate"
        audit.log(con, by, "user_change", {"change": change, "user": user.username})
    return _require(con, user.username)


def deactivate(con: duckdb.DuckDBPyConnection, username: str, *, by: str = "system") -> User:
    return set_active(con, username, False, by=by)


# --- signing in --------------------------------------------------------------------------------


def lockout_policy(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(failed attempts before a lockout, minutes it lasts), from settings or the defaults."""
    attempts = int(settings.get(con, "lockout_attempts", LOCKOUT_ATTEMPTS))
    minutes = int(settings.get(con, "lockout_minutes", LOCKOUT_MINUTES))
    return max(1, attempts), max(1, minutes)


def set_lockout_policy(
    con: duckdb.DuckDBPyConnection, attempts: int, minutes: int, *, by: str = "system"
) -> None:
    """Change how many failures in a row lock an account (3–20) and for how long (1–1440 min)."""
    if not 3 <= int(attempts) <= 20 or not 1 <= int(minutes) <= 1440:
        raise UserError("Lock after 3 to 20 failed attempts, for 1 to 1440 minutes (a day).")
    settings.put(con, "lockout_attempts", int(attempts), user=by)
    settings.put(con, "lockout_minutes", int(minutes), user=by)
    detail = {"area": "sign-in", "lockout_attempts": int(attempts), "lockout_minutes": int(minutes)}
    audit.log(con, by, "settings_change", detail)


def _wrong_password(con: duckdb.DuckDBPyConnection) -> Access:
    attempts, minutes = lockout_policy(con)
    return Access(
        False,
        "wrong_password",
        f"Wrong username or password. After {attempts} failed attempts in a row an account is "
        f"locked for {minutes} minutes.",
    )


def _locked(con: duckdb.DuckDBPyConnection, until: dt.datetime, now: dt.datetime) -> Access:
    attempts, _ = lockout_policy(con)
    minutes_left = max(1, math.ceil((until - now).total_seconds() / 60))
    return Access(
        False,
        "locked",
        f"This account is locked after {attempts} failed sign-ins. Try again in {minutes_left} "
        f"minute{'s' if minutes_left != 1 else ''} (at {until:%H:%M} UTC), or ask a district "
        "admin to reset your password, which unlocks it at once.",
        retry_at=until,
    )


def access(
    con: duckdb.DuckDBPyConnection, username: str, *, now: dt.datetime | None = None
) -> Access:
    """May this account sign in (or stay signed in) right now? Checked on every page load."""
    now = now or utc_now()
    user = get_user(con, username)
    if user is None:
        return _wrong_password(con) if username else Access(False, "unknown")
    if not user.active:
        return Access(
            False,
            "inactive",
            "This account has been deactivated. Ask a district admin if you still need access.",
        )
    if user.locked_until is not None and user.locked_until > now:
        return _locked(con, user.locked_until, now)
    return Access(True, "ok")


def record_failed_sign_in(
    con: duckdb.DuckDBPyConnection, username: str | None, *, now: dt.datetime | None = None
) -> Access:
    """Count a wrong password; the Nth in a row locks the account for M minutes. Audited as
    sign_in_failed (and locked_out when the lock starts). Attempts on a locked account are
    audited but neither counted nor extend the lock."""
    now = now or utc_now()
    name = (username or "").strip().lower() or None
    state = access(con, name or "", now=now)
    user = get_user(con, name) if name else None
    if user is None or state.reason in ("locked", "inactive"):
        reason = "unknown_user" if user is None else state.reason
        audit.log(con, name, "sign_in_failed", {"reason": reason})
        return state if state.reason in ("locked", "inactive") else _wrong_password(con)
    attempts, minutes = lockout_policy(con)
    failures = user.failed_attempts + 1
    with transaction(con):
        audit.log(con, name, "sign_in_failed", {"reason": "wrong_password", "attempt": failures})
        if failures < attempts:
            con.execute("update users set failed_attempts = ? where username = ?", [failures, name])
            return _wrong_password(con)
        until = now + dt.timedelta(minutes=minutes)
        con.execute(
            "update users set failed_attempts = 0, locked_until = ? where username = ?",
            [until, name],
        )
        audit.log(con, name, "locked_out", {"attempts": failures, "until": until.isoformat()})
    return _locked(con, until, now)


def record_sign_in(
    con: duckdb.DuckDBPyConnection, username: str, *, method: str = "password"
) -> None:
    """A successful sign-in: failed attempts start again from zero; audited as sign_in."""
    name = username.strip().lower()
    with transaction(con):
        con.execute(
            "update users set failed_attempts = 0, locked_until = null where username = ?", [name]
        )
        audit.log(con, name, "sign_in", {"method": method})


def sessions_revoked_at(con: duckdb.DuckDBPyConnection, username: str) -> dt.datetime | None:
    """When this account's remembered sessions stopped counting (UTC): its latest sign-out (from
    any device), password reset, deactivation, lockout or attempt while locked. A sign-in cookie
    issued before it is refused — so a password guessed during a lockout opens nothing later."""
    return con.execute(
        """
        select max(logged_at) from audit_log
        where (username = $user and action in ('sign_out', 'locked_out'))
           or (username = $user and action = 'sign_in_failed'
               and detail->>'reason' in ('locked', 'inactive'))
           or (action = 'user_change' and detail->>'user' = $user
               and detail->>'change' in ('reset_password', 'deactivate'))
        """,
        {"user": username.strip().lower()},
    ).fetchone()[0]


def verify_sign_in(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    *,
    now: dt.datetime | None = None,
) -> Access:
    """The whole sign-in decision without a browser: lock and active state first, then the
    password, with the counting and auditing above."""
    now = now or utc_now()
    state = access(con, username, now=now)
    user = get_user(con, username)
    if not state.allowed or user is None:
        return record_failed_sign_in(con, username, now=now)
    password_hash = con.execute(
        "select password_hash from users where username = ?", [user.username]
    ).fetchone()[0]
    if not password_matches(password, password_hash):
        return record_failed_sign_in(con, user.username, now=now)
    record_sign_in(con, user.username)
    return state


# --- what can be assigned ----------------------------------------------------------------------


def school_choices(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Schools in the warehouse, for assigning school admins, viewers and teachers."""
    return [row[0] for row in con.execute("select name from schools order by name").fetchall()]


def section_choices(
    con: duckdb.DuckDBPyConnection, schools: list[str] | tuple[str, ...] | None = None
) -> pd.DataFrame:
    """One row per section (in the given schools, else all): its school(s), teachers and the
    latest school year it appears in — enough for a person to recognise it."""
    return con.execute(
        """
        select e.section,
               string_agg(distinct sc.name, ', ' order by sc.name) as schools,
               string_agg(distinct nullif(e.teacher, ''), ', ' order by nullif(e.teacher, ''))
                   as teachers,
               max(e.school_year) as latest_year,
               count(distinct e.student_id) as students
        from enrollments e join schools sc on sc.school_id = e.school_id
        where e.section <> '' and ($schools is null or list_contains($schools, sc.name))
        group by e.section
        order by e.section
        """,
        {"schools": list(schools) if schools else None},
    ).df()


def unknown_assignments(
    con: duckdb.DuckDBPyConnection, schools: list[str], sections: list[str]
) -> list[str]:
    """Names not (yet) in the warehouse: a typo would leave the account seeing nothing."""
    known_schools = set(school_choices(con))
    known_sections = set(section_choices(con)["section"])
    return [f"school {s!r}" for s in schools if s not in known_schools] + [
        f"section {s!r}" for s in sections if s not in known_sections
    ]


# --- demo accounts -----------------------------------------------------------------------------


DEMO_USERNAMES = ("demo-district", "demo-principal", "demo-teacher", "demo-viewer")


def check_demo_password(password: str) -> str:
    """The demo accounts' shared password, checked against each of their names up front."""
    for username in DEMO_USERNAMES:
        check_password(password, username)
    return password.strip()


# The demo district's stories (core/demo/district.py): Lincoln's grade 3 math declines in the
# latest year,
# Roosevelt is well above the norms. Any other district falls back to the first schools.
DEMO_PRINCIPAL_SCHOOL = "Lincoln Elementary"
DEMO_VIEWER_SCHOOL = "Roosevelt Elementary"
DEMO_GRADE = "3"


def _demo_schools(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    schools = school_choices(con)
    if len(schools) < 2:
        raise UserError("Demo accounts need a district with at least two schools: load it first.")
    principal = DEMO_PRINCIPAL_SCHOOL if DEMO_PRINCIPAL_SCHOOL in schools else schools[0]
    others = [s for s in schools if s != principal]
    viewer = DEMO_VIEWER_SCHOOL if DEMO_VIEWER_SCHOOL in others else others[0]
    return principal, viewer


def _demo_teacher(con: duckdb.DuckDBPyConnection, school: str) -> tuple[str, list[str]]:
    """The teacher with the most students at the school in its latest year (a grade 3 teacher
    when there is one), and their sections that year."""
    row = con.execute(
        """
        with latest as (
            select max(e.school_year) as school_year
            from enrollments e join schools sc on sc.school_id = e.school_id
            where sc.name = $school
        )
        select e.teacher, list(distinct e.section order by e.section) as sections
        from enrollments e
        join schools sc on sc.school_id = e.school_id
        join latest using (school_year)
        where sc.name = $school and e.teacher <> '' and e.section <> ''
        group by e.teacher
        order by bool_or(e.grade = $grade) desc, count(distinct e.student_id) desc, e.teacher
        limit 1
        """,
        {"school": school, "grade": DEMO_GRADE},
    ).fetchone()
    if row is None:
        raise UserError(f"No teacher with sections at {school}: demo accounts need rosters.")
    return row[0], list(row[1])


def demo_accounts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One account per role over four different slices of the loaded district: the whole
    district; one school; one teacher's sections in that school; another school, aggregates
    only."""
    principal, viewer = _demo_schools(con)
    teacher, sections = _demo_teacher(con, principal)
    return [
        {"username": DEMO_USERNAMES[0], "role": "district_admin", "name": "Demo District Admin"},
        {
            "username": DEMO_USERNAMES[1],
            "role": "school_admin",
            "name": f"Principal, {principal}",
            "schools": [principal],
        },
        {
            "username": DEMO_USERNAMES[2],
            "role": "teacher",
            "name": teacher,
            "schools": [principal],
            "sections": sections,
        },
        {
            "username": DEMO_USERNAMES[3],
            "role": "viewer",
            "name": f"Board viewer, {viewer}",
            "schools": [viewer],
        },
    ]


def add_demo_users(
    con: duckdb.DuckDBPyConnection, password: str, *, by: str = "system"
) -> list[User]:
    """Create (or, when they exist, re-assign and re-password) the four demo accounts, all with
    the password the admin typed — there is no built-in one."""
    check_demo_password(password)
    accounts = demo_accounts(con)
    created = []
    for account in accounts:
        fields = {k: account.get(k) or () for k in ("schools", "sections")}
        if get_user(con, account["username"]) is None:
            user = add_user(con, password=password, by=by, **account | fields)
        else:
            update_user(con, by=by, **account | fields)
            user = reset_password(con, account["username"], password, by=by)
        created.append(user)
    return created
