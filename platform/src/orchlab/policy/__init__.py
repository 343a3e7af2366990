"""Governance for ML pipelines: policy gates, approvals, access control, audit, secrets.

Policy as code
    :class:`Policy` (Rego, evaluated in-process by rego-cpp) returns a :class:`Decision`
    (allow or deny, with reasons) and fails closed: a policy that does not parse or errors
    denies. :func:`load_policy` loads a bundled policy (``promotion``, ``access``) or a
    ``.rego`` file; :func:`run_cases` runs a policy's YAML test table. :func:`gate` evaluates
    and audits; it is also a Temporal activity (:func:`policy_gate_activity`), a Prefect task
    (:func:`prefect_policy_gate`) and a pipeline task (:func:`register_gate_task`).
Approvals
    :class:`ApprovalWorkflow` (Temporal) waits for an :class:`ApprovalSignal` with
    escalation and a timeout; :func:`prefect_wait_for_approval` pauses a Prefect flow run
    until an :class:`ApprovalInput` is submitted.
Access control
    :class:`AccessGuard` decides who may start, signal, cancel or approve which workflow
    (the ``access`` policy over user attributes and data sensitivity), grants just-in-time
    :class:`Elevation` that expires on its own, and audits every use;
    :class:`AccessInterceptor` enforces it on a Temporal client and
    :class:`SignalGuardInterceptor` on a worker.
Audit trail
    :class:`AuditLog`: an append-only, hash-chained JSONL log; :func:`verify_log` names the
    first edited, deleted or moved record; :func:`export_log` writes JSONL or CloudEvents.
Input validation
    :class:`StrictInput` and :func:`validate_input`: unknown fields, wrong types, oversized
    payloads and path traversal are refused with messages naming the field.
Secrets
    :class:`SecretStore` (:class:`EnvSecrets`, :class:`FileSecrets`, ...), :class:`Redactor`
    for logs (logging filter, structlog processor) and notebook display, and
    :class:`EncryptionCodec`: AES-GCM Temporal payloads with key ids and rotation.

Example::

    from orchlab.policy import AuditLog, gate

    decision = gate("promotion", {"source": "dev", "target": "staging",
                                  "metrics": {"accuracy": 0.91}, "requested_by": "ci"},
                    audit=AuditLog("audit.jsonl"), actor="ci", subject="wine v3")
    decision.raise_if_denied()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchlab._lazy import lazy_exports

if TYPE_CHECKING:
    from orchlab.policy._access import (
        AccessGuard,
        AccessInterceptor,
        Action,
        Elevation,
        Principal,
        SignalGuardInterceptor,
        WorkflowRule,
        as_principal,
    )
    from orchlab.policy._approval import (
        ApprovalOutcome,
        ApprovalRequest,
        ApprovalSignal,
        ApprovalWorkflow,
        AuditEntry,
        record_audit,
    )
    from orchlab.policy._audit import (
        GENESIS,
        AuditLog,
        AuditRecord,
        VerifyReport,
        export_log,
        to_cloudevent,
        verify_log,
    )
    from orchlab.policy._cases import (
        CaseResult,
        PolicyCase,
        PolicyCases,
        bundled_cases,
        load_cases,
        run_case,
        run_cases,
    )
    from orchlab.policy._codec import (
        ENCODING,
        KEY_ID,
        EncryptionCodec,
        KeyRing,
        encode_key,
        new_key,
    )
    from orchlab.policy._errors import (
        AccessDenied,
        ApprovalRejected,
        AuditIntegrityError,
        DecryptionError,
        InputRejected,
        PolicyDenied,
        PolicyError,
        SecretNotFound,
    )
    from orchlab.policy._gates import (
        GateParams,
        GateRequest,
        GateResult,
        gate,
        policy_gate_activity,
        register_gate_task,
        resolve_policy,
    )
    from orchlab.policy._prefect import (
        ApprovalInput,
        prefect_policy_gate,
        prefect_wait_for_approval,
    )
    from orchlab.policy._rego import (
        Decision,
        Policy,
        bundled_policies,
        canonical_json,
        load_policy,
    )
    from orchlab.policy._schema import (
        DEFAULT_MAX_BYTES,
        SafePath,
        StrictInput,
        path_problem,
        validate_input,
    )
    from orchlab.policy._secrets import (
        MASK,
        REDACTOR,
        ChainSecrets,
        EnvSecrets,
        FileSecrets,
        MemorySecrets,
        RedactingFilter,
        Redactor,
        Secret,
        SecretStore,
        get_secret,
        install_display_redaction,
        install_log_redaction,
    )

# Names resolve on first use (PEP 562): importing orchlab.policy stays light, and Prefect
# loads only for the Prefect adapters.
_MODULES: dict[str, tuple[str, ...]] = {
    "_access": (
        "AccessGuard", "AccessInterceptor", "Action", "Elevation", "Principal",
        "SignalGuardInterceptor", "WorkflowRule", "as_principal",
    ),
    "_approval": (
        "ApprovalOutcome", "ApprovalRequest", "ApprovalSignal", "ApprovalWorkflow",
        "AuditEntry", "record_audit",
    ),
    "_audit": (
        "GENESIS", "AuditLog", "AuditRecord", "VerifyReport", "export_log", "to_cloudevent",
        "verify_log",
    ),
    "_cases": (
        "CaseResult", "PolicyCase", "PolicyCases", "bundled_cases", "load_cases", "run_case",
        "run_cases",
    ),
    "_codec": ("ENCODING", "KEY_ID", "EncryptionCodec", "KeyRing", "encode_key", "new_key"),
    "_errors": (
        "AccessDenied", "ApprovalRejected", "AuditIntegrityError", "DecryptionError",
        "InputRejected", "PolicyDenied", "PolicyError", "SecretNotFound",
    ),
    "_gates": (
        "GateParams", "GateRequest", "GateResult", "gate", "policy_gate_activity",
        "register_gate_task", "resolve_policy",
    ),
    "_prefect": ("ApprovalInput", "prefect_policy_gate", "prefect_wait_for_approval"),
    "_rego": ("Decision", "Policy", "bundled_policies", "canonical_json", "load_policy"),
    "_schema": ("DEFAULT_MAX_BYTES", "SafePath", "StrictInput", "path_problem", "validate_input"),
    "_secrets": (
        "MASK", "REDACTOR", "ChainSecrets", "EnvSecrets", "FileSecrets", "MemorySecrets",
        "RedactingFilter", "Redactor", "Secret", "SecretStore", "get_secret",
        "install_display_redaction", "install_log_redaction",
    ),
}  # fmt: skip
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "DEFAULT_MAX_BYTES",
    "ENCODING",
    "GENESIS",
    "KEY_ID",
    "MASK",
    "REDACTOR",
    "AccessDenied",
    "AccessGuard",
    "AccessInterceptor",
    "Action",
    "ApprovalInput",
    "ApprovalOutcome",
    "ApprovalRejected",
    "ApprovalRequest",
    "ApprovalSignal",
    "ApprovalWorkflow",
    "AuditEntry",
    "AuditIntegrityError",
    "AuditLog",
    "AuditRecord",
    "CaseResult",
    "ChainSecrets",
    "Decision",
    "DecryptionError",
    "Elevation",
    "EncryptionCodec",
    "EnvSecrets",
    "FileSecrets",
    "GateParams",
    "GateRequest",
    "GateResult",
    "InputRejected",
    "KeyRing",
    "MemorySecrets",
    "Policy",
    "PolicyCase",
    "PolicyCases",
    "PolicyDenied",
    "PolicyError",
    "Principal",
    "RedactingFilter",
    "Redactor",
    "SafePath",
    "Secret",
    "SecretNotFound",
    "SecretStore",
    "SignalGuardInterceptor",
    "StrictInput",
    "VerifyReport",
    "WorkflowRule",
    "as_principal",
    "bundled_cases",
    "bundled_policies",
    "canonical_json",
    "encode_key",
    "export_log",
    "gate",
    "get_secret",
    "install_display_redaction",
    "install_log_redaction",
    "load_cases",
    "load_policy",
    "new_key",
    "path_problem",
    "policy_gate_activity",
    "prefect_policy_gate",
    "prefect_wait_for_approval",
    "record_audit",
    "register_gate_task",
    "resolve_policy",
    "run_case",
    "run_cases",
    "to_cloudevent",
    "validate_input",
    "verify_log",
]
