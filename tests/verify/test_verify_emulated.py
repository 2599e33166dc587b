"""`commerce-sandbox verify {stock2shop,printxpand,api2cart,xtnd}`: the sandbox conforms to its own
contract over real HTTP, and a server answering the wrong shape fails with named findings."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Iterator

import pytest
from flask import Flask, jsonify, request

from mocks.cli import main
from mocks.pytest_plugin import LiveServer
from tests.conftest import free_port, make_app, response_violations

APIS = ["stock2shop", "printxpand", "api2cart", "xtnd"]


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Any, str]]:
    """One sandbox for the module (verify runs against it; the tests only add to its state)."""
    app = make_app(apis=APIS)
    server = LiveServer(app)
    yield app, server.url
    server.stop()


def auth_args(api: str, creds: dict[str, Any], oauth: bool = True) -> list[str]:
    if api == "stock2shop":
        return ["--username", "admin", "--password", "admin-s2s-demo"]
    if api == "printxpand":
        px = creds["printxpand"]
        if not oauth:
            return ["--bearer", px["bearer_token"]]
        return ["--consumer-key", px["consumer_key"], "--consumer-secret", px["consumer_secret"],
                "--token", px["access_token"], "--token-secret", px["access_token_secret"]]
    if api == "api2cart":
        return ["--api-key", creds["api2cart"]["api_key"], "--store-key", creds["api2cart"]["stores"][0]["store_key"]]
    return ["--api-key", creds["xtnd"]["api_key"]]


@pytest.mark.parametrize("api", APIS)
def test_the_sandbox_conforms_to_its_own_contract(api, live, tmp_path, capsys):
    app, base = live
    creds = app.extensions["sandbox"].credentials()
    junit = tmp_path / "junit.xml"
    code = main(["verify", api, "--base-url", f"{base}/{api}", *auth_args(api, creds), "--max-examples", "3",
                 "--stateful-runs", "3", "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert {tc.get("name") for tc in suite.iter("testcase")} >= {"credentials enforced", "schemathesis (positive data)"}
    assert not response_violations(app), "the sandbox answered outside its own schema"


def test_printxpand_with_a_bearer_token(live, capsys):
    app, base = live
    creds = app.extensions["sandbox"].credentials()
    code = main(["verify", "printxpand", "--base-url", f"{base}/printxpand", *auth_args("printxpand", creds, False),
                 "--max-examples", "3", "--operation", "^createCategories "])
    out = capsys.readouterr().out
    assert code == 0, out


def test_read_only_sends_nothing_but_get(live, capsys):
    app, base = live
    creds = app.extensions["sandbox"].credentials()
    store = app.extensions["sandbox"].store
    before = max((e["seq"] for e in store.journal(0)), default=0)
    code = main(["verify", "api2cart", "--base-url", f"{base}/api2cart", *auth_args("api2cart", creds),
                 "--max-examples", "2", "--read-only", "--operation", "^(Product|Order)"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "stateful" not in out
    sent = store.journal(before)
    assert sent and {e["method"] for e in sent} == {"GET"}


def test_read_only_on_an_api_without_reads_cannot_run(capsys):
    code = main(["verify", "printxpand", "--base-url", "http://127.0.0.1:9", "--bearer", "t", "--read-only"])
    assert code == 2
    assert "no operation left" in capsys.readouterr().err


def test_refused_credentials_cannot_run(live, capsys):
    _, base = live
    code = main(["verify", "xtnd", "--base-url", f"{base}/xtnd", "--api-key", "not-a-key", "--max-examples", "0"])
    assert code == 2
    assert "credentials were refused" in capsys.readouterr().err


def test_missing_credentials_cannot_run(capsys):
    code = main(["verify", "stock2shop", "--base-url", "http://127.0.0.1:9", "--max-examples", "0"])
    assert code == 2
    assert "--username and --password" in capsys.readouterr().err


def test_unreachable_target_exits_2(capsys):
    code = main(["verify", "xtnd", "--base-url", f"http://127.0.0.1:{free_port()}", "--api-key", "k"])
    assert code == 2


# -- a broken implementation ---------------------------------------------------------------------
def wrong_shape_server() -> Flask:
    """Accepts any credentials and answers every path with the same wrong JSON."""
    app = Flask("wrong-shape")

    @app.post("/v1/users/authenticate")
    def authenticate():  # enough for verify to get a token
        return jsonify({"system_user": {"token": "t0k3n"}})

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE"])
    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE"])
    def anything(path):
        return jsonify({"wrong": True, "path": path, "args": request.args.to_dict()})

    return app


# one read operation per API keeps the run short
ONE_OPERATION = {"stock2shop": "^getChannels ", "printxpand": "^createOrdersByGet ", "api2cart": "^ProductList ",
                 "xtnd": "^listProducts "}


@pytest.mark.parametrize("api", APIS)
def test_a_wrong_shape_is_reported_by_rule_with_a_curl_line(api, live, serve, tmp_path, capsys):
    app, _ = live
    creds = app.extensions["sandbox"].credentials()
    base = serve(wrong_shape_server())
    junit = tmp_path / "junit.xml"
    code = main(["verify", api, "--base-url", base, *auth_args(api, creds), "--max-examples", "2",
                 "--operation", ONE_OPERATION[api], "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "response_schema_conformance" in out
    assert "credentials are enforced" in out
    assert f"curl -X GET {base}/" in out
    failures = ET.parse(junit).getroot().find("testsuite").findall(".//failure")
    rules = {f.get("message").split(":")[0] for f in failures}
    assert {"response_schema_conformance", "credentials are enforced"} <= rules
