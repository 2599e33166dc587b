"""The package list: every ``mocks*`` package, plus schemas/ and scenarios/ mapped into the package
as ``mocks._schemas`` and ``mocks._scenarios`` (pyproject.toml's ``package-dir``). Everything else
is in pyproject.toml; this file exists because ``packages.find`` cannot name mapped packages."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["mocks", "mocks.*"]) + ["mocks._schemas", "mocks._scenarios"])
