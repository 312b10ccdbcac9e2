"""Widgets of the SFTP & e-mail settings page: the source form, the step-by-step connection
report with its Confirm button, Import now with progress, and the SMTP form. Secrets are
write-only here: a field left blank keeps the stored value, and a stored one is shown only as
"set"."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.sftp import mail, registry
from core.sftp.connect import ConnectionReport, RemoteFile, SftpError, Step, Target, load_target
from core.sftp.pull import PullResult, pull_source
from core.words.markup import literal
from ui.session import db_path

KEEP = "stored — leave blank to keep"
CONFIRMABLE = ("host_key_unknown", "host_key_changed")


def sources_table(sources: list[registry.SftpSource]) -> None:
    rows = [
        {
            "Source": s.name,
            "Server": f"{s.username}@{s.host}:{s.port}",
            "Folder / pattern": f"{s.remote_dir.rstrip('/')}/{s.pattern}",
            "Preset": s.preset,
            "Sign-in": ("password" if s.auth_kind == "password" else "private key")
            + (" ✓ set" if (s.password_set or s.key_set) else " ✗ not set"),
            "Host key": s.host_key_fingerprint or "not confirmed",
            "Confirmed by": s.host_key_confirmed_by or "",
        }
        for s in sources
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _secret_input(label: str, stored: bool, key: str) -> str:
    return st.text_input(label, type="password", placeholder=KEEP if stored else "", key=key)


def _key_input(existing: registry.SftpSource | None, key: str) -> tuple[str, str]:
    stored = bool(existing and existing.key_set)
    pasted = st.text_area(
        "Private key (RSA, ECDSA or Ed25519; the file without .pub)",
        placeholder=KEY_HINT if not stored else KEEP,
        key=f"{key}_key",
    )
    uploaded = st.file_uploader("…or upload the key file", key=f"{key}_upload")
    text = uploaded.getvalue().decode("utf-8", errors="replace") if uploaded else pasted
    phrase = _secret_input(
        "Key passphrase (if it has one)", bool(existing and existing.passphrase_set), f"{key}_pp"
    )
    return text, phrase


KEY_HINT = "-----BEGIN OPENSSH PRIVATE KEY-----\n…\n-----END OPENSSH PRIVATE KEY-----"


def source_form(existing: registry.SftpSource | None, presets: list[str]) -> dict[str, Any] | None:
    """The add / edit form; returns save_source keyword arguments when submitted."""
    key = f"src_{existing.name if existing else 'new'}"
    e = existing
    name = st.text_input("Name", value=e.name if e else "", disabled=bool(e), key=f"{key}_name")
    host = st.text_input("Host", value=e.host if e else "", key=f"{key}_host")
    port = st.number_input("Port", 1, 65535, value=e.port if e else 22, key=f"{key}_port")
    username = st.text_input("User name", value=e.username if e else "", key=f"{key}_user")
    kinds = {"password": "Password", "key": "Private key"}
    auth = st.radio(
        "Sign in with",
        list(kinds),
        format_func=kinds.get,
        horizontal=True,
        index=1 if e and e.auth_kind == "key" else 0,
        key=f"{key}_auth",
    )
    secrets: dict[str, str | None] = {"password": None, "private_key": None, "passphrase": None}
    if auth == "password":
        secrets["password"] = _secret_input("Password", bool(e and e.password_set), f"{key}_pw")
    else:
        secrets["private_key"], secrets["passphrase"] = _key_input(e, key)
    remote_dir = st.text_input("Remote folder", value=e.remote_dir if e else "/", key=f"{key}_dir")
    pattern = st.text_input(
        "File pattern",
        value=e.pattern if e else "*.csv",
        key=f"{key}_pat",
        help="* any characters, ? one character; e.g. student_data_*.csv",
    )
    current = e.preset if e and e.preset in presets else "auto"
    preset = st.selectbox("Import preset", presets, index=presets.index(current), key=f"{key}_pr")
    if not st.button("Save source", type="primary", key=f"{key}_save"):
        return None
    return {
        "name": name,
        "host": host,
        "port": int(port),
        "username": username,
        "auth_kind": auth,
        "remote_dir": remote_dir,
        "pattern": pattern,
        "preset": preset,
        **{k: (v or None) for k, v in secrets.items()},
    }


def target_or_stop(con: Any, name: str) -> Target:
    """The source's connection details; an unreadable secret is shown instead of a crash."""
    try:
        return load_target(con, name)
    except registry.SourceError as exc:
        st.error(literal(str(exc)))
        st.stop()


