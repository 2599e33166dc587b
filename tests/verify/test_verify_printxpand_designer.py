"""`commerce-sandbox verify printxpand-designer` against a correct and a buggy designer endpoint."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from flask import Flask, Response, jsonify, request

from mocks.cli import main


def correct_endpoint(saved: dict[str, Any]) -> Flask:
    app = Flask("designer-ok")

    @app.post("/printxpand/designer")
    def save():
        body = request.get_json(silent=True)
        fields = ("image_url", "designer_url", "enable_product_designer", "integration_product_id")
        if (not isinstance(body, dict) or any(f not in body for f in fields)
                or body["enable_product_designer"] not in (0, 1)):
            return jsonify([{"response": "error", "message": "invalid payload"}]), 400
        saved[str(body["integration_product_id"])] = body
        return jsonify([{"response": "success"}])

    return app


def buggy_endpoint() -> Flask:
    """Answers an object instead of the list, accepts anything, and fails on a body that is not JSON."""
    app = Flask("designer-buggy")

    @app.post("/designer")
    def save():
        body = request.get_json(force=True)  # a body that is not JSON: 400, turned into a 500 below
        if isinstance(body, dict) and "integration_product_id" in body and isinstance(body["integration_product_id"], str):
            raise RuntimeError("ids are numbers here")  # a 500 for string ids
        return Response('{"response": "success"}', mimetype="text/plain")

    @app.errorhandler(400)
    def bad(_):  # the non-JSON body: crash as a careless endpoint does
        return "Internal Server Error", 500

    return app


def test_a_correct_endpoint_passes(serve, tmp_path, capsys):
    saved: dict[str, Any] = {}
    base = serve(correct_endpoint(saved))
    junit = tmp_path / "junit.xml"
    code = main(["verify", "printxpand-designer", "--base-url", base + "/printxpand/designer",
                 "--product-id", "10004", "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert saved["10004"]["designer_url"].endswith("/designer/10004")   # the payload really arrived
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0" and suite.get("tests") == "4"


def test_a_buggy_endpoint_fails_with_named_findings(serve, tmp_path, capsys):
    base = serve(buggy_endpoint())
    junit = tmp_path / "junit.xml"
    code = main(["verify", "printxpand-designer", "--base-url", base + "/designer", "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert 'the answer is [{"response": "success"}]' in out
    assert "the answer is JSON" in out
    assert "a string integration_product_id succeeds" in out
    assert "bad input gets a 4XX, not a 5XX" in out and "bad input is not answered success" in out
    assert "curl -X POST" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    failed = {tc.get("classname") for tc in suite.iter("testcase") if tc.find("failure") is not None}
    assert len(failed) == 4 and int(suite.get("failures")) >= 4  # four checks fail, one <testcase> per finding


def test_an_endpoint_that_accepts_anything_is_reported(serve, capsys):
    app = Flask("designer-lenient")
    app.post("/d")(lambda: jsonify([{"response": "success"}]))
    code = main(["verify", "printxpand-designer", "--base-url", serve(app) + "/d"])
    out = capsys.readouterr().out
    assert code == 1
    assert "bad input is not answered success" in out
    assert "integration_product_id missing" in out and "enable_product_designer is \"yes\"" in out


def test_an_unreachable_endpoint_cannot_run(capsys):
    code = main(["verify", "printxpand-designer", "--base-url", "http://127.0.0.1:9/none", "--timeout", "2"])
    assert code == 2
