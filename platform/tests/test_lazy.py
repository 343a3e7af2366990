"""Subpackages re-export lazily: importing one is cheap, and every public name resolves."""

import importlib
import subprocess
import sys

import pytest

PACKAGES = [
    "orchlab.pipelines",
    "orchlab.policy",
    "orchlab.deploy",
    "orchlab.reliability",
    "orchlab.observability",
]


def test_importing_the_packages_loads_no_engine_or_ml_library() -> None:
    code = (
        f"import sys, {', '.join(PACKAGES)}; "
        "print(sorted(m for m in ('prefect', 'temporalio', 'sklearn', 'pybreaker', "
        "'opentelemetry.sdk', 'prometheus_client', 'structlog') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_resolves_and_unknown_names_fail(name: str) -> None:
    package = importlib.import_module(name)
    assert [n for n in package.__all__ if not hasattr(package, n)] == []
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match=f"module '{name}' has no attribute 'nope'"):
        package.nope  # noqa: B018
