"""orchlab: reference platform code for ML workflow orchestration on Prefect and Temporal.

Areas live in subpackages (``orchlab.pipelines``, ``orchlab.runtime``, ...); the names most
code needs are re-exported here.
"""

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

__version__ = "0.1.0"

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
