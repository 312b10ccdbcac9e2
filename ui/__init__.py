"""The thin Streamlit layer: session access, cached adapters and shared components."""
