"""Failure classification from types, HTTP-like statuses and rules, and its engine renderings."""

from __future__ import annotations

import sqlite3

import pytest
from temporalio.exceptions import ApplicationError

from orchlab.errors import (
    FailureClass,
    FatalError,
    PermanentError,
    TransientError,
    http_status_class,
)
from orchlab.reliability import (
    DEFAULT_CLASSIFIER,
    ClassifierRule,
    FailureClassifier,
    classification_of,
    status_of,
)


class HttpError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status_code = status


class Response:
    def __init__(self, status: int) -> None:
        self.status_code = status


class ClientError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__("request failed")
        self.response = Response(status)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (408, FailureClass.TRANSIENT),
        (429, FailureClass.TRANSIENT),
        (503, FailureClass.TRANSIENT),
        (504, FailureClass.TRANSIENT),
        (400, FailureClass.PERMANENT),
        (404, FailureClass.PERMANENT),
        (422, FailureClass.PERMANENT),
        (501, FailureClass.PERMANENT),
    ],
)
def test_http_status_class(status: int, expected: FailureClass) -> None:
    assert http_status_class(status) is expected
    assert DEFAULT_CLASSIFIER.classify(HttpError(status)) is expected
    assert DEFAULT_CLASSIFIER.classify(ClientError(status)) is expected


def test_http_status_class_rejects_success_codes() -> None:
    with pytest.raises(ValueError, match="HTTP status 200 is not an error status"):
        http_status_class(200)


def test_status_of_ignores_non_http_codes() -> None:
    assert status_of(OSError(2, "No such file")) is None
    error = Exception("x")
    error.code = 1  # type: ignore[attr-defined]
    assert status_of(error) is None
    assert status_of(ClientError(502)) == 502


def test_default_classification_follows_orchlab_errors() -> None:
    assert DEFAULT_CLASSIFIER.classify(TransientError("x")) is FailureClass.TRANSIENT
    assert DEFAULT_CLASSIFIER.classify(PermanentError("x")) is FailureClass.PERMANENT
    assert DEFAULT_CLASSIFIER.classify(FatalError("x")) is FailureClass.FATAL
    assert DEFAULT_CLASSIFIER.classify(TimeoutError()) is FailureClass.TRANSIENT
    assert DEFAULT_CLASSIFIER.classify(ValueError()) is FailureClass.PERMANENT


def test_rules_are_tried_in_order_and_explained() -> None:
    classifier = (
        FailureClassifier()
        .with_rule(FailureClass.FATAL, statuses={401}, name="bad credentials")
        .with_rule(FailureClass.TRANSIENT, types=(sqlite3.OperationalError,))
        .with_rule(FailureClass.PERMANENT, types=(Exception,))
        .with_rule(FailureClass.TRANSIENT, predicate=lambda e: "locked" in str(e))
    )
    assert classifier.explain(HttpError(401)) == (FailureClass.FATAL, "bad credentials")
    assert classifier.explain(sqlite3.OperationalError("database is locked")) == (
        FailureClass.TRANSIENT,
        "OperationalError",
    )
    # The broad permanent rule comes first, so the predicate never decides.
    assert classifier.classify(RuntimeError("locked")) is FailureClass.PERMANENT
    assert not classifier.is_retryable(RuntimeError("locked"))
    assert DEFAULT_CLASSIFIER.explain(HttpError(503)) == (FailureClass.TRANSIENT, "http status 503")
    assert DEFAULT_CLASSIFIER.explain(KeyError("k"))[1] == "default"


def test_a_rule_needs_a_criterion() -> None:
    with pytest.raises(ValueError, match="needs at least one of types=, statuses= or predicate="):
        ClassifierRule(FailureClass.TRANSIENT)
    with pytest.raises(ValueError, match=r"error statuses 400-599, got \[200\]"):
        ClassifierRule(FailureClass.TRANSIENT, statuses=frozenset({200}))


