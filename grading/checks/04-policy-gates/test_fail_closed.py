"""Checks for exercise ``fail-closed``: ``run_gate(policy, request)``.

Contract: an exception denies with 'policy error: <Type>: <message>'; a GateDecision that
allows with no reasons passes; a denial passes (an empty one gets 'denied without a reason');
anything else denies with a reason starting 'policy error: '.
"""

import pytest

from labgrader.checks import assert_equal, assert_type, strictly_equal


def _gate(nb, policy, request):
    """``run_gate``'s decision, checked to be a GateDecision with a bool and a list of str."""
    got = nb.run_gate(policy, request)
    assert_type(got, nb.GateDecision, what="run_gate(...)")
    assert_type(got.allow, bool, what="run_gate(...).allow")
    assert_type(got.reasons, list, what="run_gate(...).reasons")
    for reason in got.reasons:
        assert_type(reason, str, what="each reason")
    return got


@pytest.mark.check(exercise="fail-closed", points=5)
def test_worked_example(nb):
    def crashes(request):
        return request["metrics"]["f1"] > 0.8

    got = _gate(nb, crashes, {})
    assert got.allow is False and strictly_equal(
        got.reasons, ["policy error: KeyError: 'metrics'"]
    ), (
        f"a policy raising KeyError('metrics') must deny with reason "
        f"\"policy error: KeyError: 'metrics'\"; got {got!r}"
    )
    got = _gate(nb, lambda r: True, {})
    assert got.allow is False and len(got.reasons) == 1, (
        f"a policy returning True (not a GateDecision) must deny with one reason; got {got!r}. "
        f"Likely cause: trusting a truthy answer (failing open)"
    )
    assert got.reasons[0].startswith("policy error: ") and "True" in got.reasons[0], (
        f"the reason starts 'policy error: ' and names what came back (True); got {got.reasons!r}"
    )
    ok = _gate(nb, lambda r: nb.GateDecision(True, []), {})
    assert ok.allow is True and strictly_equal(ok.reasons, []), (
        f"an allowing decision passes; got {ok!r}"
    )


@pytest.mark.check(exercise="fail-closed", points=5, hidden=True)
def test_hidden_malformed_answers(nb):
    for answer in (None, {"allow": True}, nb.GateDecision(True, ["but stale data"]), 1):
        got = _gate(nb, lambda r, a=answer: a, {"x": 1})
        assert got.allow is False and got.reasons and got.reasons[0].startswith("policy error: "), (
            f"a policy returning {answer!r} must deny with a 'policy error: ' reason; got {got!r}"
        )
    empty = _gate(nb, lambda r: nb.GateDecision(False, []), {})
    assert empty.allow is False and strictly_equal(empty.reasons, ["denied without a reason"]), (
        f"a denial without reasons gets 'denied without a reason'; got {empty!r}"
    )
    kept = nb.GateDecision(False, ["accuracy below 0.9"])
    got = _gate(nb, lambda r: kept, {})
    assert got.allow is False and strictly_equal(got.reasons, ["accuracy below 0.9"]), (
        f"a denial with reasons is returned as it is; got {got!r}"
    )

    def zero(request):
        return 1 / 0

    got = _gate(nb, zero, {})
    assert_equal(
        got.reasons,
        ["policy error: ZeroDivisionError: division by zero"],
        what="run_gate of a policy dividing by zero: the reasons",
    )
