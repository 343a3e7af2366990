"""Checks for exercise ``classify-failure``: ``classify_failure(exc)``.

Contract, first match wins: an orchlab error's own ``failure_class``; ``HTTPError`` 408, 425,
429 and 5xx transient, 401 and 403 fatal, other statuses permanent; ``TimeoutError`` and
``ConnectionError`` transient; ``MemoryError`` fatal; anything else permanent.
"""

import pytest

from labgrader.checks import strictly_equal
from orchlab.errors import ConfigError, FailureClass, FatalError, PermanentError, TransientError


def _assert_classes(nb, cases):
    wrong = []
    for exc, expected in cases:
        got = nb.classify_failure(exc)
        if not strictly_equal(got, expected):
            wrong.append(f"{exc!r}: expected {expected.value!r}, got {got!r}")
    assert not wrong, "classify_failure misclassified:\n  " + "\n  ".join(wrong)


@pytest.mark.check(exercise="classify-failure", points=3)
def test_http_status_codes(nb):
    _assert_classes(
        nb,
        [
            (nb.HTTPError(503), FailureClass.TRANSIENT),
            (nb.HTTPError(500), FailureClass.TRANSIENT),
            (nb.HTTPError(429), FailureClass.TRANSIENT),
            (nb.HTTPError(404), FailureClass.PERMANENT),
            (nb.HTTPError(400), FailureClass.PERMANENT),
            (nb.HTTPError(401), FailureClass.FATAL),
        ],
    )


@pytest.mark.check(exercise="classify-failure", points=3)
def test_exception_types(nb):
    _assert_classes(
        nb,
        [
            (TimeoutError("read timed out"), FailureClass.TRANSIENT),
            (ConnectionResetError("reset by peer"), FailureClass.TRANSIENT),
            (KeyError("currency"), FailureClass.PERMANENT),
            (ValueError("bad row"), FailureClass.PERMANENT),
            (MemoryError(), FailureClass.FATAL),
        ],
    )


@pytest.mark.check(exercise="classify-failure", points=2, hidden=True)
def test_hidden_orchlab_errors_win(nb):
    class RefusedForGood(PermanentError, ConnectionError):
        """Both a ConnectionError and a permanent orchlab error: rule 1 wins."""

    class Corrupted(FatalError):
        pass

    _assert_classes(
        nb,
        [
            (TransientError("feature store busy"), FailureClass.TRANSIENT),
            (ConfigError("bad setting"), FailureClass.PERMANENT),
            (Corrupted("checksum mismatch"), FailureClass.FATAL),
            (RefusedForGood("partner closed this account"), FailureClass.PERMANENT),
        ],
    )


@pytest.mark.check(exercise="classify-failure", points=2, hidden=True)
def test_hidden_edges_of_the_status_ranges(nb):
    _assert_classes(
        nb,
        [
            (nb.HTTPError(408), FailureClass.TRANSIENT),
            (nb.HTTPError(425), FailureClass.TRANSIENT),
            (nb.HTTPError(599), FailureClass.TRANSIENT),
            (nb.HTTPError(403), FailureClass.FATAL),
            (nb.HTTPError(422), FailureClass.PERMANENT),
            (nb.HTTPError(499), FailureClass.PERMANENT),
            (ConnectionRefusedError(), FailureClass.TRANSIENT),
            (RuntimeError("bug"), FailureClass.PERMANENT),
        ],
    )
