"""The package's public surface: every exported name resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import orchlab.pipelines as pipelines


def test_every_exported_name_resolves() -> None:
    for name in pipelines.__all__:
        assert getattr(pipelines, name) is not None, name
    assert sorted(pipelines.__all__) == sorted(set(pipelines.__all__))


def test_importing_the_package_loads_no_engine() -> None:
    code = (
        "import sys, orchlab.pipelines; "
        "print(any(m in sys.modules for m in ('prefect', 'temporalio', 'sklearn')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
