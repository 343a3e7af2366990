"""Unit tests for Rego policies, as data: a YAML table of inputs and expected decisions.

Each bundled policy ``<name>.rego`` has a ``<name>_cases.yaml`` next to it::

    policy: promotion
    cases:
      - name: staging needs 0.8 accuracy
        input: {source: dev, target: staging, metrics: {accuracy: 0.7}, requested_by: ann}
        allowed: false
        reasons_include: ["below the 0.8 required for staging"]

:func:`run_cases` evaluates every case and returns one :class:`CaseResult` each, so a test
suite (or a CI job, or a learner) can parametrize over them. Cases are data rather than Rego
``test_`` rules because rego-cpp cannot yet replace the whole ``input`` with ``with``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchlab.policy._errors import PolicyError
from orchlab.policy._rego import Policy, load_policy


class PolicyCase(BaseModel):
    """One expected decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    """What the case shows, in a few words."""
    input: dict[str, Any]
    """The policy's input."""
    allowed: bool
    """The expected outcome."""
    reasons_include: list[str] = Field(default_factory=list)
    """Substrings that must each appear in some deny reason."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Base documents for this case (e.g. thresholds)."""


class PolicyCases(BaseModel):
    """A policy's test table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str
    """The policy's name (bundled) or path (relative to the cases file)."""
    cases: list[PolicyCase] = Field(min_length=1)
    """The cases."""


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case."""

    name: str
    """The case's name."""
    passed: bool
    """True when the decision matched."""
    message: str
    """What differed, empty when passed."""


def load_cases(path: Path | str) -> PolicyCases:
    """Read a cases file.

    Raises:
        PolicyError: When it cannot be read or does not match the format.
    """
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        return PolicyCases.model_validate(raw)
    except OSError as exc:
        raise PolicyError(f"cannot read policy cases {file}: {exc.strerror}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise PolicyError(f"invalid policy cases {file}: {exc}") from None


def bundled_cases(name: str) -> PolicyCases:
    """The test table shipped with bundled policy ``name``."""
    resource = resources.files("orchlab.policy.policies") / f"{name}_cases.yaml"
    if not resource.is_file():
        raise PolicyError(f"bundled policy {name!r} has no {name}_cases.yaml")
    return PolicyCases.model_validate(yaml.safe_load(resource.read_text(encoding="utf-8")))


def run_case(policy: Policy, case: PolicyCase) -> CaseResult:
    """Evaluate one case against a policy (case data replaces the policy's data)."""
    target = policy
    if case.data:
        target = Policy.from_source(policy.source, name=policy.name, data=case.data)
    decision = target.evaluate(case.input)
    problems: list[str] = []
    if decision.allowed != case.allowed:
        want = "allow" if case.allowed else "deny"
        got = "allowed" if decision.allowed else f"denied ({'; '.join(decision.reasons)})"
        problems.append(f"expected {want}, policy {got}")
    for fragment in case.reasons_include:
        if not any(fragment in reason for reason in decision.reasons):
            reasons = list(decision.reasons)
            problems.append(f"no deny reason contains {fragment!r}; reasons: {reasons}")
    return CaseResult(case.name, not problems, "; ".join(problems))


def run_cases(cases: PolicyCases, policy: Policy | None = None) -> list[CaseResult]:
    """Evaluate every case; the policy defaults to the bundled one named in the table."""
    target = policy or load_policy(cases.policy)
    return [run_case(target, case) for case in cases.cases]


__all__ = [
    "CaseResult",
    "PolicyCase",
    "PolicyCases",
    "bundled_cases",
    "load_cases",
    "run_case",
    "run_cases",
]
