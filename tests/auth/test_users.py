"""Accounts: strength rule, add/update/reset/deactivate, lockout, credentials, demo accounts."""

from __future__ import annotations

import datetime as dt
import json

import bcrypt
import pytest

from core.access import audit, users
from core.access.scope import Scope
from tests.auth.conftest import PASSWORD


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("short1A!", "ana", "needs at least 12"),
        ("abcdefghijklmnop", "ana", "one kind"),
        ("111111111111111", "ana", "one kind"),
        ("ababababababab1", "ana", "5 different characters"),
        ("my name is ana.lopez!", "ana.lopez", "contains the username"),
        ("Password123456!", "ana", "common word"),
        ("é" * 37 + "x", "ana", "72 bytes"),
    ],
)
def test_weak_passwords_are_explained(password: str, username: str, problem: str) -> None:
    with pytest.raises(users.WeakPasswordError) as caught:
        users.check_password(password, username)
    assert problem in str(caught.value)
    assert "at least 12 characters" in str(caught.value)  # the rule itself is always stated


@pytest.mark.parametrize("password", ["tidy river lantern", "Kx9#mq2Lp0vZ", "  purple-otter-77  "])
def test_strong_passwords_pass_and_are_trimmed(password: str) -> None:
    assert users.check_password(password, "ana") == password.strip()


def test_add_user_stores_a_bcrypt_hash_and_audits(con) -> None:
    user = users.add_user(
        con, "  Ana.Lopez ", "school_admin", PASSWORD, schools=["Lincoln Elementary"], by="boss"
    )
    assert user == users.User("ana.lopez", "school_admin", schools=("Lincoln Elementary",))
    stored = con.execute("select password_hash from users").fetchone()[0]
    assert stored.startswith("$2b$") and PASSWORD not in stored
    assert bcrypt.checkpw(PASSWORD.encode(), stored.encode())
    event = audit.events(con, action="user_change").iloc[0]
    assert event["username"] == "boss"
    assert json.loads(event["detail"]) == {
        "change": "add",
        "user": "ana.lopez",
        "role": "school_admin",
        "schools": ["Lincoln Elementary"],
        "sections": [],
    }
    assert PASSWORD not in event["detail"]


@pytest.mark.parametrize(
    ("role", "schools", "sections", "message"),
    [
        ("teacher", ["Lincoln Elementary"], [], "at least one section"),
        ("school_admin", [], ["L-3A"], "at least one school"),
        ("viewer", [], [], "at least one school"),
        ("superuser", [], [], "Unknown role"),
    ],
)
def test_role_needs_its_assignment(con, role, schools, sections, message) -> None:
    with pytest.raises(users.UserError, match=message):
        users.add_user(con, "bob", role, PASSWORD, schools=schools, sections=sections)
    assert not users.has_users(con)


def test_duplicate_and_bad_usernames_are_refused(con) -> None:
    users.add_user(con, "ana", "district_admin", PASSWORD)
    with pytest.raises(users.UserError, match="already exists"):
        users.add_user(con, "ANA", "viewer", PASSWORD, schools=["x"])
    with pytest.raises(users.UserError, match="not a usable username"):
        users.add_user(con, "ana lopez", "district_admin", PASSWORD)


def test_scope_follows_the_role(con) -> None:
    users.add_user(con, "boss", "district_admin", PASSWORD, schools=["ignored"])
    users.add_user(con, "pat", "school_admin", PASSWORD, schools=["Lincoln Elementary"])
    users.add_user(con, "tom", "teacher", PASSWORD, sections=["L-3A", "L-3B"])
    users.add_user(con, "val", "viewer", PASSWORD, schools=["Washington Elementary"])
    assert users.scope_for_username(con, "boss") == Scope("boss", "district_admin")
    assert users.scope_for_username(con, "pat") == Scope(
        "pat", "school_admin", schools=("Lincoln Elementary",)
    )
    assert users.scope_for_username(con, "tom") == Scope(
        "tom", "teacher", schools=None, sections=("L-3A", "L-3B")
    )
    viewer = users.scope_for_username(con, "val")
    assert viewer.schools == ("Washington Elementary",) and not viewer.sees_students
    users.deactivate(con, "val", by="boss")
    with pytest.raises(users.UserError, match="deactivated"):
        users.scope_for_username(con, "val")
    with pytest.raises(users.UserError, match="no user"):
        users.scope_for_username(con, "nobody")


