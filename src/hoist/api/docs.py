"""``/api/v1/docs``: Swagger UI served from the installed package, so the page works offline and
air-gapped (FastAPI's default loads it from a CDN)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path


def mount(app: FastAPI, prefix: str) -> None:
    """The docs page at ``{prefix}/docs``, its assets under ``{prefix}/docs/assets``."""
    assets = f"{prefix}/docs/assets"
    app.mount(assets, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{prefix}/openapi.json",
            title="Hoist API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
            # Swagger UI would otherwise send the document to validator.swagger.io for a badge
            swagger_ui_parameters={"validatorUrl": None},
        )
