"""Checks for exercise ``worker-build``: ``choose_build(builds, env)``.

Contract: among builds that passed CI and were promoted to ``env``, the highest version (tuple
order), the later one on equal versions; none: LookupError naming ``env``.
"""

import pytest

from labgrader.checks import strictly_equal, text


def _builds(nb):
    return [
        nb.Build("scoring-1.9.0-a1", (1, 9, 0), True, ("dev", "staging", "prod")),
        nb.Build("scoring-1.10.0-b7", (1, 10, 0), True, ("dev", "staging")),
        nb.Build("scoring-1.10.1-c2", (1, 10, 1), False, ("dev",)),
    ]


def _expect(nb, builds, env, expected):
    got = nb.choose_build(builds, env)
    assert strictly_equal(got, expected), (
        f"choose_build(..., {env!r}): expected {expected!r}, got {got!r}. Likely cause: a build "
        f"that failed CI or was not promoted to {env} chosen, versions compared as strings, or "
        f"the earlier of two builds of the same version"
    )


@pytest.mark.check(exercise="worker-build", points=4)
def test_worked_example(nb):
    builds = _builds(nb)
    _expect(nb, builds, "prod", "scoring-1.9.0-a1")
    _expect(nb, builds, "staging", "scoring-1.10.0-b7")
    _expect(nb, builds, "dev", "scoring-1.10.0-b7")


@pytest.mark.check(exercise="worker-build", points=2)
def test_no_build_raises(nb):
    with pytest.raises(LookupError) as info:
        nb.choose_build(_builds(nb), "test")
    message = text(info.value, what="the LookupError's message")
    assert "test" in message, f"the LookupError should name 'test'; got {message!r}"


@pytest.mark.check(exercise="worker-build", points=2, hidden=True)
def test_hidden_version_order_and_rebuilds(nb):
    builds = [
        nb.Build("w-2.0.0", (2, 0, 0), True, ("prod",)),
        nb.Build("w-10.0.0", (10, 0, 0), True, ("prod",)),
        nb.Build("w-3.0.0", (3, 0, 0), True, ("prod",)),
        nb.Build("w-3.0.0-rebuild", (3, 0, 0), True, ("test",)),
    ]
    _expect(nb, builds, "prod", "w-10.0.0")
    rebuilds = [
        nb.Build("x-1", (1, 2, 3), True, ("staging",)),
        nb.Build("x-2", (1, 2, 3), True, ("staging",)),
        nb.Build("x-0", (1, 2, 2), True, ("staging",)),
    ]
    _expect(nb, rebuilds, "staging", "x-2")


@pytest.mark.check(exercise="worker-build", points=2, hidden=True)
def test_hidden_failed_ci_never_chosen(nb):
    builds = [nb.Build("only-failed", (9, 9, 9), False, ("prod",))]
    with pytest.raises(LookupError):
        nb.choose_build(builds, "prod")
    with pytest.raises(LookupError):
        nb.choose_build([], "dev")
