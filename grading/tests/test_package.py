"""labgrader's public names are imported on first use, and stay what they are named after."""

from __future__ import annotations

import importlib
import subprocess
import sys


def test_functions_named_like_their_modules_stay_functions() -> None:
    # Importing the submodules first is what used to turn `labgrader.assign` into a module.
    importlib.import_module("labgrader.assign")
    importlib.import_module("labgrader.validate")
    from labgrader import assign, validate

    assert callable(assign) and assign.__module__ == "labgrader.assign"
    assert callable(validate) and validate.__module__ == "labgrader.validate"


def test_importing_the_package_loads_none_of_its_stages() -> None:
    code = (
        "import sys, labgrader; print(sorted(m for m in sys.modules if m.startswith('labgrader.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
