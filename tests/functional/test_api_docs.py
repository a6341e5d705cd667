"""/api/v1/docs works offline: the page and every asset it loads come from this server."""

from __future__ import annotations

import re

import httpx


def test_docs_page_loads_nothing_from_another_host(anonymous: httpx.Client) -> None:
    page = anonymous.get("/api/v1/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
    assert urls, page.text
    assert [u for u in urls if "//" in u] == []
    assert '"validatorUrl": null' in page.text  # Swagger UI would post the document to validator.swagger.io
    assets = [u for u in urls if u.endswith((".js", ".css"))]
    assert {u.rsplit("/", 1)[1] for u in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for url in [*assets, *(u for u in urls if u.endswith(".png"))]:
        asset = anonymous.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0, url
    assert "javascript" in anonymous.get(assets[0]).headers["content-type"] or assets[0].endswith(".css")
    assert anonymous.get("/api/v1/openapi.json").json()["info"]["title"] == "Hoist"


def test_docs_assets_are_only_the_swagger_ui_files(anonymous: httpx.Client) -> None:
    missing = anonymous.get("/api/v1/docs/assets/..%2F..%2Fpyproject.toml")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
