"""Scenario files: the schema, clear errors with line and field, the ready library."""
from __future__ import annotations

from pathlib import Path

import pytest

from mocks.core import scenarios as S

DOCS = Path(__file__).resolve().parents[2] / "docs"

GOOD = """\
name: demo
description: d
seed: 3
rules:
  - match: {api: click2sync, method: GET}
    when: {nth: [2]}
    action: {status: 503}
"""


def test_a_good_file_loads(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(GOOD)
    definition = S.load_file(path)
    assert definition["name"] == "demo" and definition["seed"] == 3 and len(definition["rules"]) == 1


@pytest.mark.parametrize("bad, line, field", [
    (GOOD.replace("status: 503", "stauts: 503"), 7, "rules[0].action"),
    (GOOD.replace("nth: [2]", "nth: [0]"), 6, "rules[0].when.nth[0]"),
    (GOOD.replace("seed: 3", "seed: three"), 3, "seed"),
    (GOOD.replace("method: GET", "method: 5"), 5, "rules[0].match.method"),
    (GOOD.replace("when: {nth: [2]}", "when: {window: {from_s: 10, to_s: 5}}"), 6, "rules[0].when.window.to_s"),
    (GOOD.replace("{status: 503}", "{reset: true, status: 503}"), 7, "rules[0].action.reset"),
    (GOOD.replace("{status: 503}", "{delay: {uniform_ms: [500, 100]}}"), 7, "rules[0].action.delay.uniform_ms"),
    (GOOD.replace("match: {api: click2sync, method: GET}", "match: {body: {'$..x': 1}}"), 5, "rules[0].match.body"),
])
def test_a_broken_file_names_the_line_and_field(tmp_path, bad, line, field):
    path = tmp_path / "demo.yaml"
    path.write_text(bad)
    with pytest.raises(S.ScenarioError) as info:
        S.load_file(path)
    err = info.value
    assert (err.line, err.field) == (line, field), str(err)
    assert str(err).startswith(f"{path}:{line}: {field}: ")


def test_yaml_syntax_errors_have_a_line(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(GOOD + "  - match: [unclosed\n")
    with pytest.raises(S.ScenarioError) as info:
        S.load_file(path)
    assert info.value.line is not None and "not valid YAML" in str(info.value)


def test_not_a_mapping():
    with pytest.raises(S.ScenarioError):
        S.parse("- 1\n- 2\n")


LIBRARY = ["stock2shop-rate-limit", "stock2shop-token-expiry-mid-paging", "stock2shop-index-lag",
           "api2cart-store-limit", "api2cart-account-limit", "api2cart-store-unreachable",
           "printxpand-partial-failure", "click2sync-slow-storefront", "xtnd-webhook-failures",
           "flaky-5xx", "slow-network", "timeouts"]


def test_the_library_is_complete_valid_and_documented():
    library = S.library()
    assert set(LIBRARY) <= set(library)
    docs = (DOCS / "scenarios.md").read_text()
    for name, definition in library.items():
        assert definition["description"], name
        assert f"`{name}`" in docs, f"{name} is not documented in docs/scenarios.md"


def test_the_scenario_schema_is_a_valid_schema():
    # (checked here, not on every start)
    from jsonschema import Draft202012Validator

    from mocks import resources

    Draft202012Validator.check_schema(resources.schema_json("scenario.schema.json"))


def test_get_unknown_name():
    with pytest.raises(KeyError):
        S.get("no-such-scenario")


def test_user_directories_add_to_the_library_and_win_a_clash(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    (first / "mine.yaml").write_text("name: mine\ndescription: from a\nrules:\n  - action: {status: 503}\n")
    (first / "flaky.yaml").write_text("name: flaky-5xx\ndescription: my own\nrules:\n  - action: {status: 500}\n")
    (second / "mine.yaml").write_text("name: mine\ndescription: from b\nrules:\n  - action: {status: 502}\n")
    monkeypatch.setenv("SANDBOX_SCENARIOS", f"{first}:{second}")
    library = S.library()
    assert set(LIBRARY) <= set(library)  # the built-in library is still there
    assert library["flaky-5xx"]["description"] == "my own"  # the user's file wins
    assert library["mine"]["description"] == "from b"  # a later directory wins over an earlier one
    assert S.get("flaky-5xx")["rules"][0]["action"] == {"status": 500}
    assert S.sources()["flaky-5xx"] == str(first / "flaky.yaml")
    assert S.sources()["timeouts"] == "scenarios/timeouts.yaml"
    assert S.clashes() == [f"scenario 'flaky-5xx': {first / 'flaky.yaml'} replaces scenarios/flaky-5xx.yaml",
                           f"scenario 'mine': {second / 'mine.yaml'} replaces {first / 'mine.yaml'}"]


def test_a_broken_user_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("name: bad\nrules:\n  - action: {status: 999}\n")
    monkeypatch.setenv("SANDBOX_SCENARIOS", str(tmp_path))
    with pytest.raises(S.ScenarioError) as info:
        S.library()
    assert str(info.value).startswith(f"{tmp_path / 'bad.yaml'}:3: rules[0].action.status")
