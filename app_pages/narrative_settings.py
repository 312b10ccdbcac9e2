"""AI narratives (district admin): an optional OpenAI-compatible model writes the narratives.

Without a key every narrative comes from the built-in template (no network). The model only ever
receives aggregates — no names, no ids, no group under the minimum size."""

import streamlit as st

from core.access import audit
from core.narrate.llm import model_settings, save_model_settings
from core.narrate.store import model_check
from core.words.markup import literal
from ui.auth import require_admin
from ui.session import warehouse

admin = require_admin()
st.title("✍️ AI narratives")
st.caption(
    "Narratives are written by a built-in template unless a model is configured here. Any "
    "OpenAI-compatible server works (OpenAI, or a local model server for sites that may not "
    "send data out). The model sees only aggregate results — never a student's name or id, "
    "never a group under the minimum size — and on any failure the template is used instead."
)
with warehouse() as con:
    current = model_settings(con)

if current.key_set:
    st.success("An API key is stored (encrypted). Leave the key field empty to keep it.")
elif current.key_from_environment:
    st.info("Using the OPENAI_API_KEY environment variable (a key stored here takes precedence).")
else:
    st.info("No key is set: narratives come from the template.")

with st.form("llm"):
    key = st.text_input("API key", type="password", placeholder="sk-… (stored encrypted)")
    base_url = st.text_input(
        "Base URL",
        current.base_url,
        placeholder="empty = api.openai.com; e.g. http://localhost:8000/v1",
    )
    model = st.text_input("Model", current.model)
    timeout = st.number_input("Timeout (seconds)", 1.0, 120.0, current.timeout, step=1.0)
    forget = st.checkbox("Forget the stored key (use the template again)")
    saved = st.form_submit_button("Save")

if saved:
    try:
        with warehouse() as con:
            save_model_settings(
                con,
                admin.username,
                base_url=base_url,
                model=model,
                timeout=timeout,
                api_key=key or None,
                forget_key=forget,
            )
            detail = {
                "setting": "llm",
                "base_url": base_url,
                "model": model,
                "key_changed": bool(key) or forget,
            }
            audit.log(con, admin.username, "settings_change", detail)
        st.success("Saved. New narratives use these settings.")
    except ValueError as exc:
        st.error(literal(str(exc)))

if st.button("Try it on one cohort"):
    with st.spinner("Asking the model…"), warehouse() as con:
        story = model_check(con, admin)
    if story is None:
        st.warning("Nothing to try: set a key first (and load some data).")
    elif story.notice:
        st.error(literal(story.notice))
    else:
        st.success(f"The model answered ({literal(story.generator)}):")
        st.markdown(story.markdown())
