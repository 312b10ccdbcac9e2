"""Yardstick core: everything but the Streamlit layer. Never imports streamlit."""

__version__ = "0.1.0"
