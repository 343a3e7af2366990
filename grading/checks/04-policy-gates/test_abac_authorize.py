"""Checks for exercise ``abac-authorize``: ``authorize(principal, action, resource)``.

Contract: deny by default, the first failing rule's reason: unknown action, no role, wrong
team (admin exempt), clearance (unknown clearance below all, unknown sensitivity restricted).
"""

import re

import pytest

from labgrader.checks import assert_equal, assert_type

ANA = {"id": "ana", "roles": ["data-scientist"], "team": "fraud", "clearance": "confidential"}


def _wf(team="fraud", sensitivity="internal"):
    return {"workflow": "Train", "team": team, "sensitivity": sensitivity}


def _decision(nb, principal, action, resource):
    """``authorize``'s answer, checked to be a (bool, str) tuple."""
    got = nb.authorize(principal, action, resource)
    what = f"authorize({principal['id']!r} {principal['roles']}, {action!r}, {resource})"
    assert_type(got, tuple, what=what)
    assert len(got) == 2, f"{what}: expected (allowed, reason), got {got!r}"
    assert_type(got[0], bool, what=f"{what}[0]")
    assert_type(got[1], str, what=f"{what}[1]")
    return got


def _word(result):
    """The reason's first word: up to a space or a colon (``clearance: ...``)."""
    return re.match(r"[^\s:]*", result[1]).group()


@pytest.mark.check(exercise="abac-authorize", points=5)
def test_worked_example(nb):
    got = _decision(nb, ANA, "start", _wf(sensitivity="confidential"))
    assert_equal(got, (True, "allowed"), what="ana may start a confidential fraud workflow")
    got = _decision(nb, ANA, "cancel", _wf())
    assert got[0] is False and _word(got) == "no", (
        f"a data-scientist has no role allowing cancel: expected (False, 'no role ...'), "
        f"got {got!r}"
    )
    got = _decision(nb, ANA, "start", _wf(sensitivity="restricted"))
    assert got[0] is False and _word(got) == "clearance", (
        f"clearance confidential is below restricted: expected (False, 'clearance ...'), "
        f"got {got!r}"
    )


@pytest.mark.check(exercise="abac-authorize", points=5, hidden=True)
def test_hidden_least_privilege(nb):
    cases = [
        (ANA, "delete", _wf(), "unknown"),
        (ANA, "signal", _wf(team="ads"), "wrong"),
        ({**ANA, "roles": ["superuser"]}, "start", _wf(), "no"),
        ({**ANA, "roles": []}, "signal", _wf(), "no"),
        ({**ANA, "roles": ["release-manager"]}, "start", _wf(), "no"),
        ({**ANA, "clearance": None}, "start", _wf(sensitivity="public"), "clearance"),
        (ANA, "start", _wf(sensitivity="top-secret"), "clearance"),
        (
            {**ANA, "roles": ["admin"], "clearance": "internal"},
            "cancel",
            _wf("ads", "confidential"),
            "clearance",
        ),
    ]  # fmt: skip
    for principal, action, resource, word in cases:
        got = _decision(nb, principal, action, resource)
        assert got[0] is False and _word(got) == word, (
            f"{principal['roles']} / clearance {principal['clearance']!r} doing {action!r} on "
            f"{resource}: expected (False, '{word} ...'), got {got!r}"
        )
    allowed = [
        (
            {**ANA, "roles": ["admin"], "clearance": "restricted"},
            "approve",
            _wf("ads", "restricted"),
        ),
        ({**ANA, "roles": ["viewer", "ml-engineer"]}, "cancel", _wf(sensitivity="public")),
        ({**ANA, "roles": ["release-manager"]}, "approve", _wf(sensitivity="confidential")),
    ]  # fmt: skip
    for principal, action, resource in allowed:
        got = _decision(nb, principal, action, resource)
        assert_equal(
            got, (True, "allowed"), what=f"{principal['roles']} doing {action!r} on {resource}"
        )
