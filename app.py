"""Yardstick: page config, sign-in, navigation. Nothing else lives here (see README, "Layers")."""

import os

import streamlit as st

from core.warehouse import db
from ui import auth, navigation, page_errors

st.set_page_config(page_title="Yardstick", page_icon="📏", layout="wide")
# A server serves many runs: share one open warehouse between them, let go when idle for this
# long or at once when an import waits for it (core/warehouse/db.py).
db.keep_open(float(os.environ.get("YARDSTICK_KEEP_OPEN", "1.0")))

navigation.remember_link()  # a link followed before sign-in opens its page after it
with page_errors.reported():  # a plain message with an error id; the traceback to the log
    scope = auth.require_sign_in()
    auth.sign_out_button()
    page = st.navigation(navigation.pages_for(scope))
    navigation.follow_link(page, scope)
    page.run()
