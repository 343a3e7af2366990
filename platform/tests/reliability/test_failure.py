"""FailureDetails: the one schema of a failure, in ApplicationError.details[0] and back."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from orchlab.errors import FailureClass, TransientError
from orchlab.reliability import DEFAULT_CLASSIFIER, FailureDetails, failure_details


def test_details_describe_an_exception_in_the_schema() -> None:
    details = DEFAULT_CLASSIFIER.details(TransientError("partner busy\nretry later"), attempt=3)
    assert details == FailureDetails(
        FailureClass.TRANSIENT, "TransientError", "partner busy", attempt=3, rule="default"
    )
    assert details.retryable and details.text == "TransientError: partner busy"
    assert details.to_dict() == {
        "failure_class": "transient",
        "error_type": "TransientError",
        "message": "partner busy",
        "attempt": 3,
        "rule": "default",
    }
    assert FailureDetails.from_dict(details.to_dict()) == details


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"failure_class": "flaky", "error_type": "X"}, "failure_class must be one of fatal"),
        ({"failure_class": "fatal", "error_type": "X", "when": 1}, "unknown failure detail"),
        ({"failure_class": "fatal", "error_type": "X", "attempt": "2"}, "attempt must be an"),
        ({"failure_class": "fatal", "error_type": "X", "attempt": 0}, "attempt numbers start"),
    ],
)
def test_details_that_break_the_schema_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FailureDetails.from_dict(data)


def test_details_are_read_back_through_a_temporal_failure_chain() -> None:
    inner = DEFAULT_CLASSIFIER.to_temporal(ValueError("bad row 7"))
    outer = ActivityError(
        "activity failed",
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker",
        activity_type="step",
        activity_id="1",
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    outer.__cause__ = inner
    found = failure_details(outer)
    assert found is not None
    assert (found.failure_class, found.text) == (FailureClass.PERMANENT, "ValueError: bad row 7")
    # Something else at details[0] (an attempt number, as older pipeline code wrote) is no
    # failure record, and is not mistaken for one.
    assert failure_details(ApplicationError("x", 3)) is None
    assert failure_details(ApplicationError("x", {"outputs": {}})) is None


def test_the_bare_class_of_older_records_still_reads() -> None:
    older = ApplicationError("permanent: bad", "permanent", type="ValueError", non_retryable=True)
    found = failure_details(older)
    assert found is not None
    assert (found.failure_class, found.error_type, found.attempt) == (
        FailureClass.PERMANENT,
        "ValueError",
        None,
    )
