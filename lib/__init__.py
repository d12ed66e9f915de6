"""Driftwatch library: loaders, analysis and charts, usable without Streamlit."""
