"""Every API's contract is made the same way: ``mocks/<api>/contract.py`` names its folder under
``schemas/`` and renders its generated files (see ``tools/contracts.py``)."""
from __future__ import annotations

import pytest
import yaml

from mocks.registry import NAMES
from tools import contracts


@pytest.mark.parametrize("api", NAMES)
def test_every_api_has_a_contract_module_and_its_folder(api):
    module = contracts.contract(api)
    assert module.__name__ == f"mocks.{api}.contract"
    document = yaml.safe_load((contracts.folder(api) / "openapi.yaml").read_text(encoding="utf-8"))
    assert document["openapi"] == "3.1.0"


@pytest.mark.parametrize("api", NAMES)
def test_the_generated_files_are_what_the_contract_renders(api):
    assert contracts.stale(api) == [], f"run .venv/bin/python -m tools.contracts {api}"


def test_generated_and_hand_written_contracts_are_told_apart():
    generated = {api for api in NAMES if contracts.contract(api).render()}
    assert generated == {"printxpand", "api2cart"}


def test_check_mode_names_a_file_that_differs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(contracts, "folder", lambda api: tmp_path / api)
    (tmp_path / "printxpand").mkdir()
    assert contracts.main(["--check", "printxpand"]) == 1
    assert "schemas/printxpand/openapi.yaml" in capsys.readouterr().err
    contracts.main(["printxpand"])
    assert contracts.main(["--check", "printxpand"]) == 0
