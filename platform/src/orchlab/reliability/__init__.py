"""Reliability primitives for pipelines on Prefect, Temporal or plain Python.

One :class:`FailureClassifier` decides what is transient, permanent or fatal, and
:class:`FailureDetails` is the one schema of a failure (class, error, attempt, rule) that
every runner records and that a Temporal ``ApplicationError`` carries in ``details[0]``;
one :class:`RetryPolicy` (run with tenacity) renders as a Temporal ``RetryPolicy``,
Prefect task options or a tenacity ``Retrying``, and is what a pipeline step's ``retry``
becomes on every runner; an :class:`IdempotencyLedger` makes side effects happen once across
retries, crashes and reruns; :class:`CircuitBreaker` protects an unstable dependency;
:class:`DeadLetterQueue` keeps what failed for replay; :class:`Saga` undoes in reverse;
small Temporal helpers cover heartbeats, pause/resume/skip and continue-as-new; and
:func:`check_replay` proves a workflow change replays recorded histories before it ships.

Example::

    from orchlab.reliability import RetryPolicy, IdempotencyLedger, idempotency_key

    policy = RetryPolicy(max_attempts=5, initial_interval=0.5, deadline=30)
    ledger = IdempotencyLedger(".state/ledger.sqlite")
    key = idempotency_key(order_id, namespace="charge")
    receipt = policy.call(ledger.run, key, charge, order_id)

See the runbook (docs/runbooks/reliability.md) for what each failure class means in
operation.
"""

from typing import TYPE_CHECKING

from orchlab._lazy import lazy_exports

if TYPE_CHECKING:
    from orchlab.errors import FailureClass, http_status_class
    from orchlab.reliability._breaker import (
        BreakerSnapshot,
        BreakerState,
        CircuitBreaker,
        CircuitOpenError,
        breakers,
        forget_breakers,
        get_breaker,
    )
    from orchlab.reliability._checkpoint import Checkpointer, prefect_checkpoint_options
    from orchlab.reliability._classify import (
        DEFAULT_CLASSIFIER,
        ClassifierRule,
        FailureClassifier,
        classification_of,
        exception_of_state,
        status_of,
    )
    from orchlab.reliability._dlq import (
        DeadLetter,
        DeadLetterQueue,
        LetterNotFound,
        LetterStatus,
        Processed,
        ReplayError,
        default_dlq_path,
        handler_ref,
        load_handler,
    )
    from orchlab.reliability._failure import FailureDetails, failure_details
    from orchlab.reliability._idempotency import (
        Claim,
        ClaimStatus,
        IdempotencyConflict,
        IdempotencyLedger,
        LeaseLost,
        LedgerEntry,
        idempotency_key,
    )
    from orchlab.reliability._retry import (
        PREFECT_MAX_RETRIES,
        TEMPORAL_MIN_INTERVAL,
        Jitter,
        RetryEvent,
        RetryPolicy,
    )
    from orchlab.reliability._saga import Compensation, CompensationFailed, Saga, describe_failure
    from orchlab.reliability._temporal import (
        ControlStatus,
        Heartbeat,
        PipelineControl,
        continue_as_new_due,
        resume_point,
    )
    from orchlab.reliability._versioning import (
        ReplayMismatch,
        ReplayReport,
        check_replay,
        recent_histories,
    )

