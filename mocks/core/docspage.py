"""Each API's browsable reference: ``GET /{prefix}/docs`` renders that API's own ``/{prefix}/openapi.json``.

The page is Swagger UI (operations grouped by tag, parameters, request bodies and response schemas,
"Try it out" against this sandbox), served from files that ship with the product: Swagger UI's
distribution comes from the ``flask-swagger-ui`` dependency and the page's own script and style
(``apidocs.js``, ``apidocs.css``) from the console's static folder, both found through
:mod:`mocks.resources`. Nothing is fetched from another host: the assets are under
``/{prefix}/docs/``, the validator badge (which would call out to a public service) is off, and the
page's Content-Security-Policy allows only this origin.

Routes (registered by the gateway next to ``/{prefix}/openapi.json``, both marked
:func:`~mocks.core.api.sandbox_page`: no credentials, no scenarios, no rate limits, no journal):

| route | answers |
|---|---|
| ``GET /{prefix}/docs`` | the page (``text/html``) |
| ``GET /{prefix}/docs/{asset}`` | one of :data:`ASSETS`; any other name is not a docs route (the API's own 404) |
"""
from __future__ import annotations

import hashlib
import html
from functools import lru_cache
from importlib.resources.abc import Traversable

from flask import Flask, Response, request

from mocks import resources
from mocks.core.api import sandbox_page

#: what the page loads, by name: where the file comes from (the vendor's dist, or our own)
VENDOR_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png")
OWN_ASSETS = ("apidocs.js", "apidocs.css")
ASSETS = VENDOR_ASSETS + OWN_ASSETS
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png"}
#: only this origin: the scripts and styles below, the contract, and "Try it out" (the document's
#: server is this sandbox). Swagger UI sets inline styles and shows data: images (its icons).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'")

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="commerce-sandbox, Swagger UI {version}">
<title>{title} · API reference · commerce-sandbox</title>
<link rel="icon" type="image/png" sizes="32x32" href="{docs}/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="{docs}/favicon-16x16.png">
<link rel="stylesheet" href="{docs}/swagger-ui.css">
<link rel="stylesheet" href="{docs}/apidocs.css">
</head>
<body>
<header class="sandbox-bar">
  <strong>commerce-sandbox</strong> <span>{title}</span>
  <nav><a href="{openapi}">openapi.json</a> <a href="{console}">QA console</a></nav>
</header>
<noscript><p class="sandbox-noscript">This page renders <a href="{openapi}">{openapi}</a> with Swagger UI,
which needs JavaScript. The document itself is plain JSON.</p></noscript>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{docs}/swagger-ui-bundle.js"></script>
<script src="{docs}/apidocs.js"></script>
</body>
</html>
"""


def _source(name: str) -> Traversable:
    folder = resources.swagger_ui() if name in VENDOR_ASSETS else resources.console_static()
    return folder / name


@lru_cache(maxsize=len(ASSETS))  # bounded by the known names (only those are routed)
def asset(name: str) -> tuple[bytes, str]:
    """``(bytes, etag)`` of one asset, read once per process (they never change while it runs)."""
    data = _source(name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:32]


@lru_cache(maxsize=1)
def swagger_ui_version() -> str:
    version = resources.swagger_ui() / "VERSION"
    return version.read_text(encoding="utf-8").strip().lstrip("v") if version.is_file() else "unknown"


def page(title: str, base: str) -> str:
    """The page of the API whose routes are under ``base`` (script root + mount prefix)."""
    root = request.script_root
    return PAGE.format(title=html.escape(title), version=html.escape(swagger_ui_version()),
                       docs=html.escape(f"{base}/docs"), openapi=html.escape(f"{base}/openapi.json"),
                       console=html.escape(f"{root}/__sandbox/ui/"))


def _headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def mount(app: Flask, prefix: str, name: str, title: str) -> None:
    """Register ``{prefix}/docs`` and its assets for the API mounted at ``prefix`` as ``name``."""

    @sandbox_page
    def docs_page() -> Response:
        response = Response(page(title or name, request.script_root + prefix), mimetype="text/html")
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Cache-Control"] = "no-cache"
        return _headers(response)

    @sandbox_page
    def docs_asset(asset_name: str) -> Response:
        data, etag = asset(asset_name)
        suffix = asset_name[asset_name.rfind("."):]
        response = Response(data, content_type=CONTENT_TYPES[suffix])
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache"  # revalidate: a 304 after the first load
        return _headers(response.make_conditional(request))

    names = ", ".join(f'"{n}"' for n in ASSETS)  # only these: any other name is the API's own path
    app.add_url_rule(f"{prefix}/docs", f"{name}_docs", docs_page, methods=["GET"])
    app.add_url_rule(f"{prefix}/docs/<any({names}):asset_name>", f"{name}_docs_asset", docs_asset, methods=["GET"])

__all__ = ["mount", "page", "asset", "ASSETS", "VENDOR_ASSETS", "OWN_ASSETS", "CONTENT_TYPES", "CSP"]