def test_last_admin_cannot_be_removed_or_demoted(con) -> None:
    users.add_user(con, "boss", "district_admin", PASSWORD)
    with pytest.raises(users.UserError, match="only active district admin"):
        users.deactivate(con, "boss", by="cli:root")
    with pytest.raises(users.UserError, match="only active district admin"):
        users.update_user(con, "boss", role="viewer", schools=["x"])
    users.add_user(con, "deputy", "district_admin", PASSWORD)
    with pytest.raises(users.UserError, match="signed in with"):
        users.deactivate(con, "boss", by="boss")
    assert not users.deactivate(con, "boss", by="deputy").active


def _failures(con, username: str, count: int, now: dt.datetime) -> users.Access:
    result = None
    for _ in range(count):
        result = users.verify_sign_in(con, username, "wrong password here", now=now)
    return result


def test_lockout_after_five_failures_then_expiry(con) -> None:
    users.add_user(con, "ana", "district_admin", PASSWORD)
    now = dt.datetime(2026, 3, 2, 9, 0)
    fourth = _failures(con, "ana", 4, now)
    assert fourth.reason == "wrong_password" and "locked for 15 minutes" in fourth.message
    fifth = _failures(con, "ana", 1, now)
    assert fifth.reason == "locked" and fifth.retry_at == dt.datetime(2026, 3, 2, 9, 15)
    assert "Try again in 15 minutes (at 09:15 UTC)" in fifth.message
    # the right password does not help while locked, and a locked try does not extend it
    during = users.verify_sign_in(con, "ana", PASSWORD, now=now + dt.timedelta(minutes=14))
    assert during.reason == "locked" and "1 minute (at 09:15 UTC)" in during.message
    assert users.get_user(con, "ana").locked_until == dt.datetime(2026, 3, 2, 9, 15)
    after = users.verify_sign_in(con, "ana", PASSWORD, now=now + dt.timedelta(minutes=15))
    assert after.allowed
    actions = list(audit.events(con, username="ana")["action"])
    assert actions.count("sign_in_failed") == 6 and actions.count("locked_out") == 1
    assert actions[0] == "sign_in"


def test_success_resets_the_count_and_reset_unlocks(con) -> None:
    users.add_user(con, "ana", "district_admin", PASSWORD)
    now = dt.datetime(2026, 3, 2, 9, 0)
    _failures(con, "ana", 4, now)
    assert users.verify_sign_in(con, "ana", PASSWORD, now=now).allowed
    assert _failures(con, "ana", 4, now).reason == "wrong_password"  # counting restarted
    assert _failures(con, "ana", 1, now).reason == "locked"
    users.reset_password(con, "ana", "another long phrase", by="cli:root")
    assert users.access(con, "ana", now=now).allowed
    assert users.verify_sign_in(con, "ana", "another long phrase", now=now).allowed


def test_policy_comes_from_settings(con) -> None:
    users.set_lockout_policy(con, 3, 60, by="boss")
    assert users.lockout_policy(con) == (3, 60)
    users.add_user(con, "ana", "district_admin", PASSWORD)
    now = dt.datetime(2026, 3, 2, 9, 0)
    assert _failures(con, "ana", 2, now).reason == "wrong_password"
    assert _failures(con, "ana", 1, now).retry_at == dt.datetime(2026, 3, 2, 10, 0)
    change = audit.events(con, action="settings_change").iloc[0]
    assert change["username"] == "boss" and json.loads(change["detail"])["lockout_attempts"] == 3
    with pytest.raises(users.UserError, match="3 to 20"):
        users.set_lockout_policy(con, 1, 60)


