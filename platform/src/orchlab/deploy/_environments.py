"""Environment configurations (dev, test, prod) and the drift check between them.

A config is a nested mapping of values. :func:`diff_configs` flattens both sides to dotted
keys and names every key that is missing on one side or differs. :func:`check_drift`
compares a live config against its declared one, ignoring keys that are meant to differ,
and raises :class:`ConfigDrift` naming the keys (audited either way).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchlab.errors import ConfigError
from orchlab.policy import AuditLog

ENVIRONMENTS = ("dev", "test", "prod")
"""The bundled example environments."""


class ConfigDrift(ConfigError):
    """A live configuration differs from the declared one; names the keys."""

    def __init__(self, report: DriftReport) -> None:
        self.report = report
        super().__init__(report.summary())


class EnvironmentConfig(BaseModel):
    """One environment's declared configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    """The environment's name."""
    values: dict[str, Any]
    """Nested settings (serving, model thresholds, engine addresses...)."""

    def flat(self) -> dict[str, Any]:
        """The values as ``{"serving.replicas": 2, ...}``."""
        return flatten(self.values)


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys; lists and scalars are leaves."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


@dataclass(frozen=True)
class DriftReport:
    """How two configurations differ."""

    left: str
    """The first config's name (the declared one, in :func:`check_drift`)."""
    right: str
    """The second config's name."""
    only_left: tuple[str, ...] = ()
    """Keys only in ``left``."""
    only_right: tuple[str, ...] = ()
    """Keys only in ``right``."""
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """Keys in both with different values: ``key -> (left value, right value)``."""

    @property
    def drifted(self) -> bool:
        """True when anything differs."""
        return bool(self.only_left or self.only_right or self.changed)

    @property
    def keys(self) -> list[str]:
        """Every key that differs, sorted."""
        return sorted({*self.only_left, *self.only_right, *self.changed})

    def summary(self) -> str:
        """One line naming the differing keys."""
        if not self.drifted:
            return f"{self.left} and {self.right} match"
        parts = [f"{k}: {a!r} != {b!r}" for k, (a, b) in sorted(self.changed.items())]
        parts += [f"{k}: only in {self.left}" for k in self.only_left]
        parts += [f"{k}: only in {self.right}" for k in self.only_right]
        noun = "key" if len(self.keys) == 1 else "keys"
        head = f"{self.left} and {self.right} differ in {len(self.keys)} {noun}: "
        return head + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view."""
        return {
            "left": self.left,
            "right": self.right,
            "keys": self.keys,
            "changed": {k: list(v) for k, v in self.changed.items()},
            "only_left": list(self.only_left),
            "only_right": list(self.only_right),
        }


def diff_configs(
    left: EnvironmentConfig | Mapping[str, Any],
    right: EnvironmentConfig | Mapping[str, Any],
    *,
    ignore: Iterable[str] = (),
) -> DriftReport:
    """Compare two configurations key by key.

    Args:
        left: A config or a plain nested mapping.
        right: The other.
        ignore: Dotted keys or glob patterns (``serving.*``) that may differ.
    """
    patterns = list(ignore)

    def named(c: EnvironmentConfig | Mapping[str, Any], default: str) -> tuple[str, dict[str, Any]]:
        if isinstance(c, EnvironmentConfig):
            return c.name, c.flat()
        return default, flatten(c)

    lname, a = named(left, "left")
    rname, b = named(right, "right")

    def kept(key: str) -> bool:
        return not any(fnmatch(key, p) for p in patterns)

    return DriftReport(
        left=lname,
        right=rname,
        only_left=tuple(sorted(k for k in a.keys() - b.keys() if kept(k))),
        only_right=tuple(sorted(k for k in b.keys() - a.keys() if kept(k))),
        changed={k: (a[k], b[k]) for k in sorted(a.keys() & b.keys()) if a[k] != b[k] and kept(k)},
    )


def check_drift(
    declared: EnvironmentConfig,
    live: Mapping[str, Any],
    *,
    ignore: Iterable[str] = (),
    audit: AuditLog | None = None,
    actor: str = "orchlab",
) -> DriftReport:
    """Compare a live configuration with its declared one.

    Raises:
        ConfigDrift: When they differ; the message names every differing key.
    """
    report = diff_configs(
        declared, EnvironmentConfig(name=f"{declared.name}-live", values=dict(live)), ignore=ignore
    )
    if audit is not None:
        audit.append(
            "config.drift_check",
            actor=actor,
            subject=declared.name,
            data={"drifted": report.drifted, **report.to_dict()},
        )
    if report.drifted:
        raise ConfigDrift(report)
    return report


def load_environment(name_or_path: str | Path) -> EnvironmentConfig:
    """A bundled environment (``dev``, ``test``, ``prod``) or a YAML file.

    Raises:
        ConfigError: Unknown name, unreadable file, or an invalid config.
    """
    text = str(name_or_path)
    try:
        if text in ENVIRONMENTS:
            raw = (resources.files("orchlab.deploy.environments") / f"{text}.yaml").read_text()
        elif text.endswith((".yaml", ".yml")):
            raw = Path(text).read_text(encoding="utf-8")
        else:
            raise ConfigError(
                f"unknown environment {text!r}: use {', '.join(ENVIRONMENTS)} or a YAML path"
            )
        return EnvironmentConfig.model_validate(yaml.safe_load(raw))
    except OSError as exc:
        raise ConfigError(f"cannot read environment {text}: {exc.strerror}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"invalid environment config {text}: {exc}") from None


__all__ = [
    "ENVIRONMENTS",
    "ConfigDrift",
    "DriftReport",
    "EnvironmentConfig",
    "check_drift",
    "diff_configs",
    "flatten",
    "load_environment",
]
