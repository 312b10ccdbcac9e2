"""The audit log: append, filter, CSV; unknown actions refused."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest

from core.access import audit


def test_log_appends_and_filters(con) -> None:
    audit.log(con, "ana", "sign_in", {"method": "password"})
    audit.log(con, "ben", "export", {"cohort": {"grade": "3"}, "rows": 12})
    audit.log(con, "ana", "view_students", {"page": "watch list"})

    everything = audit.events(con)
    assert list(everything.columns) == audit.COLUMNS
    assert list(everything["action"]) == ["view_students", "export", "sign_in"]

    ana = audit.events(con, username="ana")
    assert set(ana["action"]) == {"sign_in", "view_students"}
    exports = audit.events(con, action="export")
    assert json.loads(exports["detail"].iloc[0]) == {"cohort": {"grade": "3"}, "rows": 12}
    assert audit.users_seen(con) == ["ana", "ben"]


def test_date_filters_use_whole_days(con) -> None:
    audit.log(con, "ana", "sign_in", {})
    today = dt.datetime.now(dt.UTC).date()
    assert len(audit.events(con, since=today, until=today)) == 1
    assert len(audit.events(con, since=today + dt.timedelta(days=1))) == 0
    assert len(audit.events(con, until=today - dt.timedelta(days=1))) == 0


def test_unknown_action_is_refused(con) -> None:
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit.log(con, "ana", "sign-in", {})
    assert audit.events(con).empty


def test_csv_neutralises_formulas(con) -> None:
    audit.log(con, "=cmd|'/c calc'!A1", "sign_in_failed", {"reason": "unknown user"})
    data = audit.events_csv(audit.events(con), {"action": "all"}).decode()
    assert data.startswith("# table: audit log (times in UTC)\n# action: all\n")
    frame = pd.read_csv(io.StringIO(data), comment="#")
    assert frame["username"].iloc[0] == "'=cmd|'/c calc'!A1"
    assert frame["action"].iloc[0] == "sign_in_failed"
