"""Settings for orchlab: the one module that reads the environment.

:class:`Settings` reads ``ORCHLAB_*`` variables (and ``PREFECT_API_URL``,
``PREFECT_API_KEY``, ``TEMPORAL_UI_URL``, ``TEMPORAL_PROFILE``, ``TEMPORAL_CONFIG_FILE``);
:func:`temporal_connect_config` turns the Temporal SDK's environment configuration (TOML
profiles and ``TEMPORAL_*`` variables: address, namespace, TLS client certificates, API
key) into ``Client.connect`` arguments.
"""

from orchlab.config._settings import Profile, Settings, get_settings
from orchlab.config._temporal import temporal_connect_config, temporal_profile

__all__ = ["Profile", "Settings", "get_settings", "temporal_connect_config", "temporal_profile"]
