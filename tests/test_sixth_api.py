"""A sixth API from examples/new_api_template/, mounted with the five (docs/DEVELOPING.md, "Adding a sixth API").

The template is copied and renamed (``newapi`` -> ``toy``) the way a developer would, into a temporary
directory outside ``mocks/``; ``Api.schemas_root`` points the gateway at its copied ``schemas/toy/``.
This file's own code stays under 100 lines (checked below).
"""
from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from mocks import create_app, registry
from tests.conftest import assert_no_response_violations

TEMPLATE = Path(__file__).resolve().parents[1] / "examples" / "new_api_template"
KEY = {"X-Api-Key": "toy-demo-key"}


def copy_template(dest: Path, name: str) -> None:
    """What a developer does by hand: copy the folders, rename the placeholder everywhere."""
    for src, out in ((TEMPLATE / "newapi", dest / name), (TEMPLATE / "schemas" / "newapi", dest / "schemas" / name)):
        shutil.copytree(src, out, ignore=shutil.ignore_patterns("__pycache__"))
        for file in out.iterdir():
            text = file.read_text().replace("mocks.newapi", name).replace("NewApi", name.title())
            file.write_text(text.replace("newapi", name))


@pytest.fixture
def toy_app(tmp_path, monkeypatch):
    copy_template(tmp_path, "toy")
    monkeypatch.syspath_prepend(str(tmp_path))
    toy = importlib.import_module("toy")
    toy.API.schemas_root = str(tmp_path / "schemas")
    app = create_app({"state": "memory", "testing": True}, apis=registry.load() + [toy.API])
    yield app, tmp_path / "schemas" / "toy"
    assert_no_response_violations(app)  # every answer of the six conformed to its contract
    for module in [m for m in sys.modules if m == "toy" or m.startswith("toy.")]:
        del sys.modules[module]


def test_a_sixth_api_from_the_template_runs_through_the_chain(toy_app):
    app, schemas = toy_app
    client = app.test_client()
    assert set(app.extensions["sandbox"].apis) == {*registry.NAMES, "toy"}

    # auth: a 401 in the toy's own error shape (the chain called its authenticate and error_body)
    denied = client.get("/toy/v1/widgets", headers={"X-Api-Key": "wrong"})
    assert denied.status_code == 401
    assert denied.get_json() == {"error": {"code": "unauthorized", "message": "Missing or invalid X-Api-Key header",
                                           "details": []}}
    seeded = client.get("/toy/v1/widgets", headers=KEY).get_json()
    assert seeded["total"] == 3 and seeded["widgets"][0]["name"] == "Example widget"

    # request validation by its contract (widget-create.schema.json): its own shape, nothing stored
    bad = client.post("/toy/v1/widgets", headers=KEY, json={"name": "Sprocket", "price": -1})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["code"] == "validation"
    assert [d["field"] for d in bad.get_json()["error"]["details"]] == ["/body/price"]
    assert client.get("/toy/v1/widgets", headers=KEY).get_json()["total"] == 3

    # a write stored and read back
    made = client.post("/toy/v1/widgets", headers=KEY, json={"name": "Sprocket", "price": 4.5})
    assert made.status_code == 201
    widget = made.get_json()
    assert client.get(f"/toy/v1/widgets/{widget['id']}", headers=KEY).get_json() == widget
    missing = client.get("/toy/v1/widgets/w-999999", headers=KEY)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "widget_not_found"

    # the response conforms to its schema (checked here directly; the gateway's check at teardown)
    schema = json.loads((schemas / "widget.schema.json").read_text())
    assert not list(Draft202012Validator(schema).iter_errors(widget))
    assert app.extensions["gateway"].contracts["toy"].match("POST", "/v1/widgets") is not None

    # the journal records it, the key redacted
    journal = client.get("/__sandbox/requests", query_string={"api": "toy"}).get_json()["requests"]
    assert [(e["method"], e["status"]) for e in journal][:2] == [("GET", 404), ("GET", 200)]
    assert any(e["method"] == "POST" and e["status"] == 201 for e in journal)
    assert "toy-demo-key" not in json.dumps(journal)

    # /__sandbox/data shows it
    data = client.get("/__sandbox/data/toy/widgets").get_json()
    assert widget in data["tenants"]["toy-demo"]

    # reset restores its seed (the same three widgets, the new one gone)
    assert client.post("/__sandbox/reset", json={"api": "toy"}).status_code == 200
    assert client.get("/toy/v1/widgets", headers=KEY).get_json() == seeded
    assert client.get(f"/toy/v1/widgets/{widget['id']}", headers=KEY).status_code == 404


def test_the_template_document_is_valid_openapi():
    from openapi_spec_validator import validate

    from mocks.core.contracts import load_document
    validate(load_document("newapi", TEMPLATE / "schemas"))


def test_this_file_stays_under_100_lines_of_code():
    lines = Path(__file__).read_text().splitlines()
    code = [line for line in lines if line.strip() and not line.strip().startswith("#")]
    assert len(code) < 100, len(code)
