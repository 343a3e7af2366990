"""Schema validation for workflow inputs and signals, with messages that name the field.

Derive workflow inputs from :class:`StrictInput`: unknown fields are refused, types are not
coerced (``"3"`` is not an int), and every string, however deeply nested, is checked for
path traversal (``..`` segments, absolute paths, NUL bytes, their URL-encoded forms).
:func:`validate_input` adds a size limit on the serialised payload and turns pydantic's
errors into one :class:`InputRejected` whose message lists ``field: problem`` pairs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, field_validator

from orchlab.policy._errors import InputRejected

DEFAULT_MAX_BYTES = 64 * 1024
"""The largest payload :func:`validate_input` accepts by default (64 KiB)."""

_TRAVERSAL = re.compile(r"(^|[\\/])\.\.([\\/]|$)")
_ENCODED = re.compile(r"%2e%2e|%2f|%5c|%00", re.IGNORECASE)

M = TypeVar("M", bound=BaseModel)


def path_problem(value: str) -> str | None:
    """Why a string is unsafe as (part of) a path, or None when it is fine."""
    if "\x00" in value:
        return "contains a NUL byte"
    if _ENCODED.search(value):
        return "contains URL-encoded path characters"
    if _TRAVERSAL.search(value):
        return "contains a '..' path segment (path traversal)"
    if value.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:[\\/]", value):
        return "is an absolute path; give a path relative to the workspace"
    return None


def _check_path(value: str) -> str:
    problem = path_problem(value)
    if problem:
        raise ValueError(f"unsafe path {value[:80]!r}: {problem}")
    return value


SafePath = Annotated[str, AfterValidator(_check_path)]
"""A relative path with no traversal; use for fields that name files or folders."""


def _scan(value: Any) -> None:
    if isinstance(value, str):
        # Free text may start with '/', so only traversal markers are refused here.
        if _TRAVERSAL.search(value) or _ENCODED.search(value) or "\x00" in value:
            _check_path(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _scan(key)
            _scan(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _scan(item)


class StrictInput(BaseModel):
    """Base for workflow inputs and signal payloads.

    Unknown fields are refused, types are strict, and no string anywhere in the model may
    carry a path-traversal sequence (absolute paths are only refused in :data:`SafePath`
    fields, since free text may legitimately start with ``/``).
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_traversal(cls, value: Any) -> Any:
        _scan(value)
        return value


def _describe(error: Mapping[str, Any]) -> tuple[str, str]:
    field = ".".join(str(part) for part in error.get("loc", ())) or "(payload)"
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return field, "unknown field"
    if kind == "missing":
        return field, "is required"
    message = str(error.get("msg", "invalid"))
    return field, message.removeprefix("Value error, ")


def validate_input(
    model: type[M],
    payload: Any,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    what: str = "input",
) -> M:
    """Check a payload against a schema and return the parsed model.

    Args:
        model: The schema (ideally a :class:`StrictInput`).
        payload: A model instance, a mapping, or JSON text/bytes.
        max_bytes: The largest accepted serialised size.
        what: Names the payload in messages (``"input of TrainWorkflow"``).

    Raises:
        InputRejected: Listing every bad field with its problem.
    """
    if isinstance(payload, model):
        payload = payload.model_dump(mode="json")
    if isinstance(payload, bytes | bytearray):
        size = len(payload)
    elif isinstance(payload, str):
        size = len(payload.encode())
    else:
        try:
            size = len(json.dumps(payload, default=str).encode())
        except (TypeError, ValueError):
            raise InputRejected(f"{what} is not JSON-serialisable") from None
    if size > max_bytes:
        raise InputRejected(
            f"{what} is {size} bytes, over the {max_bytes}-byte limit; pass large data by "
            "reference (a path or URI), not inline",
            ["(payload)"],
        )
    try:
        if isinstance(payload, str | bytes | bytearray):
            return model.model_validate_json(payload)
        # JSON mode: values arrive as they would over the wire (strict but JSON-typed).
        return model.model_validate_json(json.dumps(payload, default=str))
    except ValidationError as exc:
        pairs = [_describe(e) for e in exc.errors(include_url=False)]
        detail = "; ".join(f"{field}: {problem}" for field, problem in pairs)
        raise InputRejected(
            f"{what} rejected by {model.__name__}: {detail}", [f for f, _ in pairs]
        ) from None


__all__ = [
    "DEFAULT_MAX_BYTES",
    "SafePath",
    "StrictInput",
    "path_problem",
    "validate_input",
]
