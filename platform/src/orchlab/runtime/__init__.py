"""Start, stop and find the engines: embedded on a laptop, external on a real cluster.

On a laptop, :class:`Stack` (``orchlab up`` / ``make lab``) runs Temporal's dev server, a
Prefect server and JupyterLab from this environment, on loopback. Configure a Temporal
cluster the way the Temporal CLI is configured (a TOML profile or ``TEMPORAL_*`` variables:
address, namespace, TLS client certificates, API key) and a Prefect server with
``PREFECT_API_URL`` / ``PREFECT_API_KEY``, and the same code (:func:`connect_temporal`,
:func:`prefect_api_url`) talks to them, with workers on many machines, instead.
"""

from orchlab.runtime.services import (
    EmbeddedService,
    JupyterLab,
    PrefectServer,
    ServiceRecord,
    TemporalDevServer,
    venv_binary,
)
from orchlab.runtime.stack import (
    Stack,
    connect_temporal,
    ensure_prefect,
    ensure_temporal,
    find_state_dir,
    prefect_api_source,
    prefect_api_url,
    reach_prefect,
    read_stack,
    run_link,
    stop_stack,
    temporal_address,
    temporal_connect_options,
    ui_urls,
    use_prefect,
)

__all__ = [
    "EmbeddedService",
    "JupyterLab",
    "PrefectServer",
    "ServiceRecord",
    "Stack",
    "TemporalDevServer",
    "connect_temporal",
    "ensure_prefect",
    "ensure_temporal",
    "find_state_dir",
    "prefect_api_source",
    "prefect_api_url",
    "reach_prefect",
    "read_stack",
    "run_link",
    "stop_stack",
    "temporal_address",
    "temporal_connect_options",
    "ui_urls",
    "use_prefect",
    "venv_binary",
]
