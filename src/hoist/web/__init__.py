"""The web UI at /ui: server-rendered pages over the same services and rights as the API.

An edge room like ``api`` and the formats: it calls services, the domain and ``http`` helpers, never
``api``, ``formats``, ``cli`` or ``client``. No build step and no script: Jinja2 templates with
autoescaping, one CSS file served from the package, a Content-Security-Policy on every answer.
"""
