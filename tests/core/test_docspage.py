"""Each API's reference page, ``GET /{prefix}/docs`` (mocks.core.docspage): served from the package,
pointing at the API's own contract, outside the request chain, linked from the console."""
from __future__ import annotations

import fnmatch
import re
from importlib.resources import files
from pathlib import Path

import pytest

from mocks import resources
from mocks.core import docspage
from mocks.registry import installed

APIS = installed()
ROOT = Path(__file__).resolve().parents[2]
REMOTE = {"REMOTE_ADDR": "10.1.2.3"}  # the control plane refuses it; the docs are public like the contract
TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}
#: everything the page loads or links to
REF = re.compile(r'(?:src|href|data-openapi)="([^"#]+)"')


def refs(html: str) -> list[str]:
    return REF.findall(html)


@pytest.mark.parametrize("api", APIS)
def test_page_is_html_and_renders_the_apis_own_contract(client, api):
    r = client.get(f"/{api}/docs")
    assert r.status_code == 200 and r.content_type == "text/html; charset=utf-8"
    html = r.get_data(as_text=True)
    assert f'data-openapi="/{api}/openapi.json"' in html
    assert f'<script src="/{api}/docs/swagger-ui-bundle.js"></script>' in html
    assert "connect-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    doc = client.get(f"/{api}/openapi.json")
    assert doc.status_code == 200 and doc.json["servers"][0]["url"].endswith(f"/{api}")
    assert f"/{api}/docs/" not in str(doc.json)  # the contract does not list the page as an operation


@pytest.mark.parametrize("api", APIS)
def test_page_loads_only_local_assets_each_with_its_content_type(client, api):
    html = client.get(f"/{api}/docs").get_data(as_text=True)
    loaded = refs(html)
    assert f"/{api}/docs/swagger-ui-bundle.js" in loaded and f"/{api}/docs/swagger-ui.css" in loaded
    for ref in loaded:
        assert not re.match(r"^(https?:)?//", ref), f"the page must work offline, not load {ref}"
        assert ref.startswith((f"/{api}/", "/__sandbox/ui/")), ref
        if ref.startswith(f"/{api}/docs/"):
            r = client.get(ref)
            assert r.status_code == 200 and r.data, ref
            assert r.mimetype == TYPES[ref[ref.rfind("."):]], (ref, r.mimetype)
            assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/{api}/openapi.json").mimetype == "application/json"


def test_the_scripts_reach_no_other_host():
    """The bundle names public URLs (its validator badge, spec links); the page switches the badge
    off, and its own script names no host at all."""
    own = (resources.console_static() / "apidocs.js").read_text(encoding="utf-8")
    assert "validatorUrl: null" in own
    assert not re.search(r"https?://(?!json-schema\.org/draft/2020-12/schema\")", own)


def test_assets_ship_as_package_data_found_through_importlib_resources():
    for name in docspage.VENDOR_ASSETS:
        entry = files("flask_swagger_ui") / "dist" / name
        assert entry.is_file() and (resources.swagger_ui() / name).read_bytes() == entry.read_bytes(), name
    for name in docspage.OWN_ASSETS:
        assert (files("mocks.console") / "static" / name).is_file(), name
    # the page's own files are in the console's package data (pyproject's pattern for mocks.console)
    line = re.search(r'^"mocks\.console" = \[(.*)\]$', (ROOT / "pyproject.toml").read_text(), re.M)
    patterns = re.findall(r'"([^"]+)"', line.group(1)) if line else []
    for name in docspage.OWN_ASSETS:
        assert any(fnmatch.fnmatch(f"static/{name}", p) for p in patterns), (name, patterns)
    assert re.fullmatch(r"\d+\.\d+\.\d+", docspage.swagger_ui_version()), "Swagger UI 5 renders OpenAPI 3.1"
    assert int(docspage.swagger_ui_version().split(".")[0]) >= 5


def test_served_bytes_are_the_packaged_files(client):
    for name in docspage.ASSETS:
        folder = resources.swagger_ui() if name in docspage.VENDOR_ASSETS else resources.console_static()
        assert client.get(f"/click2sync/docs/{name}").data == (folder / name).read_bytes(), name


