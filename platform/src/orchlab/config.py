"""Settings for orchlab, read from the environment with the ``ORCHLAB_`` prefix.

Three profiles set sensible defaults: ``dev`` (a laptop: embedded services, verbose logs),
``test`` (isolated state, short timeouts) and ``prod`` (external services required). Any
field can be overridden by an environment variable, for example ``ORCHLAB_STATE_DIR``.
``TEMPORAL_ADDRESS`` and ``PREFECT_API_URL`` are read without the prefix, since they are the
names both engines' own tools use.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchlab.errors import ConfigError


class Profile(StrEnum):
    """A deployment profile."""

    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class Settings(BaseSettings):
    """orchlab's settings. Construct with keyword overrides, or let the environment fill it."""

    model_config = SettingsConfigDict(env_prefix="ORCHLAB_", extra="ignore", populate_by_name=True)

    profile: Profile = Profile.DEV
    """The deployment profile: dev, test or prod."""
    state_dir: Path = Path(".state")
    """Where embedded services keep their databases, logs and pid files."""
    host: str = "127.0.0.1"
    """The interface embedded services bind to. Loopback only by default."""
    temporal_port: int = Field(default=7233, ge=1, le=65535)
    """The embedded Temporal dev server's gRPC port."""
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)
    """The embedded Temporal Web UI port."""
    temporal_namespace: str = "default"
    """The Temporal namespace workflows run in."""
    prefect_port: int = Field(default=4200, ge=1, le=65535)
    """The embedded Prefect server's port (API under /api, UI at /)."""
    jupyter_port: int = Field(default=8888, ge=1, le=65535)
    """JupyterLab's port for ``make lab``."""
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("TEMPORAL_ADDRESS", "ORCHLAB_TEMPORAL_ADDRESS")
    )
    """An external Temporal frontend (host:port). When set, no dev server is started."""
    prefect_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PREFECT_API_URL", "ORCHLAB_PREFECT_API_URL")
    )
    """An external Prefect API URL. When set, no Prefect server is started."""
    startup_timeout: float = Field(default=120.0, gt=0)
    """Seconds to wait for an embedded service to become healthy."""
    registry_dir: Path | None = None
    """The file-based model registry; defaults to ``<state_dir>/registry``."""

    @model_validator(mode="after")
    def _check_profile(self) -> Settings:
        if self.profile is Profile.PROD and not (self.temporal_address or self.prefect_api_url):
            raise ConfigError(
                "profile 'prod' needs an external engine: set TEMPORAL_ADDRESS and/or "
                "PREFECT_API_URL (embedded services are for dev and test only)"
            )
        return self

    @property
    def model_registry_dir(self) -> Path:
        """The model registry folder."""
        return self.registry_dir or self.state_dir / "registry"


def get_settings(**overrides: object) -> Settings:
    """Return settings from the environment, with keyword overrides applied.

    Raises:
        ConfigError: When a value is invalid; the message names the field.
    """
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting {field!r}: {first['msg']}") from exc


__all__ = ["Profile", "Settings", "get_settings"]
