"""`commerce-sandbox verify click2sync` against the sandbox (conforms) and a broken storefront."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Flask, jsonify, request

from mocks.cli import main


def test_the_sandbox_storefront_conforms(serve, shared_app, tmp_path, capsys):
    base = serve(shared_app(apis=["click2sync"]))
    junit = tmp_path / "junit.xml"
    code = main(["verify", "click2sync", "--base-url", base + "/click2sync/api", "--key", "c2s-demo-key",
                 "--max-examples", "5", "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0" and int(suite.get("tests")) >= 5


def broken_store() -> Flask:
    """Ignores the key, repeats an item across pages, drops fields on update, numbers as numbers."""
    app = Flask("broken")
    items = [{"_id": str(i), "sku": str(i), "title": "t", "url": "", "brand": "", "mpn": "", "model": "",
              "description": "", "tags": [], "variations": [{"availabilities": [{"tag": "default", "quantity": 5}],
                                                             "prices": [], "images": [], "videos": [],
                                                             "barcode": "", "size": "", "color": ""}]}
             for i in range(30)]

    @app.get("/product")
    def products():
        offset = int(request.args.get("offset", 0))
        page = items[max(offset - 1, 0):max(offset - 1, 0) + 20]  # overlaps the previous page
        if request.args.get("id"):
            page = [i for i in items if i["_id"] == request.args["id"]]
        return jsonify({"paging": {"pageSize": 20, "itemsTotal": 30, "offset": offset}, "products": page})

    @app.post("/product")
    @app.post("/product/<pid>")
    def update(pid=None):
        return jsonify({"_id": pid or "99", **(request.get_json() or {})})

    @app.get("/order")
    def orders():
        return jsonify({"paging": {"pageSize": 20, "itemsTotal": 0, "offset": 0}, "orders": []})

    return app


def test_a_broken_storefront_fails_with_readable_findings(serve, tmp_path, capsys):
    base = serve(broken_store())
    junit = tmp_path / "junit.xml"
    code = main(["verify", "click2sync", "--base-url", base, "--key", "k", "--max-examples", "0",
                 "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    assert "C2SKey is enforced" in out
    assert "no item is repeated across pages" in out
    assert "pages have the documented shape and types" in out and "quantity" in out
    assert "a partial update keeps the fields it did not send" in out
    assert "curl -X GET" in out
    failures = ET.parse(junit).getroot().find("testsuite").get("failures")
    assert int(failures) >= 3


def test_unreachable_target_exits_2(capsys):
    from tests.conftest import free_port
    code = main(["verify", "click2sync", "--base-url", f"http://127.0.0.1:{free_port()}", "--key", "k"])
    assert code == 2