def test_assets_revalidate_with_etag(client):
    first = client.get("/stock2shop/docs/swagger-ui.css")
    assert first.headers["Cache-Control"] == "no-cache" and first.headers["ETag"]
    again = client.get("/stock2shop/docs/swagger-ui.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("api", APIS)
def test_docs_need_no_credentials_and_no_loopback(client, api):
    assert client.get(f"/{api}/docs", environ_base=REMOTE).status_code == 200
    assert client.get(f"/{api}/docs/apidocs.js", environ_base=REMOTE).status_code == 200
    assert client.get("/__sandbox/ui/", environ_base=REMOTE).status_code == 403  # unlike the console


def test_not_journaled_and_no_scenario_applies(client):
    on = client.post("/__sandbox/scenarios", json={"name": "all-down", "rules": [{"action": {"status": 503}}]})
    assert on.status_code == 201
    assert client.get("/click2sync/api/product?offset=0", headers={"C2SKey": "c2s-demo-key"}).status_code == 503
    before = client.get("/__sandbox/requests").json["total"]
    for api in APIS:
        assert client.get(f"/{api}/docs").status_code == 200
        assert client.get(f"/{api}/docs/swagger-ui.css").status_code == 200
        assert client.get(f"/{api}/openapi.json").status_code == 200  # what the page loads in the browser
        assert client.get(f"/{api}/docs", headers={"X-Sandbox-Scenario": "flaky-5xx"}).status_code == 200
    assert client.get("/__sandbox/requests").json["total"] == before


def test_rate_limits_do_not_count_the_page(client):
    """Stock2Shop's limit is per client; the page is no client's call: a hundred loads are all 200."""
    assert all(client.get("/stock2shop/docs").status_code == 200 for _ in range(100))


@pytest.mark.parametrize("api", APIS)
def test_docs_paths_are_not_the_apis_own(app, api):
    """No operation of any API is at /docs or under it, in any case (XTND's paths are
    case-insensitive, API2Cart's are methods under /v1.1/), so the page hides nothing."""
    contract = app.extensions["gateway"].contracts[api]
    for path in ["/docs", "/DOCS", "/Docs", "/docs/", *(f"/docs/{n}" for n in docspage.ASSETS)]:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            assert contract.match(method, path) is None, (api, method, path)
    adapter = app.url_map.bind("localhost")
    assert adapter.match(f"/{api}/docs", method="GET")[0] == f"{api}_docs"
    assert adapter.match(f"/{api}/docs/swagger-ui.css", method="GET") == (f"{api}_docs_asset",
                                                                           {"asset_name": "swagger-ui.css"})


def test_other_names_and_methods_are_the_apis_own_404_and_405(client):
    r = client.get("/click2sync/docs/app.py")
    assert r.status_code == 404 and r.json["success"] is False  # Click2Sync's own error shape
    r = client.get("/click2sync/docs/../../mocks/app.py")
    assert r.status_code == 404 and r.json["success"] is False
    r = client.post("/click2sync/docs")
    assert r.status_code == 405 and r.json["code"] == 405
    r = client.get("/xtnd/DOCS", headers={"Authorization": "Bearer x"})  # XTND's catch-all: not the page
    assert r.status_code in (401, 404) and r.mimetype == "application/json" and "errorType" in r.json


def test_root_api_mount_serves_its_docs_at_slash_docs(shared_app):
    client = shared_app(apis=["click2sync"], root_api="click2sync").test_client()
    r = client.get("/docs")
    assert r.status_code == 200 and 'data-openapi="/openapi.json"' in r.get_data(as_text=True)
    assert client.get("/docs/swagger-ui-bundle.js").mimetype == "text/javascript"
    assert client.get("/click2sync/docs").status_code == 200


def test_console_links_to_each_mounted_apis_docs(client, shared_app):
    html = client.get("/__sandbox/ui/").get_data(as_text=True)
    for api in APIS:
        assert f'href="/{api}/docs"' in html, api
        assert client.get(f"/{api}/docs").status_code == 200
    assert "<!--api-docs-->" not in client.get("/__sandbox/ui/index.html").get_data(as_text=True)
    one = shared_app(apis=["xtnd"]).test_client().get("/__sandbox/ui/").get_data(as_text=True)
    assert 'href="/xtnd/docs"' in one and 'href="/click2sync/docs"' not in one


def test_page_follows_the_script_root(client):
    """Behind a proxy that mounts the sandbox under a path, the page's URLs keep that path."""
    r = client.get("/printxpand/docs", base_url="http://localhost/sandbox/")
    html = r.get_data(as_text=True)
    assert 'data-openapi="/sandbox/printxpand/openapi.json"' in html
    assert 'href="/sandbox/__sandbox/ui/"' in html
    assert all(ref.startswith("/sandbox/") for ref in refs(html))


def test_page_escapes_what_it_fills_in(app):
    with app.test_request_context("/x/docs"):
        html = docspage.page('<b>"Shop" & co</b>', '/x"><script>')
    assert "&lt;b&gt;&quot;Shop&quot; &amp; co&lt;/b&gt;" in html and "<b>" not in html
    assert '/x&quot;&gt;&lt;script&gt;/openapi.json' in html and '"><script>' not in html
