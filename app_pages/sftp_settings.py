"""SFTP & e-mail (district admin): where the nightly exports come from, the server's confirmed
identity, Import now, and who is told when the nightly import fails."""

from collections.abc import Callable

import streamlit as st

from core.access import audit
from core.sftp import mail, registry
from core.sftp.connect import test_connection
from core.words.markup import literal
from ui import sftp_panels as panels
from ui.auth import require_admin
from ui.session import rerun_with_success, show_rerun_success, warehouse

NEW = "➕ New source"
_DONE = "sftp_page_done"

admin = require_admin()
st.title("📡 SFTP & e-mail")
st.caption(
    "Pull the vendor's or SIS's nightly exports from an SFTP server through the same import as "
    "Upload. Passwords and keys are stored encrypted and never shown again. The nightly job is "
    "`python -m core nightly` (see docs/nightly.md)."
)
show_rerun_success(_DONE)

with warehouse() as con:
    sources = registry.list_sources(con)
    presets = registry.preset_choices(con)
    smtp = mail.smtp_settings(con)


def apply(change: Callable, done: str, detail: dict) -> None:
    """One audited settings change; a refusal is shown, a success survives the rerun."""
    try:
        with warehouse() as con:
            change(con)
            audit.log(con, admin.username, "settings_change", detail)
    except ValueError as exc:
        st.error(literal(str(exc)))
        return
    rerun_with_success(_DONE, done)


sources_tab, mail_tab = st.tabs(["SFTP sources", "E-mail (SMTP)"])

with sources_tab:
    if sources:
        panels.sources_table(sources)
    else:
        st.info("No SFTP source yet: add the server your vendor or SIS delivers files to.")
    by_name = {s.name: s for s in sources}
    chosen = st.selectbox("Source", [*by_name, NEW])
    source = by_name.get(chosen)
    with st.expander("Edit this source" if source else "Add a source", expanded=source is None):
        values = panels.source_form(source, presets)
    if values is not None:
        secrets_given = [k for k in ("password", "private_key", "passphrase") if values[k]]
        apply(
            lambda con: registry.save_source(con, user=admin.username, **values),
            f"Saved {values['name'] or chosen}. Next: Test connection.",
            {
                "area": "sftp",
                "change": "update" if source else "add",
                "source": values["name"],
                "host": values["host"],
                "secrets_changed": secrets_given,
            },
        )

if source is not None:
    report_key = f"sftp_report_{source.name}"
    with sources_tab:
        test_col, pull_col, remove_col = st.columns(3)
        if test_col.button("🔌 Test connection", width="stretch"):
            with warehouse() as con:
                target = panels.target_or_stop(con, source.name)
            with st.status("Testing the connection…", expanded=True) as status:
                report = test_connection(
                    target, on_step=lambda step: st.markdown(panels.step_line(step))
                )
                status.update(label="Connection test finished", state="complete")
            st.session_state[report_key] = report
        report = st.session_state.get(report_key)
        if report is not None:
            panels.show_report(report)
            if panels.confirm_wanted(report, report_key):
                key = report.host_key
                st.session_state.pop(report_key)
                apply(
                    lambda con: registry.trust(
                        con,
                        source.name,
                        key_type=key.key_type,
                        fingerprint=key.fingerprint,
                        public_key=key.public_key,
                        user=admin.username,
                    ),
                    f"Confirmed {key.description} for {source.name}. Test again to finish.",
                    {
                        "area": "sftp",
                        "change": "trust_host_key",
                        "source": source.name,
                        "fingerprint": key.fingerprint,
                        "previous": source.host_key_fingerprint,
                    },
                )
        untrusted = None if source.trusted else "Confirm the host key first"
        if pull_col.button(
            "⬇️ Import now", width="stretch", disabled=bool(untrusted), help=untrusted
        ):
            panels.show_pull(panels.pull_with_progress(source.name, admin.username))
        if remove_col.button("🗑️ Remove source", width="stretch"):
            apply(
                lambda con: registry.remove_source(con, source.name),
                f"Removed {source.name}; its import jobs stay in Import History.",
                {"area": "sftp", "change": "remove", "source": source.name},
            )

with mail_tab:
    st.caption(
        "When a nightly import fails, Yardstick e-mails these admins. The password is stored "
        "encrypted."
    )
    changes = panels.smtp_form(smtp)
    if changes is not None:
        apply(
            lambda con: mail.save_smtp(con, user=admin.username, **changes),
            "E-mail settings saved.",
            {
                "area": "smtp",
                "change": "update",
                "host": changes["host"],
                "password_changed": bool(changes["password"]),
            },
        )
    test_to = st.text_input("Send a test e-mail to", value=", ".join(smtp.recipients))
    if st.button("📧 Send test e-mail", disabled=not smtp.configured):
        try:
            with warehouse() as con:
                config = mail.smtp_config(con)
            mail.send_test_email(config, test_to.split(","))
            st.success(f"Test e-mail sent to {test_to}.")
        except mail.MailError as exc:
            st.error(literal(str(exc)))
