"""The Streamlit app's shared parts: the store, the job runner, the sidebar and small widgets."""
