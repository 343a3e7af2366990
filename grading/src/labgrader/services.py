"""The engines (Temporal, Prefect) a lab's checks need, shared by every check run.

orchlab's fixtures start an embedded engine once per pytest session unless
``TEMPORAL_ADDRESS`` / ``PREFECT_API_URL`` name one. Grading many notebooks, each in its
own session, would start an engine per notebook; instead labgrader finds or starts each
engine once (through :mod:`orchlab.runtime`) and passes its address to every check run.
"""

from __future__ import annotations

from collections.abc import Collection

from labgrader.errors import ServiceUnavailable


def service_env(services: Collection[str], *, start: bool) -> dict[str, str]:
    """Return the environment variables that point check runs at the engines they need.

    Args:
        services: The engines needed: ``temporal``, ``prefect``.
        start: Start an embedded engine (owned by this process, stopped when it exits) when
            none is running. Without it, an engine that is not running is left to the
            checks' own fixtures.

    Returns:
        ``TEMPORAL_ADDRESS`` and/or ``PREFECT_API_URL``.

    Raises:
        ServiceUnavailable: When an engine cannot be started.
    """
    if not services:
        return {}
    # Imported only when a lab needs an engine: it is not needed to grade pure-Python labs.
    from orchlab import runtime
    from orchlab.errors import ServiceError

    env: dict[str, str] = {}
    try:
        if "temporal" in services:
            if start:
                env["TEMPORAL_ADDRESS"] = runtime.ensure_temporal()
            else:
                env["TEMPORAL_ADDRESS"] = runtime.temporal_address()
        if "prefect" in services:
            if start:
                env["PREFECT_API_URL"] = runtime.ensure_prefect()
            else:
                env["PREFECT_API_URL"] = runtime.prefect_api_url()
    except ServiceError as exc:
        if start:
            raise ServiceUnavailable(f"cannot start the engines the checks need: {exc}") from exc
    return env


__all__ = ["service_env"]
