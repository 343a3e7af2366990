"""Reliability primitives for pipelines on Prefect, Temporal or plain Python.

One :class:`FailureClassifier` decides what is transient, permanent or fatal; one
:class:`RetryPolicy` renders as a Temporal ``RetryPolicy``, Prefect task options or a
tenacity ``Retrying``; an :class:`IdempotencyLedger` makes side effects happen once across
retries, crashes and reruns; :class:`CircuitBreaker` protects an unstable dependency;
:class:`DeadLetterQueue` keeps what failed for replay; :class:`Saga` undoes in reverse;
and small Temporal helpers cover heartbeats, pause/resume/skip and continue-as-new.

Example::

    from orchlab.reliability import RetryPolicy, IdempotencyLedger, idempotency_key

    policy = RetryPolicy(max_attempts=5, initial_interval=0.5, deadline=30)
    ledger = IdempotencyLedger(".state/ledger.sqlite")
    key = idempotency_key(order_id, namespace="charge")
    receipt = policy.call(ledger.run, key, charge, order_id)

See the runbook (docs/runbooks/reliability.md) for what each failure class means in
operation.
"""

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
    ReplayError,
    default_dlq_path,
    load_handler,
)
from orchlab.reliability._idempotency import (
    Claim,
    ClaimStatus,
    IdempotencyConflict,
    IdempotencyLedger,
    LeaseLost,
    LedgerEntry,
    idempotency_key,
)
from orchlab.reliability._retry import Jitter, RetryEvent, RetryPolicy
from orchlab.reliability._saga import Compensation, CompensationFailed, Saga
from orchlab.reliability._temporal import (
    ControlStatus,
    Heartbeat,
    PipelineControl,
    continue_as_new_due,
    resume_point,
)

__all__ = [
    "DEFAULT_CLASSIFIER",
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
    "Heartbeat",
    "IdempotencyConflict",
    "IdempotencyLedger",
    "Jitter",
    "LeaseLost",
    "LedgerEntry",
    "LetterNotFound",
    "LetterStatus",
    "PipelineControl",
    "ReplayError",
    "RetryEvent",
    "RetryPolicy",
    "Saga",
    "breakers",
    "classification_of",
    "continue_as_new_due",
    "default_dlq_path",
    "exception_of_state",
    "forget_breakers",
    "get_breaker",
    "http_status_class",
    "idempotency_key",
    "load_handler",
    "prefect_checkpoint_options",
    "resume_point",
    "status_of",
]
