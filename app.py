"""Yardstick: page config, sign-in, navigation. Nothing else lives here (see README, "Layers")."""

import streamlit as st

from ui import auth, navigation

st.set_page_config(page_title="Yardstick", page_icon="📏", layout="wide")

scope = auth.require_sign_in()
auth.sign_out_button()
st.navigation(navigation.pages_for(scope)).run()
