"""Package data, not code: installed as ``mocks._scenarios`` (pyproject.toml package-dir) and read through
``mocks.resources``. This file makes the folder a regular package, so editable installs find it too."""
