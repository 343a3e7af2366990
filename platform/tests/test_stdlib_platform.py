"""The repo has a top-level folder named ``platform``; it must never shadow the stdlib."""

import platform
import sys
from pathlib import Path


def test_platform_is_the_standard_library_module() -> None:
    assert hasattr(platform, "python_version"), platform.__file__
    assert Path(platform.__file__).parent == Path(sys.modules["os"].__file__).parent


def test_no_package_marker_in_platform_folder() -> None:
    root = Path(__file__).resolve().parents[2]
    assert not (root / "platform" / "__init__.py").exists()
