"""The PyPI views at ``/pypi``: the simple index (PEP 503/691) and uploads."""
