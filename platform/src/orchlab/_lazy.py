"""Lazy re-exports for orchlab's subpackages (PEP 562).

``import orchlab.pipelines`` must stay fast and light, and importable inside Temporal's
workflow sandbox: the engines, scikit-learn and pybreaker load only when a name that needs
them is first used. Each package's ``__init__`` keeps its real imports under
``TYPE_CHECKING`` (for type checkers and readers) and binds::

    __getattr__, __dir__ = lazy_exports(__name__, {"Saga": "_saga", ...})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build a package's module-level ``__getattr__`` and ``__dir__``.

    Args:
        package: The package's ``__name__``.
        exports: Each public name mapped to the module that defines it: a submodule's name
            (``"_saga"``) or a full dotted module path (``"orchlab.errors"``).

    Returns:
        ``(__getattr__, __dir__)``. A name is imported on first use and then cached in the
        package's namespace, so later look-ups cost nothing.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path = module if "." in module else f"{package}.{module}"
        value = getattr(importlib.import_module(path), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
