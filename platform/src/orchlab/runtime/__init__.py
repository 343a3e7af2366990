"""Start, stop and find the engines: embedded on a laptop, external on a real cluster.

On a laptop, :class:`Stack` (``orchlab up`` / ``make lab``) runs Temporal's dev server, a
Prefect server and JupyterLab from this environment, on loopback. Set ``TEMPORAL_ADDRESS``
and ``PREFECT_API_URL`` and the same code talks to a Temporal cluster and a Prefect server
with workers on many machines instead.
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
    ensure_prefect,
    ensure_temporal,
    find_state_dir,
    prefect_api_url,
    read_stack,
    stop_stack,
    temporal_address,
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
    "ensure_prefect",
    "ensure_temporal",
    "find_state_dir",
    "prefect_api_url",
    "read_stack",
    "stop_stack",
    "temporal_address",
    "ui_urls",
    "use_prefect",
    "venv_binary",
]