def test_to_temporal_marks_only_transient_failures_retryable() -> None:
    transient = DEFAULT_CLASSIFIER.to_temporal(TimeoutError("slow"))
    assert not transient.non_retryable and transient.type == "TimeoutError"
    # One schema in details[0]; no attempt outside an activity.
    assert transient.details == (
        {
            "failure_class": "transient",
            "error_type": "TimeoutError",
            "message": "slow",
            "attempt": None,
            "rule": "default",
        },
    )
    permanent = DEFAULT_CLASSIFIER.to_temporal(ValueError("bad row"))
    assert permanent.non_retryable and permanent.message == "permanent: bad row"
    fatal = DEFAULT_CLASSIFIER.to_temporal(FatalError("corrupt"))
    assert fatal.non_retryable and classification_of(fatal) is FailureClass.FATAL
    assert DEFAULT_CLASSIFIER.to_temporal(fatal) is fatal  # already classified: as is


def test_an_unclassified_application_error_is_classified_by_its_flag() -> None:
    # Temporal's meaning of the flag: retryable unless non_retryable.
    plain = ApplicationError("busy", type="Busy")
    assert DEFAULT_CLASSIFIER.explain(plain) == (
        FailureClass.TRANSIENT,
        "temporal non_retryable=False",
    )
    wrapped = DEFAULT_CLASSIFIER.to_temporal(plain)
    assert (wrapped.type, wrapped.message, wrapped.non_retryable) == ("Busy", "busy", False)
    assert classification_of(wrapped) is FailureClass.TRANSIENT
    stop = ApplicationError("no", type="Refused", non_retryable=True)
    assert DEFAULT_CLASSIFIER.classify(stop) is FailureClass.PERMANENT


def test_a_classified_error_keeps_its_class_and_origin_in_another_classifier() -> None:
    team = FailureClassifier().with_rule(FailureClass.TRANSIENT, types=(sqlite3.OperationalError,))
    carried = team.to_temporal(sqlite3.OperationalError("database is locked"))
    # The default classifier would call the original error permanent; the carried class wins.
    assert DEFAULT_CLASSIFIER.explain(carried) == (FailureClass.TRANSIENT, "classified upstream")
    details = DEFAULT_CLASSIFIER.details(carried, attempt=2)
    assert details.text == "OperationalError: database is locked"
    assert (details.attempt, details.rule) == (2, "OperationalError")
    # A rule of the classifier asked still decides.
    strict = FailureClassifier().with_rule(FailureClass.FATAL, types=(ApplicationError,))
    assert strict.details(carried).failure_class is FailureClass.FATAL


def test_non_retryable_error_types_lists_permanent_and_fatal_rule_types() -> None:
    classifier = (
        FailureClassifier()
        .with_rule(FailureClass.PERMANENT, types=(KeyError, ValueError))
        .with_rule(FailureClass.FATAL, types=(PermissionError,))
        .with_rule(FailureClass.TRANSIENT, types=(ConnectionError,))
    )
    assert classifier.non_retryable_error_types(LookupError) == [
        "KeyError",
        "LookupError",
        "PermissionError",
        "ValueError",
    ]


def test_classification_of_follows_cause_chains() -> None:
    inner = DEFAULT_CLASSIFIER.to_temporal(ValueError("bad"))
    outer = RuntimeError("workflow failed")
    outer.__cause__ = inner
    assert classification_of(outer) is FailureClass.PERMANENT
    assert classification_of(RuntimeError("plain")) is None


def test_temporal_activity_wraps_plain_functions() -> None:
    @DEFAULT_CLASSIFIER.temporal_activity
    def broken(x: int) -> int:
        raise ValueError(f"bad {x}")

    with pytest.raises(ApplicationError, match="permanent: bad 3") as caught:
        broken(3)
    assert caught.value.non_retryable and isinstance(caught.value.__cause__, ValueError)
