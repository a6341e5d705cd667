"""The PyPI view at /pypi/<registry>/: twine uploads, the simple repository API (PEP 503 HTML and
PEP 691 JSON, with PEP 592 yanks, PEP 658/714 core metadata and PEP 700 fields) and file downloads.
What a registry shows is what Hoist placed there: pushed in dev, promoted in prod."""
