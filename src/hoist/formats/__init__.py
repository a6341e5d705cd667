"""Wire formats: views of the one artifact model (OCI /v2 first; npm, PyPI, Maven later)."""
