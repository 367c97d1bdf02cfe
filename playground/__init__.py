"""PyTorch Playground: the engine and everything else the app uses that is not Streamlit."""
