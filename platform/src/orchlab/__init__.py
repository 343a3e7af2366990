"""orchlab: reference platform code for ML workflow orchestration on Prefect and Temporal.

Areas live in subpackages (``orchlab.pipelines``, ``orchlab.runtime``, ...); the names most
code needs are re-exported here.
"""

from importlib.metadata import PackageNotFoundError, version

from orchlab.config import Profile, Settings, get_settings
from orchlab.errors import (
    ConfigError,
    FailureClass,
    FatalError,
    OrchlabError,
    PermanentError,
    ServiceError,
    SpecError,
    TransientError,
    ValidationFailed,
    classify,
)

try:
    __version__ = version("orchlab")
    """The installed distribution's version (``pyproject.toml`` is its one source)."""
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "ConfigError",
    "FailureClass",
    "FatalError",
    "OrchlabError",
    "PermanentError",
    "Profile",
    "ServiceError",
    "Settings",
    "SpecError",
    "TransientError",
    "ValidationFailed",
    "__version__",
    "classify",
    "get_settings",
]
