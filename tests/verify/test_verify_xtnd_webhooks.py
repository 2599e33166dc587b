"""`commerce-sandbox verify xtnd-webhooks` against a correct receiver (exit 0), a buggy one
(exit 1, each bug reported by its check's name) and an unreachable one (exit 2)."""
from __future__ import annotations

import hashlib
import hmac
import json
import xml.etree.ElementTree as ET

from flask import Flask, request
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from mocks.cli import main
from mocks.core.contracts import load_schema_files
from mocks.verify import xtnd_webhooks
from mocks.xtnd.models.subscriptions import TRIGGERS

SECRET = "receiver-secret-0123456789"


def correct_receiver(seen: list) -> Flask:
    """Verifies ms-signature over the raw body in constant time; acknowledges every trigger."""
    app = Flask("correct")

    @app.post("/hooks/xtnd")
    def hook():
        raw = request.get_data()
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("ms-signature", ""), expected):
            return {"error": "bad signature"}, 401
        seen.append(json.loads(raw))
        return {"ok": True}, 200

    return app


def buggy_receiver() -> Flask:
    """Never checks the signature, and fails on a trigger it does not know."""
    app = Flask("buggy")

    @app.post("/hooks/xtnd")
    def hook():
        body = request.get_json()
        if body["trigger"] in ("OrderDeliveryDataChanged", "CustomerChanged"):
            raise RuntimeError("unhandled trigger")  # Flask answers 500
        return "", 200

    return app


def test_samples_match_the_delivery_schema():
    files = load_schema_files("xtnd")
    registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in files.values())
    webhook = next(d for d in files.values() if d["$id"].endswith("/webhook.schema.json"))
    validator = Draft202012Validator({"$ref": webhook["$id"] + "#/$defs/delivery"}, registry=registry)
    receiver = xtnd_webhooks.Receiver("http://127.0.0.1:9", SECRET, "wh-verify", "n")
    for trigger in TRIGGERS:
        assert not list(validator.iter_errors(receiver.payload(trigger))), trigger


def test_a_correct_receiver_passes(serve, tmp_path, capsys):
    seen: list = []
    base = serve(correct_receiver(seen))
    junit = tmp_path / "junit.xml"
    code = main(["verify", "xtnd-webhooks", "--base-url", base + "/hooks/xtnd", "--secret", SECRET,
                 "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert [p["trigger"] for p in seen[:len(TRIGGERS)]] == list(TRIGGERS)  # every trigger arrived, verified
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0" and int(suite.get("tests")) == len(TRIGGERS) + 2


def test_a_buggy_receiver_is_reported_by_name(serve, tmp_path, capsys):
    base = serve(buggy_receiver())
    junit = tmp_path / "junit.xml"
    code = main(["verify", "xtnd-webhooks", "--base-url", base + "/hooks/xtnd", "--secret", SECRET,
                 "--report-junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1, out
    failed = {tc.get("classname").removeprefix("verify.xtnd-webhooks.")
              for tc in ET.parse(junit).getroot().iter("testcase") if tc.find("failure") is not None}
    assert failed == {"delivers OrderDeliveryDataChanged", "delivers CustomerChanged", "rejects a bad signature"}
    assert "signed with another secret: the receiver answered 200" in out
    assert "no ms-signature header" in out and "curl -X POST" in out


def test_a_wrong_secret_makes_every_delivery_fail(serve, capsys):
    base = serve(correct_receiver([]))
    code = main(["verify", "xtnd-webhooks", "--base-url", base + "/hooks/xtnd", "--secret", "not-the-secret-000"])
    out = capsys.readouterr().out
    assert code == 1 and "delivers AvailableBalanceChanged" in out and "answered 401" in out


def test_unreachable_receiver_or_no_secret_cannot_run(capsys):
    assert main(["verify", "xtnd-webhooks", "--base-url", "http://127.0.0.1:9/hooks", "--secret", SECRET,
                 "--timeout", "2"]) == 2
    assert main(["verify", "xtnd-webhooks", "--base-url", "http://127.0.0.1:9/hooks"]) == 2
    assert "--secret" in capsys.readouterr().err
