"""The console page is served by the sandbox itself, under the control plane's access rule."""
from __future__ import annotations

import re

import pytest

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
REMOTE = {"REMOTE_ADDR": "10.1.2.3"}


@pytest.fixture
def client(shared_app):
    # click2sync alone: the console does not depend on which APIs are mounted
    return shared_app(apis=["click2sync"]).test_client()


@pytest.mark.parametrize("path", ["/__sandbox/ui", "/__sandbox/ui/"])
def test_page_is_served_to_loopback(client, path):
    r = client.get(path, environ_base=LOOPBACK)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "QA console" in html and 'id="journal"' in html
    assert r.headers["Cache-Control"] == "no-store"


def test_assets_are_local_and_served(client):
    html = client.get("/__sandbox/ui").get_data(as_text=True)
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert refs, "the page references its script and style"
    for ref in refs:
        assert not re.match(r"^(https?:)?//", ref), f"the page must work offline, not load {ref}"
        assert ref.startswith("/__sandbox/") or ref == "/click2sync/docs", ref  # the API reference link
        if ref.startswith(("/__sandbox/ui/", "/click2sync/docs")):
            assert client.get(ref).status_code == 200, ref
    assert client.get("/__sandbox/ui/console.js").mimetype in ("text/javascript", "application/javascript")
    assert client.get("/__sandbox/ui/console.css").mimetype == "text/css"


@pytest.mark.parametrize("path", ["/__sandbox/ui/nope.js", "/__sandbox/ui/../core/control.py",
                                  "/__sandbox/ui/%2e%2e/__init__.py", "/__sandbox/ui/..%2f__init__.py"])
def test_nothing_outside_static_is_served(client, path):
    r = client.get(path)
    assert r.status_code == 404 and r.json["error"] == "not_found"


@pytest.mark.parametrize("path", ["/__sandbox/ui", "/__sandbox/ui/console.js", "/__sandbox/ui/missing"])
def test_non_loopback_client_is_refused_like_the_control_plane(client, path):
    r = client.get(path, environ_base=REMOTE)
    assert r.status_code == 403 and r.json["error"] == "forbidden"
    control = client.get("/__sandbox/health", environ_base=REMOTE)
    assert (control.status_code, control.json) == (r.status_code, r.json)


def test_admin_token_opens_the_console_to_any_client(app_factory):
    client = app_factory(apis=["click2sync"], admin_token="s3cret").test_client()
    assert client.get("/__sandbox/ui", environ_base=REMOTE).status_code == 401
    assert client.get("/__sandbox/ui", environ_base=LOOPBACK).status_code == 401
    ok = client.get("/__sandbox/ui", environ_base=REMOTE, headers={"X-Sandbox-Admin-Token": "s3cret"})
    assert ok.status_code == 200 and ok.mimetype == "text/html"
    bearer = client.get("/__sandbox/ui/console.js", environ_base=REMOTE, headers={"Authorization": "Bearer s3cret"})
    assert bearer.status_code == 200
    assert client.get("/__sandbox/ui", headers={"X-Sandbox-Admin-Token": "wrong"}).status_code == 401


def test_console_requests_are_not_journaled(client):
    client.get("/__sandbox/ui")
    client.get("/__sandbox/ui/console.js")
    assert client.get("/__sandbox/requests").json["requests"] == []
