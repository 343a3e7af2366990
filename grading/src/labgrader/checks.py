"""Strict assertions for check authors: exact types first, then values.

A check that writes ``assert got == expected`` asks the learner's object whether it equals
the expected value, and an object whose ``__eq__`` answers ``True`` to everything (or a
``str`` subclass, or ``True`` where ``1`` was expected) passes it. The helpers here never ask
the learner's object: they compare ``type(got) is type(expected)`` first, then the value,
recursively through lists, tuples, dicts, sets and dataclasses, and fail with the first
differing place::

    from labgrader.checks import assert_equal

    assert_equal(nb.resolve_params(DEFAULTS, ["seed=7"]), {"seed": 7, ...},
                 what="resolve_params(DEFAULTS, ['seed=7'])")
    # AssertionError: resolve_params(DEFAULTS, ['seed=7']): at ['seed']: expected int 7,
    # got float 7.0

Rules, from the outside in:

* the types must be identical (``type(got) is type(expected)``): ``True`` is not ``1``,
  ``1`` is not ``1.0``, a list is not a tuple, a subclass is not its base;
* lists and tuples: the same length, then item by item;
* dicts: the same keys (each key matched strictly), then value by value; sets and frozensets:
  the same members, matched strictly;
* dataclasses: field by field (the class's own ``__eq__`` is never called);
* enum members: the same member;
* floats: equal values, and NaN equals NaN (so an expected NaN can be asserted);
* anything else (str, int, bytes, datetime, Decimal, ...): the expected type's own ``==``,
  which after the type check is the checks' own class, never the learner's.

Values that cross from a learner's process come back as plain data and dataclasses, which is
exactly what these rules cover; they work the same on objects of the notebook's own classes.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import reprlib
from collections.abc import Iterable
from typing import Any

_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 8
_REPR.maxlevel = 4

_ATOMS = (type(None), bool, int, float, str, bytes)
"""Types whose exact instances hash and compare by value alone (fast dict and set matching)."""


def show(value: object) -> str:
    """A short, safe ``repr`` of a value for a failure message.

    It never raises (an object whose ``__repr__`` fails is shown by its type) and cuts long
    values short.
    """
    try:
        text = _REPR.repr(value)
    except Exception as exc:  # a learner's __repr__ may raise anything
        return f"<{type(value).__name__} whose repr raised {type(exc).__name__}>"
    if type(text) is not str:  # pragma: no cover - reprlib always returns str
        return f"<{type(value).__name__}>"
    return text


def _typed(value: object) -> str:
    return f"{type(value).__name__} {show(value)}"


def difference(got: object, expected: object) -> str | None:
    """Where ``got`` first differs from ``expected``, under the strict rules; None if equal.

    The answer reads ``"at <path>: expected <type> <value>, got <type> <value>"`` (the path
    is empty for the values themselves).
    """
    return _diff_top(got, expected)


def strictly_equal(got: object, expected: object) -> bool:
    """Whether ``got`` equals ``expected`` under the strict rules (exact types, then values)."""
    return _diff_top(got, expected) is None


def assert_equal(got: object, expected: object, *, what: str = "", hint: str = "") -> None:
    """Assert that ``got`` equals ``expected`` strictly: exact types, then values.

    Args:
        got: The learner's value.
        expected: The value the contract asks for.
        what: What was compared, put before the difference (``"resolve_params(...)"``).
        hint: The likely cause, put after it (``"coerce to the default's type"``).

    Raises:
        AssertionError: At the first difference, naming the path, both types and both values,
            then both whole values (shortened).
    """
    problem = _diff_top(got, expected)
    if problem is not None:
        _fail(problem, got, expected, what, hint)


def _fail(problem: str, got: object, expected: object, what: str, hint: str) -> None:
    parts = [f"{what}: {problem}" if what else problem]
    if problem.startswith("at "):  # a difference inside: show the whole values as well
        parts.append(f"(expected {show(expected)}, got {show(got)})")
    if hint:
        parts.append(hint)
    raise AssertionError(" ".join(parts))


@dataclasses.dataclass(frozen=True)
class _Tolerance:
    rel: float
    abs: float

    def __str__(self) -> str:
        return f"rel {self.rel:g}" + (f", abs {self.abs:g}" if self.abs else "")


def assert_close(
    got: object,
    expected: object,
    *,
    rel: float = 1e-6,
    abs: float = 1e-12,
    what: str = "",
    hint: str = "",
) -> None:
    """Like :func:`assert_equal`, but numbers match within a tolerance (``math.isclose``).

    A number is an exact ``int`` or ``float`` (never a ``bool`` or a subclass); an ``int``
    and a ``float`` may match each other, since a wait of ``1`` and of ``1.0`` are the same
    wait. Everything else follows the strict rules.

    Raises:
        AssertionError: At the first difference, as :func:`assert_equal` does.
    """
    problem = _diff_top(got, expected, _Tolerance(rel, abs))
    if problem is not None:
        _fail(problem, got, expected, what, hint)


def strictly_close(got: object, expected: object, *, rel: float = 1e-6, abs: float = 1e-12) -> bool:
    """Whether :func:`assert_close` would pass (for a condition inside a longer check)."""
    return _diff_top(got, expected, _Tolerance(rel, abs)) is None


def assert_not_equal(got: object, other: object, *, what: str = "", hint: str = "") -> None:
    """Assert that ``got`` differs from ``other`` (a value of another type counts as different).

    Raises:
        AssertionError: When ``got`` strictly equals ``other``.
    """
    if _diff_top(got, other) is None:
        prefix = f"{what}: " if what else ""
        message = f"{prefix}expected something other than {_typed(other)}, got the same value"
        raise AssertionError(f"{message} {hint}" if hint else message)


def assert_one_of(
    got: object, options: Iterable[object], *, what: str = "", hint: str = ""
) -> None:
    """Assert that ``got`` strictly equals one of ``options`` (``got in options``, made strict).

    Raises:
        AssertionError: When it equals none of them.
    """
    choices = list(options)
    if any(_diff_top(got, option) is None for option in choices):
        return
    prefix = f"{what}: " if what else ""
    listed = ", ".join(_typed(c) for c in choices)
    message = f"{prefix}expected one of {listed}; got {_typed(got)}"
    raise AssertionError(f"{message} {hint}" if hint else message)


def assert_type(got: object, expected_type: type, *, what: str = "", hint: str = "") -> None:
    """Assert that ``type(got) is expected_type`` (not a subclass, not a look-alike).

    Raises:
        AssertionError: When the type differs.
    """
    if type(got) is not expected_type:
        prefix = f"{what}: " if what else ""
        message = f"{prefix}expected a {expected_type.__name__}, got {_typed(got)}"
        raise AssertionError(f"{message} {hint}" if hint else message)


def text(value: object, *, what: str = "the message") -> str:
    """``str(value)`` as an exact ``str``, for assertions on an error's message.

    ``str()`` returns whatever ``__str__`` returns, and a ``str`` subclass can answer ``True``
    to every ``in`` test; this refuses it.

    Raises:
        AssertionError: When ``str(value)`` fails or is not exactly a ``str``.
    """
    try:
        result = str(value)
    except Exception as exc:
        raise AssertionError(
            f"{what}: str() of a {type(value).__name__} raised {type(exc).__name__}"
        ) from None
    if type(result) is not str:
        raise AssertionError(
            f"{what}: str() of a {type(value).__name__} returned a "
            f"{type(result).__name__}, expected a plain str"
        )
    return result


def _diff_top(got: object, expected: object, tol: _Tolerance | None = None) -> str | None:
    try:
        return _diff(got, expected, "", tol)
    except RecursionError:
        return f"the value is nested too deeply to compare (a cycle?): got {_typed(got)}"


_NUMBERS = (int, float)


def _diff(got: object, expected: object, path: str, tol: _Tolerance | None = None) -> str | None:
    where = f"at {path}: " if path else ""
    if tol is not None and type(expected) in _NUMBERS and type(got) in _NUMBERS:
        assert isinstance(got, int | float) and isinstance(expected, int | float)
        if math.isclose(got, expected, rel_tol=tol.rel, abs_tol=tol.abs) or (
            math.isnan(got) and math.isnan(expected)
        ):
            return None
        return f"{where}expected {_typed(expected)} (within {tol}), got {_typed(got)}"
    if type(got) is not type(expected):
        return f"{where}expected {_typed(expected)}, got {_typed(got)}"
    if isinstance(expected, list | tuple):
        return _diff_sequence(got, expected, path, where, tol)
    if isinstance(expected, dict):
        return _diff_dict(got, expected, path, where, tol)
    if isinstance(expected, set | frozenset):
        return _diff_set(got, expected, where)
    if dataclasses.is_dataclass(expected) and not isinstance(expected, type):
        for field in dataclasses.fields(expected):
            if not field.compare:  # the class itself leaves it out of equality
                continue
            found = _diff(
                getattr(got, field.name),
                getattr(expected, field.name),
                f"{path}.{field.name}",
                tol,
            )
            if found is not None:
                return found
        return None
    if isinstance(expected, enum.Enum):
        return None if got is expected else f"{where}expected {_typed(expected)}, got {_typed(got)}"
    if type(expected) is float:
        assert isinstance(got, float)
        if got == expected or (math.isnan(got) and math.isnan(expected)):
            return None
        return f"{where}expected {_typed(expected)}, got {_typed(got)}"
    # Same exact type: the expected type's own equality decides.
    if expected == got:
        return None
    return f"{where}expected {_typed(expected)}, got {_typed(got)}"


def _diff_sequence(
    got: Any,
    expected: list[Any] | tuple[Any, ...],
    path: str,
    where: str,
    tol: _Tolerance | None,
) -> str | None:
    for index, (g, e) in enumerate(zip(got, expected, strict=False)):
        found = _diff(g, e, f"{path}[{index}]", tol)
        if found is not None:
            return found
    if len(got) != len(expected):
        kind = type(expected).__name__
        if len(got) > len(expected):
            extra = f"; the first extra item is {_typed(got[len(expected)])}"
        else:
            extra = f"; the first missing item is {_typed(expected[len(got)])}"
        return f"{where}expected a {kind} of {len(expected)} items, got {len(got)}{extra}"
    return None


def _plain(key: Any) -> bool:
    """Whether a key is an exact atom or an exact tuple of them (safe to hash and compare)."""
    if type(key) is tuple:
        return all(_plain(k) for k in key)
    return type(key) in _ATOMS


def _tagged(key: Any) -> Any:
    """A plain key with every part tagged by its type, so ``1``, ``1.0`` and ``True`` differ."""
    if type(key) is tuple:
        return (tuple, tuple(_tagged(k) for k in key))
    return (type(key), key)


def _match(got_keys: list[Any], expected_keys: list[Any]) -> tuple[list[Any], list[Any]]:
    """Pair keys strictly: (expected keys with no strict match, got keys left unmatched)."""
    if all(_plain(k) for k in got_keys) and all(_plain(k) for k in expected_keys):
        got_set = {_tagged(k) for k in got_keys}
        expected_set = {_tagged(k) for k in expected_keys}
        missing = [k for k in expected_keys if _tagged(k) not in got_set]
        extra = [k for k in got_keys if _tagged(k) not in expected_set]
        return missing, extra
    left = list(got_keys)
    missing = []
    for key in expected_keys:
        for i, candidate in enumerate(left):
            if _diff(candidate, key, "") is None:
                del left[i]
                break
        else:
            missing.append(key)
    return missing, left


def _diff_dict(
    got: Any, expected: dict[Any, Any], path: str, where: str, tol: _Tolerance | None
) -> str | None:
    got_keys = list(got.keys())
    missing, extra = _match(got_keys, list(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing key " + ", ".join(_typed(k) for k in missing[:3]))
        if extra:
            parts.append("unexpected key " + ", ".join(_typed(k) for k in extra[:3]))
        return f"{where}{'; '.join(parts)}"
    by_key = {_tagged(k): k for k in got_keys} if all(_plain(k) for k in got_keys) else None
    for key, value in expected.items():
        if by_key is not None:
            got_key = by_key[_tagged(key)]
        else:
            got_key = next(k for k in got_keys if _diff(k, key, "") is None)
        found = _diff(got[got_key], value, f"{path}[{key!r}]", tol)
        if found is not None:
            return found
    return None


def _diff_set(got: Any, expected: set[Any] | frozenset[Any], where: str) -> str | None:
    missing, extra = _match(list(got), list(expected))
    if not missing and not extra:
        return None
    parts = []
    if missing:
        parts.append("missing " + ", ".join(_typed(k) for k in missing[:3]))
    if extra:
        parts.append("unexpected " + ", ".join(_typed(k) for k in extra[:3]))
    return f"{where}{'; '.join(parts)} (expected {show(expected)}, got {show(got)})"


__all__ = [
    "assert_close",
    "assert_equal",
    "assert_not_equal",
    "assert_one_of",
    "assert_type",
    "difference",
    "show",
    "strictly_close",
    "strictly_equal",
    "text",
]
