"""Checks for exercise ``jit-elevation``: ``Elevations(clock, max_seconds)``.

Contract: grant needs a non-blank reason and 0 < seconds <= max_seconds (else ValueError,
nothing recorded), returns clock() + seconds; roles = base + grants with clock() < expiry;
log holds (time, user, role, seconds, reason) per grant.
"""

import pytest

from labgrader.checks import assert_close, strictly_close, strictly_equal


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.check(exercise="jit-elevation", points=5)
def test_worked_example(nb):
    clock = Clock()
    jit = nb.Elevations(clock=clock, max_seconds=3600)
    expiry = jit.grant("ana", "ml-engineer", 900, "INC-4411")
    assert strictly_close(expiry, 900.0), f"grant at t=0 for 900 s expires at 900.0; got {expiry!r}"
    roles = jit.roles("ana", ["data-scientist"])
    assert strictly_equal(roles, {"data-scientist", "ml-engineer"}), (
        f"while active, roles are base + elevated: expected {{'data-scientist', 'ml-engineer'}}, "
        f"got {roles!r}"
    )
    clock.now = 900.0
    roles = jit.roles("ana", ["data-scientist"])
    assert strictly_equal(roles, {"data-scientist"}), (
        f"at the expiry instant (t=900) the elevation has lapsed: expected {{'data-scientist'}}, "
        f"got {roles!r}. Likely cause: <= instead of <, or the clock read at grant time"
    )
    with pytest.raises(ValueError):
        jit.grant("ana", "admin", 86400, "just in case")
    assert_close(
        jit.log,
        [(0.0, "ana", "ml-engineer", 900, "INC-4411")],
        what="the log (the one granted request)",
    )


@pytest.mark.check(exercise="jit-elevation", points=5, hidden=True)
def test_hidden_bounds_and_users(nb):
    clock = Clock()
    clock.now = 100.0
    jit = nb.Elevations(clock=clock, max_seconds=600)
    for seconds, reason in ((0, "INC-1"), (-5, "INC-1"), (600.5, "INC-1"), (60, "   "), (60, "")):
        with pytest.raises(ValueError):
            jit.grant("lee", "admin", seconds, reason)
    assert strictly_equal(jit.log, []) and strictly_equal(jit.roles("lee", []), set()), (
        f"refused requests record nothing; log {jit.log!r}, roles {jit.roles('lee', [])!r}"
    )
    assert strictly_close(jit.grant("lee", "admin", 600, "CHG-7"), 700.0), (
        "exactly max_seconds is allowed: grant at t=100 for 600 s expires at 700.0"
    )
    jit.grant("lee", "release-manager", 60, "CHG-8")
    clock.now = 150.0
    assert strictly_equal(jit.roles("raj", ["viewer"]), {"viewer"}), (
        "another user's grant gives raj nothing"
    )
    assert strictly_equal(jit.roles("lee", ["viewer"]), {"viewer", "admin", "release-manager"}), (
        f"two active grants; got {jit.roles('lee', ['viewer'])!r}"
    )
    clock.now = 160.0
    got = jit.roles("lee", ["viewer"])
    assert strictly_equal(got, {"viewer", "admin"}), (
        f"the 60 s grant from t=100 lapsed at t=160, the 600 s one lasts to 700; got {got!r}"
    )
    clock.now = 10_000.0
    assert strictly_equal(jit.roles("lee", ("viewer",)), {"viewer"}), (
        "every grant lapses on its own"
    )
    assert_close(
        jit.log,
        [(100.0, "lee", "admin", 600, "CHG-7"), (100.0, "lee", "release-manager", 60, "CHG-8")],
        what="the log (the two granted requests, in order)",
    )
