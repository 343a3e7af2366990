"""Rego policies evaluated in-process (rego-cpp through ``regopy``), failing closed.

A policy is one Rego module that defines, in its package:

- ``allow``: a boolean (use ``default allow := false``);
- ``deny``: a set of strings, each a reason to refuse (optional).

The :class:`Decision` allows only when ``allow`` is ``true`` **and** ``deny`` is empty. A
policy that fails to parse, errors while evaluating, or leaves ``allow`` undefined denies,
and the decision says why: a broken policy never lets anything through.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from orchlab.policy._errors import PolicyDenied, PolicyError

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_BUNDLED = "orchlab.policy.policies"


@dataclass(frozen=True)
class Decision:
    """What a policy decided about one input."""

    policy: str
    """The policy's name."""
    allowed: bool
    """True only when the policy allowed and gave no deny reason."""
    reasons: tuple[str, ...] = ()
    """Why it denied (empty when allowed), sorted."""
    input_digest: str = ""
    """SHA-256 of the canonical JSON input: ties an audit record to exactly what was judged."""
    error: bool = False
    """True when the deny comes from a broken policy or input, not from a rule."""

    def __bool__(self) -> bool:
        return self.allowed

    def raise_if_denied(self) -> Decision:
        """Return self when allowed.

        Raises:
            PolicyDenied: When denied; the message lists the reasons.
        """
        if not self.allowed:
            raise PolicyDenied(self.policy, self.reasons)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view, for audit records and activity results."""
        return {
            "policy": self.policy,
            "allowed": self.allowed,
            "reasons": list(self.reasons),
            "input_digest": self.input_digest,
            "error": self.error,
        }


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces) used for digests and hash chains."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Policy:
    """One Rego policy, parsed once, safe to evaluate from many threads.

    Build with :meth:`from_source`, :meth:`from_file` or :func:`load_policy`. A policy whose
    source does not parse is still constructed: every evaluation denies with the parse
    error, so a broken policy file fails closed instead of crashing a pipeline.
    """

    name: str
    """A short name used in decisions and audit records."""
    source: str
    """The Rego source."""
    package: str
    """The Rego package, e.g. ``orchlab.promotion``."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """Base documents (``data.*``) the policy may read, such as thresholds."""
    _interp: Any = field(default=None, init=False, repr=False)
    _load_error: str | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        from regopy import Interpreter  # type: ignore[import-untyped]

        interp = Interpreter()
        try:
            interp.add_module(f"{self.name}.rego", self.source)
            if self.data:
                interp.add_data_json(json.dumps(dict(self.data)))
        except Exception as exc:
            self._load_error = f"policy {self.name!r} failed to load: {_first_line(exc)}"
        self._interp = interp

    @classmethod
    def from_source(
        cls, source: str, *, name: str | None = None, data: Mapping[str, Any] | None = None
    ) -> Policy:
        """A policy from Rego text; its name defaults to the last part of the package."""
        match = _PACKAGE.search(source)
        package = match.group(1) if match else ""
        policy = cls(
            name=name or package.rsplit(".", 1)[-1] or "unnamed",
            source=source,
            package=package,
            data=dict(data or {}),
        )
        if not package and policy._load_error is None:
            policy._load_error = f"policy {policy.name!r} failed to load: no package declaration"
        return policy

    @classmethod
    def from_file(cls, path: Path | str, *, data: Mapping[str, Any] | None = None) -> Policy:
        """A policy from a ``.rego`` file; named after the file.

        Raises:
            PolicyError: When the file cannot be read.
        """
        file = Path(path)
        try:
            source = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {file}: {exc.strerror}") from None
        return cls.from_source(source, name=file.stem, data=data)

    @property
    def loaded(self) -> bool:
        """False when the source did not parse; such a policy denies everything."""
        return self._load_error is None

    def evaluate(self, input: Mapping[str, Any]) -> Decision:
        """Judge one input. Never raises for a policy or input problem: it denies.

        Args:
            input: The JSON-able document the policy sees as ``input``.

        Returns:
            The decision, with reasons when denied.
        """
        try:
            text = canonical_json(dict(input))
        except (TypeError, ValueError) as exc:
            return self._deny([f"input is not JSON-serialisable: {exc}"], "", error=True)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if self._load_error is not None:
            return self._deny([self._load_error], digest, error=True)
        with self._lock:
            try:
                self._interp.set_input_term(text)
                ok, raw = _query(self._interp, f"x := data.{self.package}")
            except Exception as exc:
                reason = f"policy {self.name!r} failed to evaluate: {_first_line(exc)}"
                return self._deny([reason], digest, error=True)
        if not ok:
            reason = f"policy {self.name!r} failed to evaluate: {_first_line(raw)}"
            return self._deny([reason], digest, error=True)
        results = _bindings(raw)
        doc = results.get("x", {})
        if not isinstance(doc, dict):
            return self._deny([f"policy {self.name!r} produced no document"], digest, error=True)
        reasons = doc.get("deny", [])
        if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
            reason = f"policy {self.name!r}: 'deny' must be a set of strings, got {reasons!r}"
            return self._deny([reason], digest, error=True)
        allow = doc.get("allow")
        if allow is None:
            reasons = [*reasons, f"policy {self.name!r} left 'allow' undefined for this input"]
            return self._deny(reasons, digest, error=not doc.get("deny"))
        if not isinstance(allow, bool):
            reason = f"policy {self.name!r}: 'allow' must be a boolean, got {allow!r}"
            return self._deny([*reasons, reason], digest, error=True)
        if allow and not reasons:
            return Decision(self.name, True, (), digest)
        if not reasons:
            reasons = [f"policy {self.name!r} did not allow this input"]
        return self._deny(reasons, digest)

    def check(self, input: Mapping[str, Any]) -> Decision:
        """Like :meth:`evaluate`, but raise when denied.

        Raises:
            PolicyDenied: When the policy denies; the message lists its reasons.
        """
        return self.evaluate(input).raise_if_denied()

    def _deny(self, reasons: list[str], digest: str, *, error: bool = False) -> Decision:
        return Decision(self.name, False, tuple(sorted(set(reasons))), digest, error)


def _query(interp: Any, query: str) -> tuple[bool, str]:
    # regopy's Output parses the result as JSON even when it is an error S-expression;
    # read the raw text instead, so an evaluation error becomes a readable deny reason.
    from regopy import rego_shared

    impl = rego_shared.rego_query(interp._impl, query)
    try:
        ok = bool(rego_shared.rego_output_ok(impl))
        text = str(rego_shared.rego_output_string(impl))
    finally:
        rego_shared.rego_free_output(impl)
    return ok and not text.lstrip().startswith("(error"), text


def _bindings(text: str) -> dict[str, Any]:
    if text.strip() == "undefined":
        return {}
    parsed = json.loads(text)
    first = parsed[0] if isinstance(parsed, list) and parsed else parsed
    bindings = first.get("bindings", {}) if isinstance(first, dict) else {}
    return bindings if isinstance(bindings, dict) else {}


def _first_line(exc: BaseException | str) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # rego-cpp errors are S-expressions; the human message is on an (errormsg ...) line.
    for line in lines:
        if line.startswith("(errormsg"):
            return line.removeprefix("(errormsg").strip(" )").split(":", 1)[-1].strip()
    if lines == ["<error>"]:
        return "a rule conflict or runtime error"
    return lines[0] if lines else type(exc).__name__


def bundled_policies() -> list[str]:
    """The names of the policies shipped with orchlab (``promotion``, ``access``, ...)."""
    folder = resources.files(_BUNDLED)
    names = (p.name for p in folder.iterdir())
    return sorted(n.removesuffix(".rego") for n in names if n.endswith(".rego"))


def load_policy(name_or_path: str | Path, *, data: Mapping[str, Any] | None = None) -> Policy:
    """Load a bundled policy by name (``"promotion"``) or a ``.rego`` file by path.

    Raises:
        PolicyError: When there is no such bundled policy or file.
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".rego") or "/" in text:
        return Policy.from_file(name_or_path, data=data)
    resource = resources.files(_BUNDLED) / f"{text}.rego"
    if not resource.is_file():
        known = ", ".join(bundled_policies())
        raise PolicyError(f"no bundled policy {text!r}; bundled policies: {known}")
    return Policy.from_source(resource.read_text(encoding="utf-8"), name=text, data=data)


__all__ = ["Decision", "Policy", "bundled_policies", "canonical_json", "load_policy"]
