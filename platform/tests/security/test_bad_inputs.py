# ruff: noqa: E501  (the table reads best one case a line)
"""Security evidence: a table of bad inputs across schema validation, policies, the audit
log and the payload codec, each with the clear rejection it must get."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field
from temporalio.api.common.v1 import Payload

from orchlab.policy import (
    KEY_ID,
    AccessGuard,
    AuditLog,
    DecryptionError,
    EncryptionCodec,
    InputRejected,
    KeyRing,
    Policy,
    Principal,
    SafePath,
    StrictInput,
    WorkflowRule,
    load_policy,
    validate_input,
    verify_log,
)


class TrainInput(StrictInput):
    dataset: SafePath
    epochs: int = Field(ge=1, le=1000)
    learning_rate: float = Field(gt=0, lt=1)
    tags: dict[str, str] = Field(default_factory=dict, max_length=20)


GOOD: dict[str, Any] = {"dataset": "data/wine.csv", "epochs": 5, "learning_rate": 0.1}
K1 = b"1" * 32
K2 = b"2" * 32


def _schema(**change: Any) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        payload = {k: v for k, v in {**GOOD, **change}.items() if v is not ...}
        try:
            validate_input(TrainInput, payload, max_bytes=4096)
        except InputRejected as exc:
            return str(exc)
        return "ACCEPTED"

    return run


def _policy(name_or_source: str, input: dict[str, Any]) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        if name_or_source.startswith("package") or "\n" in name_or_source:
            policy = Policy.from_source(name_or_source)
        else:
            policy = load_policy(name_or_source)
        decision = policy.evaluate(input)
        return "ACCEPTED" if decision.allowed else " | ".join(decision.reasons)

    return run


def _access(principal: Principal, action: str, kind: str = "Train") -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        guard = AccessGuard([WorkflowRule("Train", sensitivity="confidential", team="ml")])
        decision = guard.decide(principal, action, kind)  # type: ignore[arg-type]
        return "ACCEPTED" if decision.allowed else " | ".join(decision.reasons)

    return run


def _audit(tamper: Callable[[list[str]], list[str]]) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        log = AuditLog(tmp / "audit.jsonl")
        for i in range(4):
            log.append("policy.decision", actor=f"u{i}", subject="s", data={"i": i})
        lines = log.path.read_text().splitlines(keepends=True)
        log.path.write_text("".join(tamper(lines)))
        report = verify_log(log.path)
        return "ACCEPTED" if report.ok else f"line {report.first_bad}: {report.problem}"

    return run


def _edit(index: int, old: str, new: str) -> Callable[[list[str]], list[str]]:
    def tamper(lines: list[str]) -> list[str]:
        lines[index] = lines[index].replace(old, new)
        return lines

    return tamper


def _codec(
    mutate: Callable[[Payload], Payload], ring: KeyRing | None = None
) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        writer = EncryptionCodec(KeyRing({"k1": K1}, active="k1"))
        reader = EncryptionCodec(ring or KeyRing({"k1": K1}, active="k1"))
        [sealed] = asyncio.run(
            writer.encode([Payload(metadata={"encoding": b"json/plain"}, data=b'"model"')])
        )
        try:
            asyncio.run(reader.decode([mutate(sealed)]))
        except DecryptionError as exc:
            return str(exc)
        return "ACCEPTED"

    return run


def _with(
    sealed: Payload, *, meta: dict[str, bytes] | None = None, data: bytes | None = None
) -> Payload:
    return Payload(
        metadata={**sealed.metadata, **(meta or {})}, data=sealed.data if data is None else data
    )


PROMO = {"source": "dev", "target": "staging", "metrics": {"accuracy": 0.9}, "requested_by": "a"}
ENGINEER = Principal("ann", ("engineer",), "confidential", "ml")

CASES: list[tuple[str, Callable[[Path], str], str]] = [
    # --- schema validation (start and signal payloads) ---
    ("schema: string for int", _schema(epochs="5"), "epochs: Input should be a valid integer"),
    ("schema: float for int", _schema(epochs=5.5), "epochs: Input should be a valid integer"),
    ("schema: bool for float", _schema(learning_rate=True), "learning_rate: Input should be a valid number"),
    ("schema: unknown field", _schema(is_admin=True), "is_admin: unknown field"),
    ("schema: missing field", _schema(dataset=...), "dataset: is required"),
    ("schema: out of range", _schema(epochs=10**6), "epochs: Input should be less than or equal to 1000"),
    ("schema: negative rate", _schema(learning_rate=-1), "learning_rate: Input should be greater than 0"),
    ("schema: traversal", _schema(dataset="../../etc/passwd"), "dataset: unsafe path"),
    ("schema: windows traversal", _schema(dataset="..\\..\\win.ini"), "dataset: unsafe path"),
    ("schema: absolute path", _schema(dataset="/etc/shadow"), "dataset: unsafe path '/etc/shadow': is an absolute path"),
    ("schema: home path", _schema(dataset="~/.ssh/id_rsa"), "is an absolute path"),
    ("schema: encoded traversal", _schema(dataset="%2e%2e%2fetc"), "URL-encoded path characters"),
    ("schema: NUL byte", _schema(dataset="data.csv\x00.txt"), "contains a NUL byte"),
    ("schema: traversal in a nested value", _schema(tags={"out": "a/../../b"}), "tags: unsafe path"),
    ("schema: traversal in a key", _schema(tags={"../k": "v"}), "tags: unsafe path"),
    ("schema: too many tags", _schema(tags={f"k{i}": "v" for i in range(30)}), "tags: Dictionary should have at most 20 items"),
    ("schema: oversized payload", _schema(tags={"blob": "x" * 5000}), "over the 4096-byte limit"),
    ("schema: null for string", _schema(dataset=None), "dataset: Input should be a valid string"),
    ("schema: list for object", _schema(tags=["a"]), "tags: Input should be an object"),
    # --- policies ---
    ("policy: skip staging", _policy("promotion", {**PROMO, "target": "prod"}), "promote one environment at a time"),
    ("policy: accuracy as text", _policy("promotion", {**PROMO, "metrics": {"accuracy": "high"}}), "metrics.accuracy is missing or not a number"),
    ("policy: self approval", _policy("promotion", {**PROMO, "source": "staging", "target": "prod", "approval": {"approved": True, "approver": "a"}}), "four-eyes"),
    ("policy: unknown target", _policy("promotion", {**PROMO, "target": "moon"}), "unknown target environment moon"),
    ("policy: drift", _policy("promotion", {**PROMO, "drift": {"psi_max": 0.9}}), "data drift PSI 0.9 exceeds 0.2"),
    ("policy: empty input", _policy("promotion", {}), "metrics.accuracy is missing"),
    ("policy: broken source fails closed", _policy("package broken\nallow if {", {}), "failed to load"),
    ("policy: runtime error fails closed", _policy("package e\nimport rego.v1\nallow := 1 / input.n\n", {"n": 0}), "left 'allow' undefined"),
    ("policy: conflict fails closed", _policy("package c\nimport rego.v1\nallow := true if input.a\nallow := false if input.a\n", {"a": True}), "failed to evaluate"),
    ("access: anonymous", _access(Principal("", ("operator",), "restricted"), "start"), "anonymous callers are refused"),
    ("access: low clearance", _access(Principal("bob", ("operator",), "internal", "ml"), "start"), "clearance internal, below the confidential data"),
    ("access: engineer cancels", _access(ENGINEER, "cancel"), "needs role operator"),
    ("access: unknown action", _access(ENGINEER, "delete"), "unknown action delete"),
    ("access: unknown workflow", _access(ENGINEER, "start", "Mystery"), "no access rule for workflow type 'Mystery'"),
    ("access: made-up clearance", _access(Principal("eve", ("operator",), "god", "ml"), "start"), "unknown clearance god"),
    # --- audit log ---
    ("audit: edited data", _audit(_edit(1, '"i":1', '"i":7')), "line 2: its hash does not match its content"),
    ("audit: edited actor", _audit(_edit(2, '"actor":"u2"', '"actor":"root"')), "line 3: its hash does not match"),
    ("audit: deleted record", _audit(lambda ls: ls[:1] + ls[2:]), "line 2: sequence number 3 where 2 was expected"),
    ("audit: swapped records", _audit(lambda ls: [ls[0], ls[2], ls[1], ls[3]]), "line 2: sequence number 3"),
    ("audit: inserted record", _audit(lambda ls: [*ls[:2], ls[1], *ls[2:]]), "line 3: sequence number 2 where 3 was expected"),
    ("audit: garbage line", _audit(lambda ls: [*ls[:3], "{oops\n"]), "line 4: not valid JSON"),
    ("audit: extra field", _audit(_edit(0, '"seq":1', '"seq":1,"admin":true')), "line 1: fields must be exactly"),
    ("audit: relinked record", _audit(_edit(3, '"prev":"', '"prev":"0')), "line 4: does not link to the previous record"),
    # --- payload codec ---
    ("codec: flipped ciphertext", _codec(lambda p: _with(p, data=p.data[:-1] + bytes([p.data[-1] ^ 1]))), "failed authentication"),
    ("codec: truncated payload", _codec(lambda p: _with(p, data=p.data[:5])), "is truncated"),
    ("codec: relabelled key", _codec(lambda p: _with(p, meta={KEY_ID: b"k2"}), KeyRing({"k1": K1, "k2": K2}, active="k2")), "failed authentication"),
    ("codec: unknown key", _codec(lambda p: _with(p, meta={KEY_ID: b"zz"})), "unknown key 'zz'"),
    ("codec: retired key", _codec(lambda p: p, KeyRing({"k2": K2}, active="k2", retired=["k1"])), "retired key 'k1': it is refused"),
    ("codec: missing key id", _codec(lambda p: Payload(metadata={"encoding": p.metadata["encoding"]}, data=p.data)), "has no 'encryption-key-id' metadata"),
    ("codec: wrong key bytes", _codec(lambda p: p, KeyRing({"k1": K2}, active="k1")), "failed authentication"),
]  # fmt: skip


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    kinds = {name.split(":")[0] for name, _, _ in CASES}
    assert kinds == {"schema", "policy", "access", "audit", "codec"}


@pytest.mark.parametrize(("name", "attempt", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_clearly(
    name: str, attempt: Callable[[Path], str], expected: str, tmp_path: Path
) -> None:
    outcome = attempt(tmp_path)
    assert outcome != "ACCEPTED", f"{name}: the bad input was accepted"
    assert expected in outcome, f"{name}: got {outcome!r}"


def test_the_good_input_passes() -> None:
    assert validate_input(TrainInput, json.dumps(GOOD)).epochs == 5
