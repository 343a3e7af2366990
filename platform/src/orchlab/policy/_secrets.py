"""Secrets from the environment, files or a store, and redaction so they are never shown.

- :class:`SecretStore` is the interface (``get(name) -> str``); :class:`EnvSecrets`,
  :class:`FileSecrets` (one file per secret, as Docker and Kubernetes mount them),
  :class:`MemorySecrets` and :class:`ChainSecrets` (first that has it) implement it.
- :class:`Secret` wraps a value so ``repr``/``str``/f-strings print ``**********``;
  ``reveal()`` returns it.
- :class:`Redactor` replaces every known secret value (and values of keys that look like
  secrets: ``password``, ``token``, ``api_key``...) in strings and nested data. Install it
  on logging with :class:`RedactingFilter` / :func:`install_log_redaction`, on structlog as
  a processor (a ``Redactor`` is callable with ``(logger, method, event_dict)``), and in
  notebooks with :func:`install_display_redaction`.

Every value fetched through a store is registered with the process-wide :data:`REDACTOR`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from orchlab.policy._errors import SecretNotFound

MASK = "**********"
"""What a redacted secret looks like."""

_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)", re.IGNORECASE
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
_MIN_LEN = 4  # shorter values would redact ordinary words and digits


class Secret:
    """A secret value that does not print itself."""

    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self._value = value

    def reveal(self) -> str:
        """The value; pass it straight to the client that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, {MASK})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Redactor:
    """Masks known secret values and secret-looking keys in text and nested data."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        """Register a value to mask from now on (values under 4 characters are ignored)."""
        if len(value) < _MIN_LEN:
            return
        with self._lock:
            self._values.add(value)
            # Longest first, so a secret containing another is masked whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def text(self, value: str) -> str:
        """``value`` with every known secret replaced by :data:`MASK`."""
        pattern = self._pattern
        return pattern.sub(MASK, value) if pattern is not None else value

    def redact(self, value: Any) -> Any:
        """A copy of ``value`` (str, mapping, list, tuple) with secrets masked."""
        if isinstance(value, Secret):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                k: MASK
                if isinstance(k, str) and _SECRET_KEY.search(k) and isinstance(v, str | Secret)
                else self.redact(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self.redact(v) for v in value)
        return value

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """A structlog processor: put it last but one, before the renderer."""
        return dict(self.redact(dict(event_dict)))


REDACTOR = Redactor()
"""The process-wide redactor every :class:`SecretStore` registers fetched values with."""


@runtime_checkable
class SecretStore(Protocol):
    """Where secrets come from."""

    def get(self, name: str) -> str:
        """The secret's value.

        Raises:
            SecretNotFound: When this store does not have it.
        """
        ...


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"invalid secret name {name!r}: use letters, digits, '_', '.', '-'")
    return name


class EnvSecrets:
    """Secrets from environment variables, optionally under a prefix (``ORCHLAB_SECRET_``)."""

    def __init__(self, prefix: str = "", environ: Mapping[str, str] | None = None) -> None:
        self.prefix = prefix
        self._environ = environ

    def get(self, name: str) -> str:
        env = os.environ if self._environ is None else self._environ
        key = self.prefix + _check_name(name)
        if key not in env:
            raise SecretNotFound(f"secret {name!r} not found: environment variable {key} is unset")
        value = env[key]
        REDACTOR.add(value)
        return value


class FileSecrets:
    """Secrets as files in a folder, one per secret (``/run/secrets/<name>``)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def get(self, name: str) -> str:
        path = self.folder / _check_name(name)
        try:
            value = path.read_text(encoding="utf-8").rstrip("\r\n")
        except FileNotFoundError:
            raise SecretNotFound(f"secret {name!r} not found: no file {path}") from None
        REDACTOR.add(value)
        return value


class MemorySecrets:
    """Secrets held in memory: tests, notebooks, or a cache in front of a vault client."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})
        for value in self._values.values():
            REDACTOR.add(value)

    def set(self, name: str, value: str) -> None:
        """Store a secret."""
        self._values[_check_name(name)] = value
        REDACTOR.add(value)

    def get(self, name: str) -> str:
        try:
            return self._values[_check_name(name)]
        except KeyError:
            raise SecretNotFound(f"secret {name!r} not found in the in-memory store") from None


class ChainSecrets:
    """Ask several stores in order; the first that has the secret wins."""

    def __init__(self, *stores: SecretStore) -> None:
        if not stores:
            raise ValueError("ChainSecrets needs at least one store")
        self.stores = stores

    def get(self, name: str) -> str:
        misses = []
        for store in self.stores:
            try:
                return store.get(name)
            except SecretNotFound as exc:
                misses.append(str(exc))
        raise SecretNotFound(f"secret {name!r} not found in any store: " + "; ".join(misses))


def get_secret(name: str, store: SecretStore | None = None) -> Secret:
    """A :class:`Secret` from ``store`` (default: the environment), registered for redaction."""
    source = store or EnvSecrets()
    return Secret(name, source.get(name))


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the message, its arguments and the traceback."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or REDACTOR

    def filter(self, record: logging.LogRecord) -> bool:
        r = self.redactor
        record.msg = r.text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = r.text(record.exc_text)
        record.exc_info = None if record.exc_text else record.exc_info
        if record.stack_info:
            record.stack_info = r.text(record.stack_info)
        return True


def install_log_redaction(
    logger_names: Iterable[str] = ("orchlab", "temporalio", "prefect", ""),
    redactor: Redactor | None = None,
) -> RedactingFilter:
    """Add one :class:`RedactingFilter` to the handlers of these loggers (``""`` is root).

    Handler filters see records propagated from child loggers too, so installing on the
    root's handlers covers everything that ends up there.
    """
    flt = RedactingFilter(redactor)
    for name in logger_names:
        logger = logging.getLogger(name)
        logger.addFilter(flt)
        for handler in logger.handlers:
            if flt not in handler.filters:
                handler.addFilter(flt)
    return flt


def install_display_redaction(redactor: Redactor | None = None) -> bool:
    """Mask secrets in notebook output (IPython's text/plain and text/html formatters).

    Returns:
        False when not running under IPython (nothing to do).
    """
    try:
        from IPython import get_ipython  # type: ignore[attr-defined]
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    r = redactor or REDACTOR
    formatters = shell.display_formatter.formatters
    for mime in ("text/plain", "text/html", "text/markdown"):
        formatter = formatters.get(mime)
        if formatter is None or getattr(formatter, "_orchlab_redacting", False):
            continue
        base = type(formatter)

        def masked(self: Any, obj: Any, _base: Any = base) -> Any:
            out = _base.__call__(self, obj)
            return r.text(out) if isinstance(out, str) else out

        # Special methods are looked up on the type: swap in a subclass that masks output.
        formatter.__class__ = type(
            f"Redacting{base.__name__}", (base,), {"__call__": masked, "_orchlab_redacting": True}
        )
    return True


__all__ = [
    "MASK",
    "REDACTOR",
    "ChainSecrets",
    "EnvSecrets",
    "FileSecrets",
    "MemorySecrets",
    "RedactingFilter",
    "Redactor",
    "Secret",
    "SecretStore",
    "get_secret",
    "install_display_redaction",
    "install_log_redaction",
]