def problem_text(problem: SftpError) -> str:
    """What went wrong (its words may quote the server) and what to do, as Markdown."""
    return f"{literal(problem.reason)}\n\n**What to do:** {literal(problem.advice)}"


def step_line(step: Step) -> str:
    mark = "✅" if step.ok else "❌"
    return f"{mark} **{step.label}** — {literal(step.detail)} ({step.seconds:.2f} s)"


def show_report(report: ConnectionReport) -> None:
    for step in report.steps:
        st.markdown(step_line(step))
    if report.host_key is not None:
        st.markdown(f"Server host key: `{report.host_key.description}`")
    if report.problem is None:
        names = literal(", ".join(f.name for f in report.files[:5]))
        st.success(f"All steps passed. {len(report.files)} file(s) match: {names}")
    elif report.problem.kind == "host_key_changed":
        st.error(problem_text(report.problem))
    elif report.problem.kind == "host_key_unknown":
        st.warning(
            "First connection: compare this fingerprint with the one the server's administrator "
            f"gives you, then confirm it.\n\n`{report.host_key.description}`"
        )
    else:
        st.error(problem_text(report.problem))


def confirm_wanted(report: ConnectionReport, key: str) -> bool:
    """The Confirm button for an unknown or changed key (a changed one needs a second tick)."""
    if report.problem is None or report.problem.kind not in (
        "host_key_unknown",
        "host_key_changed",
    ):
        return False
    changed = report.problem.kind == "host_key_changed"
    if changed and not st.checkbox(
        "The server's administrator told me the key was changed on purpose and read me this "
        "fingerprint.",
        key=f"{key}_ack",
    ):
        return False
    label = "Confirm the NEW host key" if changed else "Confirm this host key"
    return st.button(label, type="primary", key=f"{key}_confirm")


def pull_with_progress(name: str, user: str) -> PullResult:
    """Import now, drawing each step, each download and each import stage as it happens."""
    with st.status(f"Importing from {name}…", expanded=True) as status:
        bar = st.progress(0.0, text="Connecting…")

        def downloaded(remote: RemoteFile, done: int) -> None:
            share = done / remote.size if remote.size else 1.0
            bar.progress(share, text=f"Downloading {remote.name}: {done / 1e6:,.1f} MB")

        def importing(stage: str, fraction: float) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=f"Import: {stage}…")

        try:
            result = pull_source(
                name,
                db=db_path(),
                user=user,
                on_step=lambda s: st.markdown(step_line(s)),
                on_download=downloaded,
                progress=importing,
            )
        except registry.SourceError as exc:
            status.update(label="Import not started", state="error")
            st.error(literal(str(exc)))
            st.stop()
        status.update(label=literal(result.message), state="complete" if result.ok else "error")
    return result


def show_pull(result: PullResult) -> None:
    if result.problem is not None:
        st.error(problem_text(result.problem))
        return
    for job in result.jobs:
        st.markdown(
            f"**{literal(job['remote_path'])}** — job #{job.get('job_id')} {job.get('status')}: "
            f"{job.get('rows_read', 0):,} rows read, {job.get('inserted', 0):,} inserted, "
            f"{job.get('updated', 0):,} updated, {job.get('rejected', 0):,} rejected."
        )
    for skipped in result.skipped:
        st.info(literal(skipped["message"]))
    for failure in result.failed:
        st.error(literal(f"{failure['name']}: {failure['message']}"))
    (st.success if result.ok else st.warning)(literal(result.message))


def smtp_form(current: mail.SmtpSettings) -> dict[str, Any] | None:
    """The e-mail settings form; returns save_smtp keyword arguments when submitted."""
    with st.form("smtp"):
        host = st.text_input("Mail server (SMTP host)", value=current.host)
        security = st.selectbox(
            "Security",
            mail.SECURITY,
            index=mail.SECURITY.index(current.security),
            format_func={
                "starttls": "STARTTLS (port 587)",
                "ssl": "SSL/TLS (port 465)",
                "none": "None — local relay only (port 25)",
            }.get,
        )
        port = st.number_input("Port", 1, 65535, value=current.port)
        username = st.text_input("User name (blank if the server needs none)", current.username)
        password = st.text_input(
            "Password", type="password", placeholder=KEEP if current.password_set else ""
        )
        sender = st.text_input("Sender address", value=current.sender)
        recipients = st.text_area(
            "Admins to notify (one per line; blank: every district admin with an e-mail)",
            value="\n".join(current.recipients),
        )
        if not st.form_submit_button("Save e-mail settings", type="primary"):
            return None
    return {
        "host": host,
        "port": int(port),
        "security": security,
        "username": username,
        "password": password or None,
        "sender": sender,
        "recipients": recipients,
    }