def test_unknown_and_inactive_users(con) -> None:
    users.add_user(con, "boss", "district_admin", PASSWORD)
    users.add_user(con, "val", "viewer", PASSWORD, schools=["x"])
    unknown = users.verify_sign_in(con, "ghost", PASSWORD)
    assert unknown.reason == "wrong_password" and "Wrong username or password" in unknown.message
    users.deactivate(con, "val", by="boss")
    assert users.verify_sign_in(con, "val", PASSWORD).reason == "inactive"
    reasons = [json.loads(d)["reason"] for d in audit.events(con, action="sign_in_failed").detail]
    assert reasons == ["inactive", "unknown_user"]


def test_credentials_hold_active_accounts_only(con) -> None:
    users.add_user(con, "boss", "district_admin", PASSWORD, name="Dana Boss", email="d@x.org")
    users.add_user(con, "val", "viewer", PASSWORD, schools=["x"])
    users.deactivate(con, "val", by="boss")
    creds = users.credentials(con)
    assert list(creds["usernames"]) == ["boss"]
    entry = creds["usernames"]["boss"]
    assert entry["name"] == "Dana Boss" and entry["roles"] == ["district_admin"]
    assert bcrypt.checkpw(PASSWORD.encode(), entry["password"].encode())


def test_assignment_choices_come_from_the_warehouse(district) -> None:
    assert users.school_choices(district) == ["Lincoln Elementary", "Washington Elementary"]
    sections = users.section_choices(district, ["Lincoln Elementary"])
    assert list(sections["section"]) == ["L-3A", "L-3B"]
    assert list(sections["teachers"]) == ["Ms. Rivera", "Mr. Chen"]
    assert list(sections["students"]) == [3, 2]
    unknown = users.unknown_assignments(district, ["Lincoln Elementary", "Nowhere"], ["L-3A", "Z"])
    assert unknown == ["school 'Nowhere'", "section 'Z'"]


def test_demo_accounts_are_four_different_slices(district) -> None:
    created = users.add_demo_users(district, PASSWORD, by="boss")
    assert [u.role for u in created] == list(users.ROLE_LABELS)
    scopes = {u.username: u.scope for u in created}
    assert scopes["demo-district"].is_everything
    assert scopes["demo-principal"].schools == ("Lincoln Elementary",)
    assert scopes["demo-teacher"].sections == ("L-3A",)  # Ms. Rivera has the most students
    assert scopes["demo-viewer"].schools == ("Washington Elementary",)
    again = users.add_demo_users(district, "a brand new phrase", by="boss")  # idempotent
    assert len(again) == 4 and len(users.list_users(district)) == 4
    assert users.verify_sign_in(district, "demo-viewer", "a brand new phrase").allowed


def test_sessions_are_revoked_by_sign_out_reset_and_deactivation(con) -> None:
    users.add_user(con, "boss", "district_admin", PASSWORD)
    users.add_user(con, "ana", "viewer", PASSWORD, schools=["x"])
    assert users.sessions_revoked_at(con, "ana") is None
    users.record_sign_in(con, "ana")
    assert users.sessions_revoked_at(con, "ana") is None
    audit.log(con, "ana", "sign_out", {})
    signed_out = users.sessions_revoked_at(con, "ana")
    assert signed_out is not None
    audit.log(con, "boss", "sign_out", {})  # someone else's sign-out changes nothing for ana
    assert users.sessions_revoked_at(con, "ana") == signed_out
    users.reset_password(con, "ana", "a whole new phrase", by="boss")
    reset = users.sessions_revoked_at(con, "ana")
    assert reset > signed_out
    users.update_user(con, "ana", role="viewer", schools=["y"], by="boss")  # not a revocation
    assert users.sessions_revoked_at(con, "ana") == reset
    users.verify_sign_in(con, "ana", "wrong guess")  # a wrong password alone revokes nothing
    assert users.sessions_revoked_at(con, "ana") == reset
    for _ in range(4):
        users.verify_sign_in(con, "ana", "wrong guess")
    locked = users.sessions_revoked_at(con, "ana")
    assert locked > reset
    users.verify_sign_in(con, "ana", "a whole new phrase")  # right password while locked
    assert users.sessions_revoked_at(con, "ana") > locked
    users.reset_password(con, "ana", "a whole new phrase", by="boss")
    users.deactivate(con, "ana", by="boss")
    assert users.sessions_revoked_at(con, "ana") == audit.events(con).logged_at.max()