# Names load on first use: a process that only needs the ledger or the dead-letter queue
# does not pay for importing Temporal, tenacity and pybreaker (and redis, which pybreaker
# imports when installed).
_LAZY: dict[str, str] = {
    "BreakerSnapshot": "orchlab.reliability._breaker",
    "BreakerState": "orchlab.reliability._breaker",
    "Checkpointer": "orchlab.reliability._checkpoint",
    "CircuitBreaker": "orchlab.reliability._breaker",
    "CircuitOpenError": "orchlab.reliability._breaker",
    "Claim": "orchlab.reliability._idempotency",
    "ClaimStatus": "orchlab.reliability._idempotency",
    "ClassifierRule": "orchlab.reliability._classify",
    "Compensation": "orchlab.reliability._saga",
    "CompensationFailed": "orchlab.reliability._saga",
    "ControlStatus": "orchlab.reliability._temporal",
    "DEFAULT_CLASSIFIER": "orchlab.reliability._classify",
    "DeadLetter": "orchlab.reliability._dlq",
    "DeadLetterQueue": "orchlab.reliability._dlq",
    "FailureClass": "orchlab.errors",
    "FailureClassifier": "orchlab.reliability._classify",
    "FailureDetails": "orchlab.reliability._failure",
    "PREFECT_MAX_RETRIES": "orchlab.reliability._retry",
    "TEMPORAL_MIN_INTERVAL": "orchlab.reliability._retry",
    "Heartbeat": "orchlab.reliability._temporal",
    "IdempotencyConflict": "orchlab.reliability._idempotency",
    "IdempotencyLedger": "orchlab.reliability._idempotency",
    "Jitter": "orchlab.reliability._retry",
    "LeaseLost": "orchlab.reliability._idempotency",
    "LedgerEntry": "orchlab.reliability._idempotency",
    "LetterNotFound": "orchlab.reliability._dlq",
    "LetterStatus": "orchlab.reliability._dlq",
    "PipelineControl": "orchlab.reliability._temporal",
    "Processed": "orchlab.reliability._dlq",
    "ReplayError": "orchlab.reliability._dlq",
    "ReplayMismatch": "orchlab.reliability._versioning",
    "ReplayReport": "orchlab.reliability._versioning",
    "RetryEvent": "orchlab.reliability._retry",
    "RetryPolicy": "orchlab.reliability._retry",
    "Saga": "orchlab.reliability._saga",
    "breakers": "orchlab.reliability._breaker",
    "check_replay": "orchlab.reliability._versioning",
    "classification_of": "orchlab.reliability._classify",
    "continue_as_new_due": "orchlab.reliability._temporal",
    "default_dlq_path": "orchlab.reliability._dlq",
    "describe_failure": "orchlab.reliability._saga",
    "exception_of_state": "orchlab.reliability._classify",
    "failure_details": "orchlab.reliability._failure",
    "forget_breakers": "orchlab.reliability._breaker",
    "get_breaker": "orchlab.reliability._breaker",
    "handler_ref": "orchlab.reliability._dlq",
    "http_status_class": "orchlab.errors",
    "idempotency_key": "orchlab.reliability._idempotency",
    "load_handler": "orchlab.reliability._dlq",
    "prefect_checkpoint_options": "orchlab.reliability._checkpoint",
    "recent_histories": "orchlab.reliability._versioning",
    "resume_point": "orchlab.reliability._temporal",
    "status_of": "orchlab.reliability._classify",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


__all__ = [
    "DEFAULT_CLASSIFIER",
    "PREFECT_MAX_RETRIES",
    "TEMPORAL_MIN_INTERVAL",
    "BreakerSnapshot",
    "BreakerState",
    "Checkpointer",
    "CircuitBreaker",
    "CircuitOpenError",
    "Claim",
    "ClaimStatus",
    "ClassifierRule",
    "Compensation",
    "CompensationFailed",
    "ControlStatus",
    "DeadLetter",
    "DeadLetterQueue",
    "FailureClass",
    "FailureClassifier",
    "FailureDetails",
    "Heartbeat",
    "IdempotencyConflict",
    "IdempotencyLedger",
    "Jitter",
    "LeaseLost",
    "LedgerEntry",
    "LetterNotFound",
    "LetterStatus",
    "PipelineControl",
    "Processed",
    "ReplayError",
    "ReplayMismatch",
    "ReplayReport",
    "RetryEvent",
    "RetryPolicy",
    "Saga",
    "breakers",
    "check_replay",
    "classification_of",
    "continue_as_new_due",
    "default_dlq_path",
    "describe_failure",
    "exception_of_state",
    "failure_details",
    "forget_breakers",
    "get_breaker",
    "handler_ref",
    "http_status_class",
    "idempotency_key",
    "load_handler",
    "prefect_checkpoint_options",
    "recent_histories",
    "resume_point",
    "status_of",
]
