"""orchlab's settings: the one place that reads the environment.

Every ``ORCHLAB_*`` variable, the engines' own ``PREFECT_API_URL`` / ``PREFECT_API_KEY``, and
the Temporal SDK's environment configuration (``TEMPORAL_*`` variables and TOML profiles,
see :mod:`orchlab.config._temporal`) are read here and nowhere else in the platform.

Three profiles:

* ``dev`` (the default): a laptop. State lives in ``.state``; an engine that is not
  configured as external is started embedded (``orchlab up``, ``orchlab exec``).
* ``test``: like ``dev``, but state lives in ``.state/test``, so a test run never finds,
  reuses or stops the stack a learner's ``make lab`` recorded in ``.state``.
* ``prod``: external engines only. At least one engine must be configured, and orchlab
  never starts an embedded engine: asking for one that is not configured is an error.

A setting given explicitly (an environment variable or a keyword) always beats the
profile's default.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchlab.errors import ConfigError


class Profile(StrEnum):
    """A deployment profile."""

    DEV = "dev"
    TEST = "test"
    PROD = "prod"


_PROFILE_STATE_DIRS = {
    Profile.DEV: Path(".state"),
    Profile.TEST: Path(".state") / "test",
    Profile.PROD: Path(".state"),
}


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """orchlab's settings. Construct with keyword overrides, or let the environment fill it.

    Every field is read from ``ORCHLAB_<FIELD>``; the few that the engines' own tools also
    know are read from those names too (listed on the field).
    """

    model_config = SettingsConfigDict(
        env_prefix="ORCHLAB_",
        extra="ignore",
        populate_by_name=True,
        use_attribute_docstrings=True,
    )

    profile: Profile = Profile.DEV
    """The deployment profile: dev, test or prod."""
    state_dir: Path = Path(".state")
    """Where embedded services keep their databases, logs and pid files (``ORCHLAB_STATE_DIR``;
    the profile's folder when unset)."""
    host: str = "127.0.0.1"
    """The interface embedded services bind to. Loopback only by default."""
    temporal_port: int = Field(default=7233, ge=1, le=65535)
    """The embedded Temporal dev server's gRPC port."""
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)
    """The embedded Temporal Web UI port."""
    temporal_namespace: str = "default"
    """The Temporal namespace (``ORCHLAB_TEMPORAL_NAMESPACE``; when unset, the Temporal
    profile's ``namespace`` / ``TEMPORAL_NAMESPACE``, else ``default``)."""
    temporal_address: str | None = None
    """An external Temporal frontend (``host:port``, ``ORCHLAB_TEMPORAL_ADDRESS``). Beats the
    Temporal profile's address (``TEMPORAL_ADDRESS`` or a TOML profile). When either is set,
    no dev server is started."""
    temporal_profile: str | None = Field(
        default=None, validation_alias=_env("TEMPORAL_PROFILE", "ORCHLAB_TEMPORAL_PROFILE")
    )
    """The Temporal SDK's configuration profile to load (``TEMPORAL_PROFILE``; SDK default
    ``default``)."""
    temporal_config_file: Path | None = Field(
        default=None,
        validation_alias=_env("TEMPORAL_CONFIG_FILE", "ORCHLAB_TEMPORAL_CONFIG_FILE"),
    )
    """The Temporal SDK's TOML configuration file (``TEMPORAL_CONFIG_FILE``; SDK default
    ``~/.config/temporalio/temporal.toml``). A file named here must exist."""
    temporal_ui_url: str | None = Field(
        default=None, validation_alias=_env("TEMPORAL_UI_URL", "ORCHLAB_TEMPORAL_UI_URL")
    )
    """An external Temporal Web UI, shown next to the runs (``TEMPORAL_UI_URL``)."""
    prefect_port: int = Field(default=4200, ge=1, le=65535)
    """The embedded Prefect server's port (API under /api, UI at /)."""
    prefect_api_url: str | None = Field(
        default=None, validation_alias=_env("PREFECT_API_URL", "ORCHLAB_PREFECT_API_URL")
    )
    """An external Prefect API URL (``PREFECT_API_URL``). When set, no Prefect server is
    started."""
    prefect_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("PREFECT_API_KEY", "ORCHLAB_PREFECT_API_KEY")
    )
    """The Prefect API key (``PREFECT_API_KEY``), for Prefect Cloud or a server behind an
    authenticating proxy. Never printed."""
    jupyter_port: int = Field(default=8888, ge=1, le=65535)
    """JupyterLab's port for ``make lab``."""
    startup_timeout: float = Field(default=120.0, gt=0)
    """Seconds to wait for an embedded service to become healthy."""
    registry_dir: Path | None = None
    """The file-based model registry; defaults to ``<state_dir>/registry``."""
    dlq_path: Path | None = None
    """The dead-letter queue's SQLite file; defaults to ``<state_dir>/reliability/dlq.sqlite``."""
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=_env("OTEL_EXPORTER_OTLP_ENDPOINT", "ORCHLAB_OTLP_ENDPOINT"),
    )
    """An OpenTelemetry collector's OTLP/HTTP base URL (``OTEL_EXPORTER_OTLP_ENDPOINT``, for
    example ``http://127.0.0.1:4318``). When set, traces are exported there too."""
    log_format: Literal["json", "console"] | None = None
    """How :func:`orchlab.observability.configure_logging` renders log lines
    (``ORCHLAB_LOG_FORMAT``): ``json`` (one object a line, for a log shipper) or
    ``console`` (readable); by default ``json`` in ``prod``, ``console`` otherwise."""

    @model_validator(mode="after")
    def _apply_profile(self) -> Settings:
        if "state_dir" not in self.model_fields_set:
            # Not an assignment: that would count the field as set explicitly.
            self.__dict__["state_dir"] = _PROFILE_STATE_DIRS[self.profile]
        if self.temporal_config_file is not None and not self.temporal_config_file.is_file():
            raise ConfigError(
                f"TEMPORAL_CONFIG_FILE names {self.temporal_config_file}, which is not a file"
            )
        if self.profile is Profile.PROD and not (
            self.prefect_api_url or self.temporal_connect_config().get("target_host")
        ):
            raise ConfigError(
                "profile 'prod' needs an external engine: set TEMPORAL_ADDRESS (or a Temporal "
                "profile with an address) and/or PREFECT_API_URL (embedded services are for "
                "dev and test only)"
            )
        return self

    @property
    def state_dir_is_explicit(self) -> bool:
        """Whether the state folder was given (``ORCHLAB_STATE_DIR`` or a keyword) rather than
        taken from the profile; a default one is looked for in parent folders too."""
        return "state_dir" in self.model_fields_set

    @property
    def embedded_allowed(self) -> bool:
        """Whether orchlab may start an embedded engine (not in ``prod``)."""
        return self.profile is not Profile.PROD

    @property
    def model_registry_dir(self) -> Path:
        """The model registry folder."""
        return self.registry_dir or self.state_dir / "registry"

    @property
    def log_renderer(self) -> Literal["json", "console"]:
        """The log format in force: :attr:`log_format`, else the profile's default."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.profile is Profile.PROD else "console"

    @property
    def traces_dir(self) -> Path:
        """Where ``orchlab run --trace`` writes trace files: ``<state_dir>/traces``."""
        return self.state_dir / "traces"

    @property
    def dlq_file(self) -> Path:
        """The dead-letter queue's SQLite file."""
        return self.dlq_path or self.state_dir / "reliability" / "dlq.sqlite"

    def temporal_connect_config(self) -> dict[str, Any]:
        """Keyword arguments for ``temporalio.client.Client.connect``.

        See :func:`orchlab.config.temporal_connect_config`.
        """
        from orchlab.config._temporal import temporal_connect_config

        return temporal_connect_config(self)


def get_settings(**overrides: object) -> Settings:
    """Return settings from the environment, with keyword overrides applied.

    Raises:
        ConfigError: When a value is invalid; the message names the field.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, ConfigError):  # raised by a check of the whole model
            raise cause from None
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting {field!r}: {first['msg']}") from exc


__all__ = ["Profile", "Settings", "get_settings"]
