"""Rego policies: the bundled policies' own test tables, and failing closed on broken
policies, runtime errors and odd results."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchlab.policy import (
    Decision,
    Policy,
    PolicyDenied,
    PolicyError,
    bundled_cases,
    bundled_policies,
    load_cases,
    load_policy,
    run_case,
    run_cases,
)

CASES = [(name, case) for name in bundled_policies() for case in bundled_cases(name).cases]


def test_bundled_policies() -> None:
    assert bundled_policies() == ["access", "promotion"]


@pytest.mark.parametrize(("policy", "case"), CASES, ids=[f"{p}: {c.name}" for p, c in CASES])
def test_bundled_policy_cases(policy: str, case: object) -> None:
    result = run_case(load_policy(policy), case)  # type: ignore[arg-type]
    assert result.passed, result.message


def test_a_wrong_expectation_fails_with_a_clear_message(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "policy: promotion\ncases:\n  - name: wrong\n    input: {source: dev, target: staging, "
        "metrics: {accuracy: 0.5}}\n    allowed: true\n    reasons_include: [nonsense]\n"
    )
    [result] = run_cases(load_cases(cases))
    assert not result.passed
    assert "expected allow, policy denied (accuracy 0.5 is below" in result.message
    assert "no deny reason contains 'nonsense'" in result.message


def test_allow_and_raise_if_denied() -> None:
    policy = load_policy("promotion")
    ok = policy.evaluate({"source": "dev", "target": "staging", "metrics": {"accuracy": 0.9}})
    assert ok.allowed and bool(ok) and ok.reasons == () and len(ok.input_digest) == 64
    assert ok.raise_if_denied() is ok
    with pytest.raises(PolicyDenied, match=r"denied by policy 'promotion': accuracy 0.1 is below"):
        policy.check({"source": "dev", "target": "staging", "metrics": {"accuracy": 0.1}})


@pytest.mark.parametrize(
    ("source", "input", "reason"),
    [
        ("package bad\nallow if {", {}, "policy 'bad' failed to load: this is unclosed"),
        ("allow := true", {}, "no package declaration"),
        (
            "package c\nimport rego.v1\nallow := true if input.a\nallow := false if input.b\n",
            {"a": True, "b": True},
            "failed to evaluate",
        ),
        ("package c\nimport rego.v1\nallow := 1 / input.n\n", {"n": 0}, "left 'allow' undefined"),
        ("package c\nimport rego.v1\nallow := input.n\n", {"n": "yes"}, "must be a boolean"),
        ("package c\nimport rego.v1\nallow := true\ndeny := 3\n", {}, "must be a set of strings"),
        ("package c\nimport rego.v1\ndefault allow := false\n", {}, "did not allow this input"),
    ],
    ids=["parse", "no-package", "conflict", "runtime", "non-bool", "bad-deny", "plain-false"],
)
def test_fails_closed(source: str, input: dict[str, object], reason: str) -> None:
    decision = Policy.from_source(source).evaluate(input)
    assert isinstance(decision, Decision) and not decision.allowed
    assert any(reason in r for r in decision.reasons), decision.reasons


def test_unserialisable_input_denies() -> None:
    decision = load_policy("promotion").evaluate({"when": object()})
    assert not decision.allowed and decision.error
    assert "not JSON-serialisable" in decision.reasons[0]


def test_unknown_policy_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"no bundled policy 'nope'; bundled policies: access"):
        load_policy("nope")
    with pytest.raises(PolicyError, match=r"cannot read policy file"):
        load_policy(tmp_path / "missing.rego")


def test_policy_from_a_file_with_data(tmp_path: Path) -> None:
    path = tmp_path / "limits.rego"
    path.write_text(
        "package limits\nimport rego.v1\ndefault allow := false\n"
        "allow if input.rows <= data.max_rows\n"
    )
    policy = load_policy(path, data={"max_rows": 10})
    assert policy.name == "limits" and policy.loaded
    assert policy.evaluate({"rows": 5}).allowed
    assert not policy.evaluate({"rows": 50}).allowed
