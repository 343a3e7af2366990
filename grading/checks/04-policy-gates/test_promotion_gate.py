"""Checks for exercise ``promotion-gate``: ``promotion_decision(request)``.

Contract: one reason per failing rule (unknown environment / one step at a time; accuracy
missing / accuracy below; approval required; four-eyes), each starting with its word;
``allow`` exactly when there are none.
"""

import re

import pytest

from labgrader.checks import assert_type, strictly_equal

GOOD = {
    "source": "staging",
    "target": "prod",
    "metrics": {"accuracy": 0.95},
    "requested_by": "ana",
    "approval": {"approved": True, "approver": "raj"},
}


def _decide(nb, request):
    """``promotion_decision``'s answer, checked to be a GateDecision with a bool and strs."""
    got = nb.promotion_decision(request)
    assert_type(got, nb.GateDecision, what="promotion_decision(...)")
    assert_type(got.allow, bool, what="promotion_decision(...).allow")
    assert_type(got.reasons, list, what="promotion_decision(...).reasons")
    for reason in got.reasons:
        assert_type(reason, str, what="each reason")
    return got


def _starts(decision):
    """The first word of each reason, in order: up to a space or a colon (``four-eyes: ...``)."""
    return [re.match(r"[^\s:]*", reason).group() for reason in decision.reasons]


@pytest.mark.check(exercise="promotion-gate", points=5)
def test_worked_example(nb):
    ok = _decide(nb, dict(GOOD))
    assert ok.allow is True and strictly_equal(ok.reasons, []), (
        f"a staging -> prod promotion with accuracy 0.95 approved by someone else is allowed; "
        f"got {ok!r}"
    )
    bad = _decide(nb, {"source": "dev", "target": "prod", "metrics": {}, "requested_by": "ana"})
    assert bad.allow is False and len(bad.reasons) == 3, (
        f"dev -> prod without accuracy or approval fails three rules (one step, accuracy "
        f"missing, approval required); got {bad!r}. Likely cause: stopping at the first reason"
    )
    assert strictly_equal(_starts(bad), ["one", "accuracy", "approval"]), (
        f"reasons should start 'one step at a time', 'accuracy missing', 'approval required', "
        f"in rule order; got {bad.reasons!r}"
    )
    assert bad.reasons[1].startswith("accuracy missing"), (
        f"a missing accuracy is 'accuracy missing ...', got {bad.reasons[1]!r}"
    )


@pytest.mark.check(exercise="promotion-gate", points=5, hidden=True)
def test_hidden_other_rules(nb):
    selfish = _decide(nb, {**GOOD, "approval": {"approved": True, "approver": "ana"}})
    assert selfish.allow is False and strictly_equal(_starts(selfish), ["four-eyes"]), (
        f"an approval by the requester is denied with one 'four-eyes ...' reason; got {selfish!r}"
    )
    low = _decide(
        nb,
        {"source": "dev", "target": "staging", "metrics": {"accuracy": 0.79}, "requested_by": "ci"},
    )
    assert low.allow is False and len(low.reasons) == 1, (
        f"accuracy 0.79 for staging (needs 0.8) gives one reason; got {low!r}"
    )
    assert low.reasons[0].startswith("accuracy below"), (
        f"expected 'accuracy below ...', got {low.reasons!r}"
    )
    edge = _decide(
        nb,
        {"source": "dev", "target": "staging", "metrics": {"accuracy": 0.8}, "requested_by": "ci"},
    )
    assert edge.allow is True, f"accuracy exactly 0.8 meets the staging minimum; got {edge!r}"
    boolean = _decide(
        nb,
        {"source": "dev", "target": "staging", "metrics": {"accuracy": True}, "requested_by": "ci"},
    )
    assert boolean.allow is False and boolean.reasons[0].startswith("accuracy missing"), (
        f"accuracy True is not a number: 'accuracy missing ...'; got {boolean!r}. "
        f"Likely cause: bool is a subclass of int"
    )
    unknown = _decide(nb,
        {"source": "qa", "target": "prod", "metrics": {"accuracy": 0.99}, "requested_by": "ana",
         "approval": {"approved": "yes", "approver": "raj"}}
    )  # fmt: skip
    assert strictly_equal(_starts(unknown), ["unknown", "approval"]), (
        f"source 'qa' is unknown (and no step rule then), and approved='yes' is not True: "
        f"expected reasons 'unknown environment ...', 'approval required ...'; got {unknown!r}"
    )
