# commerce-sandbox — the two set-up commands are `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8080
SERVE_ARGS ?=

.PHONY: serve test install install-serve bench clean soak slowloris fuzz contract-deep

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# packages are installed by uv (from PyPI, many at once, from its cache when it has them); the venv's own
# pip installs uv first. Bytecode is compiled at install, as pip does. uv's cache also serves the test
# that installs the built wheel into a fresh venv (tests/installed/).
UV      := $(BIN)/uv
INSTALL := $(UV) pip install -q --python $(BIN)/python --compile-bytecode

$(UV): | $(BIN)/python
	$(BIN)/pip install -q 'uv>=0.5,<1'

# two stamps: `make serve` installs what serving needs (the package and its dependencies), `make test`
# adds the test extras on top; each reinstalls when pyproject.toml or setup.py changes
$(VENV)/.installed-serve: pyproject.toml setup.py | $(UV)
	$(INSTALL) -e .
	touch $@

$(VENV)/.installed: pyproject.toml setup.py | $(UV)
	$(INSTALL) -e '.[test]'
	touch $@ $(VENV)/.installed-serve

install: $(VENV)/.installed

install-serve: $(VENV)/.installed-serve

serve: install-serve
	$(BIN)/commerce-sandbox serve --port $(PORT) $(SERVE_ARGS)

# the suite on TEST_WORKERS processes (pytest-xdist; 3 on 2 cores overlaps the tests that wait on servers); a module runs whole on one
# worker, the long modules first (tests/conftest.py). TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 3
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

# reliability: SOAK_ARGS e.g. "--clients 200 --duration 60" or "--requests 1000000"; FUZZ_CASES >= 10000
SOAK_ARGS ?= --clients 200 --duration 60
# slow clients: 200 connections that never finish their headers beside 16 normal clients, 60 s
SLOWLORIS_ARGS ?= --slow 200 --clients 16 --duration 60
FUZZ_CASES ?= 10000

soak: install
	$(BIN)/python -m bench.soak $(SOAK_ARGS)
	$(BIN)/python -m bench.slowloris $(SLOWLORIS_ARGS)

slowloris: install
	$(BIN)/python -m bench.slowloris $(SLOWLORIS_ARGS)

fuzz: install
	$(BIN)/python -m tools.fuzz --cases $(FUZZ_CASES)

# the contract suites (contract_tests/) with many more examples per operation
contract-deep: install
	CONTRACT_DEEP=1 $(BIN)/python -m pytest contract_tests $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .sandbox build dist *.egg-info
