"""Connecting to Temporal the way the SDK's own tools do: ``temporalio.envconfig``.

The SDK's environment configuration is one profile from a TOML file
(``~/.config/temporalio/temporal.toml`` or ``TEMPORAL_CONFIG_FILE``) with ``TEMPORAL_*``
variables on top of it: ``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY``,
``TEMPORAL_TLS``, ``TEMPORAL_TLS_CLIENT_CERT_PATH``, ``TEMPORAL_TLS_CLIENT_KEY_PATH``,
``TEMPORAL_TLS_SERVER_CA_CERT_PATH``, ``TEMPORAL_TLS_SERVER_NAME``, ``TEMPORAL_GRPC_META_*``
and ``TEMPORAL_PROFILE``. A Temporal Cloud namespace (mTLS or an API key) or a
self-hosted cluster behind TLS is configured there, once, for the CLI and orchlab alike.

orchlab's own ``ORCHLAB_TEMPORAL_ADDRESS`` and ``ORCHLAB_TEMPORAL_NAMESPACE`` beat the
profile when set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchlab.errors import ConfigError, first_line

if TYPE_CHECKING:
    from temporalio.envconfig import ClientConfigProfile

    from orchlab.config._settings import Settings


def temporal_profile(settings: Settings) -> ClientConfigProfile:
    """The Temporal SDK's client profile: the TOML profile with ``TEMPORAL_*`` on top.

    Args:
        settings: Names the profile and the file (``TEMPORAL_PROFILE``,
            ``TEMPORAL_CONFIG_FILE``); the SDK's defaults when unset.

    Raises:
        ConfigError: When the file does not parse or the named profile is not in it.
    """
    from temporalio.envconfig import ClientConfigProfile  # the SDK's bridge: load on use

    try:
        return ClientConfigProfile.load(
            profile=settings.temporal_profile, config_source=settings.temporal_config_file
        )
    except RuntimeError as exc:  # the SDK's envconfig error (a RuntimeError)
        raise ConfigError(f"Temporal client configuration: {first_line(exc)}") from exc


def temporal_connect_config(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``temporalio.client.Client.connect``: ``target_host`` (absent
    when no address is configured anywhere), ``namespace``, and when configured
    ``api_key``, ``tls`` (a ``TLSConfig`` with the certificates read) and ``rpc_metadata``.

    Args:
        settings: orchlab's settings.

    Raises:
        ConfigError: When the configuration does not parse, or a certificate or key it names
            cannot be read.
    """
    profile = temporal_profile(settings)
    try:
        config: dict[str, Any] = dict(profile.to_client_connect_config())
    except OSError as exc:
        raise ConfigError(
            f"Temporal TLS configuration names {exc.filename}, which cannot be read: {exc.strerror}"
        ) from exc
    if settings.temporal_address:
        config["target_host"] = settings.temporal_address
    if "temporal_namespace" in settings.model_fields_set or not config.get("namespace"):
        config["namespace"] = settings.temporal_namespace
    return config


def temporal_address_source(settings: Settings) -> str | None:
    """Where the configured Temporal address comes from, in words (``None`` when none is).

    ``ORCHLAB_TEMPORAL_ADDRESS``, ``TEMPORAL_ADDRESS``, or the profile of the SDK's TOML
    file; an error message names it so that a person knows what to change.
    """
    if settings.temporal_address:
        return "ORCHLAB_TEMPORAL_ADDRESS"
    from temporalio.envconfig import ClientConfigProfile

    try:
        merged = temporal_profile(settings).address
        from_file = ClientConfigProfile.load(
            profile=settings.temporal_profile,
            config_source=settings.temporal_config_file,
            disable_env=True,
        ).address
    except (ConfigError, RuntimeError):
        return None
    if not merged:
        return None
    if merged != from_file:
        return "TEMPORAL_ADDRESS"
    where = settings.temporal_config_file or "~/.config/temporalio/temporal.toml"
    return f"the Temporal profile {settings.temporal_profile or 'default'!r} in {where}"


__all__ = ["temporal_address_source", "temporal_connect_config", "temporal_profile"]
